"""The stored date the next verification of each contract is due
(``Contract.verification_due_on``), kept equal to contracts.schedule.next_due.

The rule is fiscal-year aware and takes the cycle from the contract or its
level, so it is Python, not one SQL expression; computing it for every
contract under verification on each view of the dashboard is a second at a
prefecture's 35,000.  So, as with the gap flag (contracts/gaps.py), the date
is stored and refreshed in the same transaction after every flush that
changes what it depends on: a contract's status, dates, cycle or level, a
verification's status, date or contract (refresh those contracts), a level's
default cycle (refresh every contract; an administrator's rare change).
Whether a stored date is overdue or due soon depends on the day it is read,
so that stays a comparison in the query.  The refresh is a Core UPDATE of
the rows whose date moves: derived data, not an edit, so it does not move
the record's version or the audit trail.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, func, inspect, select, update
from sqlalchemy.orm import Session

from contracts import derived
from contracts.derived import ALL
from contracts.models import Contract, ContractStatus, Verification, VerificationStatus
from contracts.rules import EXCEPTION, LIVE
from contracts.schedule import Cycle, next_due
from core import due
from core.approvals import Approval, Decision
from core.db import db
from core.due import EVERYONE, DueItem, DueScope
from core.models import ClassificationLevel

UNDER_VERIFICATION = (ContractStatus.SIGNED, ContractStatus.IN_FORCE)
CHUNK = 2000  # contracts per statement: well inside every driver's limit on bound parameters
CONTRACT_FIELDS = ("status", "start_on", "end_on", "verification_cycle", "classification_id", "classification")
VERIFICATION_FIELDS = ("status", "performed_on", "contract_id", "contract")


def due_on(status, own_cycle, level_cycle, start_on, end_on, last_done):
    """A contract's next due date from its plain values (None: nothing is due)."""
    if status not in UNDER_VERIFICATION or start_on is None or end_on is None:
        return None
    cycle = own_cycle or Cycle.parse(level_cycle or "") or Cycle.YEARLY
    return next_due(cycle, start_on, end_on, last_done)


def _statement(ids=None):
    contracts, levels, checks = Contract.__table__, ClassificationLevel.__table__, Verification.__table__
    last = select(checks.c.contract_id, func.max(checks.c.performed_on).label("done")).where(
        checks.c.status == VerificationStatus.SUBMITTED).group_by(checks.c.contract_id)
    stmt = select(contracts.c.id, contracts.c.verification_due_on, contracts.c.status, contracts.c.verification_cycle,
                  levels.c.verification_cycle, contracts.c.start_on, contracts.c.end_on)
    if ids is not None:
        last = last.where(checks.c.contract_id.in_(ids))
        stmt = stmt.where(contracts.c.id.in_(ids))
    last = last.subquery()
    return (stmt.add_columns(last.c.done)
            .outerjoin(levels, levels.c.id == contracts.c.classification_id)
            .outerjoin(last, last.c.contract_id == contracts.c.id))


def refresh(connection, contract_ids=ALL) -> int:
    """Store the due date of these contracts (or all); returns how many moved."""
    if contract_ids == ALL:
        batches = [None]
    else:
        ordered = sorted(contract_ids)
        batches = [ordered[i:i + CHUNK] for i in range(0, len(ordered), CHUNK)]
    table = Contract.__table__
    store = (update(table).where(table.c.id == bindparam("contract"))
             .values(verification_due_on=bindparam("due")))
    moved = 0
    for batch in batches:
        changes = [{"contract": row.id, "due": due}
                   for row in connection.execute(_statement(batch))
                   if (due := due_on(*row[2:])) != row.verification_due_on]
        if changes:
            connection.execute(store, changes)
            moved += len(changes)
    return moved


def _changed(obj, names) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _touched(session: Session, obj):
    if isinstance(obj, ClassificationLevel) and _changed(obj, ("verification_cycle",)):
        return ALL
    if isinstance(obj, Contract) and (obj in session.new or _changed(obj, CONTRACT_FIELDS)):
        return [obj]
    if isinstance(obj, Verification) and (obj in session.new or obj in session.deleted
                                          or _changed(obj, VERIFICATION_FIELDS)):
        previous = inspect(obj).attrs["contract_id"].history.deleted
        return [obj.contract if obj.contract_id is None else obj.contract_id, *previous]
    return ()


def keep_current() -> None:
    """Keep each contract's stored next-verification date current after every flush."""
    derived.keep_current("verification_due_on", _touched, refresh)


def _exception_statements(scope: DueScope) -> list:
    stmt = (select(Approval.id, Approval.details, Approval.expires_on, Contract.id, Contract.number, Contract.title,
                   Contract.officer_id)
            .join(Contract, Contract.id == Approval.subject_id)
            .where(Approval.kind == EXCEPTION, Approval.subject_type == Contract.__tablename__,
                   Approval.decision == Decision.APPROVED, Approval.expires_on.is_not(None),
                   Contract.status.in_(LIVE), Contract.has_gap))
    owners = scope.owners()
    return [stmt] if owners is None else [stmt.where(due.owned(Contract.officer_id, owner)) for owner in owners]


def exception_items(scope: DueScope = EVERYONE) -> list[DueItem]:
    """Due items of clause exceptions (issue 20): the expiry date of each
    approved exception of a live contract still lacking a mandatory clause —
    the officer is reminded before it lapses and once it has (an exception
    approved before expiry dates were asked for has none and is not due)."""
    rows = [row for stmt in _exception_statements(scope)
            for row in db.session.execute(due.window(scope, stmt, Approval.expires_on, Approval.id))]
    return [DueItem(key=f"clause_exception:{approval_id}:{expires_on.isoformat()}", kind="clause_exception",
                    title=f"条項の例外の有効期限 {number} {title}（{'、'.join((details or {}).get('clauses', []))}）",
                    due_on=expires_on, owner_id=officer_id, endpoint="contracts.detail",
                    params={"contract_id": contract_id})
            for approval_id, details, expires_on, contract_id, number, title, officer_id in rows]


def exception_count(scope: DueScope = EVERYONE) -> int:
    return due.tally_all(scope, [(stmt, Approval.expires_on, dt.timedelta()) for stmt in _exception_statements(scope)])
