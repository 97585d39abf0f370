"""委託事業者: vendor register pages.  Load → authorise (the access rule) →
validate → service → commit → redirect.

Vendors build on core alone (.importlinter): what the domains that build on
vendors know of one (its contracts…) they add to its page through the app's
registry (core/plugins.py: the ``vendors.detail…`` slots)."""
from __future__ import annotations

from functools import partial

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from core import audit, files, pdf
from core.approvals import Approval, ApprovalError
from core.auth import CONTRACT_READERS, access
from core.dashboard import Panel, Tile, scope_unit, statement, status_panel
from core.db import db
from core.forms import STALE_MESSAGE, CSRFForm, unit_choices
from core.i18n import locale_code
from core.models import OrgUnit, Role
from core.parts import delete_owned
from core.refusals import Refusal
from core.timeutil import today
from vendors import documents, services
from vendors.forms import (
    CertificationForm,
    ContactForm,
    JustificationDecisionForm,
    SelectionForm,
    selection_form,
    vendor_form,
)
from vendors.lists import LIST
from vendors.models import (
    Assessment,
    Certification,
    Selection,
    SelectionAssessment,
    SelectionDecision,
    Vendor,
    VendorContact,
    VendorStatus,
)

bp = Blueprint("vendors", __name__, url_prefix="/vendors")

WRITERS = Role.PROCUREMENT


@bp.route("/<int:vendor_id>/summary.pdf")
@access(CONTRACT_READERS)
def summary_pdf(vendor_id: int):
    vendor = db.get_or_404(Vendor, vendor_id)
    with force_locale("ja"):
        [section] = documents.summary_sections([vendor.id])
        rendered = pdf.render(section.title, [section], user=current_user)
    pdf.record_print(rendered, subject=vendor, document="vendor_summary")
    db.session.commit()
    return pdf.send(rendered, f"委託事業者の概要_{vendor.name}.pdf")


@bp.route("/")
@access(CONTRACT_READERS)
def index():
    pagination, state = LIST.apply(select(Vendor).options(selectinload(Vendor.unit).selectinload(OrgUnit.parent)))
    return render_template("vendors/index.html", pagination=pagination, state=state,
                           statuses=VendorStatus.choices(), units=unit_choices(include_blank=False),
                           certs=[("expiring", _("期限切れ・60日以内に期限"))])


@bp.route("/<int:vendor_id>")
@access(CONTRACT_READERS)
def detail(vendor_id: int):
    # What the page shows, loaded with the vendor: a fixed number of statements
    # however many selections, assessments, contacts or certificates it has.
    return _detail(db.first_or_404(select(Vendor).where(Vendor.id == vendor_id).options(
        joinedload(Vendor.unit),
        selectinload(Vendor.contacts),
        selectinload(Vendor.certifications).joinedload(Certification.file),
        selectinload(Vendor.selections).options(
            joinedload(Selection.decided_by),
            joinedload(Selection.approval).joinedload(Approval.approver),
            selectinload(Selection.assessments).joinedload(SelectionAssessment.criterion)))))


def _detail(vendor: Vendor, contact_form: ContactForm | None = None, status_code: int = 200):
    """The vendor's page.  What other domains know of the vendor (its
    contracts…) they add to the page's slots (core/plugins.py: add_section)."""
    return render_template("vendors/detail.html", vendor=vendor,
                           contact_form=contact_form or ContactForm(), actions=CSRFForm(),
                           decision_form=JustificationDecisionForm(),
                           can_decide=current_user.has_role(*services.JUSTIFICATION_DECIDERS),
                           deletable=not services.has_history(vendor),
                           audit_entries=audit.history(vendor, *vendor.contacts, *vendor.certifications,
                                                       *vendor.selections)), status_code


@bp.route("/new", methods=["GET", "POST"])
@access(WRITERS)
def new():
    form = vendor_form()
    if request.method == "GET":
        form.status.data = VendorStatus.CANDIDATE.value
    if form.validate_on_submit():
        vendor = services.save_from_form(form, Vendor())
        if vendor:
            db.session.commit()
            flash(_("委託事業者「%(name)s」を登録しました。", name=vendor.name), "success")
            return redirect(url_for("vendors.detail", vendor_id=vendor.id))
    return render_template("vendors/form.html", form=form, vendor=None), 400 if form.errors else 200


