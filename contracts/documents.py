"""Printable contract documents (core.pdf): the contract checklist and the
blank on-site verification sheet.  Built for many contracts at once with a
fixed number of queries, so the annual audit pack stays fast."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from flask_babel import lazy_gettext as _l
from reportlab.lib.units import mm
from reportlab.platypus import Spacer
from sqlalchemy import and_, func, join, or_, select, true
from sqlalchemy.orm import selectinload

from contracts import services, verification
from contracts.models import (
    AmendmentStatus,
    Clause,
    ClauseState,
    Contract,
    ContractAmendment,
    ContractClause,
    ContractingMethod,
    ContractStatus,
    Disposal,
    DisposalMethod,
    Finding,
    MeasureStatus,
    Method,
    Result,
    Subcontracting,
    Subcontractor,
    SubcontractorStatus,
    Verification,
    VerificationResult,
    VerificationStatus,
)
from contracts.rules import (
    EXCEPTION,
    FOR_CONTRACT,
    LIVE,
    active_clauses,
    exception_clauses,
    exception_expired,
    exception_holds,
    missing_clause_condition,
)
from contracts.schedule import DueState
from core import incidents
from core.approvals import Approval, Decision
from core.db import db
from core.incidents import CONTRACT
from core.inspection import Fact, Item, Scope
from core.inspection_items import MIC, OTHER
from core.models import ClassificationLevel
from core.pdf import BODY, H2, SMALL, Section, day, p, pairs, sign_off, table
from core.timeutil import JST, today
from vendors.documents import summary_sections
from vendors.models import Selection, SelectionDecision


def _load(ids: list[int]) -> list[Contract]:
    return db.session.scalars(select(Contract).where(Contract.id.in_(ids)).options(
        selectinload(Contract.vendor), selectinload(Contract.unit), selectinload(Contract.officer),
        selectinload(Contract.classification), selectinload(Contract.subcontractors),
        selectinload(Contract.disposal)).order_by(Contract.number)).all()


def _matrices(ids: list[int]) -> dict[int, dict[int, tuple]]:
    """contract → clause → (state, article): plain rows, not ORM objects (a
    pack reads twenty thousand of them)."""
    matrices: dict[int, dict[int, tuple]] = defaultdict(dict)
    for contract_id, clause_id, state, article in db.session.execute(select(
            ContractClause.contract_id, ContractClause.clause_id, ContractClause.state, ContractClause.article)
            .where(ContractClause.contract_id.in_(ids))):
        matrices[contract_id][clause_id] = (state, article)
    return matrices


def _latest_results(ids: list[int], scope: Scope | None = None) -> dict[tuple[int, int], tuple]:
    """(contract, clause) → (result, date, method, result id) of the newest
    submitted check (the newest performed within the scope's year, when the
    pack for a 年度 asks)."""
    stmt = (select(Verification.contract_id, VerificationResult.clause_id, VerificationResult.result,
                   Verification.performed_on, Verification.method, VerificationResult.id)
            .join(VerificationResult, VerificationResult.verification_id == Verification.id)
            .where(Verification.contract_id.in_(ids), Verification.status == VerificationStatus.SUBMITTED,
                   VerificationResult.result != Result.UNCHECKED))
    if scope is not None:
        stmt = stmt.where(Verification.performed_on >= scope.start, Verification.performed_on <= scope.end)
    rows = db.session.execute(stmt.order_by(Verification.performed_on, Verification.id)).all()
    return {(contract_id, clause_id): (result, on, method, result_id)
            for contract_id, clause_id, result, on, method, result_id in rows}


def _corrected(result_ids: list[int], scope: Scope | None = None) -> dict[int, dt.datetime]:
    """result id → when the measure of its finding was accepted (是正済み):
    by the year's end, when the pack for a 年度 asks."""
    stmt = select(Finding.result_id, Finding.accepted_at).where(
        Finding.result_id.in_(result_ids), Finding.status == MeasureStatus.ACCEPTED)
    if scope is not None:
        stmt = stmt.where(Finding.accepted_at < _year_end(scope))
    return dict(db.session.execute(stmt).all())


