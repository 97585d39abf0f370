"""契約: contract register pages, the clause matrix, signing, exceptions,
subcontractors, the end-of-contract record and the clause catalogue."""
from __future__ import annotations

import datetime as dt
from functools import partial

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from contracts import documents, rules, services
from contracts import verification as checks
from contracts.forms import (
    AmendmentForm,
    ClauseForm,
    ClauseMatrixForm,
    DecisionForm,
    DisposalForm,
    ExceptionDecisionForm,
    ExceptionRequestForm,
    RenewalForm,
    SelectionConfirmForm,
    SubcontractorEndForm,
    amendment_form,
    contract_form,
    subcontractor_form,
)
from contracts.lists import LIST
from contracts.models import (
    Clause,
    ClauseState,
    Contract,
    ContractAmendment,
    ContractKind,
    ContractStatus,
    DisposalMethod,
    Finding,
    Subcontracting,
    Subcontractor,
    SubcontractorStatus,
    Verification,
)
from core import approvals, audit, files, pdf
from core.approvals import Approval, Decision
from core.auth import CONTRACT_READERS, access
from core.dashboard import Panel, Tile, scope_unit, statement, status_panel
from core.db import db
from core.forms import STALE_MESSAGE, CSRFForm, classification_levels, select_choices, unit_choices
from core.i18n import date_filter, locale_code
from core.lists import int_arg
from core.models import Role
from core.parts import record_end_of_life
from core.pickers import searching
from core.refusals import Refusal
from core.timeutil import today
from core.validators import fold
from vendors import services as vendor_services
from vendors import views as vendor_views
from vendors.models import Vendor

bp = Blueprint("contracts", __name__, url_prefix="/contracts")

WRITERS = Role.PROCUREMENT
# Who may decide a clause exception (never the one who asked for it): the
# 統括情報セキュリティ責任者 or an administrator (issue 17).
DECIDERS = rules.EXCEPTION_DECIDERS


@bp.route("/")
@access(CONTRACT_READERS)
def index():
    # The vendor is joined into the filter only when the sort reads its
    # columns (the search finds vendors through their key's index:
    # contracts.lists): otherwise counting a unit's 2,000 contracts would
    # read their 2,000 vendors too (every contract has one: the count is the
    # same).  joinedload joins it to the page's rows alone.
    if request.args.get("sort") == "vendor":
        stmt = select(Contract).join(Contract.vendor).options(contains_eager(Contract.vendor))
    else:
        stmt = select(Contract).options(joinedload(Contract.vendor))
    pagination, state = LIST.apply(stmt.options(selectinload(Contract.classification)))
    # A body may have thousands of vendors: no list of them all.  The vendor
    # filter comes from a vendor's page; the search box finds vendor names.
    chosen = int_arg(request.args.get("vendor"))
    vendors = [(v.id, v.name) for v in db.session.scalars(select(Vendor).where(Vendor.id == chosen))] \
        if chosen is not None else []
    levels = [(lv.id, lv.label(locale_code())) for lv in classification_levels("confidentiality")]
    gap_ids = set(db.session.scalars(select(Contract.id).where(
        Contract.id.in_([c.id for c in pagination.items]), Contract.status.in_(rules.LIVE),
        Contract.has_gap)))
    return render_template("contracts/index.html", pagination=pagination, state=state, gap_ids=gap_ids,
                           statuses=ContractStatus.choices(), kinds=ContractKind.choices(),
                           units=unit_choices(include_blank=False), vendors=vendors, levels=levels,
                           gap_choices=[("yes", _("必須条項の不足あり"))],
                           exception_choices=[("pending", _("承認待ちあり"))],
                           ending_choices=[("30", _("30日以内")), ("60", _("60日以内")), ("90", _("90日以内"))])


@bp.route("/<int:contract_id>")
@access(CONTRACT_READERS)
def detail(contract_id: int):
    # The page shows these: joined here, not one statement each later.
    contract = db.first_or_404(select(Contract).where(Contract.id == contract_id).options(
        joinedload(Contract.vendor), joinedload(Contract.unit), joinedload(Contract.officer),
        joinedload(Contract.classification), joinedload(Contract.integrity), joinedload(Contract.availability)))
    return _detail(contract)


def _refused(error, url: str):
    """A refused action (Post/Redirect/Get, issue 20): nothing saved, the
    reason flashed, and back to the record's page — reloading it posts nothing."""
    db.session.rollback()
    flash(str(error), "danger")
    return redirect(url, code=303)


def _page(contract: Contract, anchor: str = "") -> str:
    return url_for("contracts.detail", contract_id=contract.id) + anchor


def _act(contract: Contract, action, done: str, back=None):
    """Run one write of the contract page (``action``, a service call): on a
    refusal, nothing saved and back to the contract page with the message
    (Post/Redirect/Get); else commit, say ``done`` and go ``back`` (the
    contract page by default)."""
    try:
        action()
    except rules.ContractRuleError as error:
        return _refused(error, _page(contract))
    db.session.commit()
    flash(done, "success")
    return back() if back else redirect(url_for("contracts.detail", contract_id=contract.id))


