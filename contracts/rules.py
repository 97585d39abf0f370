"""Contract rules (policy §6(8): a contract that states the security
requirements).  Services flush and write the audit trail; the view commits."""
from __future__ import annotations

import datetime as dt
import unicodedata

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, String, and_, cast, exists, func, literal, or_, select
from sqlalchemy.orm import Session, selectinload

from contracts.models import (
    Clause,
    ClauseState,
    Contract,
    ContractClause,
    ContractStatus,
    Disposal,
    DisposalMethod,
    clause_levels,
)
from core import audit, snapshot
from core.approvals import Approval, Decision
from core.db import db
from core.models import ClassificationLevel, Role
from core.refusals import Refusal
from core.timeutil import today, utcnow
from vendors import services as vendor_services
from vendors.models import Vendor, VendorStatus

EXCEPTION = "clause_exception"
# Who decides a clause exception: the 統括情報セキュリティ責任者 (policy §3) or an
# administrator, never the requester (issue 17); procurement asks.
EXCEPTION_DECIDERS = frozenset({Role.ADMIN, Role.LEAD})
LIVE = (ContractStatus.DRAFT, ContractStatus.SIGNED, ContractStatus.IN_FORCE)

# Allowed moves of the contract's status.
TRANSITIONS = {
    ContractStatus.DRAFT: (ContractStatus.SIGNED, ContractStatus.WITHDRAWN),
    ContractStatus.SIGNED: (ContractStatus.IN_FORCE, ContractStatus.ENDED, ContractStatus.TERMINATED),
    ContractStatus.IN_FORCE: (ContractStatus.ENDED, ContractStatus.TERMINATED),
    ContractStatus.ENDED: (),
    ContractStatus.TERMINATED: (),
    ContractStatus.WITHDRAWN: (),
}
# A contract that has ended one way or another (no longer live).
CLOSED = (ContractStatus.ENDED, ContractStatus.TERMINATED, ContractStatus.WITHDRAWN)
# Vendors that may not be party to a newly signed contract (issue 17).
BARRED_VENDORS = (VendorStatus.SUSPENDED, VendorStatus.ENDED)
# Class 3 (自治体機密性3A/3B/3C): the rank of 3C and above (DOMAIN.md §1.1).
CLASS3_CODE = "C3C"
# Methods that fit class 3: erasure or destruction with a certificate (DOMAIN.md §1.4).
CLASS3_METHODS = (DisposalMethod.ERASURE, DisposalMethod.DESTRUCTION)


class ContractRuleError(Refusal):
    """A change the rules refuse; the message is for the user."""


def is_live(contract: Contract) -> bool:
    return contract.status in LIVE


def vendor_barred(vendor: Vendor | None) -> bool:
    """The vendor is 取引停止 or 終了: no contract is signed with it."""
    return vendor is not None and vendor.status in BARRED_VENDORS


def class3_rank() -> int:
    rank = db.session.scalar(select(ClassificationLevel.rank).where(ClassificationLevel.code == CLASS3_CODE))
    return rank if rank is not None else 3


def is_class3(contract: Contract) -> bool:
    return contract.classification is not None and contract.classification.rank >= class3_rank()


# Methods that are a disposal in the strict sense (the handover to a successor is not).
DISPOSAL_METHODS = (DisposalMethod.RETURN, DisposalMethod.ERASURE, DisposalMethod.DESTRUCTION)


def handover_successor(contract: Contract) -> Contract | None:
    """The renewed contract the data may be handed over to: the successor
    (単年度契約の更新), not withdrawn, with the same vendor; else None."""
    successor = contract.successor
    if successor is None or successor.status is ContractStatus.WITHDRAWN or successor.vendor_id != contract.vendor_id:
        return None
    return successor


