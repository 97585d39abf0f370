"""Incidents involving outside parties (緊急時対応, policy §6(7); issue 19): the
records.

One register for every incident — a contractor's, a cloud service's, an SNS
account's, or the body's own.  What an incident concerns is named by
``subject_type``/``subject_id``; the module that owns such records tells the
app how to read them through the registry
(``Registry.add_incident_subject``, core/plugins.py), so these tables know no
domain.  The models are in core, as the measures are, so that a domain can
show the incidents of its records (a flag, a column in its register's PDF)
without importing the incidents module; the rules, pages, documents and API
are in the package ``incidents/``.

The SNS incidents of before (social_incidents, social_incident_actions)
moved here in migration 0025 with their ids, checklists and timelines; their
audit entries stay under the old table names, and ``legacy_object`` names
them so that an incident's history still shows them.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import plugins
from core.db import TimestampMixin, VersionMixin, db
from core.enums import LabelledEnum, enum_column
from core.files import StoredFile
from core.models import Audited, ClassificationLevel, OrgUnit, Role, User
from core.pdf import day
from core.timeutil import local_date, utcnow

# What an incident concerns (subject_type); the body itself has no subject.
CONTRACT, CLOUD_SERVICE, SOCIAL_ACCOUNT = "contract", "cloud_service", "social_account"


class IncidentKind(LabelledEnum):
    LEAK = "leak", _l("情報漏えい・紛失")
    UNAUTHORISED_ACCESS = "unauthorised", _l("不正アクセス")
    MALWARE = "malware", _l("マルウェア")
    OUTAGE = "outage", _l("サービス停止・障害")
    CONTRACT_BREACH = "breach", _l("契約違反")
    IMPERSONATION = "impersonation", _l("なりすまし")
    TAKEOVER = "takeover", _l("乗っ取り")
    WRONG_POST = "wrong_post", _l("誤投稿")


# The measures an incident opens (core.measures.Measure.source_type): its
# prevention measures, and the measure a contractor's late report (C10) opens
# against the contract.
MEASURE_SOURCE = "incident"

# Kinds only an SNS account can have.
SOCIAL_KINDS = (IncidentKind.IMPERSONATION, IncidentKind.TAKEOVER, IncidentKind.WRONG_POST)
# An open incident of these kinds shows in red at the top of every dashboard
# that can see it, whatever its severity (and so does any open 重大 one).
ALARMING = (IncidentKind.LEAK, IncidentKind.IMPERSONATION, IncidentKind.TAKEOVER)


class Severity(LabelledEnum):
    SEVERE = "severe", _l("重大")
    MODERATE = "moderate", _l("中")
    MINOR = "minor", _l("軽微")


class IncidentStatus(LabelledEnum):
    RECEIVED = "received", _l("受付")
    RESPONDING = "responding", _l("対応中")
    PREVENTING = "preventing", _l("再発防止")
    CLOSED = "closed", _l("終結")


OPEN_STATUSES = (IncidentStatus.RECEIVED, IncidentStatus.RESPONDING, IncidentStatus.PREVENTING)


class Incident(Audited, TimestampMixin, VersionMixin, db.Model):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_subject", "subject_type", "subject_id"),
                      Index("ix_incidents_status_severity", "status", "severity"),
                      UniqueConstraint("number", name="uq_incidents_number"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20))  # 事案番号, e.g. "R8-003": per 年度, never reused
    kind: Mapped[IncidentKind] = mapped_column(enum_column(IncidentKind), index=True)
    severity: Mapped[Severity] = mapped_column(enum_column(Severity), index=True)
    status: Mapped[IncidentStatus] = mapped_column(enum_column(IncidentStatus), default=IncidentStatus.RECEIVED,
                                                   index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)  # what happened

    # What it concerns: a contract (and so its vendor), a cloud service, an
    # SNS account — or, both None, the body itself.
    subject_type: Mapped[Optional[str]] = mapped_column(String(30))
    subject_id: Mapped[Optional[int]] = mapped_column(Integer)
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_units.id"), index=True)  # the responsible unit
    handler_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"), index=True)  # who handles it

    # The times (stored in UTC, as every time here).
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    detected_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    contractor_reported_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)  # C10: the contractor told us
    learned_at: Mapped[dt.datetime] = mapped_column(DateTime)  # the body learned of it
    contained_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)  # spread stopped (time to contain)

    reporter: Mapped[Optional[str]] = mapped_column(String(200))  # who reported it (a person, a contractor)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # who wrote it down here

    # The information affected.
    information: Mapped[Optional[str]] = mapped_column(Text)
    classification_id: Mapped[Optional[int]] = mapped_column(ForeignKey("classification_levels.id"))
    personal_data: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    my_number: Mapped[bool] = mapped_column(Boolean, default=False)
    people_affected: Mapped[Optional[int]] = mapped_column(Integer)
    wrongful_intent: Mapped[bool] = mapped_column(Boolean, default=False)  # 不正の目的 (APPI: 60 days)

    # APPI art. 68 reports to the Personal Information Protection Commission.
    ppc_required: Mapped[Optional[bool]] = mapped_column(Boolean)  # None: not yet decided
    ppc_preliminary_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    ppc_final_on: Mapped[Optional[dt.date]] = mapped_column(Date)

    checklist: Mapped[Optional[dict]] = mapped_column(JSON)  # code → done (IncidentChecklistItem)

    # Closing: the cause and the prevention (each measure through core.measures).
    cause: Mapped[Optional[str]] = mapped_column(Text)
    prevention: Mapped[Optional[str]] = mapped_column(Text)
    closed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, index=True)
    closed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    # When a late contractor report (C10) was recorded against the subject (once; migration 0026).
    late_report_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    # "social_incidents:7": the row it was before migration 0025 (its audit entries).
    legacy_object: Mapped[Optional[str]] = mapped_column(String(40))

    unit: Mapped[Optional[OrgUnit]] = relationship()
    handler: Mapped[Optional[User]] = relationship(foreign_keys=[handler_id])
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    closed_by: Mapped[Optional[User]] = relationship(foreign_keys=[closed_by_id])
    classification: Mapped[Optional[ClassificationLevel]] = relationship()
    actions: Mapped[list[IncidentAction]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentAction.at")
    notifications: Mapped[list[IncidentNotification]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentNotification.notified_at")
    evidence: Mapped[list[IncidentEvidence]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentEvidence.id")

    @property
    def is_open(self) -> bool:
        return self.status is not IncidentStatus.CLOSED

    @property
    def alarming(self) -> bool:
        """Shown in red on the dashboards while open."""
        return self.is_open and (self.severity is Severity.SEVERE or self.kind in ALARMING)


class IncidentAction(Audited, db.Model):
    """One step of an incident's timeline (append-only)."""
    __tablename__ = "incident_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    legacy_object: Mapped[Optional[str]] = mapped_column(String(40))  # "social_incident_actions:12"

    incident: Mapped[Incident] = relationship(back_populates="actions")
    user: Mapped[User] = relationship()