def _period_date(day: dt.date) -> str:
    """A date of the contract's period as the contract page writes it (和暦 in Japanese)."""
    return date_filter(day, era=True)


def _detail(contract: Contract, *, exception_form=None, request_form=None, decision_form=None,
            selection_form=None, status_code=200):
    rows = rules.matrix(contract)
    catalogue = rules.read_clauses()
    [schedule] = checks.schedule([contract])
    verifications = db.session.scalars(select(Verification).where(Verification.contract_id == contract.id)
                                       .order_by(Verification.performed_on.desc(), Verification.id.desc())).all()
    findings = db.session.scalars(select(Finding).where(Finding.contract_id == contract.id)
                                  .options(selectinload(Finding.clause)).order_by(Finding.due_on)).all()
    mandatory = {c.id for c in rules.mandatory_clauses(contract, catalogue)}
    gaps = rules.clause_gaps(contract, catalogue)
    exceptions = rules.exceptions(contract)
    excepted = rules.excepted_codes(contract, exceptions)
    may_request = (current_user.has_role(WRITERS) and contract.subcontracting is Subcontracting.APPROVAL
                   and contract.status not in rules.CLOSED)
    subcontractor_approvals = _subcontractor_approvals(contract)
    pending = rules.pending_codes(contract, exceptions)
    exception_form = exception_form or ExceptionRequestForm()
    # One request per clause: the missing ones not covered and not already asked for.
    exception_form.clause.choices = [("", _("選択してください"))] + [
        (c.code, f"{c.code} {c.label(locale_code())}") for c in gaps if c.code not in excepted | pending]
    amendments = services.amendments(contract)
    return render_template(
        "contracts/detail.html", contract=contract, clauses=catalogue, rows=rows, mandatory=mandatory,
        gaps=gaps, excepted=excepted, pending=pending, exceptions=exceptions, locale=locale_code(),
        holds=rules.exception_holds, expired=rules.exception_expired,
        next_statuses=rules.TRANSITIONS[contract.status], actions=CSRFForm(),
        exception_form=exception_form, decision_form=decision_form or ExceptionDecisionForm(),
        subcontractor_form=request_form or (subcontractor_form() if may_request else None),
        subcontractor_approvals=subcontractor_approvals,
        can_decide_subcontractors=current_user.has_role(*services.SUBCONTRACTOR_DECIDERS),
        can_write=current_user.has_role(WRITERS),
        can_decide=current_user.has_role(*DECIDERS), can_renew=contract.status in services.RENEWABLE,
        schedule=schedule, verifications=verifications,
        findings=findings, today=today(), can_verify=current_user.has_role(Role.VERIFIER),
        amendments=[(a, services.change_lines(a, locale_code(), _period_date)) for a in amendments],
        can_amend=current_user.has_role(WRITERS) and contract.status in services.AMENDABLE,
        selection_form=selection_form or SelectionConfirmForm(), selection_gap=rules.selection_gap(contract),
        valid_selection=vendor_services.valid_selection(contract.vendor),
        selection_days=vendor_services.selection_valid_days(),
        audit_entries=audit.history(contract, *contract.clauses, *contract.subcontractors, contract.disposal,
                                    *exceptions, *subcontractor_approvals.values(), *amendments)), status_code


@bp.route("/new", methods=["GET", "POST"])
@access(WRITERS)
def new():
    form = contract_form()
    if request.method == "GET" and (vendor_id := int_arg(request.args.get("vendor"))) is not None:
        form.vendor_id.data = vendor_id
    if form.validate_on_submit():
        contract = services.save_from_form(form, Contract(status=ContractStatus.DRAFT))
        if contract:
            db.session.commit()
            flash(_("契約「%(number)s」を登録しました。次にセキュリティ条項を確認してください。", number=contract.number),
                  "success")
            return redirect(url_for("contracts.clauses", contract_id=contract.id))
    return render_template("contracts/form.html", form=form, contract=None), 400 if form.errors else 200


@bp.route("/<int:contract_id>/edit", methods=["GET", "POST"])
@access(WRITERS)
def edit(contract_id: int):
    contract = db.get_or_404(Contract, contract_id)
    form = contract_form(contract, version=contract.version)
    if form.validate_on_submit():
        if form.is_stale(contract):
            flash(STALE_MESSAGE, "warning")
            form = contract_form(contract, version=contract.version, formdata=None)
            return render_template("contracts/form.html", form=form, contract=contract), 409
        if services.save_from_form(form, contract):
            db.session.commit()
            flash(_("契約「%(number)s」を更新しました。", number=contract.number), "success")
            return redirect(url_for("contracts.detail", contract_id=contract.id))
    return render_template("contracts/form.html", form=form, contract=contract), 400 if form.errors else 200


