"""確認: the verification schedule, recording verifications, findings and
corrective measures.  Load → authorise → validate → service → commit."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from contracts import services
from contracts import verification as checks
from contracts.forms import MeasureForm, ReportDoneForm, VerificationForm
from contracts.lists import FINDINGS
from contracts.models import (
    Contract,
    Evidence,
    Finding,
    MeasureStatus,
    Method,
    Result,
    Verification,
)
from contracts.schedule import Cycle, DueState
from core import audit, files
from core.auth import CONTRACT_READERS, access
from core.dashboard import Panel, Tile, scope_unit, statement
from core.db import db
from core.forms import STALE_MESSAGE, CSRFForm, unit_choices
from core.i18n import locale_code
from core.lists import ListView, id_filter
from core.models import ClassificationLevel, Role
from core.timeutil import today

bp = Blueprint("verification", __name__, url_prefix="/verification")

VERIFIERS = Role.VERIFIER


def _due_filter(stmt, value: str):
    state = DueState.parse(value)
    return stmt.where(checks.due_state_conditions(today())[state]) if state is not None else stmt


SCHEDULE = ListView(filters={"state": _due_filter, "unit": id_filter(Contract.unit_id)},
                    sorts={"due": Contract.verification_due_on, "number": Contract.number}, default_sort="due")


@bp.route("/")
@access(CONTRACT_READERS)
def index():
    """確認の予定: the contracts under verification, soonest due first, a page at a time."""
    pagination, state = SCHEDULE.apply(checks.schedule_statement())
    rows = checks.schedule(pagination.items)
    recent = db.session.scalars(select(Verification).options(
        selectinload(Verification.contract), selectinload(Verification.verifier))
        .order_by(Verification.id.desc()).limit(10)).all()
    return render_template("verification/index.html", rows=rows, recent=recent, states=DueState.choices(),
                           units=unit_choices(include_blank=False), pagination=pagination, state=state,
                           actions=CSRFForm(), can_record=current_user.has_role(VERIFIERS))


@bp.route("/contracts/<int:contract_id>/start", methods=["POST"])
@access(VERIFIERS)
def start(contract_id: int):
    contract = db.get_or_404(Contract, contract_id)
    if not CSRFForm().validate_on_submit():
        abort(400)
    try:
        verification = checks.start(contract, user=current_user)
    except checks.VerificationError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("contracts.detail", contract_id=contract.id))
    db.session.commit()
    return redirect(url_for("verification.edit", verification_id=verification.id))


@bp.route("/<int:verification_id>")
@access(CONTRACT_READERS)
def detail(verification_id: int):
    verification = db.get_or_404(Verification, verification_id)
    corrections = db.session.scalars(select(Verification).where(Verification.corrects_id == verification.id)).all()
    return render_template("verification/detail.html", verification=verification, corrections=corrections,
                           locale=locale_code(), actions=CSRFForm(), can_record=current_user.has_role(VERIFIERS),
                           audit_entries=audit.history(verification, *verification.results, *verification.evidence,
                                                       *verification.findings))


def _form(verification: Verification) -> VerificationForm:
    form = VerificationForm(obj=verification, version=verification.version)
    if not form.is_submitted():
        form.method.data = verification.method.value
        for row in verification.results:
            form.rows.append_entry({"result_id": row.id, "result": row.result.value, "comment": row.comment or ""})
    return form


@bp.route("/<int:verification_id>/edit", methods=["GET", "POST"])
@access(VERIFIERS)
def edit(verification_id: int):
    """The verification form: a result per included clause, with what to
    verify from the catalogue; save as draft, or submit."""
    verification = db.get_or_404(Verification, verification_id)
    if verification.is_submitted:
        flash(_("提出済みの確認は変更できません。訂正する場合は「訂正を作成」してください。"), "warning")
        return redirect(url_for("verification.detail", verification_id=verification.id))
    form = _form(verification)
    by_id = {row.id: row for row in verification.results}
    entries = [(entry, by_id.get(_int(entry.form.result_id.data))) for entry in form.rows]
    if form.validate_on_submit():
        if form.is_stale(verification):
            flash(STALE_MESSAGE, "warning")
            return redirect(url_for("verification.edit", verification_id=verification.id))
        results = {row.id: (Result(entry.form.result.data), entry.form.comment.data)
                   for entry, row in entries if row is not None}
        # Evidence for a result row, then for the whole verification.
        evidence = [(row, entry.form.file.data) for entry, row in entries if row is not None and entry.form.file.data]
        evidence += [(None, upload) for upload in form.files.data or [] if upload and upload.filename]
        try:
            findings = services.record_verification(
                verification, performed_on=form.performed_on.data, method=Method(form.method.data),
                conclusion=form.conclusion.data, remarks=form.remarks.data, results=results, evidence=evidence,
                submit="submit" in request.form, user=current_user)
        except (checks.VerificationError, files.FileRejected) as error:
            db.session.rollback()
            flash(str(error), "danger")
            return render_template("verification/form.html", form=form, verification=verification,
                                   entries=entries, locale=locale_code()), 400
        db.session.commit()
        if "submit" in request.form:
            flash(_("確認を提出しました。") + (" " + _("%(n)s件の指摘事項を登録しました。", n=len(findings))
                                              if findings else ""), "success")
            return redirect(url_for("verification.detail", verification_id=verification.id))
        flash(_("下書きを保存しました。"), "success")
        return redirect(url_for("verification.edit", verification_id=verification.id))
    return render_template("verification/form.html", form=form, verification=verification, entries=entries,
                           locale=locale_code()), 400 if form.errors else 200


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@bp.route("/<int:verification_id>/correct", methods=["POST"])
@access(VERIFIERS)
def correct(verification_id: int):
    original = db.get_or_404(Verification, verification_id)
    if not CSRFForm().validate_on_submit():
        abort(400)
    try:
        copy = checks.correct(original, user=current_user)
    except checks.VerificationError as error:
        db.session.rollback()
        flash(str(error), "warning")
        return redirect(url_for("verification.edit", verification_id=original.id))
    db.session.commit()
    flash(_("訂正用の下書きを作成しました。元の確認は変更されません。"), "success")
    return redirect(url_for("verification.edit", verification_id=copy.id))


@bp.route("/<int:verification_id>/delete", methods=["POST"])
@access(VERIFIERS)
def delete(verification_id: int):
    """Delete a draft (its author only)."""
    verification = db.get_or_404(Verification, verification_id)
    if not CSRFForm().validate_on_submit():
        abort(400)
    contract_id = verification.contract_id
    try:
        checks.delete_draft(verification, user=current_user)
    except checks.VerificationError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("verification.detail", verification_id=verification_id))
    db.session.commit()
    flash(_("下書きを削除しました。"), "success")
    return redirect(url_for("contracts.detail", contract_id=contract_id))


@bp.route("/<int:verification_id>/evidence/<int:evidence_id>")
@access(CONTRACT_READERS)
def evidence(verification_id: int, evidence_id: int):
    item = db.get_or_404(Evidence, evidence_id)
    if item.verification_id != verification_id:
        abort(404)
    return files.send(item.file)


# --- findings and corrective measures -----------------------------------------------

@bp.route("/findings")
@access(CONTRACT_READERS)
def findings():
    pagination, state = FINDINGS.apply(select(Finding).options(
        selectinload(Finding.contract), selectinload(Finding.clause), selectinload(Finding.owner)))
    return render_template("verification/findings.html", pagination=pagination, state=state,
                           statuses=MeasureStatus.choices(), overdue_choices=[("yes", _("期限超過のみ"))],
                           locale=locale_code(), today=today())


def _finding_page(finding: Finding, *, measure_form=None, report_form=None, status_code=200):
    if measure_form is None:
        measure_form = MeasureForm(obj=finding, version=finding.version)
    return render_template(
        "verification/finding.html", finding=finding, measure_form=measure_form,
        report_form=report_form or ReportDoneForm(), decision_form=CSRFForm(), locale=locale_code(),
        pending=checks.pending_closure(finding), can_record=current_user.has_role(VERIFIERS), today=today(),
        can_begin=checks.can_begin(current_user, finding), can_report=checks.can_report(current_user, finding),
        can_accept=checks.can_accept(current_user), audit_entries=audit.history(finding)), status_code


def _load_finding(finding_id: int) -> Finding:
    """A finding, for those who read contracts and for the measure's owner
    (担当者), whatever their role."""
    item = db.get_or_404(Finding, finding_id)
    if not (current_user.has_role(*CONTRACT_READERS) or checks.is_owner(current_user, item)):
        abort(403)
    return item


@bp.route("/findings/<int:finding_id>")
@access(any_user=True)  # contract readers and the measure's owner (_load_finding)
def finding(finding_id: int):
    return _finding_page(_load_finding(finding_id))


@bp.route("/findings/<int:finding_id>/begin", methods=["POST"])
@access(any_user=True)  # the owner, verifiers, administrators (checks.can_begin)
def begin(finding_id: int):
    """着手: 未着手 → 対応中."""
    item = _load_finding(finding_id)
    if not checks.can_begin(current_user, item):
        abort(403)
    if not CSRFForm().validate_on_submit():
        abort(400)
    try:
        checks.begin(item, user=current_user)
    except checks.VerificationError as error:
        db.session.rollback()
        flash(str(error), "warning")
        return redirect(url_for("verification.finding", finding_id=item.id))
    db.session.commit()
    flash(_("措置に着手しました。"), "success")
    return redirect(url_for("verification.finding", finding_id=item.id))


@bp.route("/findings/<int:finding_id>/measure", methods=["POST"])
@access(VERIFIERS)
def measure(finding_id: int):
    item = db.get_or_404(Finding, finding_id)
    form = MeasureForm()
    if form.validate_on_submit():
        if form.is_stale(item):
            flash(STALE_MESSAGE, "warning")
            return _finding_page(item, status_code=409)
        try:
            checks.update_measure(item, measure=form.measure.data, owner_id=form.owner_id.data,
                                   due_on=form.due_on.data)
        except checks.VerificationError as error:
            db.session.rollback()
            flash(str(error), "danger")
            return redirect(url_for("verification.finding", finding_id=item.id), code=303)
        db.session.commit()
        flash(_("措置を更新しました。"), "success")
        return redirect(url_for("verification.finding", finding_id=item.id))
    return _finding_page(item, measure_form=form, status_code=400)


@bp.route("/findings/<int:finding_id>/report", methods=["POST"])
@access(any_user=True)  # the owner and verifiers (checks.can_report)
def report(finding_id: int):
    item = _load_finding(finding_id)
    if not checks.can_report(current_user, item):
        abort(403)
    form = ReportDoneForm()
    if form.validate_on_submit():
        try:
            services.report_done(item, note=form.note.data, upload=form.evidence.data, user=current_user)
        except files.FileRejected as error:
            db.session.rollback()
            form.evidence.errors.append(str(error))
        except checks.VerificationError as error:
            db.session.rollback()
            flash(str(error), "danger")
            return redirect(url_for("verification.finding", finding_id=item.id), code=303)
        else:
            db.session.commit()
            flash(_("完了報告を登録しました。報告者以外の確認担当または管理者が確認します。"), "success")
            return redirect(url_for("verification.finding", finding_id=item.id))
    return _finding_page(item, report_form=form, status_code=400)


@bp.route("/findings/<int:finding_id>/<any(accept, return):decision>", methods=["POST"])
@access(checks.CLOSURE_ACCEPTORS)
def decide(finding_id: int, decision: str):
    item = db.get_or_404(Finding, finding_id)
    if not CSRFForm().validate_on_submit():
        abort(400)
    try:
        checks.decide_closure(item, user=current_user, accept=decision == "accept",
                               comment=request.form.get("comment", "")[:2000])
    except checks.VerificationError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("verification.finding", finding_id=item.id), code=303)
    db.session.commit()
    flash(_("措置の完了を確認しました。") if decision == "accept" else _("措置を差し戻しました。"), "success")
    return redirect(url_for("verification.finding", finding_id=item.id))


@bp.route("/findings/<int:finding_id>/evidence")
@access(any_user=True)  # contract readers and the measure's owner (_load_finding)
def finding_evidence(finding_id: int):
    item = _load_finding(finding_id)
    if item.closure_evidence is None:
        abort(404)
    return files.send(item.closure_evidence)


# --- default cycles (admin) ----------------------------------------------------------

@bp.route("/cycles", methods=["GET", "POST"])
@access(Role.ADMIN)
def cycles():
    """The default verification cycle of contracts at each confidentiality level."""
    levels = db.session.scalars(select(ClassificationLevel).where(ClassificationLevel.axis == "confidentiality")
                                .order_by(ClassificationLevel.rank.desc())).all()
    form = CSRFForm()
    if form.validate_on_submit():
        services.set_default_cycles({level: Cycle.parse(request.form.get(f"cycle-{level.id}", ""))
                                     for level in levels})
        db.session.commit()
        flash(_("確認の頻度の既定値を保存しました。"), "success")
        return redirect(url_for("verification.cycles"))
    return render_template("verification/cycles.html", levels=levels, cycles=Cycle.choices(), form=form,
                           locale=locale_code())


def dashboard_panel(user) -> Panel:
    unit = scope_unit(user)
    scoped = {"unit": unit} if unit else {}
    due = {state: statement(("verification.due", state.value, unit),
                            lambda state=state: checks.due_count_queries(unit)[state])
           for state in (DueState.OVERDUE, DueState.DUE_SOON)}
    if not unit:
        findings = select(func.count()).select_from(Finding)
        overdue = statement(("verification.overdue",), lambda: findings.where(checks.overdue_measures()))
        by_status = [statement(("verification.findings", status.value),
                               lambda status=status: findings.where(Finding.status == status))
                     for status in MeasureStatus]
    else:
        # A unit's findings are its contracts': one pass over them (the index
        # ix_findings_contract_status_due_on) for every figure, not one per figure.
        counted = db.session.execute(statement(("verification.unit_findings", unit), lambda: (
            select(*[func.count().filter(Finding.status == status) for status in MeasureStatus],
                   func.count().filter(checks.overdue_measures()))
            .select_from(Finding).join(Contract, Contract.id == Finding.contract_id)
            .where(Contract.unit_id == unit)))).one()
        *by_status, overdue = (count or 0 for count in counted)
    by_status = [Tile(status.label, count, "verification.findings", {"status": status.value})
                 for status, count in zip(MeasureStatus, by_status, strict=True)]
    still_open = [tile for tile, status in zip(by_status, MeasureStatus, strict=True)
                  if status is not MeasureStatus.ACCEPTED]
    return Panel(_l("確認・措置"), "verification.index", [
        Tile(_l("確認の期限超過"), due[DueState.OVERDUE], "verification.index", {"state": "overdue", **scoped},
             alert=True),
        Tile(_l("30日以内に確認期限"), due[DueState.DUE_SOON], "verification.index", {"state": "due_soon", **scoped},
             alert=True),
        Tile(_l("期限を過ぎた措置"), overdue, "verification.findings",
             {"overdue": "yes"}, alert=True),
        Tile(_l("未完了の措置"), lambda: sum(tile.count for tile in still_open), "verification.findings", {},
             in_chart=False),
        *by_status,
    ])
