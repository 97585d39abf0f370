"""契約: the contract register."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, VersionMixin, db
from core.enums import LabelledEnum, enum_column
from core.models import Audited, ClassificationLevel, OrgUnit, User
from vendors.models import Vendor


class ContractStatus(LabelledEnum):
    DRAFT = "draft", _l("起案")
    SIGNED = "signed", _l("締結済")
    IN_FORCE = "in_force", _l("履行中")
    ENDED = "ended", _l("終了")
    TERMINATED = "terminated", _l("解除")


class ContractKind(LabelledEnum):
    OUTSOURCING = "outsourcing", _l("業務委託")
    MAINTENANCE = "maintenance", _l("保守")
    OPERATION = "operation", _l("運用")
    DEVELOPMENT = "development", _l("開発")
    CLOUD = "cloud", _l("クラウド利用")
    OTHER = "other", _l("その他")


class Contract(Audited, TimestampMixin, VersionMixin, db.Model):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(50), unique=True)
    title: Mapped[str] = mapped_column(String(200), index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    kind: Mapped[ContractKind] = mapped_column(enum_column(ContractKind), default=ContractKind.OUTSOURCING)
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_units.id"), index=True)
    officer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"), index=True)
    start_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    end_on: Mapped[Optional[dt.date]] = mapped_column(Date, index=True)
    classification_id: Mapped[Optional[int]] = mapped_column(ForeignKey("classification_levels.id"))
    handles_personal_info: Mapped[bool] = mapped_column(Boolean, default=False)
    handles_my_number: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[ContractStatus] = mapped_column(enum_column(ContractStatus), default=ContractStatus.DRAFT, index=True)

    vendor: Mapped[Vendor] = relationship()
    unit: Mapped[Optional[OrgUnit]] = relationship()
    officer: Mapped[Optional[User]] = relationship()
    classification: Mapped[Optional[ClassificationLevel]] = relationship()

    def __str__(self) -> str:
        return f"{self.number} {self.title}"