@bp.route("/<int:contract_id>/renew", methods=["GET", "POST"])
@access(WRITERS)
def renew(contract_id: int):
    """次年度の契約を作成 (単年度契約の更新): a new draft copied from this
    contract, with its own number, title and period."""
    contract = db.get_or_404(Contract, contract_id)
    form = RenewalForm(**services.renewal_defaults(contract)) if request.method == "GET" else RenewalForm()
    refusal = _renewal_refusal(contract)
    if refusal is None and form.validate_on_submit():
        try:
            renewed = services.renew(contract, number=form.number.data, title=form.title.data,
                                     start_on=form.start_on.data, end_on=form.end_on.data, user=current_user)
        except rules.ContractRuleError as error:
            db.session.rollback()
            if error.field is None:  # not renewable (any more): a parallel request renewed it first
                return _renew_page(contract, form, str(error), 409)
            form[error.field].errors.append(str(error))
        else:
            db.session.commit()
            flash(_("次年度の契約「%(number)s」を起案として作成しました。契約期間と条項を確認してください。",
                    number=renewed.number), "success")
            return redirect(url_for("contracts.detail", contract_id=renewed.id))
    if refusal is not None:
        return _renew_page(contract, form, refusal, 409 if request.method == "POST" else 200)
    return _renew_page(contract, form, None, 400 if form.errors else 200)


def _renewal_refusal(contract: Contract) -> str | None:
    """Why next year's contract cannot be made from ``contract`` (None: it can)."""
    if contract.status not in services.RENEWABLE:
        return _("次年度の契約は、締結済・履行中・終了の契約からのみ作成できます。")
    if (successor := services.successor_of(contract)) is not None:
        return str(services.already_renewed(successor))
    return None


def _renew_page(contract: Contract, form: RenewalForm, refusal: str | None, status_code: int):
    return render_template("contracts/renew.html", contract=contract, form=form, refusal=refusal,
                           successor=services.successor_of(contract)), status_code


@bp.route("/<int:contract_id>/checklist.pdf")
@access(CONTRACT_READERS)
def checklist_pdf(contract_id: int):
    contract = db.get_or_404(Contract, contract_id)
    with force_locale("ja"):
        [section] = documents.checklist_sections([contract.id])
        rendered = pdf.render(section.title, [section], user=current_user)
    pdf.record_print(rendered, subject=contract, document="contract_checklist")
    db.session.commit()
    return pdf.send(rendered, f"契約点検表_{contract.number}.pdf")


@bp.route("/<int:contract_id>/sheet.pdf")
@access(CONTRACT_READERS)
def sheet_pdf(contract_id: int):
    contract = db.get_or_404(Contract, contract_id)
    with force_locale("ja"):
        section = documents.blank_sheet(contract)
        rendered = pdf.render(section.title, [section], user=current_user)
    pdf.record_print(rendered, subject=contract, document="verification_sheet")
    db.session.commit()
    return pdf.send(rendered, f"実地確認シート_{contract.number}.pdf")


@bp.route("/<int:contract_id>/document")
@access(CONTRACT_READERS)
def document(contract_id: int):
    contract = db.get_or_404(Contract, contract_id)
    if contract.document is None:
        abort(404)
    return files.send(contract.document)


# --- clause matrix -------------------------------------------------------------

@bp.route("/<int:contract_id>/clauses", methods=["GET", "POST"])
@access(WRITERS)
def clauses(contract_id: int):
    contract = db.get_or_404(Contract, contract_id)
    catalogue = rules.active_clauses()
    existing = rules.matrix(contract)
    form = ClauseMatrixForm(version=contract.version)
    if request.method == "GET":
        for clause in catalogue:
            row = existing.get(clause.id)
            form.rows.append_entry({"clause_id": clause.id,
                                    "state": (row.state if row else ClauseState.NOT_INCLUDED).value,
                                    "article": row.article if row else "", "reason": row.reason if row else ""})
    by_id = {c.id: c for c in catalogue}
    entries = [(entry, by_id.get(_int(entry.form.clause_id.data))) for entry in form.rows]
    mandatory = {c.id for c in rules.mandatory_clauses(contract, catalogue)}
    if form.validate_on_submit():
        if form.is_stale(contract):
            flash(STALE_MESSAGE, "warning")
            return redirect(url_for("contracts.clauses", contract_id=contract.id))
        values = {clause.id: (ClauseState(entry.form.state.data), entry.form.article.data, entry.form.reason.data)
                  for entry, clause in entries if clause is not None}
        try:
            services.save_matrix(contract, values, user=current_user)
            db.session.commit()
        except rules.ContractRuleError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            gaps = rules.clause_gaps(contract)
            flash(_("セキュリティ条項を保存しました。") + (" " + _("必須条項の不足: %(codes)s", codes=", ".join(
                c.code for c in gaps)) if gaps else ""), "warning" if gaps else "success")
            return redirect(url_for("contracts.detail", contract_id=contract.id) + "#clauses")
    return render_template("contracts/clauses.html", contract=contract, form=form, entries=entries,
                           mandatory=mandatory, locale=locale_code()), 400 if form.errors else 200


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- status, exceptions ---------------------------------------------------------