@bp.route("/<int:vendor_id>/edit", methods=["GET", "POST"])
@access(WRITERS)
def edit(vendor_id: int):
    vendor = db.get_or_404(Vendor, vendor_id)
    form = vendor_form(vendor, version=vendor.version)
    if request.method == "GET":
        form.status.data = vendor.status.value
    if form.validate_on_submit():
        if form.is_stale(vendor):
            flash(STALE_MESSAGE, "warning")
            form = vendor_form(vendor, version=vendor.version, formdata=None)
            form.status.data = vendor.status.value
            return render_template("vendors/form.html", form=form, vendor=vendor), 409
        if services.save_from_form(form, vendor):
            db.session.commit()
            flash(_("委託事業者「%(name)s」を更新しました。", name=vendor.name), "success")
            return redirect(url_for("vendors.detail", vendor_id=vendor.id))
    return render_template("vendors/form.html", form=form, vendor=vendor), 400 if form.errors else 200


@bp.route("/<int:vendor_id>/delete", methods=["GET", "POST"])
@access(WRITERS)
def delete(vendor_id: int):
    """Asks first (GET shows what will go), then deletes on POST."""
    vendor = db.get_or_404(Vendor, vendor_id)
    form = CSRFForm()
    if services.has_history(vendor):
        flash(_("契約・選定記録などの履歴がある事業者は削除できません。状態を「終了」にしてください。"), "warning")
        return redirect(url_for("vendors.detail", vendor_id=vendor.id))
    if form.validate_on_submit():
        name = vendor.name
        services.delete_vendor(vendor)
        db.session.commit()
        flash(_("委託事業者「%(name)s」を削除しました。", name=name), "success")
        return redirect(url_for("vendors.index"))
    return render_template("vendors/delete.html", vendor=vendor, form=form)


# --- contacts ----------------------------------------------------------------

@bp.route("/<int:vendor_id>/contacts", methods=["POST"])
@access(WRITERS)
def contact_add(vendor_id: int):
    vendor = db.get_or_404(Vendor, vendor_id)
    form = ContactForm()
    if form.validate_on_submit():
        services.add_contact(vendor, name=form.name.data, department=form.department.data, phone=form.phone.data,
                             email=form.email.data)
        db.session.commit()
        flash(_("連絡先を追加しました。"), "success")
        return redirect(url_for("vendors.detail", vendor_id=vendor.id) + "#contacts")
    return _detail(vendor, contact_form=form, status_code=400)


@bp.route("/<int:vendor_id>/contacts/<int:contact_id>/delete", methods=["POST"])
@access(WRITERS)
def contact_delete(vendor_id: int, contact_id: int):
    if delete_owned(VendorContact, contact_id, "vendor_id", vendor_id):
        db.session.commit()
        flash(_("連絡先を削除しました。"), "success")
    return redirect(url_for("vendors.detail", vendor_id=vendor_id) + "#contacts")


# --- certifications ----------------------------------------------------------

@bp.route("/<int:vendor_id>/certifications/new", methods=["GET", "POST"])
@access(WRITERS)
def certification_new(vendor_id: int):
    vendor = db.get_or_404(Vendor, vendor_id)
    form = CertificationForm()
    if form.validate_on_submit():
        try:
            services.add_certification(vendor, kind=form.kind.data, name=form.name.data, number=form.number.data,
                                       issuer=form.issuer.data, valid_until=form.valid_until.data,
                                       upload=form.file.data, user=current_user)
        except files.FileRejected as error:
            form.file.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("認証を登録しました。"), "success")
            return redirect(url_for("vendors.detail", vendor_id=vendor.id) + "#certifications")
    return render_template("vendors/certification_form.html", form=form, vendor=vendor), 400 if form.errors else 200


@bp.route("/<int:vendor_id>/certifications/<int:certification_id>/delete", methods=["POST"])
@access(WRITERS)
def certification_delete(vendor_id: int, certification_id: int):
    if delete_owned(Certification, certification_id, "vendor_id", vendor_id):
        db.session.commit()
        flash(_("認証を削除しました。"), "success")
    return redirect(url_for("vendors.detail", vendor_id=vendor_id) + "#certifications")


@bp.route("/<int:vendor_id>/certifications/<int:certification_id>/file")
@access(CONTRACT_READERS)
def certification_file(vendor_id: int, certification_id: int):
    certification = db.get_or_404(Certification, certification_id)
    if certification.vendor_id != vendor_id or certification.file is None:
        abort(404)
    return files.send(certification.file)


# --- selection ---------------------------------------------------------------

