"""ソーシャルメディア: the official-account register."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, VersionMixin, db
from core.enums import LabelledEnum, enum_column
from core.models import Audited, OrgUnit, User


class Platform(LabelledEnum):
    X = "x", _l("X")
    FACEBOOK = "facebook", _l("Facebook")
    INSTAGRAM = "instagram", _l("Instagram")
    YOUTUBE = "youtube", _l("YouTube")
    LINE = "line", _l("LINE")
    TIKTOK = "tiktok", _l("TikTok")
    OTHER = "other", _l("その他")


class AccountStatus(LabelledEnum):
    ACTIVE = "active", _l("運用中")
    DORMANT = "dormant", _l("休止")
    CLOSED = "closed", _l("廃止")


class SocialAccount(Audited, TimestampMixin, VersionMixin, db.Model):
    __tablename__ = "social_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[Platform] = mapped_column(enum_column(Platform))
    name: Mapped[str] = mapped_column(String(200), index=True)
    handle: Mapped[Optional[str]] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(300), unique=True)
    purpose: Mapped[Optional[str]] = mapped_column(Text)
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_units.id"), index=True)
    # 責任者: exactly one per account (policy §6(8)).
    responsible_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[AccountStatus] = mapped_column(enum_column(AccountStatus), default=AccountStatus.ACTIVE, index=True)
    last_post_on: Mapped[Optional[dt.date]] = mapped_column(Date)

    unit: Mapped[Optional[OrgUnit]] = relationship()
    responsible: Mapped[User] = relationship()

    def __str__(self) -> str:
        return self.name
