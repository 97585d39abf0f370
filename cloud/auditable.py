"""Cloud services as records an audit plan may name (assurance.audits, policy
§7): their responsible person is the service's administrator (管理者)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cloud.models import CloudService, ServiceStatus
from core.db import db
from core.incidents import CLOUD_SERVICE
from core.models import ClassificationLevel, User
from core.plugins import Auditable, IncidentSubject


def _choices() -> list:
    rows = db.session.execute(select(CloudService.id, CloudService.name).where(
        CloudService.status != ServiceStatus.REJECTED).order_by(CloudService.name)).all()
    return [(row.id, row.name) for row in rows]


def _rows(ids):
    ids = list(ids)
    return db.session.execute(select(CloudService.id, CloudService.name, CloudService.administrator_id).where(
        CloudService.id.in_(ids))).all() if ids else []


def _responsible(ids) -> dict:
    return {row.id: {row.administrator_id} - {None} for row in _rows(ids)}


def _describe(ids) -> dict:
    return {row.id: row.name for row in _rows(ids)}


def auditable() -> Auditable:
    return Auditable(kind="cloud", order=30, label=_l("外部サービス"), choices=_choices, responsible=_responsible,
                     describe=_describe, endpoint="cloud.detail", param="service_id")


# --- as what an incident concerns (core.incidents, issue 19) -----------------------------------

def _units(ids) -> dict:
    """The unit of the service's administrator (外部サービス管理者)."""
    ids = list(ids)
    return dict(db.session.execute(select(CloudService.id, User.unit_id).outerjoin(
        User, User.id == CloudService.administrator_id).where(CloudService.id.in_(ids))).all()) if ids else {}


def _classification(ids) -> dict:
    ids = list(ids)
    return dict(db.session.execute(select(CloudService.id, ClassificationLevel.rank).outerjoin(
        ClassificationLevel, ClassificationLevel.id == CloudService.ceiling_id).where(
        CloudService.id.in_(ids))).all()) if ids else {}


def incident_subject() -> IncidentSubject:
    return IncidentSubject(kind=CLOUD_SERVICE, order=30, label=_l("外部サービス"), choices=_choices,
                           describe=_describe, units=_units, responsible=_responsible,
                           classification=_classification, endpoint="cloud.detail", param="service_id")
