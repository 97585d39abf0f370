"""Contracts as records an audit plan may name (assurance.audits, policy §7):
their responsible person is the contract's officer (担当者)."""
from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from contracts.forms import (
    ClauseForm,
    ClauseRowForm,
    ContractForm,
    DisposalForm,
    ResultRowForm,
    SubcontractorEndForm,
    SubcontractorForm,
    VerificationForm,
)
from contracts.models import Clause, Contract, ContractAmendment, ContractClause, ContractStatus, VerificationNote
from core import measures
from core.db import db
from core.i18n import locale_code
from core.incidents import CONTRACT, MEASURE_SOURCE
from core.models import ClassificationLevel
from core.plugins import Auditable, AuditRecord, IncidentSubject
from core.timeutil import today
from vendors.models import Vendor

# Contracts an auditor still looks at: not drafts nobody signed.
_AUDITABLE = (ContractStatus.SIGNED, ContractStatus.IN_FORCE, ContractStatus.ENDED, ContractStatus.TERMINATED)


def _choices() -> list:
    rows = db.session.execute(select(Contract.id, Contract.number, Contract.title).where(
        Contract.status.in_(_AUDITABLE)).order_by(Contract.number)).all()
    return [(row.id, f"{row.number} {row.title}") for row in rows]


def _rows(ids):
    ids = list(ids)
    return db.session.execute(select(Contract.id, Contract.number, Contract.title, Contract.officer_id).where(
        Contract.id.in_(ids))).all() if ids else []


def _responsible(ids) -> dict:
    return {row.id: {row.officer_id} - {None} for row in _rows(ids)}


def _describe(ids) -> dict:
    return {row.id: f"{row.number} {row.title}" for row in _rows(ids)}


def auditable() -> Auditable:
    return Auditable(kind="contracts", order=20, label=_l("契約"), choices=_choices, responsible=_responsible,
                     describe=_describe, endpoint="contracts.detail", param="contract_id")


# --- as what an incident concerns (core.incidents, issue 19) -----------------------------------

def _units(ids) -> dict:
    ids = list(ids)
    return dict(db.session.execute(select(Contract.id, Contract.unit_id).where(
        Contract.id.in_(ids))).all()) if ids else {}


def _classification(ids) -> dict:
    ids = list(ids)
    return dict(db.session.execute(select(Contract.id, ClassificationLevel.rank).outerjoin(
        ClassificationLevel, ClassificationLevel.id == Contract.classification_id).where(
        Contract.id.in_(ids))).all()) if ids else {}


def _incident_choices() -> list:
    """Every contract but a draft, with its vendor: an incident may come after the end."""
    rows = db.session.execute(select(Contract.id, Contract.number, Contract.title, Vendor.name).join(
        Vendor, Vendor.id == Contract.vendor_id).where(Contract.status != ContractStatus.DRAFT)
        .order_by(Contract.number)).all()
    return [(row.id, f"{row.number} {row.title}（{row.name}）") for row in rows]


def incident_subject() -> IncidentSubject:
    return IncidentSubject(kind=CONTRACT, order=20, label=_l("契約"), choices=_incident_choices,
                           describe=_describe, units=_units, responsible=_responsible,
                           classification=_classification, report_hours=_report_hours, late_report=_late_report,
                           closed=_closed, endpoint="contracts.detail", param="contract_id")


# A measure a late contractor report opens against the contract is due in this many days.
LATE_REPORT_MEASURE_DAYS = 30


def _report_hours(ids) -> dict:
    """C10: the contractor reports an incident within CONTRACTOR_REPORT_HOURS
    of detecting it (no contract here states another period)."""
    hours = current_app.config["CONTRACTOR_REPORT_HOURS"]
    return {contract_id: hours for contract_id in ids}


def _late_report(incident) -> measures.Measure | None:
    """The contractor reported late (C10): an improvement measure against the
    contract, owned by its officer, due in 30 days (core.measures)."""
    contract = db.session.get(Contract, incident.subject_id)
    if contract is None:
        return None
    hours = current_app.config["CONTRACTOR_REPORT_HOURS"]
    return measures.open_measure(
        source_type=MEASURE_SOURCE, source_id=incident.id,
        title=_("契約 %(contract)s：事案 %(number)s の受託者報告が期限（%(hours)s時間）を過ぎた（C10）",
                contract=contract.number, number=incident.number, hours=hours),
        measure=_("受託者に報告体制の改善を求め、改善を確認する（契約 %(contract)s、C10 事故報告）",
                  contract=contract.number),
        due_on=today() + dt.timedelta(days=LATE_REPORT_MEASURE_DAYS), owner_id=contract.officer_id,
        unit_id=contract.unit_id)


def _closed(incident) -> VerificationNote | None:
    """A closed incident of the contract: its next verification checks the fix."""
    if db.session.get(Contract, incident.subject_id) is None:
        return None
    note = VerificationNote(contract_id=incident.subject_id, incident_id=incident.id,
                            incident_number=incident.number,
                            text=_("事案 %(number)s「%(title)s」の再発防止策が実施されているか確認する：%(prevention)s",
                                   number=incident.number, title=incident.title, prevention=incident.prevention or ""))
    db.session.add(note)
    db.session.flush()
    return note


