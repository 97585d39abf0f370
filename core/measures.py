"""Improvement measures (改善措置), the one findings → measures mechanism
(issue 18).

A finding — a 不適合 answer of a self-inspection, an audit finding, later an
incident — opens a :class:`Measure` with an owner and a due date.  The measure
then goes 未着手 → 対応中 → 完了報告 → 確認済, the closure confirmed four-eyes
(core.approvals), as a contract verification's corrective measures do
(contracts.models.Finding shares the columns through :class:`MeasureMixin`).

``source_type``/``source_id`` name what opened the measure; the module that
owns the source registers how to describe it and who may confirm its closure.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, and_, select
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from core import approvals, audit, handover, plugins
from core.approvals import Approval, Decision
from core.db import TimestampMixin, VersionMixin, db, lock_rows
from core.enums import LabelledEnum, enum_column
from core.models import Audited, Role
from core.refusals import Refusal
from core.timeutil import today, utcnow

CLOSURE = "measure_closure"  # the four-eyes request kind of a completion report (core.approvals)


class MeasureStatus(LabelledEnum):
    OPEN = "open", _l("未着手")
    IN_PROGRESS = "in_progress", _l("対応中")
    REPORTED = "reported", _l("完了報告")
    ACCEPTED = "accepted", _l("確認済")


class MeasureMixin:
    """The columns of a measure: what is to be done, by whom, by when, and
    its closure (reported with evidence, confirmed by someone else)."""

    measure: Mapped[str] = mapped_column(Text)  # what must be done
    due_on: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[MeasureStatus] = mapped_column(enum_column(MeasureStatus), default=MeasureStatus.OPEN, index=True)
    reported_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    closure_note: Mapped[Optional[str]] = mapped_column(Text)
    accepted_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    @declared_attr
    def owner_id(cls) -> Mapped[Optional[int]]:
        return mapped_column(ForeignKey("users.id"), index=True)

    @declared_attr
    def reported_by_id(cls) -> Mapped[Optional[int]]:
        return mapped_column(ForeignKey("users.id"))

    @declared_attr
    def closure_evidence_id(cls) -> Mapped[Optional[int]]:
        return mapped_column(ForeignKey("stored_files.id"))

    @declared_attr
    def accepted_by_id(cls) -> Mapped[Optional[int]]:
        return mapped_column(ForeignKey("users.id"))

    @declared_attr
    def owner(cls):
        return relationship("User", foreign_keys=[cls.owner_id])

    @declared_attr
    def reported_by(cls):
        return relationship("User", foreign_keys=[cls.reported_by_id])

    @declared_attr
    def accepted_by(cls):
        return relationship("User", foreign_keys=[cls.accepted_by_id])

    @declared_attr
    def closure_evidence(cls):
        return relationship("StoredFile")

    @property
    def is_open(self) -> bool:
        return self.status is not MeasureStatus.ACCEPTED


class Measure(MeasureMixin, Audited, TimestampMixin, VersionMixin, db.Model):
    """An improvement measure opened by a finding that is not a contract
    verification's (those are contracts.models.Finding)."""

    __tablename__ = "measures"
    __table_args__ = (Index("ix_measures_source", "source_type", "source_id"),
                      Index("ix_measures_status_due_on", "status", "due_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    source_type: Mapped[str] = mapped_column(String(40))  # "inspection_answer", "audit_finding", …
    source_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))  # what the finding is, readable without the source
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_units.id"), index=True)
    opened_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    unit = relationship("OrgUnit")
    opened_by = relationship("User", foreign_keys=[opened_by_id])


def open_measure(*, source_type: str, source_id: int, title: str, measure: str, due_on: dt.date,
                 owner_id: int | None, unit_id: int | None = None, opened_by=None) -> Measure:
    """Open a measure for a finding; flushes, never commits."""
    row = Measure(source_type=source_type, source_id=source_id, title=title.strip()[:300], measure=measure.strip(),
                  due_on=due_on, owner_id=owner_id, unit_id=unit_id,
                  opened_by_id=getattr(opened_by, "id", None), status=MeasureStatus.OPEN)
    db.session.add(row)
    db.session.flush()
    return row


def measures_for(source_type: str, source_ids) -> dict[int, list[Measure]]:
    """The measures each source opened, loaded in one query."""
    ids = list(source_ids)
    found: dict[int, list[Measure]] = {source_id: [] for source_id in ids}
    if ids:
        for row in db.session.scalars(select(Measure).where(Measure.source_type == source_type,
                                                            Measure.source_id.in_(ids)).order_by(Measure.id)):
            found[row.source_id].append(row)
    return found


# --- the lifecycle, for any model with MeasureMixin ----------------------------------------
#
# 未着手 → (着手) 対応中 → (完了報告, with evidence) 完了報告 → (確認) 確認済, or
# (差戻し) back to 対応中.  Who may do each step, and the words of a refusal,
# come from a :class:`Rules` — a contract finding's (contracts.verification),
# or those of a Measure's source (Registry.add_measure_source, else DEFAULT).

