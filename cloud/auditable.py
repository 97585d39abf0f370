"""Cloud services as records an audit plan may name (assurance.audits, policy
§7): their responsible person is the service's administrator (管理者)."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cloud.forms import InformationForm, ServiceForm, UsageRulesForm
from cloud.models import CloudService, ServiceStatus, UsageRule
from core.db import db
from core.incidents import CLOUD_SERVICE
from core.models import ClassificationLevel, User
from core.plugins import Auditable, AuditRecord, IncidentSubject


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


# --- as the audit trail shows them (core.audit_display, issue 20) ------------------------------

def _rules_names(ids) -> dict:
    """A version of the usage rules: 第2版."""
    ids = list(ids)
    rows = db.session.execute(select(UsageRule.id, UsageRule.number).where(UsageRule.id.in_(ids))).all() if ids else []
    return {row.id: _("第%(n)s版", n=row.number) for row in rows}


def audit_records(house) -> None:
    """Cloud services and their parts as the trail shows them: form labels, names, the page."""
    house.add_audit_record(AuditRecord(
        "cloud_services", forms=(ServiceForm,), name=_describe, endpoint="cloud.detail", param="service_id",
        labels={"ceiling_id": _l("取扱上限"), "provider_name": _l("提供者名"), "contract_id": _l("契約"),
                "last_reviewed_on": _l("前回の見直し日"), "next_review_on": _l("次回の見直し期限")}))
    house.add_audit_record(AuditRecord("cloud_information", forms=(InformationForm,), labels={"name": _l("情報の種類")}))
    house.add_audit_record(AuditRecord("cloud_usage_rules", forms=(UsageRulesForm,), name=_rules_names,
                                       labels={"number": _l("版"), "author_id": _l("起案者"),
                                               "approved_at": _l("承認日時"), "approval_id": _l("承認")}))
    house.add_audit_record(AuditRecord("cloud_service_units", parent="service_id",
                                       labels={"unit_id": _l("利用部署")}))
