"""契約: the contract register, its security clauses and their catalogue."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Column, Date, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, VersionMixin, db
from core.enums import LabelledEnum, enum_column
from core.files import StoredFile
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


class Subcontracting(LabelledEnum):
    PROHIBITED = "prohibited", _l("禁止")
    APPROVAL = "approval", _l("承認制")


class ClauseState(LabelledEnum):
    INCLUDED = "included", _l("規定あり")
    NOT_INCLUDED = "not_included", _l("規定なし")
    NOT_APPLICABLE = "na", _l("該当なし")


# Which clauses are mandatory for contracts at which classification level.
clause_levels = Table(
    "clause_levels", db.metadata,
    Column("clause_id", ForeignKey("clauses.id"), primary_key=True),
    Column("level_id", ForeignKey("classification_levels.id"), primary_key=True),
)


class Clause(Audited, TimestampMixin, VersionMixin, db.Model):
    """A security clause of the catalogue (DOMAIN.md §2.2)."""

    __tablename__ = "clauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    label_ja: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    verify_ja: Mapped[Optional[str]] = mapped_column(Text)  # what to verify (evidence)
    verify_en: Mapped[Optional[str]] = mapped_column(Text)
    mandatory_if_personal: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    mandatory_levels: Mapped[list[ClassificationLevel]] = relationship(secondary=clause_levels)

    def label(self, locale: str = "ja") -> str:
        return self.label_en if locale.startswith("en") else self.label_ja

    def verify(self, locale: str = "ja") -> str:
        return (self.verify_en if locale.startswith("en") else self.verify_ja) or ""

    def is_mandatory_for(self, contract: Contract) -> bool:
        if not self.active:
            return False
        if self.mandatory_if_personal and contract.handles_personal_info:
            return True
        return contract.classification_id is not None and any(
            level.id == contract.classification_id for level in self.mandatory_levels)


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
    classification_id: Mapped[Optional[int]] = mapped_column(ForeignKey("classification_levels.id"), index=True)
    integrity_id: Mapped[Optional[int]] = mapped_column(ForeignKey("classification_levels.id"))
    availability_id: Mapped[Optional[int]] = mapped_column(ForeignKey("classification_levels.id"))
    handles_personal_info: Mapped[bool] = mapped_column(Boolean, default=False)
    handles_my_number: Mapped[bool] = mapped_column(Boolean, default=False)
    work_places: Mapped[Optional[str]] = mapped_column(Text)
    subcontracting: Mapped[Subcontracting] = mapped_column(enum_column(Subcontracting),
                                                           default=Subcontracting.PROHIBITED)
    status: Mapped[ContractStatus] = mapped_column(enum_column(ContractStatus), default=ContractStatus.DRAFT, index=True)
    document_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stored_files.id"))

    vendor: Mapped[Vendor] = relationship()
    unit: Mapped[Optional[OrgUnit]] = relationship()
    officer: Mapped[Optional[User]] = relationship()
    classification: Mapped[Optional[ClassificationLevel]] = relationship(foreign_keys=[classification_id])
    integrity: Mapped[Optional[ClassificationLevel]] = relationship(foreign_keys=[integrity_id])
    availability: Mapped[Optional[ClassificationLevel]] = relationship(foreign_keys=[availability_id])
    document: Mapped[Optional[StoredFile]] = relationship()
    clauses: Mapped[list[ContractClause]] = relationship(back_populates="contract", cascade="all, delete-orphan")
    subcontractors: Mapped[list[Subcontractor]] = relationship(back_populates="contract", order_by="Subcontractor.id",
                                                               cascade="all, delete-orphan")
    disposal: Mapped[Optional[Disposal]] = relationship(back_populates="contract", cascade="all, delete-orphan")

    @property
    def handles_classified(self) -> bool:
        """Handles information above 自治体機密性1 (rank 1)."""
        return self.classification is not None and self.classification.rank > 1

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class ContractClause(Audited, TimestampMixin, VersionMixin, db.Model):
    """One row of a contract's clause matrix."""

    __tablename__ = "contract_clauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clauses.id"), index=True)
    state: Mapped[ClauseState] = mapped_column(enum_column(ClauseState), default=ClauseState.NOT_INCLUDED)
    article: Mapped[Optional[str]] = mapped_column(String(50))  # e.g. 第12条
    reason: Mapped[Optional[str]] = mapped_column(String(500))  # required when not applicable

    contract: Mapped[Contract] = relationship(back_populates="clauses")
    clause: Mapped[Clause] = relationship()

    __table_args__ = (UniqueConstraint("contract_id", "clause_id"),)


class Subcontractor(Audited, TimestampMixin, VersionMixin, db.Model):
    __tablename__ = "subcontractors"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[Optional[str]] = mapped_column(String(500))
    approved_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    approver_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    contract: Mapped[Contract] = relationship(back_populates="subcontractors")
    approver: Mapped[Optional[User]] = relationship()


class Disposal(Audited, TimestampMixin, VersionMixin, db.Model):
    """返却・廃棄 of information assets at the end of a contract (clause C09)."""

    __tablename__ = "disposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), unique=True)
    done_on: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(500))
    evidence_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stored_files.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    contract: Mapped[Contract] = relationship(back_populates="disposal")
    evidence: Mapped[Optional[StoredFile]] = relationship()
    recorded_by: Mapped[User] = relationship()
