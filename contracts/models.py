"""契約: the contract register, its security clauses and their catalogue."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contracts.schedule import Cycle
from core.db import TimestampMixin, VersionMixin, db
from core.enums import LabelledEnum, enum_column
from core.files import StoredFile
from core.measures import MeasureMixin, MeasureStatus  # noqa: F401  (MeasureStatus re-exported: the contract findings' measures)
from core.models import Audited, ClassificationLevel, OrgUnit, User
from core.textkey import Searchable
from core.timeutil import utcnow
from vendors.models import Selection, Vendor


class ContractStatus(LabelledEnum):
    DRAFT = "draft", _l("起案")
    SIGNED = "signed", _l("締結済")
    IN_FORCE = "in_force", _l("履行中")
    ENDED = "ended", _l("終了")
    TERMINATED = "terminated", _l("解除")
    WITHDRAWN = "withdrawn", _l("取下げ")  # a draft never signed (issue 17: a draft is not 解除)


class ContractKind(LabelledEnum):
    OUTSOURCING = "outsourcing", _l("業務委託")
    MAINTENANCE = "maintenance", _l("保守")
    OPERATION = "operation", _l("運用")
    DEVELOPMENT = "development", _l("開発")
    CLOUD = "cloud", _l("クラウド利用")
    OTHER = "other", _l("その他")


class ContractingMethod(LabelledEnum):
    """契約方法 (地方自治法 §234): how the contractor was chosen."""
    GENERAL_TENDER = "general_tender", _l("一般競争入札")
    DESIGNATED_TENDER = "designated_tender", _l("指名競争入札")
    NEGOTIATED = "negotiated", _l("随意契約")
    PROPOSAL = "proposal", _l("プロポーザル")
    OTHER = "other", _l("その他")


class Subcontracting(LabelledEnum):
    PROHIBITED = "prohibited", _l("禁止")
    APPROVAL = "approval", _l("承認制")


class DisposalMethod(LabelledEnum):
    """How the information assets left the contractor (clause C09, DOMAIN.md
    §1.4): class 3 only by erasure or destruction with a certificate."""
    RETURN = "return", _l("返却（複製を残さない旨の確認書）")
    ERASURE = "erasure", _l("データ消去（消去証明書）")
    DESTRUCTION = "destruction", _l("物理破壊（破壊証明書）")
    # The same vendor keeps the data under the renewed contract (単年度契約の更新, issue 17):
    # allowed only when such a successor exists; no erasure certificate is due.
    HANDOVER = "handover", _l("後継契約へ引継ぎ")


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
    # The base set: mandatory for every contract, whatever its level (policy §6(8), OUT-02).
    mandatory_base: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Contract kinds (ContractKind values, comma-separated) for which the clause is mandatory.
    mandatory_kinds: Mapped[Optional[str]] = mapped_column(String(100))
    # Mandatory when the contractor gets remote or on-site access to systems (C04).
    mandatory_if_access: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    mandatory_levels: Mapped[list[ClassificationLevel]] = relationship(secondary=clause_levels)

    def label(self, locale: str = "ja") -> str:
        return self.label_en if locale.startswith("en") else self.label_ja

    def verify(self, locale: str = "ja") -> str:
        return (self.verify_en if locale.startswith("en") else self.verify_ja) or ""

    @property
    def kinds(self) -> list[ContractKind]:
        """The contract kinds the clause is mandatory for."""
        return [ContractKind(value) for value in (self.mandatory_kinds or "").split(",") if value]

    def is_mandatory_for(self, contract: Contract) -> bool:
        """Keep equal to contracts.rules.has_gap_expression (the SQL)."""
        if not self.active:
            return False
        if self.mandatory_base:
            return True
        if self.mandatory_if_personal and contract.handles_personal_info:
            return True
        if self.mandatory_if_access and contract.system_access:
            return True
        if contract.kind is not None and contract.kind in self.kinds:
            return True
        return contract.classification_id is not None and any(
            level.id == contract.classification_id for level in self.mandatory_levels)


class Contract(Audited, Searchable, TimestampMixin, VersionMixin, db.Model):
    __tablename__ = "contracts"
    __search_parts__ = ("number", "title")  # the list and the picker search these, folded
    # the list filtered by unit and status, in number order (scripts/explain.py)
    __table_args__ = (Index("ix_contracts_unit_status_number", "unit_id", "status", "number"),
                      # the dashboard's due counts and the verification schedule, per unit or all
                      Index("ix_contracts_unit_verification_due_on", "unit_id", "verification_due_on"),
                      # the dashboard's counts of live contracts lacking a clause / ending soon, from the index alone
                      Index("ix_contracts_has_gap_status_unit", "has_gap", "status", "unit_id"),
                      Index("ix_contracts_end_on_status_unit", "end_on", "status", "unit_id"),
                      # one officer's contracts by due date, from the index alone (core.due, the inbox; issue 21)
                      Index("ix_contracts_officer_verification_due_on", "officer_id", "verification_due_on", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(50), unique=True)
    title: Mapped[str] = mapped_column(String(200), index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    kind: Mapped[ContractKind] = mapped_column(enum_column(ContractKind), default=ContractKind.OUTSOURCING)
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_units.id"), index=True)
    officer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"), index=True)
    start_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    end_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    classification_id: Mapped[Optional[int]] = mapped_column(ForeignKey("classification_levels.id"), index=True)
    integrity_id: Mapped[Optional[int]] = mapped_column(ForeignKey("classification_levels.id"))
    availability_id: Mapped[Optional[int]] = mapped_column(ForeignKey("classification_levels.id"))
    handles_personal_info: Mapped[bool] = mapped_column(Boolean, default=False)
    # Lacks a mandatory clause: derived from the matrix, the classification
    # and the catalogue, kept current by contracts.gaps after every flush
    # that touches them, so lists and the dashboard count it by index.
    has_gap: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    handles_my_number: Mapped[bool] = mapped_column(Boolean, default=False)
    # The contractor gets remote or on-site access to the body's systems (makes C04 mandatory).
    system_access: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    work_places: Mapped[Optional[str]] = mapped_column(Text)
    subcontracting: Mapped[Subcontracting] = mapped_column(enum_column(Subcontracting),
                                                           default=Subcontracting.PROHIBITED)
    status: Mapped[ContractStatus] = mapped_column(enum_column(ContractStatus), default=ContractStatus.DRAFT, index=True)
    document_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stored_files.id"))
    # None: the default of the contract's classification level.
    verification_cycle: Mapped[Optional[Cycle]] = mapped_column(enum_column(Cycle))
    # When the next verification is due (None: none is): derived from the
    # status, the dates, the cycle and the latest submitted verification,
    # kept current by contracts.due after every flush that touches them.
    verification_due_on: Mapped[Optional[dt.date]] = mapped_column(Date, index=True)
    # The contract this one renews (単年度契約の更新): at most one successor per contract.
    predecessor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("contracts.id"), unique=True)
    # The selection (選定) that covers this contract (issue 17, policy §6(8)):
    # one recorded for it ("contract"), or a vendor's selection still valid that the
    # officer confirmed for it with a comment ("vendor"); see contracts.rules.selection_gap.
    selection_id: Mapped[Optional[int]] = mapped_column(ForeignKey("selections.id"), index=True)
    selection_basis: Mapped[Optional[str]] = mapped_column(String(20))
    selection_comment: Mapped[Optional[str]] = mapped_column(Text)
    selection_confirmed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    selection_confirmed_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    # The fields offices keep (issue 20, migration 0027).
    amount: Mapped[Optional[int]] = mapped_column(BigInteger)  # 契約金額, tax included, yen
    method: Mapped[Optional[ContractingMethod]] = mapped_column(enum_column(ContractingMethod))
    # 締結日: the date the officer enters when signing; signed_at: when the signing was recorded (UTC).
    signed_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    signed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    contractor_manager: Mapped[Optional[str]] = mapped_column(String(100))  # 受託者側責任者
    contractor_manager_contact: Mapped[Optional[str]] = mapped_column(String(200))
    budget_item: Mapped[Optional[str]] = mapped_column(String(200))  # 予算科目

    vendor: Mapped[Vendor] = relationship()
    selection: Mapped[Optional[Selection]] = relationship()
    selection_confirmed_by: Mapped[Optional[User]] = relationship(foreign_keys=[selection_confirmed_by_id])
    unit: Mapped[Optional[OrgUnit]] = relationship()
    officer: Mapped[Optional[User]] = relationship(foreign_keys=[officer_id])
    classification: Mapped[Optional[ClassificationLevel]] = relationship(foreign_keys=[classification_id])
    integrity: Mapped[Optional[ClassificationLevel]] = relationship(foreign_keys=[integrity_id])
    availability: Mapped[Optional[ClassificationLevel]] = relationship(foreign_keys=[availability_id])
    document: Mapped[Optional[StoredFile]] = relationship()
    clauses: Mapped[list[ContractClause]] = relationship(back_populates="contract", cascade="all, delete-orphan")
    subcontractors: Mapped[list[Subcontractor]] = relationship(back_populates="contract", order_by="Subcontractor.id",
                                                               cascade="all, delete-orphan")
    disposal: Mapped[Optional[Disposal]] = relationship(back_populates="contract", cascade="all, delete-orphan")
    predecessor: Mapped[Optional[Contract]] = relationship(remote_side=[id], back_populates="successor")
    successor: Mapped[Optional[Contract]] = relationship(back_populates="predecessor", uselist=False)

    @property
    def cycle(self) -> Cycle:
        """The verification cycle in force: the contract's own, else its
        level's default, else yearly."""
        if self.verification_cycle is not None:
            return self.verification_cycle
        default = self.classification.verification_cycle if self.classification else None
        return Cycle.parse(default or "") or Cycle.YEARLY

    @property
    def approved_subcontractors(self) -> list[Subcontractor]:
        """The contract's subcontractors: approved and not ended (a request
        承認待ち, 却下 or 取下げ is none, clause C08)."""
        return [s for s in self.subcontractors if s.status is SubcontractorStatus.APPROVED]

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