def _year_end(scope: Scope) -> dt.datetime:
    """The first moment (UTC, as stored) after the year, in Japan."""
    return (dt.datetime.combine(scope.end + dt.timedelta(days=1), dt.time(), tzinfo=JST)
            .astimezone(dt.UTC).replace(tzinfo=None))


def _year_start(scope: Scope) -> dt.datetime:
    return dt.datetime.combine(scope.start, dt.time(), tzinfo=JST).astimezone(dt.UTC).replace(tzinfo=None)


def _chunks(ids: list[int], size: int = 500):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def checklist_sections(ids: list[int], *, level: int = 0, scope: Scope | None = None) -> list[Section]:
    """契約点検表 for each contract: header, clause matrix with the latest
    result per clause, open findings, exceptions, subcontractors and the
    end-of-contract record.  For the pack of a 年度 (``scope``), the record
    of that year: the verifications performed in it, the results dated
    within it, and every finding of the year, open and closed."""
    catalogue = active_clauses()
    labels = {member: str(member.label) for enum in (ClauseState, Result, Method, ContractStatus, Subcontracting,
                                                     ContractingMethod)
              for member in enum}  # translated once, not once per cell
    sections = []
    on = today()
    for chunk in _chunks(ids):
        contracts = _load(chunk)
        matrices = _matrices(chunk)
        latest = _latest_results(chunk, scope)
        corrected = {}
        result_ids = [row[3] for row in latest.values() if row[0] in (Result.PARTLY, Result.DOES_NOT)]
        for part in _chunks(result_ids):
            corrected.update(_corrected(part, scope))
        findings = defaultdict(list)
        if scope is None:
            which = Finding.status != MeasureStatus.ACCEPTED
        else:  # raised in the year, or raised before and still open at its start
            which = or_(and_(Verification.performed_on >= scope.start, Verification.performed_on <= scope.end),
                        and_(Verification.performed_on < scope.start,
                             or_(Finding.status != MeasureStatus.ACCEPTED, Finding.accepted_at >= _year_start(scope))))
        for finding in db.session.scalars(select(Finding).join(Verification, Verification.id == Finding.verification_id)
                                          .where(Finding.contract_id.in_(chunk), which)
                                          .options(selectinload(Finding.clause)).order_by(Finding.due_on, Finding.id)):
            findings[finding.contract_id].append(finding)
        performed = defaultdict(list)
        if scope is not None:
            for verification_ in db.session.scalars(select(Verification).where(
                    Verification.contract_id.in_(chunk), Verification.status == VerificationStatus.SUBMITTED,
                    Verification.performed_on >= scope.start, Verification.performed_on <= scope.end)
                    .options(selectinload(Verification.verifier), selectinload(Verification.results),
                             selectinload(Verification.corrects))
                    .order_by(Verification.performed_on, Verification.id)):
                performed[verification_.contract_id].append(verification_)
        exceptions = defaultdict(list)
        for approval in db.session.scalars(select(Approval).where(
                Approval.kind == EXCEPTION, Approval.subject_type == Contract.__tablename__,
                Approval.subject_id.in_(chunk)).order_by(Approval.id)):
            exceptions[approval.subject_id].append(approval)
        amendments = defaultdict(list)
        for amendment in db.session.scalars(select(ContractAmendment).where(
                ContractAmendment.contract_id.in_(chunk), ContractAmendment.status == AmendmentStatus.APPROVED)
                .options(selectinload(ContractAmendment.approver)).order_by(ContractAmendment.number)):
            amendments[amendment.contract_id].append(amendment)
        open_incidents = incidents.open_lines(CONTRACT, chunk)
        for contract in contracts:
            sections.append(_checklist(contract, matrices[contract.id], catalogue, latest, findings[contract.id],
                                       exceptions[contract.id], on, level, labels, amendments[contract.id],
                                       corrected=corrected, performed=performed[contract.id] if scope else None,
                                       open_incidents=open_incidents.get(contract.id, [])))
    return sections


