"""Contracts as records an audit plan may name (assurance.audits, policy §7):
their responsible person is the contract's officer (担当者)."""
from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from contracts.models import Contract, ContractStatus, VerificationNote
from core import measures
from core.db import db
from core.incidents import CONTRACT, MEASURE_SOURCE
from core.models import ClassificationLevel
from core.plugins import Auditable, IncidentSubject
from core.timeutil import today
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
                           classification=_classification, report_hours=_report_hours, late_report=_late_report,
                           closed=_closed, endpoint="contracts.detail", param="contract_id")


# A measure a late contractor report opens against the contract is due in this many days.
LATE_REPORT_MEASURE_DAYS = 30


def _report_hours(ids) -> dict:
    """C10: the contractor reports an incident within CONTRACTOR_REPORT_HOURS
    of detecting it (no contract here states another period)."""
    hours = current_app.config["CONTRACTOR_REPORT_HOURS"]
    return {contract_id: hours for contract_id in ids}


def _late_report(incident) -> measures.Measure | None:
    """The contractor reported late (C10): an improvement measure against the
    contract, owned by its officer, due in 30 days (core.measures)."""
    contract = db.session.get(Contract, incident.subject_id)
    if contract is None:
        return None
    hours = current_app.config["CONTRACTOR_REPORT_HOURS"]
    return measures.open_measure(
        source_type=MEASURE_SOURCE, source_id=incident.id,
        title=_("契約 %(contract)s：事案 %(number)s の受託者報告が期限（%(hours)s時間）を過ぎた（C10）",
                contract=contract.number, number=incident.number, hours=hours),
        measure=_("受託者に報告体制の改善を求め、改善を確認する（契約 %(contract)s、C10 事故報告）",
                  contract=contract.number),
        due_on=today() + dt.timedelta(days=LATE_REPORT_MEASURE_DAYS), owner_id=contract.officer_id,
        unit_id=contract.unit_id)


def _closed(incident) -> VerificationNote | None:
    """A closed incident of the contract: its next verification checks the fix."""
    if db.session.get(Contract, incident.subject_id) is None:
        return None
    note = VerificationNote(contract_id=incident.subject_id, incident_id=incident.id,
                            incident_number=incident.number,
                            text=_("事案 %(number)s「%(title)s」の再発防止策が実施されているか確認する：%(prevention)s",
                                   number=incident.number, title=incident.title, prevention=incident.prevention or ""))
    db.session.add(note)
    db.session.flush()
    return note
