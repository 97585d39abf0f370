"""Four-eyes decisions: one record for every "someone asks, someone else
decides" (clause exceptions, cloud approvals, procedure approvals, closing
corrective measures).  The approver is never the requester."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import audit
from core.db import TimestampMixin, VersionMixin, db
from core.enums import LabelledEnum, enum_column
from core.models import Audited, User
from core.refusals import Refusal
from core.timeutil import utcnow


class Decision(LabelledEnum):
    PENDING = "pending", _l("承認待ち")
    APPROVED = "approved", _l("承認")
    CONDITIONAL = "conditional", _l("条件付承認")
    REJECTED = "rejected", _l("却下")
    WITHDRAWN = "withdrawn", _l("取下げ")

    @property
    def granted(self) -> bool:
        return self in (Decision.APPROVED, Decision.CONDITIONAL)


class ApprovalError(Refusal):
    """A decision the rules refuse; the message is for the user."""


class Approval(Audited, TimestampMixin, VersionMixin, db.Model):
    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # e.g. "clause_exception"
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[Optional[dict]] = mapped_column(JSON)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    decision: Mapped[Decision] = mapped_column(enum_column(Decision), default=Decision.PENDING)
    approver_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[Optional[str]] = mapped_column(Text)
    decided_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # What within the subject the request is about (a clause code): at most one
    # request per (kind, subject, topic) is pending, kept by the partial unique
    # index below so that two requests at the same moment cannot both pass.
    topic: Mapped[Optional[str]] = mapped_column(String(40))
    # The last day a granted decision holds (clause exceptions); None: no end.
    expires_on: Mapped[Optional[dt.date]] = mapped_column(Date)

    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    approver: Mapped[Optional[User]] = relationship(foreign_keys=[approver_id])

    __table_args__ = (
        Index("ix_approvals_subject", "subject_type", "subject_id", "kind"),
        Index("uq_approvals_one_pending", "kind", "subject_type", "subject_id", "topic", unique=True,
              sqlite_where=text("decision = 'pending' AND topic IS NOT NULL"),
              postgresql_where=text("decision = 'pending' AND topic IS NOT NULL")),
    )

    def holds_on(self, day: dt.date) -> bool:
        """Granted and not expired on ``day`` (the expiry day itself still holds)."""
        return self.decision.granted and (self.expires_on is None or self.expires_on >= day)


def request(kind: str, subject, *, reason: str, requester: User, details: dict | None = None,
            topic: str | None = None) -> Approval:
    approval = Approval(kind=kind, subject_type=type(subject).__tablename__, subject_id=subject.id,
                        reason=reason, details=details, requested_by_id=requester.id, topic=topic)
    db.session.add(approval)
    audit.label(approval, "request")
    db.session.flush()
    return approval


def note_editor(approval: Approval | None, user: User, deciders) -> None:
    """Four eyes (issue 17): a user who may decide (holds one of ``deciders``)
    and edits the subject of a pending request, not being its requester, is
    named in it (details["editors"]) and cannot decide it (edited_by)."""
    if approval is None or approval.decision is not Decision.PENDING or approval.requested_by_id == user.id \
            or not user.has_role(*deciders):
        return
    editors = list((approval.details or {}).get("editors", []))
    if user.id not in editors:
        approval.details = {**(approval.details or {}), "editors": [*editors, user.id]}
        db.session.flush()


def edited_by(approval: Approval, user: User) -> bool:
    """``user`` edited the subject while the request was pending (note_editor)."""
    return user.id in (approval.details or {}).get("editors", [])


def decide(approval: Approval, *, approver: User, approve: bool, comment: str | None = None,
           conditional: bool = False, details: dict | None = None, expires_on: dt.date | None = None) -> Approval:
    """Approve (``conditional``: with conditions, stated in the comment) or
    reject a pending request; ``details`` are stored with the decision.
    Refused when the approver asked for it themselves, or when it has been
    decided already."""
    if approval.decision is not Decision.PENDING:
        raise ApprovalError(_l("この申請は既に決定済みです。"))
    if approval.requested_by_id == approver.id:
        raise ApprovalError(_l("申請者本人は承認できません。別の担当者が承認してください。"))
    if not approve:
        outcome = Decision.REJECTED
    else:
        outcome = Decision.CONDITIONAL if conditional else Decision.APPROVED
    approval.decision = outcome
    approval.approver_id = approver.id
    approval.comment = comment or None
    approval.decided_at = utcnow()
    if approve and expires_on is not None:
        approval.expires_on = expires_on
    if details:
        approval.details = {**(approval.details or {}), **details}
    audit.label(approval, {Decision.APPROVED: "approve", Decision.CONDITIONAL: "approve_conditional",
                           Decision.REJECTED: "reject"}[outcome])
    db.session.flush()
    return approval


def withdraw(approval: Approval, *, user: User | None, comment: str | None = None) -> Approval:
    """Close a pending request without a decision (its subject was retired,
    or what it asked for is no longer needed).  ``user``: who caused it."""
    if approval.decision is not Decision.PENDING:
        raise ApprovalError(_l("この申請は既に決定済みです。"))
    approval.decision = Decision.WITHDRAWN
    approval.approver_id = user.id if user is not None else None
    approval.comment = comment or None
    approval.decided_at = utcnow()
    audit.label(approval, "withdraw")
    db.session.flush()
    return approval