def disposal_methods(contract: Contract) -> tuple[DisposalMethod, ...]:
    """The disposal methods that fit the contract's class (DOMAIN.md §1.4),
    and the handover when the same vendor keeps the data under a successor."""
    methods = CLASS3_METHODS if is_class3(contract) else DISPOSAL_METHODS
    return methods + ((DisposalMethod.HANDOVER,) if handover_successor(contract) is not None else ())


def _check_handover(contract: Contract) -> Contract:
    """The successor a handover names, or the refusal that says why there is none."""
    successor = contract.successor
    if successor is None or successor.status is ContractStatus.WITHDRAWN:
        raise ContractRuleError(_l("後継契約がありません。「後継契約へ引継ぎ」は、次年度の契約を作成してから記録してください"
                                   "（取下げた契約は後継契約になりません）。"), field="method")
    if successor.vendor_id != contract.vendor_id:
        raise ContractRuleError(_("後継契約（%(number)s）の委託事業者が異なるため、「後継契約へ引継ぎ」とは記録できません。"
                                  "同じ委託事業者が情報を引き続き保有する場合に限ります。", number=successor.number),
                                field="method")
    return successor


def active_clauses() -> list[Clause]:
    """The catalogue in its order, with the levels each clause is mandatory
    for (two statements, not one more per clause when they are read)."""
    return db.session.scalars(select(Clause).where(Clause.active).options(selectinload(Clause.mandatory_levels))
                              .order_by(Clause.sort_order, Clause.code)).all()


def read_clauses() -> list[Clause]:
    """active_clauses() for a page that only reads them (a GET): kept per state
    of the registers (core.snapshot; clauses and their levels are audited), so
    the contract and vendor pages do not build the catalogue's objects on every
    view (issue 21: a tenth of their time).  Loaded in a session of their own
    and closed there: detached, fully loaded, never expired by the request's
    commit; compare them by id, never by identity."""
    if request.method != "GET":
        return active_clauses()

    def build() -> list[Clause]:
        with Session(db.engine) as session:
            return list(session.scalars(select(Clause).where(Clause.active).options(
                selectinload(Clause.mandatory_levels)).order_by(Clause.sort_order, Clause.code)))
    return snapshot.kept(("contracts.clauses",), build)


def mandatory_clauses(contract: Contract, catalogue: list[Clause] | None = None) -> list[Clause]:
    """Clauses the catalogue makes mandatory for this contract: the base set
    (every contract, policy §6(8)), by its classification level, by its kind
    (C16 development, C19 cloud), C04-like clauses when the contractor gets
    access to systems, and C20-like clauses when personal data is handled.
    ``catalogue``: active_clauses() already loaded by the caller."""
    return [clause for clause in (active_clauses() if catalogue is None else catalogue)
            if clause.is_mandatory_for(contract)]


def matrix(contract: Contract) -> dict[int, ContractClause]:
    return {row.clause_id: row for row in contract.clauses}


def clause_gaps(contract: Contract, catalogue: list[Clause] | None = None) -> list[Clause]:
    """Mandatory clauses the contract does not contain.  "Not applicable"
    does not satisfy a mandatory clause: that needs an approved exception."""
    rows = matrix(contract)
    return [clause for clause in mandatory_clauses(contract, catalogue)
            if clause.id not in rows or rows[clause.id].state is not ClauseState.INCLUDED]


def missing_clause_condition():
    """SQL, of a contract and a clause (both in the enclosing query): the
    clause is in use, mandatory for the contract and not included in it —
    Clause.is_mandatory_for and the matrix, as the database evaluates them
    (the inspection facts list the missing clauses of every contract with it)."""
    # Nested subqueries do not correlate on their own: name the outer tables.
    by_level = exists().where(clause_levels.c.clause_id == Clause.id,
                              clause_levels.c.level_id == Contract.classification_id).correlate(Contract, Clause)
    included = exists().where(ContractClause.contract_id == Contract.id, ContractClause.clause_id == Clause.id,
                              ContractClause.state == ClauseState.INCLUDED).correlate(Contract, Clause)
    # the contract's kind among the clause's comma-separated kinds
    by_kind = (literal(",") + func.coalesce(Clause.mandatory_kinds, "") + ",").like(
        literal("%,") + cast(Contract.kind, String) + ",%")
    return and_(Clause.active, or_(Clause.mandatory_base, by_level,
                                   and_(Clause.mandatory_if_personal, Contract.handles_personal_info),
                                   and_(Clause.mandatory_if_access, Contract.system_access), by_kind),
                ~included)


