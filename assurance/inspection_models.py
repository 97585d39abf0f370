"""Recorded self-inspections (自己点検, policy §7; issue 18).

An :class:`Inspection` belongs to a 年度 and a unit (or the whole body), names
its responsible person, and goes 点検中 → 点検済・確認待ち → 確認済・承認待ち →
承認済, signed off four-eyes (assurance.inspections).  Each
:class:`InspectionAnswer` keeps a snapshot of the item it answers (texts,
area, frequency, source, general-practice mark), so an item retired or edited
in the catalogue later stays as it was asked.  An approved inspection is never
changed: a correction is a new version (``edition``) naming the one it
corrects (``corrects_id``), and approving it marks the old one superseded.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, VersionMixin, db
from core.enums import LabelledEnum, enum_column
from core.files import StoredFile
from core.models import Audited, OrgUnit, User


class InspectionStatus(LabelledEnum):
    DRAFT = "draft", _l("点検中")
    SUBMITTED = "submitted", _l("点検済・確認待ち")
    CHECKED = "checked", _l("確認済・承認待ち")
    APPROVED = "approved", _l("承認済")
    SUPERSEDED = "superseded", _l("訂正により失効")


OPEN_STATUSES = (InspectionStatus.DRAFT, InspectionStatus.SUBMITTED, InspectionStatus.CHECKED)
FINAL_STATUSES = (InspectionStatus.APPROVED, InspectionStatus.SUPERSEDED)
# The partial unique index's condition: one inspection not yet approved per (年度, unit | whole body).
OPEN_CONDITION = "status IN ('draft', 'submitted', 'checked')"


class AnswerResult(LabelledEnum):
    CONFORMING = "conforming", _l("適合")
    PARTIAL = "partial", _l("一部不適合")
    NONCONFORMING = "nonconforming", _l("不適合")
    NOT_APPLICABLE = "not_applicable", _l("該当なし")

    @property
    def needs_measure(self) -> bool:
        return self in (AnswerResult.PARTIAL, AnswerResult.NONCONFORMING)


class Inspection(Audited, TimestampMixin, VersionMixin, db.Model):
    __tablename__ = "inspections"
    __table_args__ = (
        Index("ix_inspections_year_scope", "fiscal_year", "scope_key"),
        Index("uq_inspections_one_open", "fiscal_year", "scope_key", unique=True,
              sqlite_where=text(OPEN_CONDITION), postgresql_where=text(OPEN_CONDITION)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_units.id"), index=True)  # None: the whole body
    # unit_id, or 0 for the whole body: the unique index needs a column that is never NULL
    # (NULLs never collide in a unique index, on SQLite and PostgreSQL alike).
    scope_key: Mapped[int] = mapped_column(Integer)
    edition: Mapped[int] = mapped_column(Integer, default=1)  # 第n版: 1, then each correction
    corrects_id: Mapped[Optional[int]] = mapped_column(ForeignKey("inspections.id"))
    responsible_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[InspectionStatus] = mapped_column(enum_column(InspectionStatus), default=InspectionStatus.DRAFT,
                                                     index=True)
    summary: Mapped[Optional[str]] = mapped_column(Text)
    remarks: Mapped[Optional[str]] = mapped_column(Text)
    # Everyone who recorded an answer in this version: none of them checks or approves it.
    editor_ids: Mapped[Optional[list]] = mapped_column(JSON)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    inspector_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    checker_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    checked_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    approver_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    superseded_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    unit: Mapped[Optional[OrgUnit]] = relationship()
    responsible: Mapped[User] = relationship(foreign_keys=[responsible_id])
    created_by: Mapped[Optional[User]] = relationship(foreign_keys=[created_by_id])
    inspector: Mapped[Optional[User]] = relationship(foreign_keys=[inspector_id])
    checker: Mapped[Optional[User]] = relationship(foreign_keys=[checker_id])
    approver: Mapped[Optional[User]] = relationship(foreign_keys=[approver_id])
    corrects: Mapped[Optional[Inspection]] = relationship(remote_side=[id])
    answers: Mapped[list[InspectionAnswer]] = relationship(
        back_populates="inspection", order_by="InspectionAnswer.position", cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def editors(self) -> list[int]:
        return list(self.editor_ids or [])


class InspectionAnswer(Audited, TimestampMixin, db.Model):
    """One item of an inspection: the item as it was asked, and the answer."""

    __tablename__ = "inspection_answers"
    __table_args__ = (UniqueConstraint("inspection_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The item's snapshot (core.inspection.Item at the time the inspection was made).
    code: Mapped[str] = mapped_column(String(20))
    text_ja: Mapped[str] = mapped_column(Text)
    text_en: Mapped[Optional[str]] = mapped_column(Text)
    area: Mapped[str] = mapped_column(String(20))
    area_name: Mapped[Optional[str]] = mapped_column(String(100))
    frequency: Mapped[Optional[str]] = mapped_column(String(100))
    source: Mapped[Optional[str]] = mapped_column(String(200))
    general_practice: Mapped[bool] = mapped_column(Boolean, default=False)
    # The answer.
    result: Mapped[Optional[AnswerResult]] = mapped_column(enum_column(AnswerResult))  # None: not answered yet
    comment: Mapped[Optional[str]] = mapped_column(Text)
    measure: Mapped[Optional[str]] = mapped_column(Text)  # for 一部不適合/不適合: what will be done
    measure_owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    measure_due_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    answered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    inspection: Mapped[Inspection] = relationship(back_populates="answers")
    measure_owner: Mapped[Optional[User]] = relationship(foreign_keys=[measure_owner_id])
    answered_by: Mapped[Optional[User]] = relationship(foreign_keys=[answered_by_id])
    evidence: Mapped[list[InspectionEvidence]] = relationship(
        back_populates="answer", order_by="InspectionEvidence.id", cascade="all, delete-orphan")

    def text(self, language: str = "ja") -> str:
        return self.text_en if language == "en" and self.text_en else self.text_ja


class InspectionEvidence(Audited, db.Model):
    """A file attached to an answer (core.files); a correction shares its
    original's files."""

    __tablename__ = "inspection_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("inspection_answers.id"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))

    answer: Mapped[InspectionAnswer] = relationship(back_populates="evidence")
    file: Mapped[StoredFile] = relationship()