@bp.route("/<int:vendor_id>/selection/new", methods=["GET", "POST"])
@access(WRITERS)
def selection_new(vendor_id: int):
    """選定: every criterion of DOMAIN.md §2.1 assessed, then the decision."""
    vendor = db.get_or_404(Vendor, vendor_id)
    form, rows, selection = selection_page(vendor)
    if selection is not None:
        db.session.commit()
        flash(_("選定記録を登録しました。"), "success")
        return redirect(url_for("vendors.detail", vendor_id=vendor.id) + "#selection")
    return render_template("vendors/selection_form.html", form=form, vendor=vendor, rows=rows,
                           locale=locale_code()), 400 if form.errors else 200


def selection_page(vendor: Vendor, record=None) -> tuple[SelectionForm, list, Selection | None]:
    """The selection form of ``vendor`` with its rows (criterion by criterion);
    on a valid POST the selection is recorded (not committed) and returned.
    Shared with the contract's page ("この契約の選定を記録"), whose ``record``
    (a service taking record_selection's keywords but the vendor) links it too."""
    record = record or partial(services.record_selection, vendor)
    criteria = services.active_criteria()
    form = selection_form(current_user)
    if request.method == "GET":
        form.decided_on.data = today()
        for criterion in criteria:
            form.assessments.append_entry({"criterion_id": criterion.id})
    by_id = {c.id: c for c in criteria}
    rows = [(entry, by_id.get(_int(entry.form.criterion_id.data))) for entry in form.assessments]
    if form.validate_on_submit():
        results = {criterion.id: (Assessment(entry.form.result.data), entry.form.comment.data)
                   for entry, criterion in rows if criterion is not None}
        decision = SelectionDecision(form.decision.data)
        if (decision is SelectionDecision.SELECTED and not form.confirm_not_met.data
                and any(result is Assessment.NOT_MET for result, _comment in results.values())):
            # 選定 although a criterion is 不適合: the form again with the warning and
            # its confirmation (issue 20) — nothing is saved before it is confirmed.
            form.confirm_not_met.errors.append(_("「不適合」の基準があります。このまま「選定する」場合は、確認のチェックを入れて"
                                                 "もう一度登録してください。"))
            return form, rows, None
        try:
            return form, rows, record(
                decided_on=form.decided_on.data, decision=decision, decided_by_id=form.decided_by_id.data,
                user=current_user, notes=form.notes.data, results=results, justification=form.justification.data)
        except Refusal as error:
            db.session.rollback()
            (form[error.field] if error.field in form else form.decision).errors.append(str(error))
    return form, rows, None


@bp.route("/<int:vendor_id>/selections/<int:selection_id>/<any(approve, reject):decision>", methods=["POST"])
@access(services.JUSTIFICATION_DECIDERS)
def justification_decide(vendor_id: int, selection_id: int, decision: str):
    """The four-eyes decision on a 選定 made although a criterion is 不適合."""
    selection = db.get_or_404(Selection, selection_id)
    if selection.vendor_id != vendor_id:
        abort(404)
    form = JustificationDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.decide_justification(selection, approver=current_user, approve=decision == "approve",
                                      comment=form.comment.data)
    except (services.VendorRuleError, ApprovalError) as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("vendors.justifications"), code=303)  # Post/Redirect/Get (issue 20)
    db.session.commit()
    flash(_("選定理由を承認しました。") if decision == "approve" else _("選定理由を却下しました。"), "success")
    return redirect(url_for("vendors.justifications"))


@bp.route("/selections/pending")
@access(services.JUSTIFICATION_DECIDERS)
def justifications(status_code: int = 200):
    """Selections whose justification awaits a decision (the deciders' list)."""
    return render_template("vendors/justifications.html", pending=services.pending_justifications(),
                           form=JustificationDecisionForm(), locale=locale_code()), status_code


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def dashboard_panel(user) -> Panel:
    unit = scope_unit(user)
    result = status_panel(_l("委託事業者"), Vendor.status, VendorStatus, "vendors.index", Vendor.unit_id, unit)
    expiring = statement(("vendors.expiring", unit), lambda: services.expiring_certifications_count(unit_id=unit))
    result.tiles.append(Tile(_l("認証の期限切れ・期限間近"), expiring,
                             "vendors.index",
                             {"cert": "expiring", **({"unit": unit} if unit else {})}, alert=True))
    return result


def justifications_panel(user) -> Panel | None:
    """The deciders' count of selection justifications awaiting a decision
    (shown to those who may open the list: administrators, approvers, the security lead)."""
    return Panel(_l("選定理由の承認"), "vendors.justifications", [
        Tile(_l("承認待ち"), statement(("vendors.justifications",), services.pending_justifications_count),
             "vendors.justifications", alert=True)])