class SubcontractorStatus(LabelledEnum):
    """再委託先 (clause C08): requested with the approval document, decided by
    another person; only an approved one is the contract's subcontractor."""
    PENDING = "pending", _l("承認待ち")
    APPROVED = "approved", _l("承認")
    REJECTED = "rejected", _l("却下")
    ENDED = "ended", _l("終了")
    WITHDRAWN = "withdrawn", _l("取下げ")


class Subcontractor(Audited, TimestampMixin, VersionMixin, db.Model):
    __tablename__ = "subcontractors"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[Optional[str]] = mapped_column(String(500))
    # Rows recorded before requests existed were approved as typed (migration 0019).
    status: Mapped[SubcontractorStatus] = mapped_column(enum_column(SubcontractorStatus),
                                                        default=SubcontractorStatus.PENDING,
                                                        server_default=SubcontractorStatus.APPROVED.value)
    # The subcontractor's vendor record, when it has one (found by its corporate number).
    vendor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("vendors.id"), index=True)
    # 再委託承認申請書 / 承諾書: required for every request (None only on rows from before 0019).
    document_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stored_files.id"))
    requested_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    approved_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    approver_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    ended_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    end_reason: Mapped[Optional[str]] = mapped_column(String(500))

    contract: Mapped[Contract] = relationship(back_populates="subcontractors")
    vendor: Mapped[Optional[Vendor]] = relationship()
    document: Mapped[Optional[StoredFile]] = relationship()
    requested_by: Mapped[Optional[User]] = relationship(foreign_keys=[requested_by_id])
    approver: Mapped[Optional[User]] = relationship(foreign_keys=[approver_id])