# --- as the audit trail shows them (core.audit_display, issue 20) ------------------------------

def _clause_names(ids) -> dict:
    """条項 C20 個人情報取扱特記事項, in the reader's language."""
    ids, locale = list(ids), locale_code()
    rows = db.session.execute(select(Clause.id, Clause.code, Clause.label_ja, Clause.label_en).where(
        Clause.id.in_(ids))).all() if ids else []
    return {row.id: f"{row.code} {row.label_en if locale.startswith('en') else row.label_ja}" for row in rows}


def _clause_row_names(ids) -> dict:
    """A row of a contract's matrix, named by its clause."""
    ids, locale = list(ids), locale_code()
    rows = db.session.execute(select(ContractClause.id, Clause.code, Clause.label_ja, Clause.label_en).join(
        Clause, Clause.id == ContractClause.clause_id).where(ContractClause.id.in_(ids))).all() if ids else []
    return {row.id: f"{row.code} {row.label_en if locale.startswith('en') else row.label_ja}" for row in rows}


def _amendment_names(ids) -> dict:
    ids = list(ids)
    rows = db.session.execute(select(ContractAmendment.id, ContractAmendment.number, Contract.number.label("contract"))
                              .join(Contract, Contract.id == ContractAmendment.contract_id)
                              .where(ContractAmendment.id.in_(ids))).all() if ids else []
    return {row.id: _("%(contract)s 第%(n)s回変更", contract=row.contract, n=row.number) for row in rows}


def _clause_row_summary(changes: dict) -> str | None:
    """A matrix row in short: 規定なし → 規定あり（第12条）, 該当なし（理由）."""
    state = changes.get("state")
    if state is None:
        return None
    text = f"{state.old or '—'} → {state.new or '—'}" if state.changed else (state.value or "—")
    for key in ("article", "reason"):
        change = changes.get(key)
        shown = change and (change.new if change.changed else change.value)
        if shown:
            text += f"（{shown}）"
    return text


def audit_records(house) -> None:
    """Contracts, their clause matrix, the catalogue, amendments and
    verifications, as the trail shows them: form labels, names, pages."""
    house.add_audit_record(AuditRecord(
        "contracts", forms=(ContractForm,), name=_describe, endpoint="contracts.detail", param="contract_id",
        labels={"signed_on": _l("締結日"), "signed_at": _l("締結を記録した日時"), "classification_id": _l("機密性"), "handles_personal_info": _l("個人情報"),
                "handles_my_number": _l("個人番号"), "system_access": _l("システムへのアクセス"),
                "has_gap": _l("必須条項の不足"), "verification_due_on": _l("次の確認期限"),
                "predecessor_id": _l("更新前の契約"), "selection_id": _l("選定記録"),
                "selection_basis": _l("選定の根拠"), "selection_comment": _l("選定の確認コメント"),
                "selection_confirmed_by_id": _l("選定の確認者"), "selection_confirmed_on": _l("選定の確認日"),
                "document_id": _l("契約書ファイル")},
        values={"selection_basis": {"contract": _l("この契約について記録した選定"),
                                    "vendor": _l("事業者の有効な選定の確認")}}))
    house.add_audit_record(AuditRecord("contract_clauses", forms=(ClauseRowForm,), name=_clause_row_names,
                                       labels={"clause_id": _l("条項")}, hidden=frozenset({"clause_id"}),
                                       summary=_clause_row_summary))
    house.add_audit_record(AuditRecord("clauses", forms=(ClauseForm,), name=_clause_names,
                                       labels={"mandatory_kinds": _l("必須とする契約の種別")}))
    house.add_audit_record(AuditRecord("subcontractors", forms=(SubcontractorForm, SubcontractorEndForm),
                                       labels={"name": _l("再委託先"), "requested_by_id": _l("申請者"),
                                               "approver_id": _l("承認者"), "approved_on": _l("承認日"),
                                               "document_id": _l("再委託承認申請書")}))
    house.add_audit_record(AuditRecord("disposals", forms=(DisposalForm,),
                                       labels={"kind": _l("方法"), "method": _l("内容"), "evidence_id": _l("証明書類"),
                                               "recorded_by_id": _l("記録者")}))
    house.add_audit_record(AuditRecord("contract_amendments", name=_amendment_names, parent="contract_id",
                                       labels={"number": _l("回"), "amended_on": _l("変更日"), "author_id": _l("起案者"),
                                               "approver_id": _l("承認者"), "changes": _l("変更内容")}))
    house.add_audit_record(AuditRecord("verifications", forms=(VerificationForm,), endpoint="verification.detail",
                                       param="verification_id",
                                       labels={"verifier_id": _l("確認者"), "submitted_at": _l("提出日時"),
                                               "corrects_id": _l("訂正対象の確認")}))
    house.add_audit_record(AuditRecord("verification_results", forms=(ResultRowForm,),
                                       labels={"clause_id": _l("条項")}))
    house.add_audit_record(AuditRecord("findings", endpoint="verification.finding", param="finding_id",
                                       labels={"clause_id": _l("条項"), "severity": _l("程度"),
                                               "measure": _l("措置の内容"), "owner_id": _l("措置の担当")}))