def has_gap_expression():
    """SQL: the contract lacks at least one mandatory clause (for lists and
    the dashboard, so no contract is loaded to count them).  Written as
    EXISTS lookups on the (clause, level) and (contract, clause) keys, so
    each contract costs a few index probes (NOT IN lists were ten times
    slower on 50,000 contracts)."""
    return exists().where(missing_clause_condition()).correlate(Contract)


# --- exceptions (four-eyes) ---------------------------------------------------

def exceptions(contract: Contract) -> list[Approval]:
    return db.session.scalars(select(Approval).where(
        Approval.kind == EXCEPTION, Approval.subject_type == Contract.__tablename__,
        Approval.subject_id == contract.id).order_by(Approval.id.desc())).all()


def exception_clauses(approval: Approval) -> list[str]:
    """The clause codes an exception names: one since issue 17, several in
    older requests (details["clauses"] is read either way)."""
    return list((approval.details or {}).get("clauses", []))


def exception_holds(approval: Approval, on: dt.date | None = None) -> bool:
    """Approved and not expired on ``on`` (today): the expiry day itself
    still holds.  An exception approved before expiry dates were recorded
    has none and holds until it is replaced."""
    return approval.decision is Decision.APPROVED and (
        approval.expires_on is None or approval.expires_on >= (on or today()))


def exception_expired(approval: Approval, on: dt.date | None = None) -> bool:
    return (approval.decision is Decision.APPROVED and approval.expires_on is not None
            and approval.expires_on < (on or today()))


def excepted_codes(contract: Contract, approvals: list[Approval] | None = None, on: dt.date | None = None) -> set[str]:
    """Clause codes covered by an approved exception that has not expired.
    ``approvals``: the contract's exceptions() already loaded by the caller."""
    codes: set[str] = set()
    for approval in exceptions(contract) if approvals is None else approvals:
        if exception_holds(approval, on):
            codes |= set(exception_clauses(approval))
    return codes


def pending_exception_expression():
    """SQL: the contract has a clause exception 承認待ち (the lead's list)."""
    return exists().where(Approval.kind == EXCEPTION, Approval.subject_type == Contract.__tablename__,
                          Approval.subject_id == Contract.id,
                          Approval.decision == Decision.PENDING).correlate(Contract)


def pending_codes(contract: Contract, approvals: list[Approval] | None = None) -> set[str]:
    """Clause codes named by a request still 承認待ち (it covers nothing yet)."""
    return {code for approval in (exceptions(contract) if approvals is None else approvals)
            if approval.decision is Decision.PENDING for code in exception_clauses(approval)}


# --- the selection that covers the contract (issue 17) ------------------------

# Contract.selection_basis: a selection recorded for this contract, or the
# vendor's selection, still valid, that the officer confirmed for it with a comment.
FOR_CONTRACT = "contract"
CONFIRMED = "vendor"