def _checklist(contract, matrix, catalogue, latest, findings, exceptions, on, level, labels,
               amendments=(), *, corrected=None, performed=None, open_incidents=()) -> Section:
    corrected = corrected or {}
    year = performed is not None  # the record of a 年度 (the pack)
    still_open = [f for f in findings if f.status is not MeasureStatus.ACCEPTED]
    # Only an approved exception that has not expired covers a clause; a
    # pending (承認待ち) or expired one is listed apart and never counted (issue 17).
    holding = [a for a in exceptions if exception_holds(a, on)]
    excepted = {code for a in holding for code in exception_clauses(a)}
    waiting = [a for a in exceptions if a.decision is Decision.PENDING]
    lapsed = [a for a in exceptions if exception_expired(a, on)]
    # One header block holds the summary too; findings and exceptions get
    # their own table only when there are some.
    if contract.disposal:
        disposal = (f"{day(contract.disposal.done_on)} {contract.disposal.method}"
                    f"（証明書類: {'あり' if contract.disposal.evidence_id else 'なし'}）")
        if contract.disposal.kind is DisposalMethod.HANDOVER and contract.successor is not None:
            disposal = f"{day(contract.disposal.done_on)} 後継契約へ引継ぎ（{contract.successor.number}） {contract.disposal.method}"
    else:
        disposal = "契約期間中（終了時に記録）" if contract.status in LIVE else "▲ 記録なし"
    late = sum(1 for f in still_open if f.due_on < on)
    flow = [pairs([
        ("契約番号・件名", f"{contract.number}　{contract.title}"),
        ("委託事業者", contract.vendor.name),
        ("契約期間", f"{day(contract.start_on)} 〜 {day(contract.end_on)}"),
        # The facts offices keep (issue 20).
        ("契約方法・契約金額（税込）", f"{labels[contract.method] if contract.method else '—'}・"
                                 f"{_yen(contract.amount)}"),
        ("締結日", day(contract.signed_on)),
        ("受託者側責任者", (contract.contractor_manager or "—")
         + (f"（{contract.contractor_manager_contact}）" if contract.contractor_manager_contact else "")),
        ("予算科目", contract.budget_item or "—"),
        ("機密性", contract.classification.label_ja if contract.classification else "—"),
        ("個人情報", "取り扱う" + ("（個人番号を含む）" if contract.handles_my_number else "")
         if contract.handles_personal_info else "取り扱わない"),
        ("担当組織・担当者", f"{contract.unit.name if contract.unit else '—'}・"
                          f"{contract.officer.display_name if contract.officer else '—'}"),
        ("状態", labels[contract.status]),
        ("選定記録", _selection_text(contract)),
        ("未完了の指摘事項と措置", f"{len(still_open)}件" + (f"（うち期限超過 {late}件）" if late else "")
         if still_open else "なし"),
        ("対応中の事故", "\n".join(open_incidents) or "なし"),
        ("必須条項の例外", "、".join(f"{', '.join(exception_clauses(a))}（{_until(a)}）" for a in holding) or "なし"),
        *([("例外の申請", "、".join(
            [f"{', '.join(exception_clauses(a))} 承認待ち（例外として扱わない）" for a in waiting]
            + [f"{', '.join(exception_clauses(a))} 期限切れ（{day(a.expires_on)}まで）" for a in lapsed]))]
          if waiting or lapsed else []),
        # Only approved subcontractors are the contract's (C08); those ended are shown as ended, requests never.
        ("再委託先", "、".join([f"{s.name}（{s.scope or ''}・{day(s.approved_on)}承認）"
                              for s in contract.approved_subcontractors]
                             + [f"{s.name}（{day(s.ended_on)}終了）" for s in contract.subcontractors
                                if s.status is SubcontractorStatus.ENDED])
         or f"なし（再委託: {labels[contract.subcontracting]}）"),
        ("契約終了時の返却・廃棄", disposal),
        ("変更契約（承認済み）", "、".join(f"第{a.number}回（{day(a.amended_on)}）" for a in amendments) or "なし"),
    ], widths=(38 * mm, 142 * mm)), p("セキュリティ条項と年度内の確認結果" if year else "セキュリティ条項と最新の確認結果", H2)]
    rows, alerts = [], set()
    for clause in catalogue:
        state, article = matrix.get(clause.id, (ClauseState.NOT_INCLUDED, None))
        mandatory = clause.is_mandatory_for(contract)
        result = latest.get((contract.id, clause.id))
        note = ""
        if mandatory and state is not ClauseState.INCLUDED:
            note = "▲ 必須条項の不足" + ("（例外承認あり）" if clause.code in excepted else "")
            if clause.code not in excepted:
                alerts.add(len(rows))
        fixed = corrected.get(result[3]) if result else None
        if result and result[0] in (Result.PARTLY, Result.DOES_NOT) and fixed is None:
            alerts.add(len(rows))
        rows.append([f"{clause.code}{'（必須）' if mandatory else ''} {clause.label_ja}",
                     labels[state] + (f"（{article}）" if article else ""),
                     (f"{labels[result[0]]}（{day(result[1])} {labels[result[2]]}）"
                      + (f"\n是正済み（{day(fixed)}）" if fixed else "")) if result else "未確認", note])
    flow.append(table(["条項", "契約書の規定", ("年度内の" if year else "") + "最新の確認結果（日付・方法）", "注記"], rows,
                      [77 * mm, 29 * mm, 52 * mm, 22 * mm], alerts=alerts))
    if year:
        flow.append(p("年度内に実施した確認", H2))
        if performed:
            flow.append(table(["確認日", "方法", "確認者", "結果", "結論"], [
                [day(v.performed_on) + (f"\n（{day(v.corrects.performed_on)}の確認の訂正）" if v.corrects else ""),
                 labels[v.method], v.verifier.display_name, _tally(v, labels), v.conclusion or ""]
                for v in performed], [30 * mm, 20 * mm, 25 * mm, 45 * mm, 60 * mm]))
        else:
            flow.append(p("年度内に実施した確認はありません。", BODY))
    if findings:
        flow += [p("年度内の指摘事項と措置（完了を含む）" if year else "未完了の指摘事項と措置", H2),
                 table(["条項", "程度", "措置の内容", "期限", "状態"], [
                     [f.clause.code, f.severity.label, f.measure, day(f.due_on) + (" ▲期限超過" if _late(f, on) else ""),
                      f"是正済み（{day(f.accepted_at)}）" if f.status is MeasureStatus.ACCEPTED else f.status.label]
                     for f in findings],
                     [14 * mm, 22 * mm, 92 * mm, 30 * mm, 22 * mm],
                     alerts={i for i, f in enumerate(findings) if _late(f, on)})]
    elif year:
        flow += [p("年度内の指摘事項と措置（完了を含む）", H2), p("なし", BODY)]
    if holding:
        flow += [p("必須条項の例外（承認済み・有効期限内）", H2), table(["対象条項", "理由", "承認者", "有効期限"], [
            [", ".join(exception_clauses(a)), a.reason, a.approver.display_name if a.approver else "—", _until(a)]
            for a in holding], [25 * mm, 101 * mm, 30 * mm, 24 * mm])]
    if amendments:
        flow += [p("変更契約（承認済み）", H2), table(["回・変更契約日", "理由", "変更内容（変更前 → 変更後）", "承認者・承認日"], [
            [f"第{a.number}回変更\n{day(a.amended_on)}", a.reason,
             "\n".join(f"{what}: {before} → {after}" for what, before, after in services.change_lines(a, date=day)),
             f"{a.approver.display_name if a.approver else '—'}\n{day(a.decided_at)}"]
            for a in amendments], [28 * mm, 42 * mm, 80 * mm, 30 * mm])]
    flow.append(sign_off())
    return Section(f"契約点検表 {contract.number} {contract.title}", flow, level=level, kind="契約点検表")