class MeasureRefusal(Refusal):
    """A step of a measure the rules refuse; the message is for the user."""


# Who confirms a measure's completion when its source says nothing else; never
# the one who reported it (four-eyes), whatever other role they hold.
ACCEPTORS = frozenset({Role.APPROVER, Role.LEAD, Role.ADMIN})
# Who manages any measure besides its owner: edits it before the report,
# starts it, reports it done.
MANAGERS = frozenset({Role.LEAD, Role.ADMIN})

MESSAGES: dict[str, Any] = {
    "locked": _l("完了報告後の措置は変更できません。"),
    "inactive_owner": _l("無効な利用者は措置の担当者にできません。"),
    "edit_who": _l("措置を変更できるのは措置を登録した人・統括情報セキュリティ責任者・管理者です。"),
    "begin_who": _l("着手にできるのは措置の担当者・統括情報セキュリティ責任者・管理者です。"),
    "begin_state": _l("未着手の措置だけを着手にできます。"),
    "report_who": _l("完了報告ができるのは措置の担当者・統括情報セキュリティ責任者・管理者です。"),
    "report_state": _l("この措置は既に完了報告されています。"),
    "accept_who": _l("この措置の完了を確認する権限がありません。"),
    "accept_state": _l("完了報告された措置だけを確認できます。"),
    "accept_self": _l("完了報告をした本人は確認できません。報告者以外の確認者が確認してください。"),
}


def is_owner(user, row) -> bool:
    return row.owner_id is not None and row.owner_id == user.id


def _opener_or_manager(user, row) -> bool:
    return getattr(row, "opened_by_id", None) == user.id or user.has_role(*MANAGERS)


def _owner_or_manager(user, row) -> bool:
    return is_owner(user, row) or user.has_role(*MANAGERS)


def _default_acceptor(user, row) -> bool:
    return user.has_role(*ACCEPTORS)


@dataclass(frozen=True)
class Rules:
    """Who may take each step of a measure (``may_*(user, row)``), the
    refusal raised (``error``) and its words (``messages``: MESSAGES' keys).
    The four-eyes rule (the reporter never confirms) holds whatever they say."""
    may_edit: Callable[[Any, Any], bool] = _opener_or_manager
    may_begin: Callable[[Any, Any], bool] = _owner_or_manager
    may_report: Callable[[Any, Any], bool] = _owner_or_manager
    may_accept: Callable[[Any, Any], bool] = _default_acceptor
    error: type[Refusal] = MeasureRefusal
    messages: dict = field(default_factory=dict)

    def refuse(self, key: str) -> Refusal:
        return self.error(self.messages.get(key, MESSAGES[key]))


DEFAULT = Rules()


def rules_for(row) -> Rules:
    """The rules of a Measure: its source's acceptors (Registry.add_measure_source),
    the defaults otherwise."""
    source = plugins.registry().measure_source(getattr(row, "source_type", ""))
    if source is not None and source.may_accept is not None:
        return Rules(may_accept=source.may_accept)
    return DEFAULT


def _rules(row, rules: Rules | None) -> Rules:
    return rules if rules is not None else rules_for(row)


def update(row, *, measure: str, owner_id: int | None, due_on: dt.date, rules: Rules | None = None) -> None:
    """Change what is to be done, by whom, by when: only before the
    completion report; never to an inactive owner (人事異動)."""
    rules = _rules(row, rules)
    if row.status in (MeasureStatus.REPORTED, MeasureStatus.ACCEPTED):
        raise rules.refuse("locked")
    if owner_id != row.owner_id and handover.inactive_among([owner_id]):
        raise rules.refuse("inactive_owner")
    row.measure = measure.strip()
    row.owner_id = owner_id
    row.due_on = due_on
    db.session.flush()


def begin(row, *, user, rules: Rules | None = None) -> None:
    """着手: 未着手 → 対応中."""
    rules = _rules(row, rules)
    if not rules.may_begin(user, row):
        raise rules.refuse("begin_who")
    if row.status is not MeasureStatus.OPEN:
        raise rules.refuse("begin_state")
    row.status = MeasureStatus.IN_PROGRESS
    audit.label(row, "begin")
    db.session.flush()


def report(row, *, note: str, evidence, user, rules: Rules | None = None) -> Approval:
    """完了報告 with the closure evidence; asks for the four-eyes
    confirmation (a core.approvals request of kind CLOSURE)."""
    rules = _rules(row, rules)
    if not rules.may_report(user, row):
        raise rules.refuse("report_who")
    if row.status not in (MeasureStatus.OPEN, MeasureStatus.IN_PROGRESS):
        raise rules.refuse("report_state")
    row.status = MeasureStatus.REPORTED
    row.reported_by_id = user.id
    row.reported_at = utcnow()
    row.closure_note = note.strip()
    row.closure_evidence = evidence
    audit.label(row, "report")
    db.session.flush()
    return approvals.request(CLOSURE, row, reason=note.strip(), requester=user,
                             details={"evidence_id": getattr(evidence, "id", None)})


