"""ソーシャルメディア: the official-account register (DOMAIN.md §4)."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from core.db import TimestampMixin, VersionMixin, db
from core.enums import LabelledEnum, enum_column
from core.incidents import SOCIAL_ACCOUNT, Incident
from core.models import Audited, ClassificationLevel, OrgUnit, User
from core.textkey import Searchable


class Platform(LabelledEnum):
    X = "x", _l("X")
    FACEBOOK = "facebook", _l("Facebook")
    INSTAGRAM = "instagram", _l("Instagram")
    YOUTUBE = "youtube", _l("YouTube")
    LINE = "line", _l("LINE")
    TIKTOK = "tiktok", _l("TikTok")
    OTHER = "other", _l("その他")


class AccountStatus(LabelledEnum):
    REQUESTED = "requested", _l("申請中")  # opening asked for, not yet approved (issue 17)
    ACTIVE = "active", _l("運用中")
    DORMANT = "dormant", _l("休止")
    REJECTED = "rejected", _l("却下")  # the opening was refused; the officer may ask again
    CLOSED = "closed", _l("廃止")


# Accounts that still exist on the platform as the body's: their flags
# matter, they are counted and listed publicly.  A request (申請中, 却下) is
# not open yet; a closed one is gone.
OPEN = (AccountStatus.ACTIVE, AccountStatus.DORMANT)


class ClosureStep(LabelledEnum):
    """廃止の手続き (issue 17; DOMAIN.md §4.3 and §4.6): what closing an
    account takes, each recorded done before the account becomes 廃止."""
    ANNOUNCE = "announce", _l("アカウント上で廃止を告知した")
    DELETE_OR_LOCK = "delete_or_lock", _l("アカウントを削除または非公開（ロック）にした")
    REVOKE = "revoke", _l("アクセス権と連携アプリの許可を取り消した")
    WEBSITE = "website", _l("組織の公式サイトの掲載から削除した")


class MemberRole(LabelledEnum):
    OPERATOR = "operator", _l("運用担当")
    HOLDER = "holder", _l("認証情報の保持者")


class SocialAccount(Audited, Searchable, TimestampMixin, VersionMixin, db.Model):
    __tablename__ = "social_accounts"
    __search_parts__ = ("name", "reading", "handle")  # the list searches these, folded

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[Platform] = mapped_column(enum_column(Platform), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    reading: Mapped[Optional[str]] = mapped_column(String(200))  # よみ (katakana): the list sorts by it
    handle: Mapped[Optional[str]] = mapped_column(String(100), index=True)
    url: Mapped[str] = mapped_column(String(300), unique=True)
    purpose: Mapped[Optional[str]] = mapped_column(Text)
    audience: Mapped[Optional[str]] = mapped_column(Text)
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_units.id"), index=True)
    # 責任者: exactly one per account (policy §6(8)): one required column.
    responsible_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    deputy_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    hours: Mapped[Optional[str]] = mapped_column(String(200))  # monitoring and reply hours
    status: Mapped[AccountStatus] = mapped_column(enum_column(AccountStatus), default=AccountStatus.ACTIVE, index=True)
    last_post_on: Mapped[Optional[dt.date]] = mapped_column(Date, index=True)
    review_cycle_months: Mapped[int] = mapped_column(Integer, default=12)
    last_reviewed_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    next_review_on: Mapped[Optional[dt.date]] = mapped_column(Date, index=True)
    # 発信できる情報
    posting_ceiling_id: Mapped[Optional[int]] = mapped_column(ForeignKey("classification_levels.id"))
    allowed_content: Mapped[Optional[str]] = mapped_column(Text)
    forbidden_content: Mapped[Optional[str]] = mapped_column(Text)
    approval_before_posting: Mapped[bool] = mapped_column(Boolean, default=False)
    forbidden_words: Mapped[Optional[str]] = mapped_column(Text)  # one per line; /…/ is a pattern
    public_phrases: Mapped[Optional[str]] = mapped_column(Text)  # the body's public numbers, address…
    # なりすまし対策
    profile_states_official: Mapped[bool] = mapped_column(Boolean, default=False)
    website_listing_url: Mapped[Optional[str]] = mapped_column(String(300))
    verified_badge: Mapped[bool] = mapped_column(Boolean, default=False)
    last_lookalike_scan_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    # Credentials — never the password itself.
    mfa_enabled: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    mfa_method: Mapped[Optional[str]] = mapped_column(String(200))
    recovery_owned: Mapped[bool] = mapped_column(Boolean, default=False)
    last_password_change_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    connected_apps: Mapped[Optional[str]] = mapped_column(Text)

    unit: Mapped[Optional[OrgUnit]] = relationship()
    responsible: Mapped[User] = relationship(foreign_keys=[responsible_id])
    deputy: Mapped[Optional[User]] = relationship(foreign_keys=[deputy_id])
    posting_ceiling: Mapped[Optional[ClassificationLevel]] = relationship()
    members: Mapped[list[AccountMember]] = relationship(back_populates="account", cascade="all, delete-orphan")
    procedures: Mapped[list[OperatingProcedure]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="OperatingProcedure.number.desc()")
    # Its incidents, in the one register (core.incidents; issue 19): read here for its flag and page.
    incidents: Mapped[list[Incident]] = relationship(
        Incident, primaryjoin=lambda: (Incident.subject_type == SOCIAL_ACCOUNT)
        & (foreign(Incident.subject_id) == SocialAccount.id),
        viewonly=True, order_by=lambda: Incident.occurred_at.desc())
    closure_records: Mapped[list[ClosureRecord]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="ClosureRecord.id")

    def users_in(self, role: MemberRole) -> list[User]:
        return sorted((m.user for m in self.members if m.role is role), key=lambda user: user.display_name)

    @property
    def operators(self) -> list[User]:
        return self.users_in(MemberRole.OPERATOR)

    @property
    def holders(self) -> list[User]:
        return self.users_in(MemberRole.HOLDER)

    @property
    def closure(self) -> dict[ClosureStep, ClosureRecord]:
        """The closing checklist's items recorded so far, by step."""
        return {record.step: record for record in self.closure_records}

    @property
    def closure_left(self) -> list[ClosureStep]:
        """The closing checklist's items not yet recorded, in their order."""
        done = self.closure
        return [step for step in ClosureStep if step not in done]

    @property
    def approved_procedure(self) -> OperatingProcedure | None:
        return next((p for p in self.procedures if p.approved_at is not None), None)

    def __str__(self) -> str:
        return self.name