CHECKBOXES = "□適合　□一部不適合\n□不適合　□該当なし"


def blank_sheet(contract: Contract) -> Section:
    """An on-site verification sheet: one row per included clause with what
    to verify, tick boxes and room for handwritten notes."""
    included = [row for row in sorted(contract.clauses, key=lambda r: (r.clause.sort_order, r.clause.code))
                if row.state is ClauseState.INCLUDED]
    flow = [pairs([
        ("契約番号・件名", f"{contract.number}　{contract.title}"),
        ("委託事業者", contract.vendor.name),
        ("確認日・場所", ""), ("確認方法", "□実地確認　□書面確認　□報告書　□聞き取り"), ("確認者", ""),
        ("委託事業者の立会者", ""),
        # What the visit checks the people at work against (C08): approved subcontractors only.
        *([("承認済みの再委託先", "、".join(f"{s.name}（{s.scope or ''}）" for s in contract.approved_subcontractors)
            or "なし")] if contract.subcontracting is Subcontracting.APPROVAL else []),
    ], widths=(38 * mm, 228 * mm))]
    # The empty last cell keeps each row at least 22 mm high: room to write.
    rows = [[row.clause.code, f"{row.clause.label_ja}（{row.article or ''}）", row.clause.verify_ja or "", CHECKBOXES,
             Spacer(1, 20 * mm)] for row in included]
    sheet = table(["コード", "条項（契約書の条）", "確認すること", "結果", "所見・メモ（手書き）"], rows,
                  [14 * mm, 45 * mm, 90 * mm, 38 * mm, 79 * mm])
    flow += [p(" ", SMALL), sheet if rows else p("規定ありの条項がありません。", BODY), sign_off(("確認者", "立会者", "承認者"))]
    return Section(f"実地確認シート {contract.number} {contract.title}", flow, landscape=True, kind="実地確認シート")


