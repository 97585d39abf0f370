"""委託事業者: the vendor register, certifications and selection records."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.approvals import Approval, Decision
from core.db import TimestampMixin, VersionMixin, db
from core.enums import LabelledEnum, enum_column
from core.files import StoredFile
from core.models import Audited, OrgUnit, User
from core.textkey import Searchable
from core.timeutil import today

EXPIRY_WARNING_DAYS = 60


class VendorStatus(LabelledEnum):
    CANDIDATE = "candidate", _l("候補")
    SELECTED = "selected", _l("選定済")
    ACTIVE = "active", _l("取引中")
    SUSPENDED = "suspended", _l("取引停止")
    ENDED = "ended", _l("終了")


class CertificationKind(LabelledEnum):
    ISMS = "isms", _l("ISMS（ISO/IEC 27001）")
    ISO27017 = "iso27017", _l("ISO/IEC 27017")
    PMARK = "pmark", _l("プライバシーマーク")
    ISMAP = "ismap", _l("ISMAP")
    ISMAP_LIU = "ismap_liu", _l("ISMAP-LIU")
    SOC2 = "soc2", _l("SOC 2")
    OTHER = "other", _l("その他")


class Assessment(LabelledEnum):
    MET = "met", _l("適合")
    NOT_MET = "not_met", _l("不適合")
    NOT_APPLICABLE = "na", _l("該当なし")


class SelectionDecision(LabelledEnum):
    SELECTED = "selected", _l("選定する")
    NOT_SELECTED = "not_selected", _l("選定しない")


class Vendor(Audited, Searchable, TimestampMixin, VersionMixin, db.Model):
    __tablename__ = "vendors"
    __search_parts__ = ("name", "kana", "corporate_number")  # the list and the picker search these, folded
    __reading_order__ = ("kana", "name")  # the list's default order, indexed (core.textkey.reading_order)

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
    contacts: Mapped[list[VendorContact]] = relationship(back_populates="vendor", order_by="VendorContact.id",
                                                         cascade="all, delete-orphan")
    certifications: Mapped[list[Certification]] = relationship(
        back_populates="vendor", order_by="Certification.valid_until", cascade="all, delete-orphan")
    selections: Mapped[list[Selection]] = relationship(back_populates="vendor", order_by="Selection.id.desc()")

    @property
    def latest_selection(self) -> Selection | None:
        return self.selections[0] if self.selections else None

    @property
    def settled_selection(self) -> Selection | None:
        """The latest selection that is decided: one whose justification of a
        不適合 criterion awaits approval is left aside until it is decided."""
        return next((s for s in self.selections if s.state != "pending"), None)

    @property
    def is_selected(self) -> bool:
        """The latest decided selection is positive (選定, and when a criterion
        was 不適合 its justification approved): the vendor may be party to a
        signed contract (policy §6(8)).  A pending one does not count yet."""
        settled = self.settled_selection
        return settled is not None and settled.is_positive

    def __str__(self) -> str:
        return self.name


class VendorContact(Audited, TimestampMixin, VersionMixin, db.Model):
    __tablename__ = "vendor_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    department: Mapped[Optional[str]] = mapped_column(String(100))
    phone: Mapped[Optional[str]] = mapped_column(String(30))
    email: Mapped[Optional[str]] = mapped_column(String(254))

    vendor: Mapped[Vendor] = relationship(back_populates="contacts")


class Certification(Audited, TimestampMixin, VersionMixin, db.Model):
    __tablename__ = "certifications"
    # the certificates expired or expiring and their vendors, from the index alone (core.due; issue 21)
    __table_args__ = (Index("ix_certifications_valid_until_vendor", "valid_until", "vendor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    kind: Mapped[CertificationKind] = mapped_column(enum_column(CertificationKind))
    name: Mapped[Optional[str]] = mapped_column(String(100))  # for "other"
    number: Mapped[Optional[str]] = mapped_column(String(100))
    issuer: Mapped[Optional[str]] = mapped_column(String(200))
    valid_until: Mapped[Optional[dt.date]] = mapped_column(Date, index=True)
    file_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stored_files.id"))

    vendor: Mapped[Vendor] = relationship(back_populates="certifications")
    file: Mapped[Optional[StoredFile]] = relationship()

    @property
    def label(self) -> str:
        return self.name if self.kind is CertificationKind.OTHER and self.name else str(self.kind.label)

    def state(self, on: dt.date | None = None) -> str:
        """'expired', 'expiring' (within 60 days) or 'valid'."""
        on = on or today()
        if self.valid_until is None:
            return "valid"
        if self.valid_until < on:
            return "expired"
        if self.valid_until <= on + dt.timedelta(days=EXPIRY_WARNING_DAYS):
            return "expiring"
        return "valid"


class SelectionCriterion(TimestampMixin, VersionMixin, db.Model):
    """選定基準 (DOMAIN.md §2.1), seeded by migration; codes are stable keys."""

    __tablename__ = "selection_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    label_ja: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def label(self, locale: str = "ja") -> str:
        return self.label_en if locale.startswith("en") else self.label_ja


class Selection(Audited, TimestampMixin, VersionMixin, db.Model):
    """One selection decision (選定) with every criterion assessed."""

    __tablename__ = "selections"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    decided_on: Mapped[dt.date] = mapped_column(Date)
    decision: Mapped[SelectionDecision] = mapped_column(enum_column(SelectionDecision))
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    notes: Mapped[Optional[str]] = mapped_column(Text)
    # 選定 although a criterion is 不適合 (issue 17): the written justification,
    # and its four-eyes approval (core.approvals, kind "selection_justification").
    justification: Mapped[Optional[str]] = mapped_column(Text)
    approval_id: Mapped[Optional[int]] = mapped_column(ForeignKey("approvals.id"), index=True)  # pending ones: core.due

    vendor: Mapped[Vendor] = relationship(back_populates="selections")
    decided_by: Mapped[User] = relationship()
    approval: Mapped[Optional[Approval]] = relationship()
    assessments: Mapped[list[SelectionAssessment]] = relationship(
        back_populates="selection", cascade="all, delete-orphan", order_by="SelectionAssessment.id")

    @property
    def has_not_met(self) -> bool:
        return any(row.result is Assessment.NOT_MET for row in self.assessments)

    @property
    def state(self) -> str:
        """'selected', 'pending' (選定 with a 不適合 criterion, its justification
        awaiting approval), 'rejected' (that justification rejected) or
        'not_selected'."""
        if self.decision is not SelectionDecision.SELECTED:
            return "not_selected"
        if self.approval is None or self.approval.decision.granted:
            return "selected"
        return "pending" if self.approval.decision is Decision.PENDING else "rejected"

    @property
    def is_positive(self) -> bool:
        """Counts as a selection of the vendor (選定, approved where it must be)."""
        return self.state == "selected"

    @property
    def state_label(self) -> str:
        return str(SELECTION_STATES[self.state])


SELECTION_STATES = {"selected": _l("選定"), "pending": _l("選定（不適合の理由 承認待ち）"),
                    "rejected": _l("選定しない（不適合の理由 却下）"), "not_selected": _l("選定しない")}


class SelectionAssessment(Audited, db.Model):
    __tablename__ = "selection_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    selection_id: Mapped[int] = mapped_column(ForeignKey("selections.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("selection_criteria.id"))
    result: Mapped[Assessment] = mapped_column(enum_column(Assessment))
    comment: Mapped[Optional[str]] = mapped_column(String(500))

    selection: Mapped[Selection] = relationship(back_populates="assessments")
    criterion: Mapped[SelectionCriterion] = relationship()

    __table_args__ = (UniqueConstraint("selection_id", "criterion_id"),)
