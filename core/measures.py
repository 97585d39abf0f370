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
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from core.db import TimestampMixin, VersionMixin, db
from core.enums import LabelledEnum, enum_column
from core.models import Audited


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
    from sqlalchemy import select
    ids = list(source_ids)
    found: dict[int, list[Measure]] = {source_id: [] for source_id in ids}
    if ids:
        for row in db.session.scalars(select(Measure).where(Measure.source_type == source_type,
                                                            Measure.source_id.in_(ids)).order_by(Measure.id)):
            found[row.source_id].append(row)
    return found
