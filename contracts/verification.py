"""確認・措置: recording verifications of contractors, the findings they open
and the corrective measures taken under the contract (issue 4, policy §6(8)).

Services flush and write the audit trail; the view commits."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import selectinload

from contracts.due import UNDER_VERIFICATION
from contracts.models import (
    NONCONFORMING,
    Clause,
    ClauseState,
    Contract,
    ContractStatus,
    Evidence,
    Finding,
    MeasureStatus,
    Method,
    Result,
    Verification,
    VerificationNote,
    VerificationResult,
    VerificationStatus,
)
from contracts.schedule import DUE_SOON_DAYS, Cycle, DueState, due_state
from core import audit, due, measures
from core.approvals import Approval
from core.db import db
from core.due import EVERYONE, DueItem, DueScope
from core.models import Role
from core.refusals import Refusal
from core.timeutil import today, utcnow
from vendors.models import Vendor

CLOSURE = measures.CLOSURE
MEASURE_DAYS = 30  # default time the contractor gets to correct a finding

# Who may accept that a corrective measure is done — never the one who
# reported it (four-eyes).  The security lead (統括情報セキュリティ責任者,
# issue 17) joins this set once that role exists: this is the one place.
CLOSURE_ACCEPTORS = frozenset({Role.VERIFIER, Role.ADMIN, Role.LEAD})
# Who may start (着手) a measure besides its owner.
MEASURE_STARTERS = frozenset({Role.VERIFIER, Role.ADMIN})
# Who may report a measure done besides its owner.
MEASURE_REPORTERS = frozenset({Role.VERIFIER})


class VerificationError(Refusal):
    """A change the rules refuse; the message is for the user."""


# --- schedule -------------------------------------------------------------------

@dataclass
class ScheduleRow:
    contract: Contract
    cycle: Cycle
    last_done: dt.date | None
    due: dt.date | None
    state: DueState | None


def last_completed(contract_ids: list[int]) -> dict[int, dt.date]:
    """The date of the latest submitted verification of each contract (one query)."""
    if not contract_ids:
        return {}
    rows = db.session.execute(
        select(Verification.contract_id, func.max(Verification.performed_on))
        .where(Verification.contract_id.in_(contract_ids), Verification.status == VerificationStatus.SUBMITTED)
        .group_by(Verification.contract_id)).all()
    return dict(rows)


def schedule(contracts: list[Contract], on: dt.date | None = None) -> list[ScheduleRow]:
    on = on or today()
    done = last_completed([c.id for c in contracts])
    return [ScheduleRow(contract, contract.cycle, done.get(contract.id), contract.verification_due_on,
                        due_state(contract.verification_due_on, on)) for contract in contracts]


def due_state_conditions(on: dt.date) -> dict[DueState, object]:
    """contracts.schedule.due_state in SQL, on the stored due date: a
    condition per state (plain ranges of the date, so an index serves them)."""
    due, soon = Contract.verification_due_on, on + dt.timedelta(days=DUE_SOON_DAYS)
    return {DueState.OVERDUE: due < on, DueState.DUE_SOON: and_(due >= on, due <= soon),
            DueState.SCHEDULED: due > soon}


def due_count_queries(unit_id: int | None = None, on: dt.date | None = None) -> dict[DueState, Select]:
    """SELECT count per due state of the contracts under verification (the
    dashboard's figures): each a range of the due-date index (aggregate
    FILTERs over one pass would read every row of it)."""
    unit = [Contract.unit_id == unit_id] if unit_id is not None else []
    return {state: select(func.count()).select_from(Contract).where(condition, *unit)
            for state, condition in due_state_conditions(on or today()).items()}


def due_counts(unit_id: int | None = None, on: dt.date | None = None) -> dict[DueState, int]:
    queries = due_count_queries(unit_id, on)
    row = db.session.execute(select(*[query.scalar_subquery() for query in queries.values()])).one()
    return dict(zip(queries, row, strict=True))


def contracts_under_verification(unit_id: int | None = None) -> list[Contract]:
    stmt = (select(Contract).where(Contract.status.in_(UNDER_VERIFICATION)).order_by(Contract.number)
            .options(selectinload(Contract.vendor), selectinload(Contract.classification)))
    if unit_id is not None:
        stmt = stmt.where(Contract.unit_id == unit_id)
    return db.session.scalars(stmt).all()


def schedule_statement():
    """Contracts under verification, those with nothing left to check last
    (a list sorts them further by due date or number)."""
    return (select(Contract).where(Contract.status.in_(UNDER_VERIFICATION))
            .order_by(Contract.verification_due_on.is_(None))
            .options(selectinload(Contract.vendor), selectinload(Contract.classification)))


# --- recording --------------------------------------------------------------------

def open_draft(contract: Contract) -> Verification | None:
    """The contract's draft verification (not a correction), the latest if
    there were several."""
    return db.session.scalar(select(Verification).where(
        Verification.contract_id == contract.id, Verification.status == VerificationStatus.DRAFT,
        Verification.corrects_id.is_(None)).order_by(Verification.id.desc()).limit(1))


def start(contract: Contract, *, user) -> Verification:
    """The contract's draft, reopened when there is one (「確認を記録」 twice
    is one verification, not two); otherwise a new draft with one result row
    per clause the contract includes, each "not checked" until the officer
    records what was seen."""
    if contract.status not in UNDER_VERIFICATION and contract.status is not ContractStatus.ENDED:
        raise VerificationError(_l("締結済・履行中（または終了）の契約について確認を記録できます。"))
    existing = open_draft(contract)
    if existing is not None:
        return existing
    verification = Verification(contract=contract, performed_on=today(), method=Method.DOCUMENT,
                                verifier_id=user.id, status=VerificationStatus.DRAFT)
    included = [row.clause for row in contract.clauses if row.state is ClauseState.INCLUDED and row.clause.active]
    for clause in sorted(included, key=lambda c: (c.sort_order, c.code)):
        verification.results.append(VerificationResult(clause_id=clause.id, result=Result.UNCHECKED))
    db.session.add(verification)
    db.session.flush()
    return verification


def _editable(verification: Verification) -> None:
    if verification.is_submitted:
        raise VerificationError(_l("提出済みの確認は変更できません。訂正する場合は「訂正を作成」してください。"))


def save_draft(verification: Verification, *, performed_on: dt.date, method: Method, conclusion: str | None,
               remarks: str | None, results: dict[int, tuple[Result, str | None]]) -> None:
    _editable(verification)
    if performed_on > today():
        raise VerificationError(_l("確認日に未来の日付は指定できません。"))
    verification.performed_on = performed_on
    verification.method = method
    verification.conclusion = (conclusion or "").strip() or None
    verification.remarks = (remarks or "").strip() or None
    for row in verification.results:
        if row.id in results:
            row.result, comment = results[row.id]
            row.comment = (comment or "").strip() or None
    db.session.flush()


def delete_draft(verification: Verification, *, user) -> None:
    """A draft is deleted by the one who started it, and only a draft: a
    submitted verification is the record of a check and stays (a correction
    names it instead).  The audit trail keeps what was deleted."""
    if verification.is_submitted:
        raise VerificationError(_l("提出済みの確認は削除できません。訂正する場合は「訂正を作成」してください。"))
    if verification.verifier_id != user.id:
        raise VerificationError(_l("下書きを削除できるのは作成した本人だけです。"))
    audit.label(verification, "delete")
    db.session.delete(verification)
    db.session.flush()


def attach(verification: Verification, stored_file, result: VerificationResult | None = None) -> Evidence:
    _editable(verification)
    evidence = Evidence(file=stored_file, result=result)
    verification.evidence.append(evidence)
    db.session.flush()
    return evidence


def submit(verification: Verification, *, user) -> list[Finding]:
    """Submit: from now on the verification never changes.  Every partly or
    not conforming result opens a finding with its corrective measure.
    Refused while no included clause has a result other than 未確認: the
    submission would count as the periodic check (policy §6(8)) and move the
    due date although nothing was checked (issue 17)."""
    _editable(verification)
    if all(row.result is Result.UNCHECKED for row in verification.results):
        # A verification that checked nothing is not a verification: submitted,
        # it would move the contract's due date (and clear 期限超過) for nothing.
        raise VerificationError(_l("確認した条項がないため提出できません。少なくとも1つの条項に"
                                   "「未確認」以外の結果を記録してください。"))
    if not verification.conclusion:
        raise VerificationError(_l("提出するには総合所見を入力してください。"))
    for row in verification.results:
        if row.result in NONCONFORMING and not row.comment:
            raise VerificationError(_("不適合・一部不適合には内容（コメント）を記入してください: %(code)s",
                                       code=row.clause.code))
    verification.status = VerificationStatus.SUBMITTED
    verification.submitted_at = utcnow()
    audit.label(verification, "submit")
    findings = []
    for row in verification.results:
        if row.result in NONCONFORMING:
            finding = Finding(verification=verification, result_id=row.id, contract_id=verification.contract_id,
                              clause_id=row.clause_id, severity=row.result,
                              measure=f"{row.clause.code} {row.clause.label_ja}: {row.comment}",
                              owner_id=verification.contract.officer_id,
                              due_on=verification.performed_on + dt.timedelta(days=MEASURE_DAYS))
            db.session.add(finding)
            findings.append(finding)
    # The notes closed incidents left for this verification (issue 19) are checked now.
    for note in open_notes(verification.contract_id):
        note.done_at, note.verification_id = verification.submitted_at, verification.id
    db.session.flush()
    return findings


def open_notes(contract_id: int) -> list[VerificationNote]:
    """What the next verification of the contract must check: the notes of its closed incidents."""
    return list(db.session.scalars(select(VerificationNote).where(
        VerificationNote.contract_id == contract_id, VerificationNote.done_at.is_(None))
        .order_by(VerificationNote.created_at, VerificationNote.id)))


def correct(original: Verification, *, user) -> Verification:
    """A correction is a new draft that copies the submitted one and names it."""
    if not original.is_submitted:
        raise VerificationError(_l("下書きはそのまま編集してください。"))
    copy = Verification(contract_id=original.contract_id, performed_on=original.performed_on,
                        method=original.method, verifier_id=user.id, conclusion=original.conclusion,
                        remarks=original.remarks, corrects_id=original.id, status=VerificationStatus.DRAFT)
    for row in original.results:
        copy.results.append(VerificationResult(clause_id=row.clause_id, result=row.result, comment=row.comment))
    db.session.add(copy)
    db.session.flush()
    return copy


# --- corrective measures ------------------------------------------------------------
# The lifecycle is every finding's (core.measures); a contract finding's own
# are who may take each step and the words of a refusal.

def update_measure(finding: Finding, *, measure: str, owner_id: int | None, due_on: dt.date) -> None:
    measures.update(finding, measure=measure, owner_id=owner_id, due_on=due_on, rules=RULES)


def is_owner(user, finding: Finding) -> bool:
    return measures.is_owner(user, finding)


def can_begin(user, finding: Finding) -> bool:
    return is_owner(user, finding) or user.has_role(*MEASURE_STARTERS)


def can_report(user, finding: Finding) -> bool:
    return is_owner(user, finding) or user.has_role(*MEASURE_REPORTERS)


def can_accept(user) -> bool:
    return user.has_role(*CLOSURE_ACCEPTORS)


RULES = measures.Rules(
    may_edit=lambda user, finding: user.has_role(Role.VERIFIER), may_begin=can_begin, may_report=can_report,
    may_accept=lambda user, finding: can_accept(user), error=VerificationError,
    messages={"begin_who": _l("着手にできるのは措置の担当者・確認担当・管理者です。"),
              "report_who": _l("完了報告ができるのは措置の担当者または確認担当です。"),
              "accept_who": _l("完了の確認ができるのは報告者以外の確認担当または管理者です。"),
              "accept_self": _l("完了報告をした本人は確認できません。報告者以外の確認担当または管理者が確認してください。")})


def begin(finding: Finding, *, user) -> None:
    """着手: the measure's owner (whatever their role), a verifier or an
    administrator says work on it has started (未着手 → 対応中)."""
    measures.begin(finding, user=user, rules=RULES)


def report_done(finding: Finding, *, note: str, evidence, user) -> Approval:
    """The measure is reported done (完了報告), with its closure evidence, by
    its owner (担当者, whatever their role) or a verifier; a verifier other
    than the reporter, or an administrator, confirms or returns it."""
    return measures.report(finding, note=note, evidence=evidence, user=user, rules=RULES)


def pending_closure(finding: Finding) -> Approval | None:
    return measures.pending_closure(finding)


def decide_closure(finding: Finding, *, user, accept: bool, comment: str | None) -> None:
    """The completion report is confirmed (確認) by a verifier other than the
    one who reported it, or an administrator (four-eyes, CLOSURE_ACCEPTORS):
    with one verifier, the owner reports and the verifier confirms.  A
    return sends the measure back to 対応中."""
    measures.decide_closure(finding, user=user, accept=accept, comment=comment, rules=RULES)


def overdue_measures(on: dt.date | None = None):
    """SQL condition: a measure not accepted whose due date has passed."""
    return measures.overdue(Finding, on)


# --- due items (dashboard, reminders, calendar) ---------------------------------------

def _verification_statements(scope: DueScope, counting: bool = False) -> list:
    """The contracts under verification whose stored due date falls in
    ``scope``: one statement per owner asked for (the contract's officer),
    each a range of the (officer, due date, status) index; ``counting``: the
    rows only, for a count the index answers alone."""
    stmt = select(Contract.id) if counting else (
        select(Contract.id, Contract.number, Contract.title, Vendor.name, Contract.verification_due_on,
               Contract.officer_id).join(Vendor, Vendor.id == Contract.vendor_id))
    stmt = stmt.where(Contract.status.in_(UNDER_VERIFICATION), Contract.verification_due_on.is_not(None))
    owners = scope.owners()
    return [stmt] if owners is None else [stmt.where(due.owned(Contract.officer_id, owner)) for owner in owners]


def _finding_statements(scope: DueScope, counting: bool = False) -> list:
    """The open findings whose measure is due in ``scope``.  A finding's
    owner is its own, or else its contract's officer: per owner asked for,
    one statement for the findings that name the owner (a range of the
    (owner, due date, status) index) and one for those that name none and
    whose contract's officer is the owner."""
    if counting:
        stmt = select(Finding.id)
        with_contract = stmt.join(Contract, Contract.id == Finding.contract_id)
    else:
        stmt = with_contract = (
            select(Finding.id, Contract.number, Clause.code, Finding.measure, Finding.due_on,
                   func.coalesce(Finding.owner_id, Contract.officer_id))
            .join(Contract, Contract.id == Finding.contract_id).join(Clause, Clause.id == Finding.clause_id))
    stmt, with_contract = (part.where(Finding.status != MeasureStatus.ACCEPTED) for part in (stmt, with_contract))
    owners = scope.owners()
    if owners is None:
        return [stmt]
    return [part for owner in owners for part in (
        stmt.where(Finding.owner_id == owner) if owner is not None else None,
        with_contract.where(Finding.owner_id.is_(None), due.owned(Contract.officer_id, owner))) if part is not None]


def due_items(scope: DueScope = EVERYONE) -> list[DueItem]:
    """The verifications due (the stored date, contracts.due) and the open
    corrective measures in ``scope``, with the columns their titles need."""
    found = []
    for stmt in _verification_statements(scope):
        for contract_id, number, title, vendor, due_on, officer_id in db.session.execute(
                due.window(scope, stmt, Contract.verification_due_on, Contract.id)):
            found.append(DueItem(key=f"verification:{contract_id}:{due_on.isoformat()}", kind="verification",
                                 title=f"確認期限 {number} {title}（{vendor}）", due_on=due_on, owner_id=officer_id,
                                 endpoint="contracts.detail", params={"contract_id": contract_id}))
    for stmt in _finding_statements(scope):
        for finding_id, number, code, measure, due_on, owner_id in db.session.execute(
                due.window(scope, stmt, Finding.due_on, Finding.id)):
            found.append(DueItem(key=f"measure:{finding_id}:{due_on.isoformat()}", kind="measure",
                                 title=f"措置期限 {number} {code}: {measure[:60]}", due_on=due_on, owner_id=owner_id,
                                 endpoint="verification.finding", params={"finding_id": finding_id}))
    return found


def due_count(scope: DueScope = EVERYONE) -> int:
    zero = dt.timedelta()
    return due.tally_all(scope, [(stmt, Contract.verification_due_on, zero)
                                 for stmt in _verification_statements(scope, counting=True)]
                         + [(stmt, Finding.due_on, zero) for stmt in _finding_statements(scope, counting=True)])
