"""外部サービス: the cloud and external-service register (DOMAIN.md §3)."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contracts.models import Contract
from core.db import TimestampMixin, VersionMixin, db
from core.enums import LabelledEnum, enum_column
from core.files import StoredFile
from core.models import Audited, ClassificationLevel, OrgUnit, User
from core.textkey import Searchable
from vendors.models import Vendor


class ServiceStatus(LabelledEnum):
    REQUESTED = "requested", _l("申請中")
    APPROVED = "approved", _l("承認")
    CONDITIONAL = "conditional", _l("条件付承認")
    REJECTED = "rejected", _l("却下")
    RETIRED = "retired", _l("廃止")


# A service in use: its review date and ISMAP listing matter.
IN_USE = (ServiceStatus.APPROVED, ServiceStatus.CONDITIONAL)
# Services whose rule flags matter: in use or asked for (not rejected, not retired).
LIVE = (ServiceStatus.REQUESTED, *IN_USE)


class ServiceModel(LabelledEnum):
    SAAS = "saas", _l("SaaS")
    PAAS = "paas", _l("PaaS")
    IAAS = "iaas", _l("IaaS")
    OTHER = "other", _l("その他")


class Agreement(LabelledEnum):
    CONTRACT = "contract", _l("個別契約")
    TERMS = "terms", _l("約款・利用規約")


class Track(LabelledEnum):
    """DOMAIN.md §3.1.  Not stored: it follows from the ceiling."""
    TA = "ta", _l("T-A（機密性2以上を扱う）")
    TB = "tb", _l("T-B（機密性2以上を扱わない）")


class IsmapListing(LabelledEnum):
    NONE = "none", _l("登録なし")
    ISMAP = "ismap", _l("ISMAP")
    ISMAP_LIU = "ismap_liu", _l("ISMAP-LIU")


class DataLocation(LabelledEnum):
    JAPAN = "japan", _l("国内")
    ABROAD = "abroad", _l("国外")
    BOTH = "both", _l("国内・国外")
    UNKNOWN = "unknown", _l("不明")


class DeletionMethod(LabelledEnum):
    """The evidence that a retired service's data was deleted or returned (issue 17)."""
    CERTIFICATE = "certificate", _l("データ消去証明書")
    PROVIDER_REPORT = "provider_report", _l("事業者の削除報告")


class InformationState(LabelledEnum):
    PLANNED = "planned", _l("予定")
    HELD = "held", _l("保存中")


class CloudService(Audited, Searchable, TimestampMixin, VersionMixin, db.Model):
    __tablename__ = "cloud_services"
    __search_parts__ = ("name", "reading", "provider_name")  # the list searches these, folded

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    reading: Mapped[Optional[str]] = mapped_column(String(200))  # よみ (katakana): the list sorts by it
    vendor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("vendors.id"), index=True)
    provider_name: Mapped[Optional[str]] = mapped_column(String(200), index=True)
    service_model: Mapped[ServiceModel] = mapped_column(enum_column(ServiceModel), default=ServiceModel.SAAS)
    agreement: Mapped[Agreement] = mapped_column(enum_column(Agreement), default=Agreement.TERMS, index=True)
    contract_id: Mapped[Optional[int]] = mapped_column(ForeignKey("contracts.id"), index=True)
    # 取扱上限: the highest classification the rules permit in this service.
    ceiling_id: Mapped[Optional[int]] = mapped_column(ForeignKey("classification_levels.id"), index=True)
    administrator_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[Optional[str]] = mapped_column(Text)
    status: Mapped[ServiceStatus] = mapped_column(enum_column(ServiceStatus), default=ServiceStatus.REQUESTED,
                                                  index=True)
    ismap_listing: Mapped[IsmapListing] = mapped_column(enum_column(IsmapListing), default=IsmapListing.NONE)
    ismap_number: Mapped[Optional[str]] = mapped_column(String(50))
    ismap_valid_until: Mapped[Optional[dt.date]] = mapped_column(Date, index=True)
    other_certifications: Mapped[Optional[str]] = mapped_column(Text)
    data_location: Mapped[DataLocation] = mapped_column(enum_column(DataLocation), default=DataLocation.JAPAN)
    data_region: Mapped[Optional[str]] = mapped_column(String(200))
    governing_law: Mapped[Optional[str]] = mapped_column(String(200))
    jurisdiction: Mapped[Optional[str]] = mapped_column(String(200))
    sla: Mapped[Optional[str]] = mapped_column(Text)
    subcontractors: Mapped[Optional[str]] = mapped_column(Text)
    exit_terms: Mapped[Optional[str]] = mapped_column(Text)
    mfa: Mapped[bool] = mapped_column(Boolean, default=False)
    sso: Mapped[bool] = mapped_column(Boolean, default=False)
    log_access: Mapped[Optional[str]] = mapped_column(Text)
    incident_contact: Mapped[Optional[str]] = mapped_column(String(300))
    review_cycle_months: Mapped[int] = mapped_column(Integer, default=12)
    last_reviewed_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    next_review_on: Mapped[Optional[dt.date]] = mapped_column(Date, index=True)

    vendor: Mapped[Optional[Vendor]] = relationship()
    contract: Mapped[Optional[Contract]] = relationship()
    ceiling: Mapped[Optional[ClassificationLevel]] = relationship()
    administrator: Mapped[Optional[User]] = relationship()
    information: Mapped[list[CloudInformation]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="CloudInformation.id")
    unit_links: Mapped[list[CloudServiceUnit]] = relationship(
        back_populates="service", cascade="all, delete-orphan")
    rule_versions: Mapped[list[UsageRule]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="UsageRule.number.desc()")
    deletion: Mapped[Optional[CloudDeletion]] = relationship(back_populates="service", cascade="all, delete-orphan")

    @property
    def provider(self) -> str:
        return self.vendor.name if self.vendor else (self.provider_name or "")

    @property
    def units(self) -> list[OrgUnit]:
        return sorted((link.unit for link in self.unit_links), key=lambda unit: unit.name)

    @property
    def current_rules(self) -> UsageRule | None:
        return self.rule_versions[0] if self.rule_versions else None

    def __str__(self) -> str:
        return self.name


