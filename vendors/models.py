"""委託事業者: the vendor register."""
from __future__ import annotations

from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, VersionMixin, db
from core.enums import LabelledEnum, enum_column
from core.models import Audited, OrgUnit


class VendorStatus(LabelledEnum):
    CANDIDATE = "candidate", _l("候補")
    SELECTED = "selected", _l("選定済")
    ACTIVE = "active", _l("取引中")
    SUSPENDED = "suspended", _l("取引停止")
    ENDED = "ended", _l("終了")


class Vendor(Audited, TimestampMixin, VersionMixin, db.Model):
    __tablename__ = "vendors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kana: Mapped[Optional[str]] = mapped_column(String(200), index=True)
    corporate_number: Mapped[Optional[str]] = mapped_column(String(13), unique=True)
    address: Mapped[Optional[str]] = mapped_column(String(300))
    representative: Mapped[Optional[str]] = mapped_column(String(100))
    website: Mapped[Optional[str]] = mapped_column(String(300))
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_units.id"), index=True)
    status: Mapped[VendorStatus] = mapped_column(enum_column(VendorStatus), default=VendorStatus.CANDIDATE, index=True)
    notes: Mapped[Optional[str]] = mapped_column(Text)

    unit: Mapped[Optional[OrgUnit]] = relationship()

    def __str__(self) -> str:
        return self.name
