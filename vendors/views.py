"""委託事業者: vendor register pages.  Load → authorise (the access rule) →
validate → service → commit → redirect."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core import audit, files, pdf
from core.auth import CONTRACT_READERS, access
from core.dashboard import Panel, Tile, panel, scope_unit, status_panel
from core.db import db, savepoint
from core.forms import STALE_MESSAGE, CSRFForm, select_choices, unit_choices
from core.i18n import locale_code
from core.lists import ListView, enum_filter, id_filter
from core.models import OrgUnit, Role
from core.parts import delete_owned
from vendors import documents, services
from vendors.forms import CertificationForm, ContactForm, SelectionForm, VendorForm
from vendors.models import (
    Assessment,
    Certification,
    CertificationKind,
    SelectionDecision,
    Vendor,
    VendorContact,
    VendorStatus,
)

bp = Blueprint("vendors", __name__, url_prefix="/vendors")

WRITERS = Role.PROCUREMENT


def _certification_filter(stmt, value):
    return stmt.where(services.expiring_certifications_filter()) if value == "expiring" else stmt


LIST = ListView(
    search=[Vendor.name, Vendor.kana, Vendor.corporate_number],
    filters={
        "status": enum_filter(Vendor.status, VendorStatus),
        "unit": id_filter(Vendor.unit_id),
        "cert": _certification_filter,
    },
    sorts={"name": Vendor.kana, "status": Vendor.status, "updated": Vendor.updated_at},
    default_sort="name",
)


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
    return _detail(db.get_or_404(Vendor, vendor_id))


def _detail(vendor: Vendor, contact_form: ContactForm | None = None, status_code: int = 200):
    from contracts import rules as contract_rules  # contracts build on vendors, not the reverse
    from contracts import verification as checks
    from contracts.models import Contract, Finding, Verification

    contracts = db.session.scalars(select(Contract).where(Contract.vendor_id == vendor.id)
                                   .options(selectinload(Contract.clauses))
                                   .order_by(Contract.start_on.desc())).all()
    catalogue = contract_rules.active_clauses()
    gaps = {c.id: contract_rules.clause_gaps(c, catalogue) for c in contracts if contract_rules.is_live(c)}
    schedule = {row.contract.id: row for row in checks.schedule(contracts)}
    late = dict(db.session.execute(select(Finding.contract_id, func.count()).where(
        Finding.contract_id.in_([c.id for c in contracts]), checks.overdue_measures())
        .group_by(Finding.contract_id)).all())
    latest = db.session.scalars(select(Verification).join(Contract).where(
        Contract.vendor_id == vendor.id, Verification.status == checks.VerificationStatus.SUBMITTED)
        .order_by(Verification.performed_on.desc()).limit(1)).first()
    return render_template("vendors/detail.html", vendor=vendor, contracts=contracts, gaps=gaps,
                           schedule=schedule, late=late, latest=latest,
                           contact_form=contact_form or ContactForm(), actions=CSRFForm(),
                           deletable=not services.has_history(vendor),
                           audit_entries=audit.history(vendor, *vendor.contacts, *vendor.certifications,
                                                       *vendor.selections)), status_code


def vendor_form(vendor: Vendor | None = None, **kwargs) -> VendorForm:
    form = VendorForm(obj=vendor, **kwargs)
    form.unit_id.choices = select_choices(unit_choices())
    return form


def _apply(form: VendorForm, vendor: Vendor) -> None:
    vendor.name = form.name.data.strip()
    vendor.kana = (form.kana.data or "").strip() or None
    vendor.corporate_number = (form.corporate_number.data or "").strip() or None
    vendor.address = (form.address.data or "").strip() or None
    vendor.representative = (form.representative.data or "").strip() or None
    vendor.website = (form.website.data or "").strip() or None
    vendor.unit_id = form.unit_id.data
    vendor.notes = (form.notes.data or "").strip() or None


def save(form: VendorForm, vendor: Vendor) -> Vendor | None:
    """Validate the rules that need the database, then apply and flush (the
    caller commits); on refusal the form carries the message and None comes
    back.  The pages, the spreadsheet import and the API all save here."""
    number = (form.corporate_number.data or "").strip() or None
    if services.corporate_number_taken(number, exclude_id=vendor.id):
        form.corporate_number.errors.append(_("この法人番号の事業者は既に登録されています。"))
        return None
    status = VendorStatus(form.status.data)
    try:
        services.check_status(vendor, status)
    except services.VendorRuleError as error:
        form.status.errors.append(str(error))
        return None
    _apply(form, vendor)
    if vendor.id is not None and vendor.status is not status and status in (VendorStatus.ENDED,
                                                                             VendorStatus.SUSPENDED):
        audit.label(vendor, "retire")
    vendor.status = status
    db.session.add(vendor)
    try:
        with savepoint():
            db.session.flush()
    except IntegrityError:
        form.corporate_number.errors.append(_("この法人番号の事業者は既に登録されています。"))
        return None
    return vendor


@bp.route("/new", methods=["GET", "POST"])
@access(WRITERS)
def new():
    form = vendor_form()
    if request.method == "GET":
        form.status.data = VendorStatus.CANDIDATE.value
    if form.validate_on_submit():
        vendor = save(form, Vendor())
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
        if save(form, vendor):
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
        vendor.contacts.append(VendorContact(name=form.name.data.strip(), department=form.department.data or None,
                                             phone=form.phone.data or None, email=form.email.data or None))
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
            stored = files.store(form.file.data, user=current_user) if form.file.data else None
        except files.FileRejected as error:
            form.file.errors.append(str(error))
        else:
            vendor.certifications.append(Certification(
                kind=CertificationKind(form.kind.data), name=(form.name.data or "").strip() or None,
                number=form.number.data or None, issuer=form.issuer.data or None,
                valid_until=form.valid_until.data, file=stored))
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
    criteria = services.active_criteria()
    form = SelectionForm()
    if request.method == "GET":
        from core.timeutil import today

        form.decided_on.data = today()
        for criterion in criteria:
            form.assessments.append_entry({"criterion_id": criterion.id})
    by_id = {c.id: c for c in criteria}
    rows = [(entry, by_id.get(_int(entry.form.criterion_id.data))) for entry in form.assessments]
    if form.validate_on_submit():
        results = {criterion.id: (Assessment(entry.form.result.data), entry.form.comment.data)
                   for entry, criterion in rows if criterion is not None}
        try:
            services.record_selection(vendor, decided_on=form.decided_on.data,
                                      decision=SelectionDecision(form.decision.data), user=current_user,
                                      notes=form.notes.data, results=results)
        except services.VendorRuleError as error:
            db.session.rollback()
            form.decision.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("選定記録を登録しました。"), "success")
            return redirect(url_for("vendors.detail", vendor_id=vendor.id) + "#selection")
    return render_template("vendors/selection_form.html", form=form, vendor=vendor, rows=rows,
                           locale=locale_code()), 400 if form.errors else 200


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@panel(10)
def dashboard_panel(user) -> Panel:
    unit = scope_unit(user)
    result = status_panel(_l("委託事業者"), Vendor.status, VendorStatus, "vendors.index", Vendor.unit_id, unit)
    result.tiles.append(Tile(_l("認証の期限切れ・期限間近"), services.expiring_certifications_count(unit_id=unit),
                             "vendors.index",
                             {"cert": "expiring", **({"unit": unit} if unit else {})}, alert=True))
    return result