class CloudServiceUnit(Audited, db.Model):
    """A unit using the service (利用部署)."""
    __tablename__ = "cloud_service_units"

    service_id: Mapped[int] = mapped_column(ForeignKey("cloud_services.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True, index=True)

    service: Mapped[CloudService] = relationship(back_populates="unit_links")
    unit: Mapped[OrgUnit] = relationship()


class CloudInformation(Audited, TimestampMixin, db.Model):
    """One kind of information planned for, or held in, the service, with its
    classification: what the ceiling is checked against."""
    __tablename__ = "cloud_information"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("cloud_services.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    classification_id: Mapped[int] = mapped_column(ForeignKey("classification_levels.id"), index=True)
    state: Mapped[InformationState] = mapped_column(enum_column(InformationState), default=InformationState.PLANNED)
    # Personal information: classified at its minimum level or higher (core.classification, MIC R6.10).
    personal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    note: Mapped[Optional[str]] = mapped_column(String(500))

    service: Mapped[CloudService] = relationship(back_populates="information")
    classification: Mapped[ClassificationLevel] = relationship()


class UsageRule(Audited, TimestampMixin, db.Model):
    """利用規定: one version of a service's usage rules.  Never edited: a
    change is a new version, and every version stays."""
    __tablename__ = "cloud_usage_rules"
    __table_args__ = (UniqueConstraint("service_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("cloud_services.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 第n版
    users: Mapped[str] = mapped_column(Text)  # who may use it
    purposes: Mapped[str] = mapped_column(Text)  # for what
    prohibited: Mapped[str] = mapped_column(Text)  # what must never be put in it
    accounts: Mapped[str] = mapped_column(Text)  # account management (no personal accounts)
    other: Mapped[Optional[str]] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    approval_id: Mapped[Optional[int]] = mapped_column(ForeignKey("approvals.id"))

    service: Mapped[CloudService] = relationship(back_populates="rule_versions")
    author: Mapped[User] = relationship(foreign_keys=[author_id])


class CloudDeletion(Audited, TimestampMixin, VersionMixin, db.Model):
    """データの消去・返却 when a service that held information above
    自治体機密性1 is retired: the date, the method and its evidence file
    (a データ消去証明書 or the provider's deletion report)."""
    __tablename__ = "cloud_deletions"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("cloud_services.id", ondelete="CASCADE"), unique=True)
    done_on: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[DeletionMethod] = mapped_column(enum_column(DeletionMethod))
    detail: Mapped[Optional[str]] = mapped_column(String(500))
    evidence_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    service: Mapped[CloudService] = relationship(back_populates="deletion")
    evidence: Mapped[StoredFile] = relationship()
    recorded_by: Mapped[User] = relationship()