@bp.route("/<int:contract_id>/status", methods=["POST"])
@access(WRITERS)
def change_status(contract_id: int):
    contract = db.get_or_404(Contract, contract_id)
    target = ContractStatus.parse(request.form.get("status", ""))
    if not CSRFForm().validate_on_submit() or target is None:
        abort(400)
    signed_on = None
    if target is ContractStatus.SIGNED and (typed := fold(request.form.get("signed_on"))):
        try:  # 締結日, entered by the officer (issue 20); left out: today
            signed_on = dt.date.fromisoformat(typed)
        except ValueError:
            return _refused(_("締結日はYYYY-MM-DDの形で正しい日付を入力してください。"), _page(contract))
    return _act(contract, lambda: rules.change_status(contract, target, user=current_user, signed_on=signed_on),
                _("状態を「%(status)s」にしました。", status=target.label))


# --- the selection that covers the contract (issue 17) ------------------------

@bp.route("/<int:contract_id>/selection/new", methods=["GET", "POST"])
@access(WRITERS)
def selection_new(contract_id: int):
    """「この契約の選定を記録」: the vendor's selection form; the selection is linked to the contract."""
    contract = db.get_or_404(Contract, contract_id)
    form, rows, selection = vendor_views.selection_page(
        contract.vendor, record=partial(services.record_contract_selection, contract))
    if selection is not None:
        db.session.commit()
        flash(_("この契約の選定記録を登録しました。"), "success")
        return redirect(url_for("contracts.detail", contract_id=contract.id) + "#selection")
    return render_template("vendors/selection_form.html", form=form, vendor=contract.vendor, rows=rows,
                           contract=contract, locale=locale_code(),
                           cancel_url=url_for("contracts.detail", contract_id=contract.id)), \
        400 if form.errors else 200


@bp.route("/<int:contract_id>/selection/confirm", methods=["POST"])
@access(WRITERS)
def selection_confirm(contract_id: int):
    """Confirm the vendor's valid selection for this contract, with a comment."""
    contract = db.get_or_404(Contract, contract_id)
    form = SelectionConfirmForm()
    if form.validate_on_submit():
        try:
            services.confirm_vendor_selection(contract, comment=form.comment.data, user=current_user)
        except rules.ContractRuleError as error:
            db.session.rollback()
            if error.field == "comment":
                form.comment.errors.append(str(error))
                return _detail(contract, selection_form=form, status_code=400)
            return _refused(error, _page(contract, "#selection"))
        db.session.commit()
        flash(_("事業者の選定記録をこの契約の選定として確認しました。"), "success")
        return redirect(url_for("contracts.detail", contract_id=contract.id) + "#selection")
    return _detail(contract, selection_form=form, status_code=400)


@bp.route("/<int:contract_id>/exceptions", methods=["POST"])
@access(WRITERS)
def exception_request(contract_id: int):
    contract = db.get_or_404(Contract, contract_id)
    form = ExceptionRequestForm()
    if form.validate_on_submit():
        try:
            services.request_exception(contract, clause=form.clause.data, reason=form.reason.data,
                                       user=current_user)
        except rules.ContractRuleError as error:
            return _refused(error, _page(contract, "#exceptions"))
        else:
            db.session.commit()
            flash(_("例外を申請しました。統括情報セキュリティ責任者または管理者が決定します。"), "success")
            return redirect(url_for("contracts.detail", contract_id=contract.id) + "#exceptions")
    return _detail(contract, exception_form=form, status_code=400)


@bp.route("/<int:contract_id>/exceptions/<int:approval_id>/<any(approve, reject):decision>", methods=["POST"])
@access(DECIDERS)
def exception_decide(contract_id: int, approval_id: int, decision: str):
    contract = db.get_or_404(Contract, contract_id)
    approval = db.get_or_404(Approval, approval_id)
    if approval.kind != rules.EXCEPTION or approval.subject_id != contract.id:
        abort(404)
    form = ExceptionDecisionForm()
    if not form.validate_on_submit():
        for name, errors in form.errors.items():  # the decision form's fields are written by hand: say what is wrong
            label = form[name].label.text if name in form else ""
            for error in errors:
                flash(f"{label}: {error}" if label else str(error), "danger")
        return redirect(_page(contract, "#exceptions"), code=303)
    try:
        services.decide_exception(approval, approver=current_user, approve=decision == "approve",
                                  comment=form.comment.data, expires_on=form.expires_on.data)
    except (approvals.ApprovalError, rules.ContractRuleError) as error:
        return _refused(error, _page(contract, "#exceptions"))
    db.session.commit()
    flash(_("例外を承認しました。") if decision == "approve" else _("例外を却下しました。"), "success")
    return redirect(url_for("contracts.detail", contract_id=contract.id) + "#exceptions")


