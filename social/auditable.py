"""SNS accounts as records an audit plan may name (assurance.audits, policy
§7): their responsible people are the account's 責任者 and deputy."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.db import db
from core.incidents import SOCIAL_ACCOUNT
from core.models import ClassificationLevel
from core.plugins import Auditable, AuditRecord, IncidentSubject
from social.forms import AccountForm, ProcedureForm
from social.models import AccountStatus, SocialAccount


def _choices() -> list:
    rows = db.session.execute(select(SocialAccount.id, SocialAccount.name).where(
        SocialAccount.status != AccountStatus.REJECTED).order_by(SocialAccount.name)).all()
    return [(row.id, row.name) for row in rows]


def _rows(ids):
    ids = list(ids)
    return db.session.execute(select(SocialAccount.id, SocialAccount.name, SocialAccount.responsible_id,
                                     SocialAccount.deputy_id).where(SocialAccount.id.in_(ids))).all() if ids else []


def _responsible(ids) -> dict:
    return {row.id: {row.responsible_id, row.deputy_id} - {None} for row in _rows(ids)}


def _describe(ids) -> dict:
    return {row.id: row.name for row in _rows(ids)}


def auditable() -> Auditable:
    return Auditable(kind="social", order=40, label=_l("SNS公式アカウント"), choices=_choices,
                     responsible=_responsible, describe=_describe, endpoint="social.detail", param="account_id")


# --- as what an incident concerns (core.incidents, issue 19) -----------------------------------

def _units(ids) -> dict:
    ids = list(ids)
    return dict(db.session.execute(select(SocialAccount.id, SocialAccount.unit_id).where(
        SocialAccount.id.in_(ids))).all()) if ids else {}


def _classification(ids) -> dict:
    ids = list(ids)
    return dict(db.session.execute(select(SocialAccount.id, ClassificationLevel.rank).outerjoin(
        ClassificationLevel, ClassificationLevel.id == SocialAccount.posting_ceiling_id).where(
        SocialAccount.id.in_(ids))).all()) if ids else {}


def incident_subject() -> IncidentSubject:
    return IncidentSubject(kind=SOCIAL_ACCOUNT, order=40, label=_l("SNS公式アカウント"), choices=_choices,
                           describe=_describe, units=_units, responsible=_responsible,
                           classification=_classification, endpoint="social.detail", param="account_id")


# --- as the audit trail shows them (core.audit_display, issue 20) ------------------------------

def audit_records(house) -> None:
    """SNS accounts and their procedures as the trail shows them: form labels, names, the page."""
    house.add_audit_record(AuditRecord(
        "social_accounts", forms=(AccountForm,), name=_describe, endpoint="social.detail", param="account_id",
        labels={"responsible_id": _l("責任者"), "posting_ceiling_id": _l("発信できる情報の機密性")}))
    house.add_audit_record(AuditRecord("social_procedures", forms=(ProcedureForm,)))
