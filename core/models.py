"""Accounts, roles, organisational units, the audit trail and catalogues
shared by every domain."""
from __future__ import annotations

import datetime as dt
import enum
import secrets
from typing import Any, Optional

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship
from sqlalchemy.sql import false

from core.db import TimestampMixin, VersionMixin, db
from core.timeutil import utcnow


class Role(str, enum.Enum):
    ADMIN = "admin"
    PROCUREMENT = "procurement"
    VERIFIER = "verifier"
    SOCIAL = "social"
    AUDITOR = "auditor"
    # The approver right: decides requests that need four eyes (cloud services,
    # operating procedures) besides administrators.
    APPROVER = "approver"
    # 統括情報セキュリティ責任者 (policy §3): decides clause exceptions, accepts
    # the closure of corrective measures, reads every register.
    LEAD = "lead"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ADMIN: _l("管理者"),
    Role.PROCUREMENT: _l("調達担当"),
    Role.VERIFIER: _l("確認担当"),
    Role.SOCIAL: _l("SNS担当"),
    Role.AUDITOR: _l("監査担当"),
    Role.APPROVER: _l("承認者"),
    Role.LEAD: _l("統括情報セキュリティ責任者"),
}


class Audited:
    """Marks a model whose inserts, updates and deletes are written to the
    audit trail automatically (see core.audit).  ``__audit_ignore__`` names
    bookkeeping columns that do not make an entry on their own;
    ``__audit_redact__`` names columns whose values are never copied."""

    __audit_ignore__: frozenset[str] = frozenset({"created_at", "updated_at", "version", "search_key"})
    __audit_redact__: frozenset[str] = frozenset()


class OrgUnit(Audited, TimestampMixin, VersionMixin, db.Model):
    """組織: 消防本部, its sections, fire stations and branch offices."""

    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    name_en: Mapped[Optional[str]] = mapped_column(String(100))
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_units.id"), index=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Optional[OrgUnit]] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[OrgUnit]] = relationship(back_populates="parent", order_by="OrgUnit.sort_order")
    users: Mapped[list[User]] = relationship(back_populates="unit")


    @property
    def path(self) -> str:
        """消防本部 › 総務課"""
        return self.path_in("ja")

    def label(self, locale: str = "ja") -> str:
        return self.name_en if locale.startswith("en") and self.name_en else self.name

    def path_in(self, locale: str = "ja") -> str:
        """The unit under its parent, in the reader's language where an
        English name is recorded."""
        return f"{self.parent.label(locale)} › {self.label(locale)}" if self.parent else self.label(locale)

    def __str__(self) -> str:
        return self.name


