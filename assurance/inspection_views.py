"""自己点検 pages (issue 18): the inspections by 年度, one inspection with the
app's facts beside each item and the answer forms, the four-eyes sign-off,
corrections, and the year-on-year comparison (page and PDF).

Load → authorise → validate → service → commit once → redirect; a rule's
refusal is flashed (or shown beside its field), never a 500."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from assurance import inspection_api, inspection_demo
from assurance import inspection_documents as documents
from assurance import inspections as service
from assurance.inspection_models import AnswerResult, Inspection, InspectionAnswer, InspectionEvidence
from core import files, pdf, plugins
from core import inspection as catalogue
from core.auth import access, can_view
from core.db import db
from core.forms import (
    CSRFForm,
    DateField,
    coerce_int_or_none,
    select_choices,
    unit_choices,
    user_choices,
)
from core.i18n import locale_code
from core.models import OrgUnit, User
from core.pickers import PickerField, PickerSearchMixin
from core.timeutil import fiscal_year, fiscal_year_label, today

bp = Blueprint("inspections", __name__, url_prefix="/inspections")


# --- forms ----------------------------------------------------------------------------

class NewInspectionForm(PickerSearchMixin, FlaskForm):
    fiscal_year = IntegerField(_l("年度（西暦）"), validators=[DataRequired(), NumberRange(min=2000, max=2100)])
    unit_id = SelectField(_l("対象組織"), coerce=coerce_int_or_none, validators=[Optional()])
    responsible_id = PickerField(_l("責任者"), source="users",
                                 validators=[DataRequired(message=_l("責任者を選んでください。"))])
    summary = TextAreaField(_l("概要"), validators=[Optional(), Length(max=4000)])


class AnswerForm(FlaskForm):
    result = SelectField(_l("結果"), validators=[DataRequired(message=_l("結果を選んでください。"))])
    comment = TextAreaField(_l("コメント"), validators=[Optional(), Length(max=4000)])
    measure = TextAreaField(_l("改善措置（一部不適合・不適合のとき）"), validators=[Optional(), Length(max=4000)])
    owner_id = SelectField(_l("措置の担当者"), coerce=coerce_int_or_none, validators=[Optional()])
    due_on = DateField(_l("措置の期限"), validators=[Optional()])
    files = MultipleFileField(_l("証拠ファイル（PDF・画像・Office文書、20MBまで）"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.result.choices = AnswerResult.select_choices(blank=_l("（選択してください）"))
        self.owner_id.choices = user_choices(_l("（選択してください）"))


class SummaryForm(FlaskForm):
    summary = TextAreaField(_l("概要"), validators=[Optional(), Length(max=4000)])
    remarks = TextAreaField(_l("備考"), validators=[Optional(), Length(max=4000)])


class DecisionForm(FlaskForm):
    comment = TextAreaField(_l("コメント（差し戻すときは理由）"), validators=[Optional(), Length(max=4000)])


def _new_form(**kwargs) -> NewInspectionForm:
    form = NewInspectionForm(**kwargs)
    form.unit_id.choices = select_choices([("", _l("全組織"))] + list(unit_choices(include_blank=False)))
    return form


def _answer_form(answer: InspectionAnswer, submitted: bool = False) -> AnswerForm:
    """The answer's form, prefixed (one per item on the page): as posted, or
    filled from the record."""
    if submitted:
        return AnswerForm(prefix=f"a{answer.id}")
    form = AnswerForm(formdata=None, prefix=f"a{answer.id}")
    form.result.data = answer.result.value if answer.result else ""
    form.comment.data, form.measure.data = answer.comment or "", answer.measure or ""
    form.owner_id.data, form.due_on.data = answer.measure_owner_id, answer.measure_due_on
    return form


# --- list and new ---------------------------------------------------------------------

def _year_arg() -> int:
    """The 年度 asked for (2000–2100), else the current one."""
    text = request.args.get("year", "")
    if text.isdigit() and 2000 <= int(text) <= 2100:
        return int(text)
    return fiscal_year(today())


@bp.route("/")
@access(any_user=True)
def index():
    return _index(_year_arg())


def _index(year: int, form: NewInspectionForm | None = None, status: int = 200):
    rows = db.session.scalars(select(Inspection).where(Inspection.fiscal_year == year).options(
        joinedload(Inspection.unit), joinedload(Inspection.responsible))  # one statement, with units or none
        .order_by(Inspection.scope_key, Inspection.id)).all()
    current = fiscal_year(today())
    years = [(y, fiscal_year_label(y, locale_code())) for y in range(current + 1, current - 6, -1)]
    return render_template("inspections/index.html", rows=rows, year=year, years=years,
                           form=form or _new_form(fiscal_year=year), may_start=service.may_start(current_user),
                           year_label=fiscal_year_label(year, locale_code())), status


@bp.route("/new", methods=["POST"])
@access(service.STAFF)
def new():
    form = _new_form()
    year = form.fiscal_year.data if isinstance(form.fiscal_year.data, int) else fiscal_year(today())
    if not form.validate_on_submit():
        return _index(year, form, 400)
    responsible = db.session.get(User, form.responsible_id.data)
    try:
        inspection = service.start(fiscal_year=form.fiscal_year.data, unit_id=form.unit_id.data,
                                   responsible=responsible, user=current_user, summary=form.summary.data)
    except service.InspectionError as error:
        db.session.rollback()
        if error.field and hasattr(form, error.field):
            getattr(form, error.field).errors = [str(error)]
        else:
            flash(str(error), "danger")
        return _index(year, form, 409)
    db.session.commit()
    flash(_("自己点検を作成しました。各項目に回答してください。"), "success")
    return redirect(url_for("inspections.detail", inspection_id=inspection.id))


# --- one inspection -------------------------------------------------------------------

def _load(inspection_id: int) -> Inspection:
    return db.get_or_404(Inspection, inspection_id, options=[
        selectinload(Inspection.answers).selectinload(InspectionAnswer.evidence)
        .selectinload(InspectionEvidence.file),
        # the people and the unit the page names, with the inspection (not one statement each)
        *(joinedload(relation) for relation in (Inspection.unit, Inspection.responsible, Inspection.inspector,
                                                Inspection.checker, Inspection.approver, Inspection.corrects))])


def _facts(inspection: Inspection) -> dict:
    """What the app knows per item (a suggestion, never the answer): {code: core.inspection.Fact}.
    Only while the inspection is open: the facts are today's, and beside a
    signed-off inspection they would read as what was known then."""
    if not inspection.is_open:
        return {}
    return catalogue.facts(catalogue.Scope(inspection.fiscal_year, inspection.unit_id))


def _fact_links(facts: dict) -> dict:
    """{code: [(url, label)]}: the links beside each fact that the reader may
    follow, each endpoint's rule asked once per page, not once per link (issue 21)."""
    allowed: dict[str, bool] = {}
    found = {}
    for code, value in facts.items():
        links = []
        for link in getattr(value, "links", None) or ():
            endpoint = link.endpoint
            if endpoint.startswith("/") or allowed.setdefault(endpoint, can_view(endpoint)):
                links.append((link.url, link.label))
        found[code] = links
    return found


