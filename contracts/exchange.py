"""Contracts, verifications and findings for spreadsheets and the API
(core.registers).  Contracts import and export; verifications and
findings are recorded on their pages (with evidence) and only exported."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, String, aggregate_order_by, func, literal, select, type_coerce
from sqlalchemy.orm import aliased, contains_eager, selectinload

from contracts import services
from contracts import verification as checks
from contracts.forms import AMOUNT_MESSAGE, MAX_AMOUNT, contract_form, parse_amount
from contracts.lists import FINDINGS, LIST
from contracts.models import (
    Clause,
    Contract,
    ContractingMethod,
    ContractKind,
    ContractStatus,
    Cycle,
    Finding,
    MeasureStatus,
    Method,
    Result,
    Subcontracting,
    Verification,
    VerificationResult,
    VerificationStatus,
)
from core.auth import CONTRACT_READERS
from core.db import db
from core.lists import ListView, enum_filter, id_filter
from core.models import ClassificationLevel, OrgUnit, Role, User
from core.registers import Field, Register, ValueProblem, level_by_code, unit_by_name, user_by_name
from core.timeutil import today
from core.validators import fold
from vendors.models import Vendor


def vendor_by_name_or_number(text: str) -> int | None:
    """A vendor by corporate number, or by its exact name."""
    found = db.session.scalar(select(Vendor.id).where(Vendor.corporate_number == fold(text)))
    if found is None:
        ids = db.session.scalars(select(Vendor.id).where(Vendor.name == text).limit(2)).all()
        found = ids[0] if len(ids) == 1 else None
    return found


@dataclass(frozen=True)
class AmountField(Field):
    """契約金額: an integer of yen beyond the nine digits of a plain integer
    field; a cell may say 1,234,000 or １２３４０００ (NFKC-folded)."""

    def form_value(self, raw) -> str:
        if isinstance(raw, float) and raw.is_integer():  # a spreadsheet's number cell
            raw = int(raw)
        try:
            value = parse_amount(raw)
        except ValueError as error:
            raise ValueProblem(str(AMOUNT_MESSAGE)) from error
        return "" if value is None else str(value)

    def schema(self) -> dict:
        return {**super().schema(), "minimum": 0, "maximum": MAX_AMOUNT}


def _level(attribute):
    return lambda c: getattr(c, attribute).label_ja if getattr(c, attribute) else None


# The three levels a contract names come from one table: joined under three names for the export's rows.
_CLASSIFICATION, _INTEGRITY, _AVAILABILITY = (aliased(ClassificationLevel, name=name)
                                              for name in ("classification", "integrity", "availability"))

CONTRACT_FIELDS = [
    Field("id", "ID", lambda c: c.id, kind="integer", width=7, read_only=True, source=Contract.id),
    Field("number", "契約番号", lambda c: c.number, width=14, field="number", required=True,
          description="unique; the import matches on it", source=Contract.number),
    Field("title", "件名", lambda c: c.title, width=36, field="title", required=True, source=Contract.title),
    Field("vendor", "委託事業者", lambda c: c.vendor.name, kind="ref", ref=vendor_by_name_or_number, width=28,
          field="vendor_id", required=True, description="the vendor's name or corporate number", source=Vendor.name),
    Field("kind", "種別", lambda c: c.kind, kind="enum", enum=ContractKind, width=10, field="kind", required=True,
          source=Contract.kind),
    Field("unit", "担当組織", lambda c: c.unit.name if c.unit else None, kind="ref", ref=unit_by_name, width=18,
          field="unit_id", required=True, source=OrgUnit.name),
    Field("officer", "担当者", lambda c: c.officer.display_name if c.officer else None, kind="ref",
          ref=user_by_name, width=14, field="officer_id", required=True, description="user name or full name",
          source=User.display_name),
    Field("start_on", "契約開始日", lambda c: c.start_on, kind="date", width=12, field="start_on", required=True,
          source=Contract.start_on),
    Field("end_on", "契約終了日", lambda c: c.end_on, kind="date", width=12, field="end_on", required=True,
          source=Contract.end_on),
    Field("classification", "機密性", _level("classification"), kind="ref", ref=level_by_code, width=16,
          field="classification_id", required=True, description="a confidentiality level's code or name",
          source=_CLASSIFICATION.label_ja),
    Field("integrity", "完全性", _level("integrity"), kind="ref", ref=level_by_code, width=12,
          field="integrity_id", source=_INTEGRITY.label_ja),
    Field("availability", "可用性", _level("availability"), kind="ref", ref=level_by_code, width=12,
          field="availability_id", source=_AVAILABILITY.label_ja),
    Field("handles_personal_info", "個人情報", lambda c: c.handles_personal_info, kind="boolean", width=9,
          field="handles_personal_info", source=Contract.handles_personal_info),
    Field("handles_my_number", "個人番号", lambda c: c.handles_my_number, kind="boolean", width=9,
          field="handles_my_number", source=Contract.handles_my_number),
    Field("system_access", "システムへのアクセス", lambda c: c.system_access, kind="boolean", width=9,
          field="system_access", description="the contractor gets remote or on-site access to systems (C04)",
          source=Contract.system_access),
    Field("work_places", "作業場所", lambda c: c.work_places, width=24, field="work_places",
          source=Contract.work_places),
    Field("subcontracting", "再委託", lambda c: c.subcontracting, kind="enum", enum=Subcontracting, width=9,
          field="subcontracting", required=True, source=Contract.subcontracting),
    Field("verification_cycle", "確認の頻度", lambda c: c.verification_cycle, kind="enum", enum=Cycle, width=10,
          field="verification_cycle", description="empty: the default of the classification",
          source=Contract.verification_cycle),
    Field("status", "状態", lambda c: c.status, kind="enum", enum=ContractStatus, width=9, read_only=True,
          description="changed by signing, ending and terminating, not by editing", source=Contract.status),
    # The fields offices keep (issue 20).
    Field("method", "契約方法", lambda c: c.method, kind="enum", enum=ContractingMethod, width=12, field="method",
          description="how the contractor was chosen; changes by amendment once signed", source=Contract.method),
    AmountField("amount", "契約金額", lambda c: c.amount, kind="integer", width=14, field="amount",
                description="yen, tax included; changes by amendment once signed", source=Contract.amount),
    Field("signed_on", "締結日", lambda c: c.signed_on, kind="date", width=12, read_only=True,
          description="entered by the officer when signing", source=Contract.signed_on),
    Field("signed_at", "締結の記録日時", lambda c: c.signed_at, kind="datetime", width=19, read_only=True,
          description="when the signing was recorded", source=Contract.signed_at),
    Field("contractor_manager", "受託者側責任者", lambda c: c.contractor_manager, width=16,
          field="contractor_manager", source=Contract.contractor_manager),
    Field("contractor_manager_contact", "受託者側責任者の連絡先", lambda c: c.contractor_manager_contact, width=20,
          field="contractor_manager_contact", source=Contract.contractor_manager_contact),
    Field("budget_item", "予算科目", lambda c: c.budget_item, width=16, field="budget_item",
          source=Contract.budget_item),
    Field("updated_at", "更新日時", lambda c: c.updated_at, kind="datetime", width=19, read_only=True,
          source=Contract.updated_at),
]


def _contracts():
    return select(Contract).join(Contract.vendor).options(
        contains_eager(Contract.vendor), selectinload(Contract.unit), selectinload(Contract.officer),
        selectinload(Contract.classification), selectinload(Contract.integrity),
        selectinload(Contract.availability))


def _contract_row_joins(stmt: Select) -> Select:
    """The tables the export's columns read beyond the contract and its vendor."""
    return (stmt.outerjoin(Contract.unit).outerjoin(Contract.officer)
            .outerjoin(Contract.classification.of_type(_CLASSIFICATION))
            .outerjoin(Contract.integrity.of_type(_INTEGRITY))
            .outerjoin(Contract.availability.of_type(_AVAILABILITY)))