# --- subcontractors, disposal ---------------------------------------------------

def _subcontractor_approvals(contract: Contract) -> dict[int, Approval]:
    """Each subcontractor's latest four-eyes record, by subcontractor id."""
    ids = [s.id for s in contract.subcontractors]
    if not ids:
        return {}
    found = db.session.scalars(select(Approval).where(
        Approval.kind == services.SUBCONTRACTOR, Approval.subject_type == Subcontractor.__tablename__,
        Approval.subject_id.in_(ids)).options(joinedload(Approval.approver)).order_by(Approval.id))
    return {approval.subject_id: approval for approval in found}


def _subcontractor(contract_id: int, row_id: int) -> tuple[Contract, Subcontractor]:
    contract = db.get_or_404(Contract, contract_id)
    row = db.get_or_404(Subcontractor, row_id)
    if row.contract_id != contract.id:
        abort(404)
    return contract, row


def _back(contract: Contract):
    return redirect(url_for("contracts.detail", contract_id=contract.id) + "#subcontractors")


@bp.route("/<int:contract_id>/subcontractors", methods=["POST"])
@access(WRITERS)
def subcontractor_add(contract_id: int):
    """再委託の申請 with its approval document (C08)."""
    contract = db.get_or_404(Contract, contract_id)
    form = subcontractor_form()
    if form.validate_on_submit():
        try:
            services.request_subcontractor(contract, name=form.name.data, scope=form.scope.data,
                                           document=form.document.data, vendor_id=form.vendor_id.data,
                                           corporate_number=form.corporate_number.data, user=current_user)
        except rules.ContractRuleError as error:
            db.session.rollback()
            if not (error.field and error.field in form):
                return _refused(error, _page(contract, "#subcontractors"))
            form[error.field].errors.append(str(error))
            return _detail(contract, request_form=form, status_code=409)
        db.session.commit()
        flash(_("再委託先を申請しました。申請者以外の管理者・承認者・統括情報セキュリティ責任者が決定します。"), "success")
        return _back(contract)
    # a picker's 検索 without JavaScript (core.pickers) shows the form again with the vendors found
    return _detail(contract, request_form=form, status_code=200 if searching(form) else 400)


@bp.route("/<int:contract_id>/subcontractors/<int:row_id>/<any(approve, reject):decision>", methods=["POST"])
@access(services.SUBCONTRACTOR_DECIDERS)
def subcontractor_decide(contract_id: int, row_id: int, decision: str):
    contract, row = _subcontractor(contract_id, row_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.decide_subcontractor(row, approve=decision == "approve", comment=form.comment.data,
                                      user=current_user)
    except rules.ContractRuleError as error:
        return _refused(error, url_for("contracts.subcontractor_requests") if _from_requests()
                        else _page(contract, "#subcontractors"))
    db.session.commit()
    flash(_("再委託先を承認しました。") if decision == "approve" else _("再委託の申請を却下しました。"), "success")
    return redirect(url_for("contracts.subcontractor_requests")) if _from_requests() else _back(contract)


def _from_requests() -> bool:
    """The decision was made on the list of requests (an approver reads no contract page)."""
    return request.form.get("back") == "requests" or not current_user.has_role(*CONTRACT_READERS)


@bp.route("/subcontractors/requests")
@access(services.SUBCONTRACTOR_DECIDERS)
def subcontractor_requests():
    """The subcontractor requests awaiting a decision (C08), with what the
    decision needs: the contract, its vendor and level, the scope and the
    approval document."""
    rows = db.session.scalars(select(Subcontractor).where(Subcontractor.status == SubcontractorStatus.PENDING)
                              .options(joinedload(Subcontractor.contract).joinedload(Contract.vendor),
                                       joinedload(Subcontractor.contract).joinedload(Contract.classification),
                                       joinedload(Subcontractor.requested_by), joinedload(Subcontractor.vendor),
                                       joinedload(Subcontractor.document))
                              .order_by(Subcontractor.id)).all()
    return render_template("contracts/subcontractor_requests.html", rows=rows, locale=locale_code(),
                           approvals={s.id: a for s in rows if (a := services.subcontractor_approval(s))},
                           can_read_contracts=current_user.has_role(*CONTRACT_READERS))


@bp.route("/<int:contract_id>/subcontractors/<int:row_id>/withdraw", methods=["POST"])
@access(WRITERS)
def subcontractor_withdraw(contract_id: int, row_id: int):
    contract, row = _subcontractor(contract_id, row_id)
    if not CSRFForm().validate_on_submit():
        abort(400)
    return _act(contract, lambda: services.withdraw_subcontractor(row, user=current_user),
                _("再委託の申請を取り下げました。"), back=lambda: _back(contract))


@bp.route("/<int:contract_id>/subcontractors/<int:row_id>/end", methods=["POST"])
@access(WRITERS)
def subcontractor_end(contract_id: int, row_id: int):
    """An approved subcontractor ends (終了) with its date and reason; it is never deleted."""
    contract, row = _subcontractor(contract_id, row_id)
    if not CSRFForm().validate_on_submit():
        abort(400)
    form = SubcontractorEndForm()
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "danger")
        return redirect(_page(contract, "#subcontractors"), code=303)
    return _act(contract, lambda: services.end_subcontractor(row, ended_on=form.ended_on.data,
                                                            reason=form.end_reason.data, user=current_user),
                _("再委託先を終了にしました。"), back=lambda: _back(contract))


