"""The stored "lacks a mandatory clause" flag of each contract
(``Contract.has_gap``), kept equal to contracts.rules.has_gap_expression.

Counting contracts with gaps by evaluating that expression means a dozen
index probes per contract: a second and more for a prefecture's 50,000.
So the flag is stored and refreshed, in the same transaction, after every
flush that changes what it depends on: a contract's clause rows, its
classification or personal-information flag (refresh that contract), the
catalogue's clauses or their mandatory levels (refresh every contract; an
administrator's rare change).  The refresh is a Core UPDATE: derived data,
not an edit, so it does not move the record's version or the audit trail.
"""
from __future__ import annotations

from sqlalchemy import case, event, inspect, update
from sqlalchemy.orm import Session

from contracts.models import Clause, Contract, ContractClause

_PENDING = "itaku_gap_refresh"
ALL = "all"


def refresh(connection, contract_ids=ALL) -> None:
    from contracts.rules import has_gap_expression

    stmt = update(Contract.__table__).values(has_gap=case((has_gap_expression(), True), else_=False))
    if contract_ids != ALL:
        stmt = stmt.where(Contract.__table__.c.id.in_(sorted(contract_ids)))
    connection.execute(stmt)


def _contract_changes(obj) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes()
               for name in ("classification_id", "handles_personal_info", "classification"))


@event.listens_for(Session, "before_flush")
def _collect(session: Session, _context, _instances) -> None:
    wanted = session.info.setdefault(_PENDING, set())
    if wanted == ALL:
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Clause):
            session.info[_PENDING] = ALL
            return
        if isinstance(obj, ContractClause):
            if obj.contract_id is not None:
                wanted.add(obj.contract_id)
            elif obj.contract is not None:
                wanted.add(obj.contract)
        elif isinstance(obj, Contract) and (obj in session.new or _contract_changes(obj)):
            wanted.add(obj)


@event.listens_for(Session, "after_flush_postexec")
def _refresh(session: Session, _context) -> None:
    wanted = session.info.pop(_PENDING, None)
    if not wanted:
        return
    ids = ALL if wanted == ALL else {item.id if isinstance(item, Contract) else item for item in wanted}
    refresh(session.connection(), ids)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Contract) and (ids == ALL or obj.id in ids):
            session.expire(obj, ["has_gap"])