def _match_contract(values: dict[str, str]):
    number = (values.get("number") or "").strip()
    return db.session.scalar(select(Contract).where(Contract.number == number)) if number else None


def _contract(record) -> str:
    return str(record.contract)


# What str(contract) says (Contract.__str__), as SQL: the exports below select it.
_CONTRACT_NAME = Contract.number.concat(" ").concat(Contract.title)
_NONCONFORMING = (Result.PARTLY, Result.DOES_NOT)


class _Results:
    """Each verification's results as one text, CODE:result joined by 、 in
    their order (what the results field shows): a correlated sub-query of
    the export's statement, made when it is built (SQLite before 3.44 has
    no ORDER BY inside group_concat: it aggregates an ordered sub-query)."""

    def __clause_element__(self):
        text = Clause.code.concat(":").concat(type_coerce(VerificationResult.result, String))
        mine = VerificationResult.verification_id == Verification.id
        if db.engine.dialect.name == "sqlite":
            ordered = (select(text.label("text")).join(VerificationResult.clause).where(mine)
                       .order_by(VerificationResult.id).correlate(Verification).subquery())
            return select(func.group_concat(ordered.c.text, "、")).scalar_subquery()
        return (select(aggregate_order_by(func.string_agg(text, literal("、")), VerificationResult.id))
                .join(VerificationResult.clause).where(mine).scalar_subquery())