@bp.route("/<int:contract_id>/subcontractors/<int:row_id>/delete", methods=["POST"])
@access(WRITERS)
def subcontractor_delete(contract_id: int, row_id: int):
    """Refused: an approved subcontractor is ended, a request withdrawn (services.delete_subcontractor)."""
    contract, row = _subcontractor(contract_id, row_id)
    if not CSRFForm().validate_on_submit():
        abort(400)
    try:
        services.delete_subcontractor(row)
    except rules.ContractRuleError as error:
        db.session.rollback()
        flash(str(error), "danger")
    return _back(contract)


@bp.route("/<int:contract_id>/subcontractors/<int:row_id>/document")
@access(CONTRACT_READERS | services.SUBCONTRACTOR_DECIDERS)
def subcontractor_document(contract_id: int, row_id: int):
    _contract, row = _subcontractor(contract_id, row_id)
    if row.document is None:
        abort(404)
    return files.send(row.document)


@bp.route("/<int:contract_id>/disposal", methods=["GET", "POST"])
@access(WRITERS)
def disposal(contract_id: int):
    """返却・廃棄 (clause C09): date, method and evidence."""
    contract = db.get_or_404(Contract, contract_id)
    form = DisposalForm()
    if request.method == "GET":
        form.done_on.data = today()
    done = record_end_of_life(
        form, lambda: services.record_disposal(contract, done_on=form.done_on.data,
                                               method=DisposalMethod.parse(form.method.data), detail=form.detail.data,
                                               upload=form.evidence.data, user=current_user),
        done=_("情報資産の返却・廃棄を記録しました。"),
        back=url_for("contracts.detail", contract_id=contract.id) + "#disposal")
    if done:
        return done
    return render_template("contracts/disposal.html", form=form, contract=contract,
                           class3=rules.is_class3(contract), successor=rules.handover_successor(contract)), \
        400 if form.errors else 200


@bp.route("/<int:contract_id>/disposal/evidence")
@access(CONTRACT_READERS)
def disposal_evidence(contract_id: int):
    contract = db.get_or_404(Contract, contract_id)
    if contract.disposal is None or contract.disposal.evidence is None:
        abort(404)
    return files.send(contract.disposal.evidence)


# --- amendments (変更契約, issue 17) ---------------------------------------------------

def _amendment(contract_id: int, amendment_id: int) -> tuple[Contract, ContractAmendment]:
    contract = db.get_or_404(Contract, contract_id)
    amendment = db.get_or_404(ContractAmendment, amendment_id)
    if amendment.contract_id != contract.id:
        abort(404)
    return contract, amendment


def _amendment_entries(form: AmendmentForm, contract: Contract, amendment: ContractAmendment | None):
    """The form's clause rows (filled on GET from the contract's matrix, or
    from the draft's proposed rows), each with its catalogue clause."""
    catalogue = rules.active_clauses()
    if request.method == "GET":
        existing = rules.matrix(contract)
        proposed = ((amendment.changes or {}).get("clauses") or {}) if amendment else {}
        for clause in catalogue:
            row = existing.get(clause.id)
            state, article, reason = proposed[clause.code]["after"] if clause.code in proposed else (
                (row.state.value, row.article, row.reason) if row else (ClauseState.NOT_INCLUDED.value, None, None))
            form.rows.append_entry({"clause_id": clause.id, "state": state, "article": article or "",
                                    "reason": reason or ""})
    by_id = {c.id: c for c in catalogue}
    return [(entry, by_id.get(_int(entry.form.clause_id.data))) for entry in form.rows]


def _amendment_page(form, contract, amendment, entries, status_code):
    mandatory = {c.id for c in rules.mandatory_clauses(contract)}
    return render_template("contracts/amendment_form.html", form=form, contract=contract, amendment=amendment,
                           entries=entries, mandatory=mandatory, locale=locale_code()), status_code


def _save_amendment(form: AmendmentForm, contract: Contract, amendment: ContractAmendment, entries) -> bool:
    values = {name: form[name].data for name in (*services.PROTECTED, "reason", "amended_on", "document")}
    rows = {clause.id: (ClauseState(entry.form.state.data), entry.form.article.data, entry.form.reason.data)
            for entry, clause in entries if clause is not None}
    try:
        services.save_amendment(amendment, values, rows, user=current_user)
    except files.FileRejected as error:
        db.session.rollback()
        form.document.errors.append(str(error))
        return False
    except rules.ContractRuleError as error:
        db.session.rollback()
        if error.field and error.field in form:
            form[error.field].errors.append(str(error))
        else:
            flash(str(error), "danger")
        return False
    db.session.commit()
    return True