def pending_closure(row) -> Approval | None:
    return db.session.scalar(select(Approval).where(
        Approval.kind == CLOSURE, Approval.subject_type == type(row).__tablename__, Approval.subject_id == row.id,
        Approval.decision == Decision.PENDING))


def may_confirm(user, row, rules: Rules | None = None) -> bool:
    """``user`` may confirm or return ``row``'s completion report now: an
    acceptor by the rules, and not the one who reported it."""
    return (row.status is MeasureStatus.REPORTED and _rules(row, rules).may_accept(user, row)
            and row.reported_by_id != user.id)


def decide_closure(row, *, user, accept: bool, comment: str | None, rules: Rules | None = None) -> None:
    """確認 (accept) or 差戻し (back to 対応中) of a completion report, by an
    acceptor other than its reporter.  The measure's row is held first, so
    of two decisions at the same moment the second sees the first's and is
    refused."""
    rules = _rules(row, rules)
    if not rules.may_accept(user, row):
        raise rules.refuse("accept_who")
    lock_rows(type(row), [row.id])
    request = pending_closure(row)
    if row.status is not MeasureStatus.REPORTED or request is None:
        raise rules.refuse("accept_state")
    if request.requested_by_id == user.id:
        raise rules.refuse("accept_self")
    try:
        approvals.decide(request, approver=user, approve=accept, comment=comment)
    except approvals.ApprovalError as error:
        raise rules.error(str(error)) from error
    if accept:
        row.status = MeasureStatus.ACCEPTED
        row.accepted_by_id = user.id
        row.accepted_at = utcnow()
        audit.label(row, "accept")
    else:
        row.status = MeasureStatus.IN_PROGRESS
        audit.label(row, "return")
    db.session.flush()


OPEN_STATUSES = tuple(status for status in MeasureStatus if status is not MeasureStatus.ACCEPTED)


def overdue(model, on: dt.date | None = None):
    """SQL condition: a measure of ``model`` not confirmed whose due date has passed."""
    return and_(model.status.in_(OPEN_STATUSES), model.due_on < (on or today()))


# --- where a measure comes from (Registry.add_measure_source) ------------------------------

def source_label(row: Measure) -> str:
    """The kind of finding that opened ``row`` (its source's label), or its source_type."""
    source = plugins.registry().measure_source(row.source_type)
    return str(source.label) if source is not None else row.source_type


def source_link(row: Measure) -> tuple[str, dict] | None:
    """(endpoint, params) of the page of the finding that opened ``row``; None: no page."""
    source = plugins.registry().measure_source(row.source_type)
    return source.link(row) if source is not None and source.link is not None else None


def acceptor_roles() -> frozenset:
    """Every role that may confirm some measure's completion (the defaults and each source's)."""
    roles = set(ACCEPTORS)
    for source in plugins.registry().measure_sources:
        roles |= source.acceptors
    return frozenset(roles)


# --- people change (人事異動, core.handover) ----------------------------------------------

def _owned_by(user) -> list[Measure]:
    return list(db.session.scalars(select(Measure).where(Measure.owner_id == user.id,
                                                         Measure.status.in_(OPEN_STATUSES))
                                   .order_by(Measure.due_on, Measure.id)))


def owner_items(user) -> list[handover.Item]:
    return [handover.Item(_("%(title)s の改善措置（%(status)s、期限 %(due)s）", title=row.title,
                            status=row.status.label, due=row.due_on.isoformat()),
                          "measures.detail", {"measure_id": row.id})
            for row in _owned_by(user)]


def hand_over_owned(leaver, successor) -> None:
    """The successor becomes the owner (担当者) of the leaver's open measures."""
    for row in _owned_by(leaver):
        row.owner_id = successor.id
    db.session.flush()


def request_item(approval: Approval) -> handover.Item:
    """A pending completion report of a Measure, as a pending request (core.handover)."""
    row = db.session.get(Measure, approval.subject_id)
    if row is None:
        return handover.Item(_("改善措置の完了報告 #%(id)s", id=approval.subject_id))
    return handover.Item(_("%(title)s の改善措置の完了報告", title=row.title), "measures.detail",
                         {"measure_id": row.id})


def add_responsibilities(house: plugins.Registry) -> None:
    house.add_responsibility(plugins.Responsibility(
        key="improvement_measure_owner", order=27, label=_l("改善措置の担当者"), items=owner_items,
        hand_over=hand_over_owned))
    house.add_request_kind(CLOSURE, request_item)