# How many of a verification's results are 一部不適合 or 不適合, as a correlated sub-query.
_NONCONFORMING_COUNT = (select(func.count()).where(VerificationResult.verification_id == Verification.id,
                                                   VerificationResult.result.in_(_NONCONFORMING))
                        .correlate(Verification).scalar_subquery())


VERIFICATION_FIELDS = [
    Field("id", "ID", lambda v: v.id, kind="integer", width=7, read_only=True, source=Verification.id),
    Field("contract_id", "契約ID", lambda v: v.contract_id, kind="integer", width=7, required=True,
          source=Verification.contract_id),
    Field("contract", "契約", _contract, width=36, required=True, source=_CONTRACT_NAME),
    Field("vendor", "委託事業者", lambda v: v.contract.vendor.name, width=28, required=True, source=Vendor.name),
    Field("performed_on", "確認日", lambda v: v.performed_on, kind="date", width=12, required=True,
          source=Verification.performed_on),
    Field("method", "方法", lambda v: v.method, kind="enum", enum=Method, width=10, required=True,
          source=Verification.method),
    Field("verifier", "確認者", lambda v: v.verifier.display_name, width=14, required=True, source=User.display_name),
    Field("status", "状態", lambda v: v.status, kind="enum", enum=VerificationStatus, width=9, required=True,
          source=Verification.status),
    Field("submitted_at", "提出日時", lambda v: v.submitted_at, kind="datetime", width=19,
          source=Verification.submitted_at),
    Field("corrects_id", "訂正対象の確認ID", lambda v: v.corrects_id, kind="integer", width=9,
          source=Verification.corrects_id),
    Field("conclusion", "結論", lambda v: v.conclusion, width=30, source=Verification.conclusion),
    Field("remarks", "備考", lambda v: v.remarks, width=24, source=Verification.remarks),
    Field("nonconforming", "不適合・一部不適合", lambda v: sum(
        1 for r in v.results if r.result in _NONCONFORMING), kind="integer", width=10,
        required=True, source=_NONCONFORMING_COUNT),
    Field("results", "結果", lambda v: [f"{r.clause.code}:{r.result.value}" for r in v.results], many=True,
          width=40, description="each clause checked, as CODE:result (" + ", ".join(r.value for r in Result) + ")",
          source=_Results()),
    Field("updated_at", "更新日時", lambda v: v.updated_at, kind="datetime", width=19, required=True,
          source=Verification.updated_at),
]


def _verification_row_joins(stmt: Select) -> Select:
    """The tables the verification export's columns read beyond the verification and its contract."""
    return stmt.join(Contract.vendor).join(Verification.verifier)

VERIFICATIONS = ListView(
    search=[Contract.number, Contract.title],
    filters={"status": enum_filter(Verification.status, VerificationStatus),
             "contract": id_filter(Verification.contract_id), "unit": id_filter(Contract.unit_id)},
    sorts={"performed": Verification.performed_on, "contract": Contract.number, "updated": Verification.updated_at},
    default_sort="performed", default_desc=True,
)