class IncidentNotification(Audited, db.Model):
    """Who was told, when and by what means (the reporting chain)."""
    __tablename__ = "incident_notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    # "lead" (統括情報セキュリティ責任者), "ciso" (最高情報セキュリティ責任者), "other"
    recipient_role: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(200))  # the person's name as told
    notified_at: Mapped[dt.datetime] = mapped_column(DateTime)
    means: Mapped[str] = mapped_column(String(100))  # 電話, 電子メール, 対面, 文書…
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    incident: Mapped[Incident] = relationship(back_populates="notifications")
    recorded_by: Mapped[User] = relationship()


class IncidentEvidence(Audited, db.Model):
    __tablename__ = "incident_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    note: Mapped[Optional[str]] = mapped_column(String(300))
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    incident: Mapped[Incident] = relationship(back_populates="evidence")
    file: Mapped[StoredFile] = relationship()
    added_by: Mapped[User] = relationship()


class IncidentChecklistItem(Audited, TimestampMixin, VersionMixin, db.Model):
    """One step of the response checklist of a kind of incident; the
    administrators edit the list (seeded by migration 0025).  A retired item
    leaves new incidents' checklists and stays readable in past ones."""
    __tablename__ = "incident_checklist_items"
    __table_args__ = (UniqueConstraint("kind", "code", name="uq_incident_checklist_items_kind_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[IncidentKind] = mapped_column(enum_column(IncidentKind), index=True)
    code: Mapped[str] = mapped_column(String(20))
    text_ja: Mapped[str] = mapped_column(String(300))
    text_en: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)

    def text(self, language: str = "ja") -> str:
        return self.text_en if language == "en" and self.text_en else self.text_ja


# --- who may read and who handles an incident ---------------------------------------------------
#
# - Anyone signed in records one (incidents.views.new).
# - Its handlers: the person named to handle it, the persons responsible for what it
#   concerns (core.plugins.IncidentSubject.responsible), the staff of its responsible unit
#   (not the auditor role: auditors read, and write only audits), the security lead and
#   administrators.
# - Auditors read every incident.
# - An incident involving personal data is visible only to its handlers, the security
#   lead, administrators and auditors; to anyone else it does not exist (404, and absent
#   from lists, pages, dashboards and counts).  Any other incident every signed-in user
#   may read.  Here, in core, so that a domain's page can apply the rule too.

OVERSEERS = (Role.ADMIN, Role.LEAD)  # handle every incident
READ_ALL = (Role.ADMIN, Role.LEAD, Role.AUDITOR)
STAFF = (Role.ADMIN, Role.PROCUREMENT, Role.VERIFIER, Role.SOCIAL, Role.APPROVER, Role.LEAD)


def _responsible(incident: Incident) -> set[int]:
    if not incident.subject_type or incident.subject_id is None:
        return set()
    found = plugins.registry().incident_subject(incident.subject_type)
    return set(found.responsible([incident.subject_id]).get(incident.subject_id, set())) if found else set()


def may_handle(user, incident: Incident, responsible: set[int] | None = None) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.has_role(*OVERSEERS) or incident.handler_id == user.id:
        return True
    if incident.unit_id is not None and user.unit_id == incident.unit_id and user.has_role(*STAFF):
        return True
    return user.id in (_responsible(incident) if responsible is None else responsible)


def may_read(user, incident: Incident) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if not incident.personal_data or user.has_role(*READ_ALL):
        return True
    return may_handle(user, incident)


def visible(query, user):
    """``query`` (of Incident) narrowed to the incidents ``user`` may read:
    ``may_handle`` for the personal-data ones, decided for all of them at
    once — their columns in one statement, then the persons responsible for
    their subjects in one per kind of subject (not one per incident: a
    prefecture has hundreds; issue 21)."""
    if user.has_role(*READ_ALL):
        return query
    if not getattr(user, "is_authenticated", False):
        return query.where(Incident.id.is_(None))
    staff = user.has_role(*STAFF)
    allowed: set[int] = set()
    by_subject: dict[str, dict[int, list[int]]] = {}
    for row in db.session.execute(select(Incident.id, Incident.handler_id, Incident.unit_id, Incident.subject_type,
                                         Incident.subject_id).where(Incident.personal_data.is_(True))):
        if user.has_role(*OVERSEERS) or row.handler_id == user.id or (
                row.unit_id is not None and staff and user.unit_id == row.unit_id):
            allowed.add(row.id)
        elif row.subject_type and row.subject_id is not None:
            by_subject.setdefault(row.subject_type, {}).setdefault(row.subject_id, []).append(row.id)
    for kind, incidents in by_subject.items():
        found = plugins.registry().incident_subject(kind)
        people = found.responsible(list(incidents)) if found else {}
        for subject_id, ids in incidents.items():
            if user.id in people.get(subject_id, ()):
                allowed.update(ids)
    return query.where(or_(Incident.personal_data.is_(False), Incident.id.in_(sorted(allowed))))


_LEGACY: dict[str, type] = {}


def legacy_parts(incident: Incident) -> list:
    """Stand-ins for the rows an SNS incident and its timeline were before
    migration 0025, so that the history shows their audit entries too (the
    hash chain covers them as they were written: they are never rewritten)."""
    parts = []
    for ref in [incident.legacy_object, *(action.legacy_object for action in incident.actions)]:
        table, _sep, row_id = (ref or "").partition(":")
        if table and row_id.isdigit():
            kind = _LEGACY.setdefault(table, type(f"Legacy_{table}", (), {"__tablename__": table}))
            part = kind()
            part.id = int(row_id)
            parts.append(part)
    return parts


def readable(incidents) -> list[Incident]:
    """Those of ``incidents`` the signed-in user may read (a template global:
    ``incidents_readable``, for the pages of the records they concern)."""
    return [incident for incident in incidents if may_read(current_user, incident)]


def of_subjects(subject_type: str, ids) -> list[Incident]:
    """The incidents of those records (``subject_type``, ``ids``) the signed-in
    user may read, newest first (a template global: ``subject_incidents``, for
    the contract, vendor and cloud service pages)."""
    ids = [record_id for record_id in ids if record_id is not None]
    if not ids:
        return []
    found = db.session.scalars(select(Incident).where(Incident.subject_type == subject_type,
                                                      Incident.subject_id.in_(ids))
                               .order_by(Incident.occurred_at.desc(), Incident.id.desc())).all()
    return readable(found)


def open_lines(subject_type: str, ids) -> dict[int, list[str]]:
    """{record id: a line per open incident of it the signed-in user may
    read — number, kind and severity, since when}, in Japanese: for the
    registers' PDFs (a column, or a line of a record's header)."""
    lines: dict[int, list[str]] = {}
    with force_locale("ja"):
        for incident in of_subjects(subject_type, ids):
            if incident.is_open:
                lines.setdefault(incident.subject_id, []).append(
                    f"{incident.number} {incident.kind.label}・{incident.severity.label}"
                    f"（{day(local_date(incident.occurred_at))}〜）")
    return lines


def init_app(app) -> None:
    app.jinja_env.globals["incidents_readable"] = readable
    app.jinja_env.globals["subject_incidents"] = of_subjects
