"""The contract items' inspection facts at a prefecture's scale (issue 21):
counted in the database, they say what counting the records one by one
says (the way they were counted before: every live contract loaded with
its clause matrix) — for the whole body and for a unit, on the demo with a
generated data set, clause exceptions (one expired), a pending
subcontractor request and a contract without a class."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from contracts import documents, verification
from contracts.documents import _chunks, _matrices
from contracts.models import (
    ClauseState,
    Contract,
    ContractStatus,
    Finding,
    MeasureStatus,
    Subcontractor,
    SubcontractorStatus,
)
from contracts.rules import EXCEPTION, LIVE, active_clauses
from contracts.schedule import DueState
from core.approvals import Approval, Decision
from core.db import db
from core.gendata import generate
from core.inspection import Fact, Scope
from core.timeutil import fiscal_year, today
from tests import factories
from vendors.models import Selection

_l = str  # the links' labels are compared as text


def by_record(scope: Scope) -> dict[str, Fact]:
    """The facts as they were counted before issue 21: every contract loaded."""
    unit = scope.unit_id
    live = select(Contract).where(Contract.status.in_(LIVE))
    if unit:
        live = live.where(Contract.unit_id == unit)
    contracts = db.session.scalars(live.options(selectinload(Contract.subcontractors))).all()
    matrices: dict[int, dict[int, tuple]] = {}
    for chunk in _chunks([c.id for c in contracts]):
        matrices.update(_matrices(chunk))
    catalogue = active_clauses()
    # OUT-02: every mandatory clause (the base set at every level, by level,
    # kind, access, personal data) is missing unless an approved exception that has not expired covers it
    excepted: dict[int, set[str]] = defaultdict(set)
    for chunk in _chunks([c.id for c in contracts]):
        for subject_id, details in db.session.execute(select(Approval.subject_id, Approval.details).where(
                Approval.kind == EXCEPTION, Approval.subject_type == Contract.__tablename__,
                Approval.decision == Decision.APPROVED, Approval.subject_id.in_(chunk),
                or_(Approval.expires_on.is_(None), Approval.expires_on >= today()))):  # expired: no longer covers
            excepted[subject_id] |= set((details or {}).get("clauses", []))
    missing: dict[str, int] = defaultdict(int)
    with_gaps = 0
    for contract in contracts:
        included = {clause_id for clause_id, (state, _article) in matrices.get(contract.id, {}).items()
                    if state is ClauseState.INCLUDED}
        gaps = [c.code for c in catalogue if c.is_mandatory_for(contract) and c.id not in included
                and c.code not in excepted[contract.id]]
        with_gaps += bool(gaps)
        for code in gaps:
            missing[code] += 1
    signed = [c for c in contracts if c.status is not ContractStatus.DRAFT]
    # OUT-01, per contract (issue 17): a positive selection of the contract's
    # vendor is linked to it (recorded for it, or the vendor's confirmed for it).
    covered: set[int] = set()
    for chunk in _chunks([c.id for c in signed]):
        covered |= {contract_id for contract_id, selection in db.session.execute(
            select(Contract.id, Selection).join(Selection, Selection.id == Contract.selection_id)
            .where(Contract.id.in_(chunk), Selection.vendor_id == Contract.vendor_id)
            .options(selectinload(Selection.approval))) if selection.is_positive}
    rows = verification.schedule(verification.contracts_under_verification(unit))
    overdue = sum(1 for row in rows if row.state is DueState.OVERDUE)
    findings = select(Finding).where(Finding.status != MeasureStatus.ACCEPTED)
    if unit:
        findings = findings.join(Contract, Contract.id == Finding.contract_id).where(Contract.unit_id == unit)
    open_findings = db.session.scalars(findings).all()
    late = sum(1 for f in open_findings if f.due_on < today())
    # Ended in the year by their end date; terminated (解除) whatever their
    # planned end date, once begun by the year's end (issue 17).
    ended = select(Contract).where(or_(
        and_(Contract.status == ContractStatus.ENDED, Contract.end_on >= scope.start, Contract.end_on <= scope.end),
        and_(Contract.status == ContractStatus.TERMINATED,
             or_(Contract.start_on.is_(None), Contract.start_on <= scope.end))))
    if unit:
        ended = ended.where(Contract.unit_id == unit)
    ended_contracts = db.session.scalars(ended.options(selectinload(Contract.disposal),
                                                       selectinload(Contract.classification))).all()
    no_disposal = [c for c in ended_contracts
                   if c.disposal is None and c.classification is not None and c.classification.rank > 1]
    # OUT-04: only approved subcontractors count (C08); requests awaiting a decision are named apart.
    subcontracted = sum(1 for c in contracts if c.approved_subcontractors)
    awaiting = sum(1 for c in contracts for s in c.subcontractors if s.status is SubcontractorStatus.PENDING)
    unclassified = sum(1 for c in contracts if c.classification_id is None)
    breakdown = "、".join(f"{code}: {n}件" for code, n in sorted(missing.items()))
    scoped = {"unit": unit} if unit else {}
    return {
        "OUT-01": Fact(f"締結済・履行中 {len(signed)}件中 {sum(1 for c in signed if c.id not in covered)}件に"
                       f"契約を対象とする選定の記録なし", [(_l("契約の一覧"), "contracts.index", scoped)]),
        "OUT-02": Fact(f"有効な契約 {len(contracts)}件中 {with_gaps}件に必須条項の不足" + (f"（{breakdown}）" if breakdown else ""),
                       [(_l("必須条項の不足がある契約"), "contracts.index", {"gaps": "yes", **scoped})]),
        "OUT-03": Fact(f"確認の対象 {len(rows)}件中 {overdue}件が確認期限超過",
                       [(_l("確認期限超過の契約"), "verification.index", {"state": DueState.OVERDUE.value, **scoped})]),
        "OUT-04": Fact(f"承認済みの再委託先がある契約 {subcontracted}件" + (f"（承認待ちの申請 {awaiting}件）" if awaiting else ""),
                       [(_l("承認待ちの再委託"), "contracts.subcontractor_requests")] if awaiting else []),
        "OUT-05": Fact(f"未完了の措置 {len(open_findings)}件（うち期限超過 {late}件）",
                       [(_l("期限超過の措置"), "verification.findings", {"overdue": "yes"})] if late else
                       [(_l("措置の一覧"), "verification.findings")]),
        "OUT-06": Fact(f"年度内に終了した契約・解除した契約 {len(ended_contracts)}件中 {len(no_disposal)}件に返却・廃棄の記録なし",
                       [(f"{c.number}", "contracts.detail", {"contract_id": c.id}) for c in no_disposal[:5]]),
        "CLS-01": Fact(f"有効な契約 {len(contracts)}件中 {unclassified}件に機密性の分類なし",
                       [(_l("契約の一覧"), "contracts.index", scoped)]),
    }


def _same(found: dict, expected: dict) -> None:
    assert set(found) == set(expected)
    for code in expected:
        assert str(found[code]) == str(expected[code]), code
        assert [(str(link.label), link.endpoint, link.params) for link in found[code].links] == \
               [(str(link.label), link.endpoint, link.params) for link in expected[code].links], code


def test_the_facts_counted_in_the_database_equal_the_records_counted_one_by_one(demo):
    with demo.app_context():
        generate(30, 400, 200, report=lambda _line: None)
        factories.contract("EXC-001", status=ContractStatus.IN_FORCE, left_out=("C12",))
        lapsed = factories.contract("EXC-002", status=ContractStatus.IN_FORCE, left_out=("C11",))
        for approval in db.session.scalars(select(Approval).where(Approval.kind == EXCEPTION,
                                                                  Approval.subject_id == lapsed.id)):
            approval.expires_on = today() - dt.timedelta(days=1)
        factories.contract("NOCLASS-1", status=ContractStatus.DRAFT, classification=None)
        for n, status in enumerate((SubcontractorStatus.PENDING, SubcontractorStatus.APPROVED)):
            sub = factories.contract(f"SUB-00{n}", status=ContractStatus.IN_FORCE)
            db.session.add(Subcontractor(contract_id=sub.id, name=f"再委託先{n}", status=status))
        db.session.flush()
        year = fiscal_year(today())
        unit = db.session.scalar(select(Contract.unit_id).where(Contract.unit_id.is_not(None),
                                                                 Contract.has_gap).limit(1))
        for scope in (Scope(year), Scope(year, unit), Scope(year - 1)):
            _same(documents.facts(scope), by_record(scope))
        assert str(documents.facts(Scope(year, unit))) != str(documents.facts(Scope(year)))  # a unit's own
        db.session.rollback()