def selection_gap(contract: Contract) -> str | None:
    """Why the contract has no selection that covers it, or None (policy
    §6(8): the contractor is selected before the contract is signed).  A
    confirmed vendor selection must be valid (SELECTION_VALID_DAYS) on the day
    of signing; once signed, on the day it was confirmed."""
    selection = contract.selection
    if selection is None or selection.vendor is not contract.vendor:
        return _("この契約を対象とする選定記録（選定する）がないため締結できません。"
                 "契約の画面で「この契約の選定を記録」するか、%(days)d日以内の事業者の選定記録を"
                 "コメントを付けて「この契約の選定として確認」してください。",
                 days=vendor_services.selection_valid_days())
    if selection.state == "pending":
        return _("この契約の選定記録は「不適合」の基準があり、その理由が承認待ちのため締結できません。"
                 "管理者・承認者・統括情報セキュリティ責任者の承認を受けてください。")
    if not selection.is_positive:
        return _("この契約の選定記録は「選定しない」（または不適合の理由が却下）のため締結できません。"
                 "選定をやり直してください。")
    if contract.selection_basis == CONFIRMED:
        on = today() if contract.status is ContractStatus.DRAFT else (contract.selection_confirmed_on or today())
        if not vendor_services.is_valid(selection, on):
            return _("確認した事業者の選定記録（%(date)s）は有効期間（%(days)d日）を過ぎています。"
                     "この契約の選定を記録し直してください。", date=selection.decided_on.isoformat(),
                     days=vendor_services.selection_valid_days())
    return None


def link_selection(contract: Contract, selection, *, basis: str, comment: str | None, user) -> None:
    """Record that ``selection`` covers the contract (the view commits)."""
    if contract.status not in LIVE:
        raise ContractRuleError(_l("終了・解除・取下げの契約の選定記録は変更できません。"))
    contract.selection = selection
    contract.selection_basis = basis
    contract.selection_comment = comment
    contract.selection_confirmed_by_id = user.id
    contract.selection_confirmed_on = today()
    audit.label(contract, "selection")
    db.session.flush()


# --- status -------------------------------------------------------------------

def check_signable(contract: Contract) -> None:
    """The signing gates, run at signing and again whenever a signed contract
    is amended: a vendor that is not 取引停止 or 終了, a positive selection that
    covers this contract (selection_gap), and
    every mandatory clause included or covered by an approved exception.
    Raises ContractRuleError with the first gate that fails."""
    if vendor_barred(contract.vendor):
        raise ContractRuleError(_("委託事業者が「%(status)s」のため締結できません。"
                                   "取引中の事業者とのみ契約を締結できます。", status=contract.vendor.status.label))
    gap = selection_gap(contract)
    if gap:
        raise ContractRuleError(gap)
    missing = {c.code for c in clause_gaps(contract)} - excepted_codes(contract)
    if missing:
        raise ContractRuleError(_("必須のセキュリティ条項が不足しているため締結できません（%(codes)s）。"
                                   "条項を追加するか、例外の承認を受けてください。",
                                   codes=", ".join(sorted(missing))))


def check_signed_on(contract: Contract, signed_on: dt.date) -> None:
    """The signing date (締結日) the officer enters: not in the future, and
    not before the selection that covers the contract was decided."""
    if signed_on > today():
        raise ContractRuleError(_l("締結日に未来の日付は指定できません。"), field="signed_on")
    selection = contract.selection
    if selection is not None and selection.decided_on is not None and signed_on < selection.decided_on:
        raise ContractRuleError(_("締結日は選定日（%(date)s）より前にできません。", date=selection.decided_on.isoformat()),
                                field="signed_on")