# --- the audit pack and the self-inspection sheet --------------------------------------

# The self-inspection items of 業務委託 (DOMAIN.md §5.2; registered in contracts.init_app).
# [E1] mirrors the MIC guideline's outsourcing items one by one (DOMAIN.md §0).
E1 = "文部科学省「教育情報セキュリティポリシーハンドブック」（令和7年3月）"
INSPECTION_ITEMS = (
    Item("OUT-01", "選定時に選定基準への適合を記録したか", "Selection criteria recorded", "OUT", "契約ごと",
         "総務省ガイドライン 8 業務委託（委託事業者の選定基準）; 基本方針 6(8)", frequency_en="Per contract",
         source_kind=MIC),
    Item("OUT-02", "契約にC01–C13が含まれるか", "C01–C13 present in contract", "OUT", "契約ごと", E1,
         frequency_en="Per contract", source_kind=OTHER),
    Item("OUT-03", "定期報告を受領し確認したか", "Periodic reports received/reviewed", "OUT", "期間ごと", E1,
         frequency_en="Per period", source_kind=OTHER),
    # The item is E1's; its yearly frequency is general practice (DOMAIN.md: "GP freq.").
    Item("OUT-04", "作業者・作業場所・再委託先の変更を把握しているか", "Staff/site/subcontractor changes known", "OUT",
         "毎年度", E1, True, frequency_en="Yearly", source_kind=OTHER),
    Item("OUT-05", "契約に基づく確認・改善要求を実施し報告したか", "Checks done, corrective action, reported", "OUT",
         "毎年度", E1, frequency_en="Yearly", source_kind=OTHER),
    Item("OUT-06", "終了時の返還・消去証明を受領したか", "Return/erasure proof at end", "OUT", "終了時", E1,
         frequency_en="At the end", source_kind=OTHER),
)

def in_scope(scope: Scope):
    """Contracts the fiscal year's audit covers: signed, and running at some
    point of the year (within the unit, when one is chosen)."""
    stmt = select(Contract.id).where(
        Contract.status != ContractStatus.DRAFT, or_(Contract.start_on.is_(None), Contract.start_on <= scope.end),
        or_(Contract.end_on.is_(None), Contract.end_on >= scope.start))
    if scope.unit_id:
        stmt = stmt.where(Contract.unit_id == scope.unit_id)
    return stmt


def pack_sections(scope: Scope) -> list[Section]:
    ids = list(db.session.scalars(in_scope(scope)))
    sections = checklist_sections(ids, level=1, scope=scope)
    if sections:
        sections[0].part = f"契約点検表（{len(sections)}件）"
    return sections


