"""Contracts as records an audit plan may name (assurance.audits, policy §7):
their responsible person is the contract's officer (担当者)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from contracts.models import Contract, ContractStatus
from core.db import db
from core.plugins import Auditable

# Contracts an auditor still looks at: not drafts nobody signed.
_AUDITABLE = (ContractStatus.SIGNED, ContractStatus.IN_FORCE, ContractStatus.ENDED, ContractStatus.TERMINATED)


def _choices() -> list:
    rows = db.session.execute(select(Contract.id, Contract.number, Contract.title).where(
        Contract.status.in_(_AUDITABLE)).order_by(Contract.number)).all()
    return [(row.id, f"{row.number} {row.title}") for row in rows]


def _rows(ids):
    ids = list(ids)
    return db.session.execute(select(Contract.id, Contract.number, Contract.title, Contract.officer_id).where(
        Contract.id.in_(ids))).all() if ids else []


def _responsible(ids) -> dict:
    return {row.id: {row.officer_id} - {None} for row in _rows(ids)}


def _describe(ids) -> dict:
    return {row.id: f"{row.number} {row.title}" for row in _rows(ids)}


def auditable() -> Auditable:
    return Auditable(kind="contracts", order=20, label=_l("契約"), choices=_choices, responsible=_responsible,
                     describe=_describe, endpoint="contracts.detail", param="contract_id")