@bp.route("/<int:contract_id>/amendments/new", methods=["GET", "POST"])
@access(WRITERS)
def amendment_new(contract_id: int):
    """Draft an amendment: the protected terms and the matrix, prefilled with the contract's."""
    contract = db.get_or_404(Contract, contract_id)
    form = amendment_form(obj=contract if request.method == "GET" else None)
    if request.method == "GET":
        form.amended_on.data = today()
    entries = _amendment_entries(form, contract, None)
    if form.validate_on_submit():
        amendment = ContractAmendment(contract=contract)
        if _save_amendment(form, contract, amendment, entries):
            flash(_("変更契約（第%(number)s回変更）を起案しました。変更契約書を添付し、承認を申請してください。",
                    number=amendment.number), "success")
            return redirect(url_for("contracts.amendment_detail", contract_id=contract.id,
                                    amendment_id=amendment.id))
        return _amendment_page(form, contract, None, entries, 409 if not form.errors else 400)
    return _amendment_page(form, contract, None, entries, 400 if form.errors else 200)


@bp.route("/<int:contract_id>/amendments/<int:amendment_id>/edit", methods=["GET", "POST"])
@access(WRITERS)
def amendment_edit(contract_id: int, amendment_id: int):
    contract, amendment = _amendment(contract_id, amendment_id)
    form = amendment_form(obj=amendment if request.method == "GET" else None, version=amendment.version)
    if request.method == "GET":
        for name in services.PROTECTED:  # the terms as proposed: the contract's, changed by the draft
            change = ((amendment.changes or {}).get("fields") or {}).get(name)
            value = services._from_json(name, change["after"]) if change else getattr(contract, name)
            form[name].data = getattr(value, "value", value)
    entries = _amendment_entries(form, contract, amendment)
    if form.validate_on_submit():
        if form.is_stale(amendment):
            flash(STALE_MESSAGE, "warning")
            return redirect(url_for("contracts.amendment_detail", contract_id=contract.id,
                                    amendment_id=amendment.id), code=303)
        if _save_amendment(form, contract, amendment, entries):
            flash(_("変更契約を保存しました。"), "success")
            return redirect(url_for("contracts.amendment_detail", contract_id=contract.id,
                                    amendment_id=amendment.id))
        return _amendment_page(form, contract, amendment, entries, 409 if not form.errors else 400)
    return _amendment_page(form, contract, amendment, entries, 400 if form.errors else 200)


@bp.route("/<int:contract_id>/amendments/<int:amendment_id>")
@access(CONTRACT_READERS)
def amendment_detail(contract_id: int, amendment_id: int, status_code: int = 200):
    contract, amendment = _amendment(contract_id, amendment_id)
    return render_template(
        "contracts/amendment.html", contract=contract, amendment=amendment,
        changes=services.change_lines(amendment, locale_code(), _period_date), actions=CSRFForm(), decision_form=DecisionForm(),
        can_write=current_user.has_role(WRITERS), can_decide=services.can_decide_amendment(current_user, amendment),
        audit_entries=audit.history(amendment)), status_code


@bp.route("/<int:contract_id>/amendments/<int:amendment_id>/document")
@access(CONTRACT_READERS)
def amendment_document(contract_id: int, amendment_id: int):
    _contract, amendment = _amendment(contract_id, amendment_id)
    if amendment.document is None:
        abort(404)
    return files.send(amendment.document)


@bp.route("/<int:contract_id>/amendments/<int:amendment_id>/<any(submit, withdraw):action>", methods=["POST"])
@access(WRITERS)
def amendment_action(contract_id: int, amendment_id: int, action: str):
    contract, amendment = _amendment(contract_id, amendment_id)
    if not CSRFForm().validate_on_submit():
        abort(400)
    try:
        if action == "submit":
            services.submit_amendment(amendment, user=current_user)
        else:
            services.withdraw_amendment(amendment, user=current_user)
    except Refusal as error:
        return _refused(error, url_for("contracts.amendment_detail", contract_id=contract.id,
                                       amendment_id=amendment.id))
    db.session.commit()
    flash(_("変更契約の承認を申請しました。起案者以外の担当者が承認します。") if action == "submit"
          else _("変更契約を取り下げました。"), "success")
    return redirect(url_for("contracts.amendment_detail", contract_id=contract.id, amendment_id=amendment.id))


