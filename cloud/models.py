"""外部サービス: the cloud and external-service register."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contracts.models import Contract
from core.db import TimestampMixin, VersionMixin, db
from core.enums import LabelledEnum, enum_column
from core.models import Audited, ClassificationLevel, User
from vendors.models import Vendor


class ServiceStatus(LabelledEnum):
    REQUESTED = "requested", _l("申請中")
    APPROVED = "approved", _l("承認")
    CONDITIONAL = "conditional", _l("条件付承認")
    REJECTED = "rejected", _l("却下")
    RETIRED = "retired", _l("廃止")


class ServiceModel(LabelledEnum):
    SAAS = "saas", _l("SaaS")
    PAAS = "paas", _l("PaaS")
    IAAS = "iaas", _l("IaaS")
    OTHER = "other", _l("その他")


class Agreement(LabelledEnum):
    CONTRACT = "contract", _l("個別契約")
    TERMS = "terms", _l("約款・利用規約")


class CloudService(Audited, TimestampMixin, VersionMixin, db.Model):
    __tablename__ = "cloud_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    vendor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("vendors.id"), index=True)
    provider_name: Mapped[Optional[str]] = mapped_column(String(200))
    service_model: Mapped[ServiceModel] = mapped_column(enum_column(ServiceModel), default=ServiceModel.SAAS)
    agreement: Mapped[Agreement] = mapped_column(enum_column(Agreement), default=Agreement.TERMS)
    contract_id: Mapped[Optional[int]] = mapped_column(ForeignKey("contracts.id"), index=True)
    ceiling_id: Mapped[Optional[int]] = mapped_column(ForeignKey("classification_levels.id"))
    administrator_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[Optional[str]] = mapped_column(Text)
    status: Mapped[ServiceStatus] = mapped_column(enum_column(ServiceStatus), default=ServiceStatus.REQUESTED, index=True)
    next_review_on: Mapped[Optional[dt.date]] = mapped_column(Date)

    vendor: Mapped[Optional[Vendor]] = relationship()
    contract: Mapped[Optional[Contract]] = relationship()
    ceiling: Mapped[Optional[ClassificationLevel]] = relationship()
    administrator: Mapped[Optional[User]] = relationship()

    @property
    def provider(self) -> str:
        return self.vendor.name if self.vendor else (self.provider_name or "")

    def __str__(self) -> str:
        return self.name