def _render(inspection: Inspection, forms: dict | None = None, status: int = 200):
    editable = inspection.status.value == "draft" and service.may_inspect(current_user, inspection)
    forms = forms or {}
    # Issue 21: the answer rows are drawn as plain markup with the form's names (templates/inspections/
    # _answer_form.html) from these choices, built once per page; a WTForms form is built only for an
    # answer posted back with errors (``forms``).  120 WTForms fields cost some 60 ms of CPU per page.
    choices = None
    if editable:
        choices = {"result": [(str(c.value), str(c.label)) for c in
                              AnswerResult.select_choices(blank=_("（選択してください）"))],
                   "owner": [(str(c.value), str(c.label)) for c in user_choices(_("（選択してください）"))]}
    facts = _facts(inspection)
    groups: dict[str, list] = {}
    for answer in inspection.answers:
        groups.setdefault(answer.area_name or answer.area, []).append(answer)
    return render_template(
        "inspections/detail.html", inspection=inspection, groups=groups, facts=facts, fact_links=_fact_links(facts),
        forms=forms,
        answer_choices=choices,
        editable=editable, measures=service.measures_of(inspection), versions=service.chain(inspection),
        check_refusal=service.check_refusal(current_user, inspection),
        approval_refusal=service.approval_refusal(current_user, inspection),
        may_correct=inspection.status.value == "approved" and service.may_inspect(current_user, inspection),
        decision=DecisionForm(), summary_form=SummaryForm(obj=inspection), actions=CSRFForm(),
        locale=locale_code(), year_label=fiscal_year_label(inspection.fiscal_year, locale_code()),
        measure_pages="measures.detail" in current_app.view_functions,
        unanswered=len(service.unanswered(inspection))), status