def _verifications():
    return select(Verification).join(Verification.contract).options(
        contains_eager(Verification.contract).selectinload(Contract.vendor), selectinload(Verification.verifier),
        selectinload(Verification.results).selectinload(VerificationResult.clause))


class _Overdue:
    """The overdue flag as SQL (contracts.verification.overdue_measures),
    made when an export's statement is built: "today" is the export's day."""

    def __clause_element__(self):
        return checks.overdue_measures()


FINDING_FIELDS = [
    Field("id", "ID", lambda f: f.id, kind="integer", width=7, read_only=True, source=Finding.id),
    Field("verification_id", "確認ID", lambda f: f.verification_id, kind="integer", width=7, required=True,
          source=Finding.verification_id),
    Field("contract_id", "契約ID", lambda f: f.contract_id, kind="integer", width=7, required=True,
          source=Finding.contract_id),
    Field("contract", "契約", _contract, width=36, required=True, source=_CONTRACT_NAME),
    Field("clause", "条項", lambda f: f.clause.code, width=8, required=True, source=Clause.code),
    Field("severity", "程度", lambda f: f.severity, kind="enum", enum=Result, width=10, required=True,
          source=Finding.severity),
    Field("measure", "措置の内容", lambda f: f.measure, width=40, required=True, source=Finding.measure),
    Field("owner", "措置の担当", lambda f: f.owner.display_name if f.owner else None, width=14,
          source=User.display_name),
    Field("due_on", "期限", lambda f: f.due_on, kind="date", width=12, required=True, source=Finding.due_on),
    Field("status", "状態", lambda f: f.status, kind="enum", enum=MeasureStatus, width=10, required=True,
          source=Finding.status),
    Field("overdue", "期限超過", lambda f: f.is_open and f.due_on < today(), kind="boolean", width=8,
          source=_Overdue()),
    Field("reported_at", "完了報告日時", lambda f: f.reported_at, kind="datetime", width=19,
          source=Finding.reported_at),
    Field("closure_note", "完了報告", lambda f: f.closure_note, width=30, source=Finding.closure_note),
    Field("accepted_at", "確認日時", lambda f: f.accepted_at, kind="datetime", width=19, source=Finding.accepted_at),
    Field("updated_at", "更新日時", lambda f: f.updated_at, kind="datetime", width=19, required=True,
          source=Finding.updated_at),
]


def _finding_row_joins(stmt: Select) -> Select:
    """The tables the finding export's columns read beyond the finding."""
    return stmt.join(Finding.contract).join(Finding.clause).outerjoin(Finding.owner)


def _findings():
    return select(Finding).options(selectinload(Finding.contract), selectinload(Finding.clause),
                                   selectinload(Finding.owner))


def registers() -> list[Register]:
    return [
        Register(name="contracts", title=_l("契約"), model=Contract, fields=CONTRACT_FIELDS, query=_contracts,
                 list_view=LIST, readers=CONTRACT_READERS, writers=frozenset({Role.PROCUREMENT}),
                 form=contract_form, save=services.save_from_form, match=_match_contract, key_label=_l("契約番号"),
                 retire=services.end, endpoint="contracts.detail", list_endpoint="contracts.index",
                 summary=lambda c: f"{c.number} {c.title}", row_joins=_contract_row_joins),
        Register(name="verifications", title=_l("確認の記録"), model=Verification, fields=VERIFICATION_FIELDS,
                 query=_verifications, list_view=VERIFICATIONS, readers=CONTRACT_READERS,
                 url_prefix="/verification/records", endpoint="verification.detail",
                 list_endpoint="verification.index", row_joins=_verification_row_joins),
        Register(name="findings", title=_l("指摘事項と措置"), model=Finding, fields=FINDING_FIELDS, query=_findings,
                 list_view=FINDINGS, readers=CONTRACT_READERS,
                 url_prefix="/verification/findings", endpoint="verification.finding",
                 list_endpoint="verification.findings", row_joins=_finding_row_joins),
    ]
