"""Verifications and findings as read-only registers (core.registers) for
the JSON API: their readers list and read them; they are recorded only
through the pages, where the verification workflow runs."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from contracts import verification_views
from contracts.models import (
    Finding,
    MeasureStatus,
    Method,
    Result,
    Verification,
    VerificationResult,
    VerificationStatus,
)
from core.auth import CONTRACT_READERS
from core.lists import ListView, enum_filter, id_filter
from core.registers import Field, Register
from core.timeutil import today


def _contract(record) -> str:
    return str(record.contract)


VERIFICATION_FIELDS = [
    Field("id", "ID", lambda v: v.id, kind="integer", read_only=True),
    Field("contract_id", "契約ID", lambda v: v.contract_id, kind="integer", required=True),
    Field("contract", "契約", _contract, required=True),
    Field("performed_on", "確認日", lambda v: v.performed_on, kind="date", required=True),
    Field("method", "方法", lambda v: v.method, kind="enum", enum=Method, required=True),
    Field("verifier", "確認者", lambda v: v.verifier.display_name, required=True),
    Field("status", "状態", lambda v: v.status, kind="enum", enum=VerificationStatus, required=True),
    Field("submitted_at", "提出日時", lambda v: v.submitted_at, kind="datetime"),
    Field("corrects_id", "訂正対象の確認ID", lambda v: v.corrects_id, kind="integer"),
    Field("conclusion", "結論", lambda v: v.conclusion),
    Field("remarks", "備考", lambda v: v.remarks),
    Field("results", "結果", lambda v: [f"{r.clause.code}:{r.result.value}" for r in v.results], many=True,
          description="each clause checked, as CODE:result (" + ", ".join(r.value for r in Result) + ")"),
    Field("updated_at", "更新日時", lambda v: v.updated_at, kind="datetime", required=True),
]

FINDING_FIELDS = [
    Field("id", "ID", lambda f: f.id, kind="integer", read_only=True),
    Field("verification_id", "確認ID", lambda f: f.verification_id, kind="integer", required=True),
    Field("contract_id", "契約ID", lambda f: f.contract_id, kind="integer", required=True),
    Field("contract", "契約", _contract, required=True),
    Field("clause", "条項", lambda f: f.clause.code, required=True),
    Field("severity", "判定", lambda f: f.severity, kind="enum", enum=Result, required=True),
    Field("measure", "措置", lambda f: f.measure, required=True),
    Field("owner", "担当者", lambda f: f.owner.display_name if f.owner else None),
    Field("due_on", "期限", lambda f: f.due_on, kind="date", required=True),
    Field("status", "状態", lambda f: f.status, kind="enum", enum=MeasureStatus, required=True),
    Field("overdue", "期限超過", lambda f: f.is_open and f.due_on < today(), kind="boolean"),
    Field("reported_at", "完了報告日時", lambda f: f.reported_at, kind="datetime"),
    Field("closure_note", "完了報告", lambda f: f.closure_note),
    Field("accepted_at", "確認日時", lambda f: f.accepted_at, kind="datetime"),
    Field("updated_at", "更新日時", lambda f: f.updated_at, kind="datetime", required=True),
]

VERIFICATIONS = ListView(
    filters={"contract": id_filter(Verification.contract_id),
             "status": enum_filter(Verification.status, VerificationStatus)},
    sorts={"performed": Verification.performed_on, "updated": Verification.updated_at},
    default_sort="performed", default_desc=True,
)


def registers() -> list[Register]:
    return [
        Register(
            name="verifications", title=_l("確認"), model=Verification, fields=VERIFICATION_FIELDS,
            query=lambda: select(Verification).options(
                selectinload(Verification.contract), selectinload(Verification.verifier),
                selectinload(Verification.results).selectinload(VerificationResult.clause)),
            list_view=VERIFICATIONS, readers=CONTRACT_READERS),
        Register(
            name="findings", title=_l("指摘事項・措置"), model=Finding, fields=FINDING_FIELDS,
            query=lambda: select(Finding).options(
                selectinload(Finding.contract), selectinload(Finding.clause), selectinload(Finding.owner)),
            list_view=verification_views.FINDINGS, readers=CONTRACT_READERS),
    ]
