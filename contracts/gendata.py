"""The generated data set's contracts (core/gendata.py runs this generator
after the vendors'): every status and kind, with their clause matrices,
verifications (mostly submitted, some drafts), results and findings, and
the disposal record (C09) of every ended or terminated contract above
自治体機密性1, as the contract rules require."""
from __future__ import annotations

import datetime as dt
import io

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from contracts import due, gaps
from contracts.models import (
    Clause,
    ClauseState,
    Contract,
    ContractClause,
    ContractKind,
    ContractStatus,
    Disposal,
    Finding,
    MeasureStatus,
    Method,
    Result,
    Subcontracting,
    Verification,
    VerificationResult,
    VerificationStatus,
)
from contracts.rules import CLASS3_METHODS, CONFIRMED, DISPOSAL_METHODS
from core import files
from core.db import db
from core.demo import DEMO_PDF
from core.gendata import Plan, insert, next_id
from core.models import ClassificationLevel

WORKS = ("保守", "運用", "開発", "点検", "賃貸借", "データ入力", "監視", "移行", "構築")
SYSTEMS = ("消防指令システム", "財務会計システム", "文書管理システム", "庁内ネットワーク", "住民向けサイト",
           "救急搬送支援システム", "人事給与システム", "グループウェア", "防災情報システム", "ファイルサーバ")


