"""Contracts as records an audit plan may name (assurance.audits, policy §7):
their responsible person is the contract's officer (担当者)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from contracts.models import Contract, ContractStatus
from core.db import db
from core.incidents import CONTRACT
from core.models import ClassificationLevel
from core.plugins import Auditable, IncidentSubject
from vendors.models import Vendor

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


# --- as what an incident concerns (core.incidents, issue 19) -----------------------------------

def _units(ids) -> dict:
    ids = list(ids)
    return dict(db.session.execute(select(Contract.id, Contract.unit_id).where(
        Contract.id.in_(ids))).all()) if ids else {}


def _classification(ids) -> dict:
    ids = list(ids)
    return dict(db.session.execute(select(Contract.id, ClassificationLevel.rank).outerjoin(
        ClassificationLevel, ClassificationLevel.id == Contract.classification_id).where(
        Contract.id.in_(ids))).all()) if ids else {}


def _incident_choices() -> list:
    """Every contract but a draft, with its vendor: an incident may come after the end."""
    rows = db.session.execute(select(Contract.id, Contract.number, Contract.title, Vendor.name).join(
        Vendor, Vendor.id == Contract.vendor_id).where(Contract.status != ContractStatus.DRAFT)
        .order_by(Contract.number)).all()
    return [(row.id, f"{row.number} {row.title}（{row.name}）") for row in rows]


def incident_subject() -> IncidentSubject:
    return IncidentSubject(kind=CONTRACT, order=20, label=_l("契約"), choices=_incident_choices,
                           describe=_describe, units=_units, responsible=_responsible,
                           classification=_classification, endpoint="contracts.detail", param="contract_id")