class User(Audited, UserMixin, TimestampMixin, VersionMixin, db.Model):
    __tablename__ = "users"
    __audit_ignore__ = Audited.__audit_ignore__ | {
        "failed_logins", "locked_until", "last_login_at", "session_token"}
    __audit_redact__ = frozenset({"password_hash", "calendar_token_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[Optional[str]] = mapped_column(String(254))
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_units.id"), index=True)
    # The five roles are fixed by the product; a sorted, comma-separated list
    # keeps the audit diff readable ("procurement" → "procurement,verifier").
    roles: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(5), default="ja")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    last_login_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    password_changed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # Set when an administrator creates the account or resets its password
    # (issue 20): the user chooses their own at the next sign-in.  False by
    # the database's default, so an INSERT that does not set it leaves the
    # column out (as code written before the column does).
    must_change_password: Mapped[bool] = mapped_column(Boolean, server_default=false())

    @declared_attr.directive
    def __mapper_args__(cls):
        # The database's default is not fetched back (RETURNING) after an
        # INSERT but read when first used: an INSERT that does not set
        # must_change_password names no column added after it was written.
        return {"version_id_col": cls.__table__.c.version, "eager_defaults": False}
    # Part of the login cookie: rotating it ends every other session.
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    # SHA-256 of the secret in the user's calendar-feed URL (None: no feed).
    calendar_token_hash: Mapped[Optional[str]] = mapped_column(String(64), unique=True)

    unit: Mapped[Optional[OrgUnit]] = relationship(back_populates="users")


    # Flask-Login: the cookie holds "id:session_token".
    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(r) for r in self.roles.split(",") if r)

    def set_roles(self, roles) -> None:
        self.roles = ",".join(sorted({Role(r).value for r in roles}))

    def has_role(self, *roles: Role) -> bool:
        return bool(self.role_set & set(roles))

    def is_locked(self, now: dt.datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    def __str__(self) -> str:
        return self.display_name


class ApiToken(Audited, db.Model):
    """A personal token for the JSON API (core.api).  Only the SHA-256 of
    the secret is kept; the token acts as its user with the roles the user
    has at each request, and stops working when revoked or when the user is
    deactivated."""

    __tablename__ = "api_tokens"
    __audit_ignore__ = Audited.__audit_ignore__ | {"last_used_at"}
    __audit_redact__ = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    revoked_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class ClassificationLevel(TimestampMixin, VersionMixin, db.Model):
    """Information-asset classification levels (DOMAIN.md §1).  Data, not
    code: seeded by migration with the MIC R6.10 scheme, editable by admin."""

    __tablename__ = "classification_levels"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    axis: Mapped[str] = mapped_column(String(15))  # confidentiality / integrity / availability
    label_ja: Mapped[str] = mapped_column(String(50))
    label_en: Mapped[str] = mapped_column(String(50))
    rank: Mapped[int] = mapped_column(Integer)  # higher = more protection needed
    description: Mapped[Optional[str]] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Default verification cycle of contracts at this level (a contracts.schedule.Cycle value).
    verification_cycle: Mapped[Optional[str]] = mapped_column(String(20))

    def label(self, locale: str = "ja") -> str:
        return self.label_en if locale.startswith("en") else self.label_ja


class DataMinimum(Audited, TimestampMixin, VersionMixin, db.Model):
    """The lowest confidentiality level a kind of data may be classified at
    (MIC R6.10: personal information goes in the class-3 tier).  Data, not
    code: seeded by migration, editable by administrators, with its source."""

    __tablename__ = "data_minimums"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), unique=True)  # core.classification.PERSONAL / MY_NUMBER
    level_id: Mapped[int] = mapped_column(ForeignKey("classification_levels.id"))
    source: Mapped[str] = mapped_column(String(200))
    # General practice, not a guideline requirement (DOMAIN.md: GP).
    general_practice: Mapped[bool] = mapped_column(Boolean, default=False)

    level: Mapped[ClassificationLevel] = relationship()


class AuditEntry(db.Model):
    """One append-only, hash-chained entry of the audit trail.  Written only
    through core.audit (Core inserts), never through the ORM unit of work."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[Optional[str]] = mapped_column(String(40))
    object_id: Mapped[Optional[str]] = mapped_column(String(40))
    changes: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    ip: Mapped[Optional[str]] = mapped_column(String(45))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    user: Mapped[Optional[User]] = relationship()

    __table_args__ = (Index("ix_audit_entries_object", "object_type", "object_id"),
                      Index("ix_audit_entries_username", "username"))


class AuditHead(db.Model):
    """The single row that holds the chain's head.  Updating it first locks
    the chain, so concurrent writers (several app servers) append in turn."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class IdempotencyKey(db.Model):
    """An ``Idempotency-Key`` a client sent with an API POST (core.idempotency):
    the request it came with (a fingerprint) and, once done, the answer, so
    a retry gets that answer instead of doing the work again.  ``status`` is
    None while the first attempt is still running."""

    __tablename__ = "api_idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of method, path and body
    status: Mapped[Optional[int]] = mapped_column(Integer)
    body: Mapped[Optional[str]] = mapped_column(Text)
    headers: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)

    __table_args__ = (UniqueConstraint("user_id", "key"),)


class ReminderLog(db.Model):
    """One reminder sent: never twice for the same item and threshold."""

    __tablename__ = "reminder_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_key: Mapped[str] = mapped_column(String(200))
    threshold: Mapped[str] = mapped_column(String(10))  # "30", "7", "0" or "overdue"
    recipient_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("uq_reminder_log_item_threshold", "item_key", "threshold", unique=True),)


class ImportJob(db.Model):
    """A large spreadsheet import checked (phase ``preview``) and then
    applied (phase ``confirm``) off the request path (core.jobs); the
    upload waits under STORAGE_PATH/imports.  ``status``: queued, running,
    done, failed; a running job whose lease ran out (its process died) is
    claimed again.  ``result`` holds the preview's outcomes or the
    confirmation's counts.  Bookkeeping, not audited: the import itself is."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    register: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    phase: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), index=True)
    lease_until: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    filename: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(10))
    rows: Mapped[int] = mapped_column(Integer)
    result: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