class Disposal(Audited, TimestampMixin, VersionMixin, db.Model):
    """返却・廃棄 of information assets at the end of a contract (clause C09)."""

    __tablename__ = "disposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), unique=True)
    done_on: Mapped[dt.date] = mapped_column(Date)
    # The method, a choice (None: recorded before it was one; ``method`` says what was done).
    kind: Mapped[Optional[DisposalMethod]] = mapped_column(enum_column(DisposalMethod))
    method: Mapped[str] = mapped_column(String(500))  # what was done, in words (may be empty)
    evidence_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stored_files.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    contract: Mapped[Contract] = relationship(back_populates="disposal")
    evidence: Mapped[Optional[StoredFile]] = relationship()
    recorded_by: Mapped[User] = relationship()


# --- amendments (変更契約, issue 17) --------------------------------------------

class AmendmentStatus(LabelledEnum):
    DRAFT = "draft", _l("起案")
    PENDING = "pending", _l("承認待ち")
    APPROVED = "approved", _l("承認")
    REJECTED = "rejected", _l("却下")
    WITHDRAWN = "withdrawn", _l("取下げ")


# An amendment still open (one per contract at a time, held by a partial unique index).
OPEN_AMENDMENT = ("draft", "pending")


class ContractAmendment(Audited, TimestampMixin, VersionMixin, db.Model):
    """変更契約: the one way the protected terms of a signed or in-force
    contract change (contracts.services: PROTECTED, the clause matrix).  A
    draft until another person approves it; only then do its changes apply.

    ``changes``: {"fields": {name: {"before": v, "after": v}},
    "clauses": {code: {"before": [state, article, reason] | None, "after": [...]}}},
    values as JSON (ids, enum values, ISO dates)."""

    __tablename__ = "contract_amendments"
    __table_args__ = (
        UniqueConstraint("contract_id", "number"),
        # Only one draft or pending amendment per contract, whatever races (SQLite and PostgreSQL).
        Index("uq_contract_amendments_open", "contract_id", unique=True,
              sqlite_where=text("status IN ('draft', 'pending')"),
              postgresql_where=text("status IN ('draft', 'pending')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 第n回変更, per contract
    reason: Mapped[str] = mapped_column(Text)
    amended_on: Mapped[dt.date] = mapped_column(Date)
    document_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stored_files.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[AmendmentStatus] = mapped_column(enum_column(AmendmentStatus), default=AmendmentStatus.DRAFT)
    approver_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    comment: Mapped[Optional[str]] = mapped_column(Text)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)

    contract: Mapped[Contract] = relationship()
    document: Mapped[Optional[StoredFile]] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    approver: Mapped[Optional[User]] = relationship(foreign_keys=[approver_id])

    @property
    def is_open(self) -> bool:
        return self.status in (AmendmentStatus.DRAFT, AmendmentStatus.PENDING)


# --- verification (確認・措置, issue 4) -----------------------------------------

class Method(LabelledEnum):
    DOCUMENT = "document", _l("書面確認")
    REPORT = "report", _l("報告書")
    ONSITE = "onsite", _l("実地確認")
    INTERVIEW = "interview", _l("聞き取り")


class Result(LabelledEnum):
    CONFORMS = "conforms", _l("適合")
    PARTLY = "partly", _l("一部不適合")
    DOES_NOT = "does_not", _l("不適合")
    UNCHECKED = "unchecked", _l("未確認")
    NOT_APPLICABLE = "na", _l("該当なし")


NONCONFORMING = (Result.PARTLY, Result.DOES_NOT)


class VerificationStatus(LabelledEnum):
    DRAFT = "draft", _l("下書き")
    SUBMITTED = "submitted", _l("提出済み")


class Verification(Audited, TimestampMixin, VersionMixin, db.Model):
    """One check of a contractor.  A draft until submitted; a submitted
    verification never changes — a correction is a new one that names it."""

    __tablename__ = "verifications"
    # the latest submitted verification of each contract, read from the index alone
    __table_args__ = (Index("ix_verifications_contract_status_performed", "contract_id", "status", "performed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    performed_on: Mapped[dt.date] = mapped_column(Date, index=True)
    method: Mapped[Method] = mapped_column(enum_column(Method))
    verifier_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    conclusion: Mapped[Optional[str]] = mapped_column(Text)
    remarks: Mapped[Optional[str]] = mapped_column(Text)
    status: Mapped[VerificationStatus] = mapped_column(enum_column(VerificationStatus),
                                                       default=VerificationStatus.DRAFT, index=True)
    submitted_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    corrects_id: Mapped[Optional[int]] = mapped_column(ForeignKey("verifications.id"))

    contract: Mapped[Contract] = relationship()
    verifier: Mapped[User] = relationship()
    corrects: Mapped[Optional[Verification]] = relationship(remote_side=[id])
    results: Mapped[list[VerificationResult]] = relationship(back_populates="verification", cascade="all, delete-orphan",
                                                              order_by="VerificationResult.id")
    evidence: Mapped[list[Evidence]] = relationship(back_populates="verification", cascade="all, delete-orphan",
                                                    order_by="Evidence.id")
    findings: Mapped[list[Finding]] = relationship(back_populates="verification", order_by="Finding.id")

    @property
    def is_submitted(self) -> bool:
        return self.status is VerificationStatus.SUBMITTED


class VerificationResult(Audited, db.Model):
    __tablename__ = "verification_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    verification_id: Mapped[int] = mapped_column(ForeignKey("verifications.id"), index=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clauses.id"))
    result: Mapped[Result] = mapped_column(enum_column(Result), default=Result.UNCHECKED)
    comment: Mapped[Optional[str]] = mapped_column(String(1000))

    verification: Mapped[Verification] = relationship(back_populates="results")
    clause: Mapped[Clause] = relationship()

    __table_args__ = (UniqueConstraint("verification_id", "clause_id"),
                      # what the verification export reads of each result, in order (issue 21)
                      Index("ix_verification_results_verification_id_id_cover", "verification_id", "id",
                            "clause_id", "result"))


class Evidence(Audited, db.Model):
    """A file attached to a verification, or to one clause result in it."""

    __tablename__ = "verification_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    verification_id: Mapped[int] = mapped_column(ForeignKey("verifications.id"), index=True)
    result_id: Mapped[Optional[int]] = mapped_column(ForeignKey("verification_results.id"))
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))

    verification: Mapped[Verification] = relationship(back_populates="evidence")
    result: Mapped[Optional[VerificationResult]] = relationship()
    file: Mapped[StoredFile] = relationship()