@bp.route("/<int:contract_id>/amendments/<int:amendment_id>/<any(approve, reject):decision>", methods=["POST"])
@access(frozenset(services.AMENDMENT_DECIDERS))
def amendment_decide(contract_id: int, amendment_id: int, decision: str):
    """Another person decides; approval applies the changes after the signing gates."""
    contract, amendment = _amendment(contract_id, amendment_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.decide_amendment(amendment, user=current_user, approve=decision == "approve",
                                  comment=form.comment.data)
    except Refusal as error:
        return _refused(error, url_for("contracts.amendment_detail", contract_id=contract.id,
                                       amendment_id=amendment.id))
    db.session.commit()
    flash(_("変更契約を承認し、契約に反映しました。") if decision == "approve" else _("変更契約を却下しました。"), "success")
    return redirect(url_for("contracts.amendment_detail", contract_id=contract.id, amendment_id=amendment.id))


# --- clause catalogue (admin) -------------------------------------------------------

@bp.route("/clauses")
@access(CONTRACT_READERS)
def catalogue():
    clauses = db.session.scalars(select(Clause).order_by(Clause.sort_order, Clause.code)).all()
    return render_template("contracts/catalogue.html", clauses=clauses, locale=locale_code())


def _clause_form(clause: Clause | None = None, **kwargs) -> ClauseForm:
    form = ClauseForm(obj=clause, **kwargs)
    form.mandatory_levels.choices = select_choices(
        [(lv.id, lv.label(locale_code())) for lv in classification_levels("confidentiality")])
    if clause is not None and (not form.is_submitted() or kwargs.get("formdata", True) is None):
        form.mandatory_levels.data = [lv.id for lv in clause.mandatory_levels]
        form.mandatory_kinds.data = [kind.value for kind in clause.kinds]
    return form


def _save_clause(form: ClauseForm, clause: Clause) -> Clause | None:
    """services.save_clause, its refusal beside the field it is about."""
    try:
        return services.save_clause(clause, form.data)
    except rules.ContractRuleError as error:
        form[error.field].errors.append(str(error))
        return None


@bp.route("/clauses/new", methods=["GET", "POST"])
@access(Role.ADMIN)
def clause_new():
    form = _clause_form()
    if form.validate_on_submit() and _save_clause(form, Clause()):
        db.session.commit()
        flash(_("条項を登録しました。"), "success")
        return redirect(url_for("contracts.catalogue"))
    return render_template("contracts/clause_form.html", form=form, clause=None), 400 if form.errors else 200


@bp.route("/clauses/<int:clause_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
def clause_edit(clause_id: int):
    clause = db.get_or_404(Clause, clause_id)
    form = _clause_form(clause, version=clause.version)
    if form.validate_on_submit():
        if form.is_stale(clause):
            flash(STALE_MESSAGE, "warning")
            return render_template("contracts/clause_form.html", clause=clause,
                                   form=_clause_form(clause, version=clause.version, formdata=None)), 409
        if _save_clause(form, clause):
            db.session.commit()
            flash(_("条項を更新しました。"), "success")
            return redirect(url_for("contracts.catalogue"))
    return render_template("contracts/clause_form.html", form=form, clause=clause), 400 if form.errors else 200


def subcontractor_panel(user) -> Panel:
    """For those who decide subcontractor requests: how many await a decision."""
    count = statement(("contracts.subcontractors",), lambda: select(func.count()).select_from(Subcontractor).where(
        Subcontractor.status == SubcontractorStatus.PENDING))
    return Panel(_l("再委託の承認"), "contracts.subcontractor_requests",
                 [Tile(_l("承認待ちの再委託"), count, "contracts.subcontractor_requests", alert=True)])


def dashboard_panel(user) -> Panel:
    unit = scope_unit(user)
    scoped = {"unit": unit} if unit else {}
    result = status_panel(_l("契約"), Contract.status, ContractStatus, "contracts.index", Contract.unit_id, unit)
    result.tiles.append(Tile(_l("必須条項の不足"), statement(("contracts.gaps", unit), lambda: rules.gap_count_query(unit)),
                             "contracts.index", {"gaps": "yes", **scoped}, alert=True))

    def ending() -> Select:
        stmt = select(func.count()).select_from(Contract).where(rules.ending_within(60))
        return stmt.where(Contract.unit_id == unit) if unit else stmt
    result.tiles.append(Tile(_l("60日以内に終了"), statement(("contracts.ending", 60, unit), ending), "contracts.index",
                             {"ending": "60", **scoped}, alert=True))
    if user.has_role(*DECIDERS):  # what waits for the security lead's decision (issue 17)
        # the contracts of the pending requests, found by their key (the list's EXISTS
        # per contract would read all of them: 25 ms on a prefecture's 50,000)
        pending = statement(("contracts.exceptions",), lambda: select(func.count()).select_from(Contract).where(
            Contract.id.in_(select(Approval.subject_id).where(
                Approval.kind == rules.EXCEPTION, Approval.subject_type == Contract.__tablename__,
                Approval.decision == Decision.PENDING))))
        result.tiles.append(Tile(_l("承認待ちの条項例外"), pending, "contracts.index",
                                 {"exceptions": "pending"}, alert=True))
    return result