class AccountMember(Audited, db.Model):
    """A user who operates the account, or holds its credentials."""
    __tablename__ = "social_account_members"

    account_id: Mapped[int] = mapped_column(ForeignKey("social_accounts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    role: Mapped[MemberRole] = mapped_column(enum_column(MemberRole), primary_key=True)

    account: Mapped[SocialAccount] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class ClosureRecord(Audited, TimestampMixin, db.Model):
    """One item of the closing checklist, recorded done on a date (with a
    note) by the SNS officer.  Recorded again, it is corrected in place
    until the account is closed."""
    __tablename__ = "social_closure_steps"
    __table_args__ = (UniqueConstraint("account_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("social_accounts.id", ondelete="CASCADE"), index=True)
    step: Mapped[ClosureStep] = mapped_column(enum_column(ClosureStep))
    done_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[Optional[str]] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    account: Mapped[SocialAccount] = relationship(back_populates="closure_records")
    recorded_by: Mapped[User] = relationship()


class OperatingProcedure(Audited, TimestampMixin, db.Model):
    """運用手順: one version, with the items of DOMAIN.md §4.2.  Never edited:
    a change is a new version, approved by someone other than its author."""
    __tablename__ = "social_procedures"
    __table_args__ = (UniqueConstraint("account_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("social_accounts.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(Text)  # purpose, audience, content, posters, hours
    opening: Mapped[str] = mapped_column(Text)  # opening and material changes approved by …
    supervision: Mapped[str] = mapped_column(Text)  # the responsible person supervises …
    posting: Mapped[str] = mapped_column(Text)  # what may be posted
    impersonation: Mapped[str] = mapped_column(Text)
    credentials: Mapped[str] = mapped_column(Text)
    incidents: Mapped[str] = mapped_column(Text)  # takeover and outage response
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approval_id: Mapped[Optional[int]] = mapped_column(ForeignKey("approvals.id"))
    approver_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    account: Mapped[SocialAccount] = relationship(back_populates="procedures")
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    approver: Mapped[Optional[User]] = relationship(foreign_keys=[approver_id])