class Finding(MeasureMixin, Audited, TimestampMixin, VersionMixin, db.Model):
    """A non-conforming result and the corrective measure (措置) the
    contractor must take under the contract: the measure's columns and
    lifecycle are every finding's (core.measures)."""

    __tablename__ = "findings"
    # overdue measures: each open status's range of due dates, from the index alone
    # a unit's findings by status (the dashboard), through its contracts, from an index alone
    __table_args__ = (Index("ix_findings_status_due_on", "status", "due_on"),
                      Index("ix_findings_contract_status_due_on", "contract_id", "status", "due_on"),
                      # one owner's open measures by due date (core.due, the inbox; issue 21)
                      Index("ix_findings_owner_due_on_status", "owner_id", "due_on", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    verification_id: Mapped[int] = mapped_column(ForeignKey("verifications.id"), index=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("verification_results.id"), unique=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))  # indexed below, with status and due date
    clause_id: Mapped[int] = mapped_column(ForeignKey("clauses.id"))
    severity: Mapped[Result] = mapped_column(enum_column(Result))

    verification: Mapped[Verification] = relationship(back_populates="findings")
    contract: Mapped[Contract] = relationship()
    clause: Mapped[Clause] = relationship()


class VerificationNote(Audited, db.Model):
    """What the next verification of a contract must check: left by an
    incident of the contract when it closed (issue 19: "so the verifier checks
    the fix"); done when a verification of the contract is submitted."""

    __tablename__ = "contract_verification_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    incident_id: Mapped[Optional[int]] = mapped_column(ForeignKey("incidents.id"))
    incident_number: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    done_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    verification_id: Mapped[Optional[int]] = mapped_column(ForeignKey("verifications.id"))

    contract: Mapped[Contract] = relationship()
