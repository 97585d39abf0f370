"""The stored "lacks a mandatory clause" flag of each contract
(``Contract.has_gap``), kept equal to contracts.rules.has_gap_expression.

Counting contracts with gaps by evaluating that expression means a dozen
index probes per contract: a second and more for a prefecture's 50,000.
So the flag is stored and refreshed, in the same transaction, after every
flush that changes what it depends on: a contract's clause rows, its
classification, kind, personal-information or access flag (refresh that contract), the
catalogue's clauses or their mandatory levels (refresh every contract; an
administrator's rare change).  The refresh is a Core UPDATE: derived data,
not an edit, so it does not move the record's version or the audit trail.
"""
from __future__ import annotations

from sqlalchemy import case, inspect, update
from sqlalchemy.orm import Session

from contracts import derived
from contracts.derived import ALL
from contracts.models import Clause, Contract, ContractClause
from contracts.rules import has_gap_expression


def refresh(connection, contract_ids=ALL) -> None:
    stmt = update(Contract.__table__).values(has_gap=case((has_gap_expression(), True), else_=False))
    if contract_ids != ALL:
        stmt = stmt.where(Contract.__table__.c.id.in_(sorted(contract_ids)))
    connection.execute(stmt)


def _contract_changes(obj) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes()
               for name in ("classification_id", "handles_personal_info", "classification", "kind",
                                                 "system_access"))


def _touched(session: Session, obj):
    if isinstance(obj, Clause):
        return ALL
    if isinstance(obj, ContractClause):
        return [obj.contract_id if obj.contract_id is not None else obj.contract]
    if isinstance(obj, Contract) and (obj in session.new or _contract_changes(obj)):
        return [obj]
    return ()


def keep_current() -> None:
    """Keep each contract's stored gap flag current after every flush."""
    derived.keep_current("has_gap", _touched, refresh)