def pack_vendor_summaries(scope: Scope) -> list[Section]:
    """The summary of every vendor of a contract the audit covers."""
    ids = list(db.session.scalars(select(Contract.vendor_id).where(Contract.id.in_(in_scope(scope))).distinct()))
    sections = summary_sections(ids, level=1)
    if sections:
        sections[0].part = f"委託事業者の概要（{len(sections)}件）"
    return sections


def facts(scope: Scope) -> dict[str, str]:
    """What the registers say about the contract items, counted in the
    database (a prefecture has 50,000 contracts: none is loaded; issue 21).
    tests/contracts/test_facts_at_scale.py checks each against the records
    counted one by one."""
    unit = scope.unit_id
    on = today()
    in_unit = [Contract.unit_id == unit] if unit else []
    live = [Contract.status.in_(LIVE), *in_unit]

    def count(*conditions, model=Contract) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0

    live_count = count(*live)
    # OUT-02: every mandatory clause (the base set at every level, by level, kind, access, personal data) is
    # missing unless an approved exception that has not expired covers it; only a contract whose stored gap
    # flag is set (contracts.gaps) lacks one
    missing_pairs = db.session.execute(select(Contract.id, Clause.code).select_from(Contract).join(Clause, true())
                                       .where(*live, Contract.has_gap, missing_clause_condition())).all()
    excepted: dict[int, set[str]] = defaultdict(set)
    for subject_id, details in db.session.execute(select(Approval.subject_id, Approval.details).where(
            Approval.kind == EXCEPTION, Approval.subject_type == Contract.__tablename__,
            Approval.decision == Decision.APPROVED, Approval.subject_id.in_(select(Contract.id).where(*live)),
            or_(Approval.expires_on.is_(None), Approval.expires_on >= on))):  # expired: no longer covers
        excepted[subject_id] |= set((details or {}).get("clauses", []))
    missing: dict[str, int] = defaultdict(int)
    gapped: set[int] = set()
    for contract_id, code in missing_pairs:
        if code not in excepted.get(contract_id, ()):
            missing[code] += 1
            gapped.add(contract_id)
    with_gaps = len(gapped)
    # OUT-01, per contract (issue 17): a positive selection of the contract's vendor is linked to it (recorded
    # for it, or the vendor's confirmed for it): 選定, and approved where its justification needed approval
    signed = [Contract.status.in_(LIVE), Contract.status != ContractStatus.DRAFT, *in_unit]
    granted = [d for d in Decision if d.granted]
    covered = count(*signed, Selection.decision == SelectionDecision.SELECTED,
                    or_(Selection.approval_id.is_(None), Approval.decision.in_(granted)),
                    model=join(Contract, Selection, and_(Selection.id == Contract.selection_id,
                                                         Selection.vendor_id == Contract.vendor_id))
                    .outerjoin(Approval, Approval.id == Selection.approval_id))
    signed_count = count(*signed)
    under = [Contract.status.in_(verification.UNDER_VERIFICATION), *in_unit]
    scheduled, overdue = count(*under), count(*under, Contract.verification_due_on < on)
    open_finding = [Finding.status != MeasureStatus.ACCEPTED]
    finding_from = join(Finding, Contract, Contract.id == Finding.contract_id) if unit else Finding
    open_findings = count(*open_finding, *in_unit, model=finding_from)
    late = count(*open_finding, *in_unit, Finding.due_on < on, model=finding_from)
    # Ended in the year by their end date; terminated (解除) whatever their
    # planned end date, once begun by the year's end (issue 17).
    ended = [or_(and_(Contract.status == ContractStatus.ENDED, Contract.end_on >= scope.start,
                      Contract.end_on <= scope.end),
                 and_(Contract.status == ContractStatus.TERMINATED,
                      or_(Contract.start_on.is_(None), Contract.start_on <= scope.end))), *in_unit]
    ended_count = count(*ended)
    no_disposal = select(Contract.id, Contract.number).join(
        ClassificationLevel, ClassificationLevel.id == Contract.classification_id).where(
        *ended, ClassificationLevel.rank > 1, ~select(Disposal.id).where(Disposal.contract_id == Contract.id).exists())
    no_disposal_count = count(Contract.id.in_(no_disposal.with_only_columns(Contract.id)))
    first_no_disposal = db.session.execute(no_disposal.order_by(Contract.id).limit(5)).all()
    # OUT-04: only approved subcontractors count (C08); requests awaiting a decision are named apart.
    subcontracted = count(*live, select(Subcontractor.id).where(
        Subcontractor.contract_id == Contract.id, Subcontractor.status == SubcontractorStatus.APPROVED).exists())
    awaiting = count(*live, Subcontractor.status == SubcontractorStatus.PENDING,
                     model=join(Subcontractor, Contract, Contract.id == Subcontractor.contract_id))
    unclassified = count(*live, Contract.classification_id.is_(None))
    breakdown = "、".join(f"{code}: {n}件" for code, n in sorted(missing.items()))
    scoped = {"unit": unit} if unit else {}
    return {
        "OUT-01": Fact(f"締結済・履行中 {signed_count}件中 {signed_count - covered}件に"
                       f"契約を対象とする選定の記録なし", [(_l("契約の一覧"), "contracts.index", scoped)]),
        "OUT-02": Fact(f"有効な契約 {live_count}件中 {with_gaps}件に必須条項の不足" + (f"（{breakdown}）" if breakdown else ""),
                       [(_l("必須条項の不足がある契約"), "contracts.index", {"gaps": "yes", **scoped})]),
        "OUT-03": Fact(f"確認の対象 {scheduled}件中 {overdue}件が確認期限超過",
                       [(_l("確認期限超過の契約"), "verification.index", {"state": DueState.OVERDUE.value, **scoped})]),
        "OUT-04": Fact(f"承認済みの再委託先がある契約 {subcontracted}件" + (f"（承認待ちの申請 {awaiting}件）" if awaiting else ""),
                       [(_l("承認待ちの再委託"), "contracts.subcontractor_requests")] if awaiting else []),
        "OUT-05": Fact(f"未完了の措置 {open_findings}件（うち期限超過 {late}件）",
                       [(_l("期限超過の措置"), "verification.findings", {"overdue": "yes"})] if late else
                       [(_l("措置の一覧"), "verification.findings")]),
        "OUT-06": Fact(f"年度内に終了した契約・解除した契約 {ended_count}件中 {no_disposal_count}件に返却・廃棄の記録なし",
                       [(f"{number}", "contracts.detail", {"contract_id": contract_id})
                        for contract_id, number in first_no_disposal]),
        "CLS-01": Fact(f"有効な契約 {live_count}件中 {unclassified}件に機密性の分類なし",
                       [(_l("契約の一覧"), "contracts.index", scoped)]),
    }