@bp.route("/<int:inspection_id>")
@access(any_user=True)
def detail(inspection_id: int):
    return _render(_load(inspection_id))


def _refused(inspection: Inspection, error, status: int = 409):
    db.session.rollback()
    flash(str(error), "danger")
    return _render(_load(inspection.id), status=status)


@bp.route("/<int:inspection_id>/answers/<int:answer_id>", methods=["POST"])
@access(any_user=True)  # the responsible person answers whatever their role; the rule is the service's
def answer(inspection_id: int, answer_id: int):
    inspection = _load(inspection_id)
    row = db.get_or_404(InspectionAnswer, answer_id)
    if row.inspection_id != inspection.id:
        abort(404)
    if not service.may_inspect(current_user, inspection):
        abort(403)
    form = _answer_form(row, submitted=True)
    if not form.validate_on_submit():
        return _render(inspection, {row.id: form}, 400)
    values = service.AnswerInput(AnswerResult(form.result.data), form.comment.data, form.measure.data,
                                 form.owner_id.data, form.due_on.data)
    uploads = request.files.getlist(form.files.name)
    try:
        service.record_answer(row, values, user=current_user, uploads=uploads)
    except service.InspectionError as error:
        db.session.rollback()
        inspection = _load(inspection_id)
        form = _answer_form(db.session.get(InspectionAnswer, answer_id), submitted=True)
        if error.field and hasattr(form, error.field):
            getattr(form, error.field).errors = [str(error)]
        else:
            flash(str(error), "danger")
        return _render(inspection, {answer_id: form}, 409)
    except files.FileRejected as error:
        return _refused(inspection, error, 400)
    db.session.commit()
    flash(_("%(code)s の回答を記録しました。", code=row.code), "success")
    return redirect(url_for("inspections.detail", inspection_id=inspection.id, _anchor=f"item-{row.code}"))


@bp.route("/<int:inspection_id>/summary", methods=["POST"])
@access(any_user=True)
def summary(inspection_id: int):
    inspection = _load(inspection_id)
    if not service.may_inspect(current_user, inspection):
        abort(403)
    form = SummaryForm()
    if not form.validate_on_submit():
        return _render(inspection, status=400)
    try:
        service.save_summary(inspection, summary=form.summary.data, remarks=form.remarks.data, user=current_user)
    except service.InspectionError as error:
        return _refused(inspection, error)
    db.session.commit()
    flash(_("概要・備考を保存しました。"), "success")
    return redirect(url_for("inspections.detail", inspection_id=inspection.id))


@bp.route("/<int:inspection_id>/submit", methods=["POST"])
@access(any_user=True)
def submit(inspection_id: int):
    inspection = _load(inspection_id)
    if not service.may_inspect(current_user, inspection):
        abort(403)
    if not CSRFForm().validate_on_submit():
        abort(400)
    try:
        service.submit(inspection, user=current_user)
    except service.InspectionError as error:
        return _refused(inspection, error)
    db.session.commit()
    flash(_("自己点検を提出しました。確認者の確認を待っています。"), "success")
    return redirect(url_for("inspections.detail", inspection_id=inspection.id))


