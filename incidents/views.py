"""事故・インシデント (policy §6(7)): the one incident register, at /incidents.
Load → authorise → validate → incidents.services → commit → redirect.

Anyone signed in records an incident; its handlers, the security lead and
administrators handle it; auditors read (incidents.access)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import audit, files, pdf, plugins
from core.auth import access
from core.db import db
from core.forms import STALE_MESSAGE, CSRFForm, level_choices, select_choices, show_refusal, unit_choices, user_choices
from core.incidents import (
    MEASURE_SOURCE,
    OPEN_STATUSES,
    Incident,
    IncidentChecklistItem,
    IncidentKind,
    IncidentStatus,
    Severity,
)
from core.lists import int_arg
from core.measures import measures_for
from core.models import Role
from core.refusals import Refusal
from core.timeutil import utcnow
from incidents import access as rights
from incidents import documents, rules, services
from incidents.forms import (
    ActionForm,
    ChecklistForm,
    ChecklistItemEditForm,
    ChecklistItemForm,
    CloseForm,
    ContainForm,
    ContractorReportForm,
    EditForm,
    EvidenceForm,
    IncidentForm,
    NotifyForm,
    PpcForm,
)

bp = Blueprint("incidents", __name__, url_prefix="/incidents")

PER_PAGE = 50


def _incident_or_404(incident_id: int) -> Incident:
    incident = db.session.scalar(select(Incident).where(Incident.id == incident_id).options(
        selectinload(Incident.actions), selectinload(Incident.notifications), selectinload(Incident.evidence)))
    if incident is None or not rights.may_read(current_user, incident):
        abort(404)  # a personal-data incident is not shown to exist
    return incident


# --- the register -----------------------------------------------------------------------

@bp.get("/")
@access(any_user=True)
def index():
    query = rights.visible(select(Incident), current_user)
    status = request.args.get("status", "open")
    if status == "open":
        query = query.where(Incident.status.in_(OPEN_STATUSES))
    elif status in {s.value for s in IncidentStatus}:
        query = query.where(Incident.status == IncidentStatus(status))
    kind = request.args.get("kind")
    if kind in {k.value for k in IncidentKind}:
        query = query.where(Incident.kind == IncidentKind(kind))
    subject = request.args.get("subject", "")
    subject_type, _sep, subject_id = subject.partition(":")
    if subject_type and subject_id.isdigit():
        query = query.where(Incident.subject_type == subject_type, Incident.subject_id == int(subject_id))
    page = max(int_arg("page") or 1, 1)
    rows = db.session.scalars(query.order_by(Incident.occurred_at.desc(), Incident.id.desc())
                              .limit(PER_PAGE + 1).offset((page - 1) * PER_PAGE)).all()
    more = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    return render_template("incidents/index.html", incidents=rows, subjects=services.describe(rows),
                           status=status, kind=kind, subject=subject, page=page, more=more,
                           statuses=list(IncidentStatus), kinds=list(IncidentKind),
                           names={member: str(member.label) for member in (*IncidentKind, *Severity, *IncidentStatus)})


def _subject_choices() -> list:
    pairs = [("", _("本団体（特定の契約・サービス・アカウントではない）"))]
    for found in plugins.registry().incident_subjects:
        pairs += [(f"{found.kind}:{record_id}", f"{found.label}: {text}") for record_id, text in found.choices()]
    return select_choices(pairs)


def _form() -> IncidentForm:
    form = IncidentForm()
    form.subject.choices = _subject_choices()
    form.classification_id.choices = level_choices(blank=_("（不明・該当なし）"))
    return form


@bp.route("/new", methods=["GET", "POST"])
@access(any_user=True)
def new():
    form = _form()
    if request.method == "GET":
        form.subject.data = request.args.get("subject", "")
        form.learned_at.set_utc(utcnow().replace(second=0, microsecond=0))
    if form.validate_on_submit():
        subject_type, _sep, subject_id = (form.subject.data or "").partition(":")
        try:
            incident = services.record(
                by=current_user, kind=IncidentKind(form.kind.data), severity=Severity(form.severity.data),
                title=form.title.data, summary=form.summary.data, subject_type=subject_type or None,
                subject_id=int(subject_id) if subject_id.isdigit() else None, occurred_at=form.occurred_at.utc,
                learned_at=form.learned_at.utc, detected_at=form.detected_at.utc,
                contractor_reported_at=form.contractor_reported_at.utc, reporter=form.reporter.data,
                information=form.information.data, classification_id=form.classification_id.data,
                personal_data=form.personal_data.data, my_number=form.my_number.data,
                people_affected=form.people_affected.data, wrongful_intent=form.wrongful_intent.data,
                handler_id=form.handler_id.data)
        except Refusal as error:
            db.session.rollback()
            show_refusal(form, error)
        else:
            db.session.commit()
            flash(_("事案 %(number)s を記録しました。対応チェックリストに沿って対応を記録してください。",
                    number=incident.number), "success")
            if rights.may_read(current_user, incident):
                return redirect(url_for("incidents.detail", incident_id=incident.id))
            return redirect(url_for("incidents.index"))
    return render_template("incidents/form.html", form=form), 400 if form.errors else 200


# --- one incident -------------------------------------------------------------------------

def _page(incident: Incident, *, action_form=None, checklist_form=None, close_form=None, evidence_form=None,
          notify_form=None, ppc_form=None, contain_form=None, report_form=None, status_code=200):
    items = services.checklist_items(incident.kind, with_retired=True)
    shown = [item for item in items if not item.retired or item.code in (incident.checklist or {})]
    checklist_form = checklist_form or ChecklistForm(
        version=incident.version, done=[code for code, on in (incident.checklist or {}).items() if on])
    checklist_form.done.choices = select_choices([(item.code, f"{item.code} {item.text()}") for item in shown])
    if close_form is None:
        close_form = _close_form()
        close_form.closed_at.set_utc(utcnow().replace(second=0, microsecond=0))
    if notify_form is None:
        notify_form = _notify_form()
        notify_form.notified_at.set_utc(utcnow().replace(second=0, microsecond=0))
    if ppc_form is None:
        ppc_form = _ppc_form(PpcForm(formdata=None, required=_PPC_VALUES.get(incident.ppc_required, ""),
                                     preliminary_on=incident.ppc_preliminary_on, final_on=incident.ppc_final_on))
    if contain_form is None:
        contain_form = ContainForm(formdata=None)
        contain_form.contained_at.set_utc(incident.contained_at or utcnow().replace(second=0, microsecond=0))
    if report_form is None:
        report_form = ContractorReportForm(formdata=None)
        report_form.contractor_reported_at.set_utc(utcnow().replace(second=0, microsecond=0))
    return render_template(
        "incidents/detail.html", incident=incident, subject=services.describe([incident])[incident.id],
        subject_source=plugins.registry().incident_subject(incident.subject_type) if incident.subject_type else None,
        items=shown, action_form=action_form or ActionForm(), checklist_form=checklist_form, close_form=close_form,
        evidence_form=evidence_form or EvidenceForm(),
        may_handle=rights.may_handle(current_user, incident), rules=rules, deadlines=rules.deadlines(incident),
        notifications_needed=rules.required_notifications(incident), ppc_need=rules.ppc_need(incident),
        notify_form=notify_form, ppc_form=ppc_form, contain_form=contain_form,
        report_form=report_form, incident_measures=measures_for(MEASURE_SOURCE, [incident.id])[incident.id],
        audit_entries=audit.history(incident, *incident.actions, *incident.notifications, *incident.evidence,
                                    *rights.legacy_parts(incident))), status_code


@bp.get("/<int:incident_id>")
@access(any_user=True)
def detail(incident_id: int):
    return _page(_incident_or_404(incident_id))


def _handled(incident_id: int) -> Incident:
    incident = _incident_or_404(incident_id)
    if not rights.may_handle(current_user, incident):
        abort(403)
    return incident


@bp.post("/<int:incident_id>/actions")
@access(any_user=True)
def action(incident_id: int):
    incident = _handled(incident_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return _page(incident, action_form=form, status_code=400)
    try:
        services.add_action(incident, current_user, form.action.data)
    except Refusal as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("incidents.detail", incident_id=incident_id))
    db.session.commit()
    flash(_("対応を記録しました。"), "success")
    return redirect(url_for("incidents.detail", incident_id=incident_id) + "#timeline")


@bp.post("/<int:incident_id>/checklist")
@access(any_user=True)
def checklist(incident_id: int):
    incident = _handled(incident_id)
    form = ChecklistForm()
    form.done.choices = select_choices([(item.code, item.code)
                                        for item in services.checklist_items(incident.kind, with_retired=True)])
    if not form.validate_on_submit():
        return _page(incident, checklist_form=form, status_code=400)
    if form.is_stale(incident):
        flash(STALE_MESSAGE, "warning")
        return redirect(url_for("incidents.detail", incident_id=incident_id))
    try:
        services.update_checklist(incident, done=set(form.done.data or []))
    except Refusal as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("incidents.detail", incident_id=incident_id))
    db.session.commit()
    flash(_("対応状況を保存しました。"), "success")
    return redirect(url_for("incidents.detail", incident_id=incident_id))


@bp.post("/<int:incident_id>/close")
@access(any_user=True)
def close(incident_id: int):
    incident = _handled(incident_id)
    form = _close_form()
    if not form.validate_on_submit():
        return _page(incident, close_form=form, status_code=400)
    try:
        services.close(incident, current_user, closed_at=form.closed_at.utc, cause=form.cause.data,
                       prevention=form.prevention.data,
                       measures=[services.MeasureEntry(row.measure.data or "", row.owner_id.data, row.due_on.data)
                                 for row in form.measures])
    except Refusal as error:
        db.session.rollback()
        show_refusal(form, error)
        return _page(_incident_or_404(incident_id), close_form=form, status_code=409)
    db.session.commit()
    flash(_("事案を終結しました。"), "success")
    return redirect(url_for("incidents.detail", incident_id=incident_id))


def _edit_form(incident: Incident, *, fresh: bool) -> EditForm:
    """The correction form: ``fresh``, the incident as stored (and its version)."""
    form = EditForm(formdata=None, obj=incident, version=incident.version) if fresh else EditForm()
    form.classification_id.choices = level_choices(blank=_("（不明・該当なし）"))
    form.unit_id.choices = select_choices([("", _("（未定）")), *unit_choices(include_blank=False)])
    if fresh:
        form.kind.data, form.severity.data = incident.kind.value, incident.severity.value
        for name in ("occurred_at", "detected_at", "contractor_reported_at", "learned_at"):
            getattr(form, name).set_utc(getattr(incident, name))
    return form


@bp.route("/<int:incident_id>/edit", methods=["GET", "POST"])
@access(any_user=True)
def edit(incident_id: int):
    incident = _incident_or_404(incident_id)
    if not rights.may_handle(current_user, incident):
        flash(_("この事案を修正できるのは、対応担当者・担当組織の職員・統括情報セキュリティ責任者・管理者です。"),
              "warning")
        return redirect(url_for("incidents.detail", incident_id=incident_id))
    if not incident.is_open:
        flash(_("終結した事案は変更できません。"), "warning")
        return redirect(url_for("incidents.detail", incident_id=incident_id))
    form = _edit_form(incident, fresh=request.method == "GET")
    if request.method == "POST" and form.validate_on_submit():
        if form.is_stale(incident):
            flash(STALE_MESSAGE, "warning")  # the stored values, now; what was typed is shown beside them
            return render_template("incidents/edit.html", form=_edit_form(incident, fresh=True),
                                   incident=incident), 409
        try:
            services.update(
                incident, kind=IncidentKind(form.kind.data), severity=Severity(form.severity.data),
                title=form.title.data, summary=form.summary.data, occurred_at=form.occurred_at.utc,
                learned_at=form.learned_at.utc, detected_at=form.detected_at.utc,
                contractor_reported_at=form.contractor_reported_at.utc, reporter=form.reporter.data,
                information=form.information.data, classification_id=form.classification_id.data,
                personal_data=form.personal_data.data, my_number=form.my_number.data,
                people_affected=form.people_affected.data, wrongful_intent=form.wrongful_intent.data,
                handler_id=form.handler_id.data, unit_id=form.unit_id.data)
        except Refusal as error:
            db.session.rollback()
            show_refusal(form, error)
            return render_template("incidents/edit.html", form=form, incident=_incident_or_404(incident_id)), 400
        db.session.commit()
        flash(_("事案 %(number)s を更新しました。", number=incident.number), "success")
        if rights.may_read(current_user, incident):
            return redirect(url_for("incidents.detail", incident_id=incident_id))
        return redirect(url_for("incidents.index"))
    return render_template("incidents/edit.html", form=form, incident=incident), 400 if form.errors else 200


# --- evidence -------------------------------------------------------------------------------

@bp.post("/<int:incident_id>/evidence")
@access(any_user=True)
def evidence(incident_id: int):
    incident = _handled(incident_id)
    form = EvidenceForm()
    if not form.validate_on_submit():
        return _page(incident, evidence_form=form, status_code=400)
    try:
        services.add_evidence(incident, current_user, form.file.data, note=form.note.data)
    except files.FileRejected as error:
        db.session.rollback()
        form.file.errors = [*form.file.errors, str(error)]
        return _page(_incident_or_404(incident_id), evidence_form=form, status_code=400)
    except Refusal as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("incidents.detail", incident_id=incident_id))
    db.session.commit()
    flash(_("証拠ファイルを追加しました。"), "success")
    return redirect(url_for("incidents.detail", incident_id=incident_id) + "#evidence")


@bp.get("/<int:incident_id>/evidence/<int:evidence_id>")
@access(any_user=True)
def evidence_file(incident_id: int, evidence_id: int):
    incident = _incident_or_404(incident_id)
    item = next((e for e in incident.evidence if e.id == evidence_id), None)
    if item is None:
        abort(404)
    return files.send(item.file)


# --- 事故報告書 -------------------------------------------------------------------------------

@bp.get("/<int:incident_id>/report.pdf")
@access(any_user=True)
def report_pdf(incident_id: int):
    incident = _incident_or_404(incident_id)
    with force_locale("ja"):
        section = documents.report_section(incident)
        rendered = pdf.render(section.title, [section], user=current_user)
    pdf.record_print(rendered, subject=incident, document="incident_report")
    db.session.commit()
    return pdf.send(rendered, f"事故報告書_{incident.number}.pdf")


# --- the response checklists (administrators) -------------------------------------------------

@bp.get("/checklists")
@access(Role.ADMIN)
def checklist_items():
    items = db.session.scalars(select(IncidentChecklistItem).order_by(
        IncidentChecklistItem.kind, IncidentChecklistItem.position, IncidentChecklistItem.id)).all()
    by_kind = {kind: [item for item in items if item.kind is kind] for kind in IncidentKind}
    return render_template("incidents/checklist_items.html", by_kind=by_kind, actions=CSRFForm())


@bp.route("/checklists/new", methods=["GET", "POST"])
@access(Role.ADMIN)
def checklist_item_new():
    form = ChecklistItemForm()
    if request.method == "GET" and request.args.get("kind") in {k.value for k in IncidentKind}:
        form.kind.data = request.args["kind"]
    if form.validate_on_submit():
        try:
            item = services.add_checklist_item(kind=IncidentKind(form.kind.data), code=form.code.data,
                                               text_ja=form.text_ja.data, text_en=form.text_en.data)
        except Refusal as error:
            db.session.rollback()
            show_refusal(form, error)
        else:
            db.session.commit()
            flash(_("チェックリストの項目 %(code)s を追加しました。", code=item.code), "success")
            return redirect(url_for("incidents.checklist_items") + f"#kind-{item.kind.value}")
    return render_template("incidents/checklist_item_form.html", form=form, item=None), \
        400 if form.errors else 200


@bp.route("/checklists/<int:item_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
def checklist_item_edit(item_id: int):
    item = db.get_or_404(IncidentChecklistItem, item_id)
    form = (ChecklistItemEditForm(formdata=None, obj=item, version=item.version) if request.method == "GET"
            else ChecklistItemEditForm())
    if form.validate_on_submit():
        if form.is_stale(item):
            flash(STALE_MESSAGE, "warning")
            return render_template("incidents/checklist_item_form.html", item=item,
                                   form=ChecklistItemEditForm(formdata=None, obj=item, version=item.version)), 409
        try:
            services.edit_checklist_item(item, text_ja=form.text_ja.data, text_en=form.text_en.data)
        except Refusal as error:
            db.session.rollback()
            show_refusal(form, error)
        else:
            db.session.commit()
            flash(_("チェックリストの項目 %(code)s を更新しました。", code=item.code), "success")
            return redirect(url_for("incidents.checklist_items") + f"#kind-{item.kind.value}")
    return render_template("incidents/checklist_item_form.html", form=form, item=item), \
        400 if form.errors else 200


@bp.post("/checklists/<int:item_id>/retire")
@access(Role.ADMIN)
def checklist_item_retire(item_id: int):
    return _retire(item_id, retired=True)


@bp.post("/checklists/<int:item_id>/restore")
@access(Role.ADMIN)
def checklist_item_restore(item_id: int):
    return _retire(item_id, retired=False)


def _retire(item_id: int, *, retired: bool):
    item = db.get_or_404(IncidentChecklistItem, item_id)
    if not CSRFForm().validate_on_submit():
        abort(400)
    services.retire_checklist_item(item, retired=retired)
    db.session.commit()
    if retired:
        flash(_("項目 %(code)s を廃止しました。新しい事案のチェックリストには含まれません。", code=item.code), "success")
    else:
        flash(_("項目 %(code)s を再び使用します。", code=item.code), "success")
    return redirect(url_for("incidents.checklist_items") + f"#kind-{item.kind.value}")
# --- the rules of an incident: the reporting chain, the PPC, containment (incidents.rules) ------

_PPC_VALUES = {None: "", True: "yes", False: "no"}


def _close_form() -> CloseForm:
    form = CloseForm()
    for row in form.measures:
        row.owner_id.choices = user_choices(_("（選択）"))
    return form


def _notify_form() -> NotifyForm:
    form = NotifyForm()
    form.recipient_role.choices = select_choices([(role, label) for role, label in rules.ROLE_LABELS.items()])
    return form


def _ppc_form(form: PpcForm | None = None) -> PpcForm:
    form = form or PpcForm()
    form.required.choices = select_choices([("", _("要判断（未決定）")), ("yes", _("報告する")), ("no", _("報告しない"))])
    return form


def _refused(incident_id: int, form, error: Refusal, **forms):
    db.session.rollback()
    show_refusal(form, error)
    return _page(_incident_or_404(incident_id), **forms, status_code=409)


@bp.post("/<int:incident_id>/notifications")
@access(any_user=True)
def notify(incident_id: int):
    incident = _handled(incident_id)
    form = _notify_form()
    if not form.validate_on_submit():
        return _page(incident, notify_form=form, status_code=400)
    try:
        services.notify(incident, current_user, recipient_role=form.recipient_role.data,
                        recipient=form.recipient.data, notified_at=form.notified_at.utc, means=form.means.data)
    except Refusal as error:
        return _refused(incident_id, form, error, notify_form=form)
    db.session.commit()
    flash(_("報告を記録しました。"), "success")
    return redirect(url_for("incidents.detail", incident_id=incident_id) + "#reporting")


@bp.post("/<int:incident_id>/ppc")
@access(any_user=True)
def ppc(incident_id: int):
    incident = _handled(incident_id)
    form = _ppc_form()
    if not form.validate_on_submit():
        return _page(incident, ppc_form=form, status_code=400)
    try:
        services.record_ppc(incident, required={"yes": True, "no": False}.get(form.required.data),
                            preliminary_on=form.preliminary_on.data, final_on=form.final_on.data)
    except Refusal as error:
        return _refused(incident_id, form, error, ppc_form=form)
    db.session.commit()
    flash(_("個人情報保護委員会への報告を記録しました。"), "success")
    return redirect(url_for("incidents.detail", incident_id=incident_id) + "#deadlines")


@bp.post("/<int:incident_id>/contain")
@access(any_user=True)
def contain(incident_id: int):
    incident = _handled(incident_id)
    form = ContainForm()
    if not form.validate_on_submit():
        return _page(incident, contain_form=form, status_code=400)
    try:
        services.contain(incident, contained_at=form.contained_at.utc)
    except Refusal as error:
        return _refused(incident_id, form, error, contain_form=form)
    db.session.commit()
    flash(_("封じ込めた日時を記録しました。"), "success")
    return redirect(url_for("incidents.detail", incident_id=incident_id) + "#deadlines")


@bp.post("/<int:incident_id>/contractor-report")
@access(any_user=True)
def contractor_report(incident_id: int):
    """When the contractor reported it (C10): a late report opens a measure against the contract."""
    incident = _handled(incident_id)
    form = ContractorReportForm()
    if not form.validate_on_submit():
        return _page(incident, report_form=form, status_code=400)
    try:
        services.contractor_reported(incident, reported_at=form.contractor_reported_at.utc)
    except Refusal as error:
        return _refused(incident_id, form, error, report_form=form)
    db.session.commit()
    flash(_("受託者からの報告を記録しました。"), "success")
    return redirect(url_for("incidents.detail", incident_id=incident_id) + "#deadlines")