def change_status(contract: Contract, target: ContractStatus, *, user, signed_on: dt.date | None = None) -> None:
    """Move the contract, keeping the rules of issue 3:
    - 締結済 needs a vendor that is not 取引停止 or 終了 (issue 17), with a positive selection and every mandatory
      clause included, or an approved exception covering the missing ones; it records the signing date the
      officer entered (``signed_on``, default today in JST) and the moment it was recorded; a vendor still
      選定済 becomes 取引中 in the same transaction, audited as "first_contract_signed" (issue 20);
    - 終了 or 解除 of a contract that handled classified information (above
      自治体機密性1) needs the return/disposal record (clause C09);
    - a draft is never 解除: it is withdrawn (取下げ), and only a draft is."""
    if target not in TRANSITIONS[contract.status]:
        raise ContractRuleError(_("「%(from)s」から「%(to)s」には変更できません。",
                                   **{"from": contract.status.label, "to": target.label}))
    if target is ContractStatus.SIGNED:
        check_signable(contract)
        signed_on = signed_on or today()
        check_signed_on(contract, signed_on)
        contract.signed_on, contract.signed_at = signed_on, utcnow()
        if contract.vendor.status is VendorStatus.SELECTED:  # its first contract: the vendor is now 取引中
            contract.vendor.status = VendorStatus.ACTIVE
            audit.label(contract.vendor, "first_contract_signed")
    if target is ContractStatus.ENDED and contract.handles_classified and contract.disposal is None:
        raise ContractRuleError(_l("機密性2以上の情報を取り扱った契約は、情報資産の返却・廃棄（C09）を記録してから終了にしてください。"))
    if target is ContractStatus.TERMINATED and contract.handles_classified and contract.disposal is None:
        raise ContractRuleError(_l("機密性2以上の情報を取り扱った契約は、情報資産の返却・廃棄（C09）を記録してから解除にしてください。"))
    contract.status = target
    audit.label(contract, {ContractStatus.SIGNED: "sign", ContractStatus.ENDED: "end",
                           ContractStatus.TERMINATED: "terminate",
                           ContractStatus.WITHDRAWN: "withdraw"}.get(target, "update"))
    db.session.flush()


def record_disposal(contract: Contract, *, done_on: dt.date, method: DisposalMethod, detail: str | None, evidence,
                    user) -> Disposal:
    """返却・廃棄 (clause C09): a method that fits the contract's class
    (class 3: erasure or destruction with a certificate) and its evidence
    file (a stored file, never None) — or the handover to the successor
    contract when the same vendor keeps the data (単年度契約の更新): then the
    evidence is optional, whatever the class."""
    if contract.disposal is not None:
        raise ContractRuleError(_l("返却・廃棄は既に記録されています。"))
    if contract.status in (ContractStatus.DRAFT, ContractStatus.WITHDRAWN):
        raise ContractRuleError(_l("返却・廃棄は締結した契約についてのみ記録できます。"))
    if done_on > today():
        raise ContractRuleError(_l("実施日に未来の日付は指定できません。"))
    if not isinstance(method, DisposalMethod):
        raise ContractRuleError(_l("返却・廃棄の方法を選択してください。"), field="method")
    if method is DisposalMethod.HANDOVER:
        _check_handover(contract)  # the same vendor keeps the data: no certificate is due, whatever the class
    elif method not in disposal_methods(contract):
        raise ContractRuleError(_l("自治体機密性3の情報は、消去証明書を伴うデータ消去または物理破壊で廃棄してください"
                                   "（返却のみでは記録できません）。"), field="method")
    if evidence is None and method is not DisposalMethod.HANDOVER:
        raise ContractRuleError(_l("返却・消去を証明する書類を添付してください。"), field="evidence")
    disposal = Disposal(contract=contract, done_on=done_on, kind=method,
                        method=unicodedata.normalize("NFKC", detail or "").strip(), evidence=evidence,
                        recorded_by_id=user.id)
    db.session.add(disposal)
    db.session.flush()
    return disposal


def gap_count_query(unit_id: int | None = None) -> Select:
    """SELECT count: live contracts lacking a mandatory clause (dashboard), of one unit when given."""
    stmt = select(func.count()).select_from(Contract).where(Contract.status.in_(LIVE), Contract.has_gap)
    return stmt.where(Contract.unit_id == unit_id) if unit_id is not None else stmt


def ending_within(days: int, on: dt.date | None = None):
    on = on or today()
    return and_(Contract.status.in_(LIVE), Contract.end_on >= on, Contract.end_on <= on + dt.timedelta(days=days))