def _selection_text(contract) -> str:
    """The selection that covers the contract (issue 17), as the checklist prints it."""
    selection = contract.selection
    if selection is None or selection.vendor_id != contract.vendor_id:
        return "▲ 本契約を対象とする選定の記録なし" if contract.status is not ContractStatus.DRAFT else "未記録"
    how = ("本契約の選定として記録" if contract.selection_basis == FOR_CONTRACT
           else f"事業者の選定を本契約の選定として確認（{day(contract.selection_confirmed_on)}）")
    return f"{day(selection.decided_on)} {selection.state_label}・{how}"


def _yen(amount: int | None) -> str:
    return f"{amount:,}円" if amount is not None else "—"


def _until(approval) -> str:
    return f"{day(approval.expires_on)}まで" if approval.expires_on else "期限の記録なし"


def _late(finding, on) -> bool:
    return finding.status is not MeasureStatus.ACCEPTED and finding.due_on < on


def _tally(verification_, labels) -> str:
    """適合 12・一部不適合 1 …: the results of one verification."""
    counts: dict[Result, int] = defaultdict(int)
    for row in verification_.results:
        if row.result is not Result.UNCHECKED:
            counts[row.result] += 1
    return "・".join(f"{labels[result]} {counts[result]}" for result in Result if counts[result]) or "—"

