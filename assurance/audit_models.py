"""情報セキュリティ監査 (policy §7, issue 18): audit plans and their findings.

A plan names its 年度, its scope (units, registers, chosen records of those
registers: core.plugins.Auditable), its auditors, period and method.  A
finding is numbered within its plan (unique, also under parallel saves),
answered by the audited party, and closed by an auditor of the plan.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, VersionMixin, db
from core.enums import LabelledEnum, enum_column
from core.models import Audited, OrgUnit, User


class PlanStatus(LabelledEnum):
    PLANNED = "planned", _l("計画")
    IN_PROGRESS = "in_progress", _l("実施中")
    REPORTED = "reported", _l("報告済")


class Severity(LabelledEnum):
    SERIOUS = "serious", _l("重大")
    MODERATE = "moderate", _l("中")
    MINOR = "minor", _l("軽微")
    OBSERVATION = "observation", _l("所見")

    @property
    def needs_measure(self) -> bool:
        """重大・中・軽微 call for an improvement measure; a 所見 does not."""
        return self is not Severity.OBSERVATION


class FindingStatus(LabelledEnum):
    OPEN = "open", _l("回答待ち")
    RESPONDED = "responded", _l("回答済")
    CLOSED = "closed", _l("完了")


class AuditPlan(Audited, TimestampMixin, VersionMixin, db.Model):
    """監査計画: one audit of a 年度."""

    __tablename__ = "audit_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(200))  # 書面監査・実地監査・ヒアリング…
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    # The registers in scope, as auditable kinds ("contracts", "cloud"…).
    registers: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[PlanStatus] = mapped_column(enum_column(PlanStatus), default=PlanStatus.PLANNED, index=True)
    # The independence warnings (policy §7) as they stood when the plan was last saved.
    independence_note: Mapped[Optional[str]] = mapped_column(Text)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[Optional[User]] = relationship(foreign_keys=[created_by_id])
    unit_links: Mapped[list[AuditPlanUnit]] = relationship(back_populates="plan", cascade="all, delete-orphan")
    auditor_links: Mapped[list[AuditPlanAuditor]] = relationship(back_populates="plan",
                                                                 cascade="all, delete-orphan")
    targets: Mapped[list[AuditTarget]] = relationship(back_populates="plan", cascade="all, delete-orphan",
                                                      order_by="AuditTarget.id")
    findings: Mapped[list[AuditFinding]] = relationship(back_populates="plan", order_by="AuditFinding.number")

    @property
    def units(self) -> list[OrgUnit]:
        return [link.unit for link in self.unit_links]

    @property
    def auditors(self) -> list[User]:
        return [link.user for link in self.auditor_links]

    @property
    def auditor_ids(self) -> set[int]:
        return {link.user_id for link in self.auditor_links}


class AuditPlanUnit(Audited, db.Model):
    """A unit in the plan's scope (被監査部署)."""

    __tablename__ = "audit_plan_units"

    plan_id: Mapped[int] = mapped_column(ForeignKey("audit_plans.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True, index=True)

    plan: Mapped[AuditPlan] = relationship(back_populates="unit_links")
    unit: Mapped[OrgUnit] = relationship()


class AuditPlanAuditor(Audited, db.Model):
    """An auditor of the plan (a user holding the auditor role)."""

    __tablename__ = "audit_plan_auditors"

    plan_id: Mapped[int] = mapped_column(ForeignKey("audit_plans.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)

    plan: Mapped[AuditPlan] = relationship(back_populates="auditor_links")
    user: Mapped[User] = relationship()


class AuditTarget(Audited, db.Model):
    """A record chosen for the audit: a kind (core.plugins.Auditable) and its id."""

    __tablename__ = "audit_targets"
    __table_args__ = (UniqueConstraint("plan_id", "kind", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("audit_plans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)

    plan: Mapped[AuditPlan] = relationship(back_populates="targets")

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.record_id}"


class AuditFinding(Audited, TimestampMixin, VersionMixin, db.Model):
    """監査の指摘事項: numbered within its plan (指摘1, 2…)."""

    __tablename__ = "audit_findings"
    __table_args__ = (UniqueConstraint("plan_id", "number"),
                      Index("ix_audit_findings_status_severity", "status", "severity"))

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("audit_plans.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    severity: Mapped[Severity] = mapped_column(enum_column(Severity))
    # 判断基準: an inspection item's code (core.inspection), and/or a clause or free text.
    criterion_code: Mapped[Optional[str]] = mapped_column(String(20))
    criterion_text: Mapped[Optional[str]] = mapped_column(String(200))
    condition: Mapped[str] = mapped_column(Text)  # 事実
    recommendation: Mapped[Optional[str]] = mapped_column(Text)  # 改善勧告
    # The audited record it concerns (optional) and the audited unit.
    record_kind: Mapped[Optional[str]] = mapped_column(String(40))
    record_id: Mapped[Optional[int]] = mapped_column(Integer)
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_units.id"), index=True)
    # 回答: the audited party's response.
    response: Mapped[Optional[str]] = mapped_column(Text)
    responded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    responded_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    status: Mapped[FindingStatus] = mapped_column(enum_column(FindingStatus), default=FindingStatus.OPEN,
                                                  index=True)
    closed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    closure_note: Mapped[Optional[str]] = mapped_column(Text)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    plan: Mapped[AuditPlan] = relationship(back_populates="findings")
    unit: Mapped[Optional[OrgUnit]] = relationship()
    responded_by: Mapped[Optional[User]] = relationship(foreign_keys=[responded_by_id])
    closed_by: Mapped[Optional[User]] = relationship(foreign_keys=[closed_by_id])
    created_by: Mapped[Optional[User]] = relationship(foreign_keys=[created_by_id])

    @property
    def criterion(self) -> str:
        return " ".join(part for part in (self.criterion_code, self.criterion_text) if part)

    @property
    def is_open(self) -> bool:
        return self.status is not FindingStatus.CLOSED