def generate(plan: Plan) -> None:
    rng, now, on, stamps = plan.rng, plan.now, plan.on, plan.stamps
    vendor_ids, people, confidentiality = plan.ids["vendors"], plan.people, plan.confidentiality
    clauses = db.session.scalars(select(Clause).where(Clause.active).order_by(Clause.sort_order)).all()

    # contracts (every status and kind) with their clause matrices
    first_contract = next_id(Contract)
    contract_statuses = ([ContractStatus.IN_FORCE] * 5 + [ContractStatus.SIGNED] * 2
                         + [ContractStatus.DRAFT, ContractStatus.ENDED, ContractStatus.TERMINATED])

    # personal information only at the class-3 tier (core.classification, MIC R6.10)
    class3 = {plan.levels[code] for code in ("C3A", "C3B", "C3C") if code in plan.levels}

    ranks = dict(db.session.execute(select(ClassificationLevel.id, ClassificationLevel.rank)).all())
    class3_rank = ranks.get(plan.levels.get("C3C"), 3)
    closed = []  # (contract id, level, end, officer): ended or terminated above class 1

    selections = plan.ids.get("selections", {})
    chosen = list(selections)

    def _selection(vendor: int, status: ContractStatus, start: dt.date, officer: int) -> dict:
        """A signed contract is covered by its vendor's selection, confirmed
        for it by its officer (issue 17); a draft, not yet."""
        if status is ContractStatus.DRAFT or vendor not in selections:  # every row has the same columns
            return dict.fromkeys(("selection_id", "selection_basis", "selection_comment", "selection_confirmed_by_id",
                                  "selection_confirmed_on"))
        return {"selection_id": selections[vendor], "selection_basis": CONFIRMED,
                "selection_comment": "事業者の選定記録が本契約の業務を含むため", "selection_confirmed_by_id": officer,
                "selection_confirmed_on": min(start, on)}

    def contract_rows():
        for i in range(plan.contracts):
            start = on - dt.timedelta(days=rng.randint(0, 1500))
            level = rng.choice(confidentiality)
            status, end, officer = rng.choice(contract_statuses), start + dt.timedelta(
                days=rng.choice((364, 729, 1094))), rng.choice(people)
            if status in (ContractStatus.ENDED, ContractStatus.TERMINATED) and ranks.get(level, 0) > 1:
                closed.append((first_contract + i, level, end, officer))
            # a contract is signed only with a vendor that was selected (a candidate's stays a draft)
            vendor = rng.choice(chosen if status is not ContractStatus.DRAFT and chosen else vendor_ids)
            yield {"number": f"G{i:07d}", "title": f"{rng.choice(SYSTEMS)}{rng.choice(WORKS)}業務委託",
                   "vendor_id": vendor, "kind": rng.choice(list(ContractKind)),
                   "unit_id": rng.choice(plan.units), "officer_id": officer, "start_on": start, "end_on": end,
                   "classification_id": level, "handles_personal_info": level in class3 and rng.random() < 0.8,
                   "handles_my_number": False, "subcontracting": rng.choice(list(Subcontracting)),
                   "status": status, **_selection(vendor, status, start, officer), **stamps}

    plan.tick("contracts", insert(Contract, contract_rows()))
    contract_ids = plan.ids["contracts"] = range(first_contract, first_contract + plan.contracts)

    # the disposal record (C09) of each ended or terminated contract above class 1: a method that fits
    # its class (class 3: erasure or destruction), done by its end at the latest.  One stored
    # certificate is shared by all of them (one file on disk, not thousands).
    if closed:
        evidence = files.store(FileStorage(io.BytesIO(DEMO_PDF), filename="消去証明書（生成データ）.pdf"))
        first_disposal = next_id(Disposal)
        plan.tick("disposals", insert(Disposal, (
            {"contract_id": cid, "done_on": min(end, on),
             "kind": rng.choice(CLASS3_METHODS if ranks[level] >= class3_rank else DISPOSAL_METHODS),
             "method": "委託事業者の環境の情報を消去し、証明書を受領", "evidence_id": evidence.id,
             "recorded_by_id": officer, **stamps} for cid, level, end, officer in closed)))
        plan.created("disposals", range(first_disposal, first_disposal + len(closed)))

    def clause_rows():
        for cid in contract_ids:
            for n, clause in enumerate(clauses):
                roll = rng.random()
                state = (ClauseState.INCLUDED if n < 12 or roll < 0.55
                         else ClauseState.NOT_INCLUDED if roll < 0.7 else ClauseState.NOT_APPLICABLE)
                yield {"contract_id": cid, "clause_id": clause.id, "state": state,
                       "article": f"第{n + 5}条" if state is ClauseState.INCLUDED else None,
                       "reason": "業務内容から該当しない" if state is ClauseState.NOT_APPLICABLE else None, **stamps}

    plan.tick("contract_clauses", insert(ContractClause, clause_rows()))
    gaps.refresh(db.session.connection(), set(contract_ids))  # bulk rows pass no ORM event

    # verifications (mostly submitted, some drafts), results and findings
    first_verification = next_id(Verification)
    verification_contracts = [rng.choice(contract_ids) for _ in range(plan.verifications)]

    def verification_rows():
        for cid in verification_contracts:
            draft = rng.random() < 0.05
            yield {"contract_id": cid, "performed_on": on - dt.timedelta(days=rng.randint(0, 1400)),
                   "method": rng.choice(list(Method)), "verifier_id": rng.choice(people),
                   "status": VerificationStatus.DRAFT if draft else VerificationStatus.SUBMITTED,
                   "submitted_at": None if draft else now, **stamps}

    plan.tick("verifications", insert(Verification, verification_rows()))
    due.refresh(db.session.connection(), set(contract_ids))
    checked = clauses[:10]
    first_result = next_id(VerificationResult)

    def result_rows():
        for offset in range(plan.verifications):
            for clause in checked:
                roll = rng.random()
                result = (Result.CONFORMS if roll < 0.95 else Result.PARTLY if roll < 0.985
                          else Result.DOES_NOT if roll < 0.99 else Result.NOT_APPLICABLE)
                yield {"verification_id": first_verification + offset, "clause_id": clause.id, "result": result,
                       "comment": None if result is Result.CONFORMS else "記録の一部が未提出"}

    plan.tick("verification_results", insert(VerificationResult, result_rows()))
    bad = db.session.execute(select(VerificationResult.id, VerificationResult.verification_id,
                                    VerificationResult.clause_id)
                             .where(VerificationResult.id >= first_result,
                                    VerificationResult.result.in_((Result.PARTLY, Result.DOES_NOT)))).all()
    measure_statuses = [MeasureStatus.OPEN] * 3 + list(MeasureStatus)
    plan.tick("findings", insert(Finding, (
        {"verification_id": vid, "result_id": rid,
         "contract_id": verification_contracts[vid - first_verification], "clause_id": clause_id,
         "severity": Result.PARTLY, "measure": "未提出の記録を提出し、手順を見直すこと",
         "owner_id": rng.choice(people), "due_on": on + dt.timedelta(days=rng.randint(-90, 120)),
         "status": rng.choice(measure_statuses), **stamps} for rid, vid, clause_id in bad)))
    plan.ids["verifications"] = range(first_verification, first_verification + plan.verifications)
    plan.created("contracts", contract_ids)
    plan.created("verifications", plan.ids["verifications"])