def _decision(inspection_id: int, decide, done_message, returned_message):
    inspection = _load(inspection_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    approve = request.form.get("decision") == "approve"
    try:
        decide(inspection, user=current_user, approve=approve, comment=form.comment.data)
    except service.InspectionError as error:
        return _refused(inspection, error)
    db.session.commit()
    flash(done_message if approve else returned_message, "success")
    return redirect(url_for("inspections.detail", inspection_id=inspection.id))


@bp.route("/<int:inspection_id>/check", methods=["POST"])
@access(service.CHECKERS)
def check(inspection_id: int):
    return _decision(inspection_id, service.check, _("確認しました。承認者の承認を待っています。"),
                     _("差し戻しました。点検者が再び回答できます。"))


@bp.route("/<int:inspection_id>/approve", methods=["POST"])
@access(service.APPROVERS)
def approve(inspection_id: int):
    return _decision(inspection_id, service.approve,
                     _("承認しました。一部不適合・不適合の項目には改善措置が登録されました。"),
                     _("差し戻しました。点検者が再び回答できます。"))


@bp.route("/<int:inspection_id>/correct", methods=["POST"])
@access(any_user=True)
def correct(inspection_id: int):
    inspection = _load(inspection_id)
    if not service.may_inspect(current_user, inspection):
        abort(403)
    if not CSRFForm().validate_on_submit():
        abort(400)
    try:
        copy = service.correct(inspection, user=current_user)
    except service.InspectionError as error:
        return _refused(inspection, error)
    db.session.commit()
    flash(_("訂正版（第%(edition)s版）を作成しました。承認されるまで元の版が有効です。", edition=copy.edition), "success")
    return redirect(url_for("inspections.detail", inspection_id=copy.id))


@bp.route("/<int:inspection_id>/evidence/<int:evidence_id>")
@access(any_user=True)
def evidence(inspection_id: int, evidence_id: int):
    item = db.get_or_404(InspectionEvidence, evidence_id)
    if item.answer.inspection_id != inspection_id:
        abort(404)
    return files.send(item.file)


# --- year on year ---------------------------------------------------------------------

def _compare_args() -> tuple[int, int | None, str | None]:
    year = _year_arg()
    try:
        unit_id = int(request.args.get("unit") or 0) or None
    except ValueError:
        unit_id = None
    unit = db.session.get(OrgUnit, unit_id) if unit_id else None
    return year, unit.id if unit else None, unit.name if unit else None


@bp.route("/compare")
@access(any_user=True)
def compare():
    year, unit_id, unit_name = _compare_args()
    comparison = service.compare(year, unit_id)
    current = fiscal_year(today())
    return render_template("inspections/compare.html", comparison=comparison, changes=service.CHANGES,
                           year_label=fiscal_year_label(year, locale_code()),
                           previous_label=fiscal_year_label(year - 1, locale_code()), unit_name=unit_name,
                           years=[(y, fiscal_year_label(y, locale_code())) for y in range(current + 1, current - 6, -1)],
                           units=unit_choices(include_blank=False), locale=locale_code())


@bp.route("/compare.pdf")
@access(any_user=True)
def compare_pdf():
    year, unit_id, unit_name = _compare_args()
    with force_locale("ja"):
        rendered = documents.compare_pdf(service.compare(year, unit_id), user=current_user, unit_name=unit_name)
    pdf.record_print(rendered, document="inspection_comparison", object_type="documents",
                     extra={"fiscal_year": year, "unit_id": unit_id})
    db.session.commit()
    return pdf.send(rendered, f"自己点検_経年比較_{year}.pdf")


@bp.route("/<int:inspection_id>/pdf")
@access(any_user=True)
def inspection_pdf(inspection_id: int):
    inspection = _load(inspection_id)
    with force_locale("ja"):
        section = documents.inspection_section(inspection)
        rendered = pdf.render(section.title, [section], user=current_user)
    pdf.record_print(rendered, subject=inspection, document="self_inspection_record")
    db.session.commit()
    return pdf.send(rendered, f"自己点検_{inspection.fiscal_year}_{inspection.id}.pdf")


def _answer_link(measure) -> tuple[str, dict] | None:
    item = service.measure_sources([measure.source_id]).get(measure.source_id)
    return (item.endpoint, item.params) if item is not None else None


def init_app(app) -> None:
    """Plug the recorded self-inspection in (assurance.PARTS)."""
    app.register_blueprint(bp)
    house = plugins.registry(app)
    house.add_inbox(service.inbox_entries, order=80)
    # the measures a 一部不適合・不適合 answer opens (core.measures): confirmed by the default acceptors
    house.add_measure_source("inspection_answer", label=_l("自己点検"), link=_answer_link)
    service.add_responsibilities(house)  # what a leaver hands over (人事異動), and the request kinds
    house.add_pack_part(90, documents.pack_sections)
    house.add_report_part(20, documents.report_tables)
    house.add_registers(lambda: [inspection_api.register()], order=80)
    house.add_seeder(80, inspection_demo.seed)
