"""The demo's contracts (core/demo.py runs this seeder after the vendors'):
each drafted, given its clause matrix, then taken through the contract
rules to its status — signed through the signing gate (a selected vendor,
every mandatory clause or an approved exception), ended only after its
disposal record — and verified through the verification rules.  One
contract is renewed (R7-005 → R8-005) and its data handed over."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from contracts import rules, services
from contracts import verification as checks
from contracts.models import (
    ClauseState,
    Contract,
    ContractAmendment,
    ContractingMethod,
    ContractKind,
    ContractStatus,
    DisposalMethod,
    Result,
    Subcontracting,
    Verification,
)
from core import audit, files, timeutil
from core.db import db
from core.demo import Demo
from vendors import services as vendor_services
from vendors.models import Assessment, SelectionDecision, Vendor, VendorStatus


def contract_rows(today: dt.date) -> tuple:
    """(number, title, vendor, kind, unit, level, personal information?,
    status, start, end, clauses left out of the contract)."""
    fy = timeutil.fiscal_year(today)
    fy_start, fy_end = timeutil.fiscal_year_range(fy)
    return (
        ("R8-001", "高機能消防指令システム保守業務委託", "株式会社道央情報システム", ContractKind.MAINTENANCE, "通信指令課",
         "C3B", True, ContractStatus.IN_FORCE, fy_start, fy_end, ()),
        ("R8-002", "消防救急デジタル無線設備保守点検業務", "空知ネットワーク株式会社", ContractKind.MAINTENANCE, "警防課",
         "C2", False, ContractStatus.SIGNED, fy_start, fy_end, ("C12",)),
        ("R8-003", "ホームページ運用管理業務委託", "株式会社みなとウェブ制作", ContractKind.OPERATION, "総務課",
         "C2", False, ContractStatus.DRAFT, today + dt.timedelta(days=30), fy_end, ("C08", "C09")),
        ("R8-004", "電子メールサービス利用契約", "北日本クラウドサービス株式会社", ContractKind.CLOUD, "総務課",
         "C3C", True, ContractStatus.IN_FORCE, fy_start, fy_end, ()),
        ("R7-010", "救急業務統計システム改修業務", "株式会社道央情報システム", ContractKind.DEVELOPMENT, "警防課",
         "C3B", True, ContractStatus.ENDED, dt.date(fy - 1, 6, 1), dt.date(fy, 2, 28), ()),
        ("R7-014", "廃棄パソコン記憶媒体データ消去業務", "有限会社いしかりデータ消去", ContractKind.OUTSOURCING, "総務課",
         "C3C", True, ContractStatus.ENDED, dt.date(fy - 1, 10, 1), dt.date(fy - 1, 11, 30), ()),
        ("R6-021", "予防査察支援端末賃貸借", "株式会社サンプル防災設備", ContractKind.OTHER, "予防課",
         "C2", False, ContractStatus.TERMINATED, dt.date(fy - 2, 4, 1), dt.date(fy + 2, 3, 31), ()),
        ("R8-009", "消防団員管理システム導入支援業務", "株式会社道央情報システム", ContractKind.DEVELOPMENT, "総務課",
         "C3C", True, ContractStatus.WITHDRAWN, fy_start + dt.timedelta(days=120), fy_end, ()),
    )


# The fields offices keep (issue 20): amount (tax included), method, the contractor's
# responsible person and contact, the budget item.
OFFICE = {
    "R8-001": (15_840_000, ContractingMethod.NEGOTIATED, "保守部 部長 北村 誠", "011-555-0101", "消防費 常備消防費 委託料"),
    "R8-002": (3_960_000, ContractingMethod.DESIGNATED_TENDER, "技術部 課長 大野 亮", "0125-55-0202",
               "消防費 常備消防費 委託料"),
    "R8-003": (1_210_000, ContractingMethod.GENERAL_TENDER, None, None, "総務費 総務管理費 委託料"),
    "R8-004": (2_376_000, ContractingMethod.PROPOSAL, "営業部 佐藤 由美", "support@example.jp",
               "総務費 総務管理費 使用料及び賃借料"),
    "R7-010": (8_250_000, ContractingMethod.PROPOSAL, "開発部 主任 田中 健", "011-555-0110", None),
}


# The exception that lets R8-002 be signed without C12: asked for by procurement, then decided by the
# security lead (統括情報セキュリティ責任者), valid until the contract's end (issue 17).
EXCEPTIONS = {"R8-002": ("C12", "事業者の標準契約書にC12がなく、次回更新時に追加することで合意済み",
                         "次回更新時の追加を条件に、契約期間の末日まで承認")}
# A request still waiting for the lead's decision: the draft R8-003 without C08 (one request per clause).
PENDING_EXCEPTIONS = {"R8-003": ("C08", "再委託の予定がなく、事業者の標準書式に再委託条項がないため")}
# Contracts that allow subcontracting with approval, and their subcontractor requests (C08), each with its
# approval document, asked for by procurement and decided by the approver: (name, scope, the vendor record it
# links to or None, what became of it: approved, ended with (reason) or left pending).
SUBCONTRACTORS = {"R8-001": (
    ("株式会社札幌データセンター", "サーバ機器の設置・監視", None, ("ended", "監視業務を委託事業者の自社センターへ移管")),
    ("北日本クラウドサービス株式会社", "バックアップデータの遠隔保管（国内リージョン）", "北日本クラウドサービス株式会社",
     ("approved", None)),
    ("株式会社道北システムサポート", "夜間の障害一次受付", None, ("pending", None)),
)}
# The disposal record (C09) of each contract that ended or was terminated holding classified information:
# (method, what was done, evidence file name).
DISPOSALS = {"R7-010": (DisposalMethod.ERASURE, "委託事業者の環境に複製した統計データを消去し、消去証明書を受領",
                        "消去証明書"),
             "R7-014": (DisposalMethod.DESTRUCTION, "記憶媒体を物理破壊し、破壊証明書（写真付き）を受領", "破壊証明書"),
             "R6-021": (DisposalMethod.ERASURE, "解除に伴い、返却する端末の記憶媒体を暗号消去し、消去証明書を受領",
                        "消去証明書")}
# A renewal (単年度契約の更新): last fiscal year's contract, ended, whose data the same vendor keeps under
# this year's contract, created from it and in force: (old number, new number, title, vendor, kind, unit, level).
RENEWAL = ("R7-005", "R8-005", "庁内ネットワーク運用保守業務委託", "空知ネットワーク株式会社", ContractKind.MAINTENANCE,
           "総務課", "C2")
# The selection that covers each signed contract (issue 17): recorded for the contract, except
# R8-002, whose vendor's yearly selection is confirmed for it with a comment.  R8-004's selection
# has a criterion 不適合: its written justification is approved by the security lead.
CONFIRMED_SELECTIONS = {"R8-002": "年度当初の事業者選定（保守業務全般）が本契約の点検業務を含むため、本契約の選定として確認"}
NOT_MET = {"R8-004": ("SEL03", "プライバシーマーク未取得",
                      "プライバシーマークは未取得だが、ISMAP登録・ISO/IEC 27017認証と個人情報の取扱い条項（C20）で補完できるため",
                      "ISMAPの登録状況とC20の規定を確認。選定を承認")}
# The way from a draft to each status (the transitions of rules.TRANSITIONS).
PATHS = {
    ContractStatus.DRAFT: (),
    ContractStatus.SIGNED: (ContractStatus.SIGNED,),
    ContractStatus.IN_FORCE: (ContractStatus.SIGNED, ContractStatus.IN_FORCE),
    ContractStatus.ENDED: (ContractStatus.SIGNED, ContractStatus.ENDED),
    ContractStatus.TERMINATED: (ContractStatus.SIGNED, ContractStatus.TERMINATED),
    ContractStatus.WITHDRAWN: (ContractStatus.WITHDRAWN,),
}
# (contract, days since it was verified, results other than "conforms")
VERIFICATIONS = (("R8-001", 100, {"C05": (Result.PARTLY, "委託先従事者2名の情報セキュリティ研修が未受講")}),
                 ("R8-004", 170, {}))


def seed(demo: Demo) -> None:
    """Contracts in every status, consistent with the contract rules: every
    signed contract has a selected vendor and its mandatory clauses (or an
    approved exception); every ended or terminated contract with classified information
    has its disposal record.  Then submitted verifications that leave one
    contract overdue (R8-002: never checked), one due soon (R8-004) and one
    with an open, overdue measure (R8-001: staff training partly done)."""
    contracts = {}
    for number, title, vendor, kind, unit, level, personal, status, start, end, left_out in contract_rows(demo.today):
        contract = db.session.scalar(select(Contract).where(Contract.number == number))
        if contract is None:
            vendor_row = db.session.scalar(select(Vendor).where(Vendor.name == vendor))
            contract = _draft(demo, number=number, title=title, vendor=vendor_row, kind=kind, unit=demo.units[unit],
                              officer=demo.users["procurement"], classification=demo.levels.get(level),
                              handles_personal_info=personal, start_on=start, end_on=end,
                              subcontracting=Subcontracting.APPROVAL if number in SUBCONTRACTORS else None)
            _matrix(contract, left_out)
            _to(demo, contract, status)
        contracts[number] = contract
    _renewal(demo)
    for number, days_ago, exceptions in VERIFICATIONS:
        contract = contracts[number]
        if db.session.scalar(select(Verification.id).where(Verification.contract_id == contract.id)) is None:
            _verify(demo, contract, days_ago, exceptions)
    if db.session.scalar(select(ContractAmendment.id)) is None:
        _amend(demo, contracts)
    db.session.flush()


def _renewal(demo: Demo) -> None:
    """Last year's contract, in force, renewed (services.renew: a draft
    copied from it), the new one signed and in force; then the old one's
    disposal record says the data was handed over to the successor (same
    vendor, no certificate) and it ends."""
    old_number, new_number, title, vendor, kind, unit, level = RENEWAL
    if db.session.scalar(select(Contract.id).where(Contract.number == old_number)) is not None:
        return
    procurement = demo.users["procurement"]
    start, end = timeutil.fiscal_year_range(timeutil.fiscal_year(demo.today) - 1)
    old = _draft(demo, number=old_number, title=title, vendor=db.session.scalar(select(Vendor).where(
        Vendor.name == vendor)), kind=kind, unit=demo.units[unit], officer=procurement,
        classification=demo.levels.get(level), handles_personal_info=False, start_on=start, end_on=end,
        subcontracting=None)
    _matrix(old, ())
    _select(demo, old)
    _to(demo, old, ContractStatus.IN_FORCE)
    period = services.renewal_defaults(old)
    new = services.renew(old, number=new_number, title=title, start_on=period["start_on"], end_on=period["end_on"],
                         user=procurement)
    _select(demo, new)  # a selection covers each contract: the renewal brings none with it
    _to(demo, new, ContractStatus.IN_FORCE)
    rules.record_disposal(old, done_on=min(end, demo.today), method=DisposalMethod.HANDOVER,
                          detail=f"{new_number}で同じ委託事業者が機器設定・構成情報を引き続き保有", evidence=None,
                          user=procurement)
    rules.change_status(old, ContractStatus.ENDED, user=procurement)


def _amend(demo: Demo, contracts: dict[str, Contract]) -> None:
    """Amendments (変更契約, issue 17), through the services: R8-001's period
    extended by three months with a clause added (C14, limits on copying, at 第26条), drafted by
    procurement and approved by the security lead; and one for R8-002 that adds C12, the clause
    its exception promised for the next change, submitted and waiting for a decision."""
    procurement = demo.users["procurement"]
    contract = contracts["R8-001"]
    added = next(clause for clause in rules.active_clauses() if clause.code == "C14")
    values = {**{name: getattr(contract, name) for name in services.PROTECTED}, "document": None,
              "reason": "次期システムへの移行時期の見直しに伴い保守期間を3か月延長し、移行データの複製に備えて複写・複製の制限（C14）を追加する",
              "amended_on": demo.today - dt.timedelta(days=20), "end_on": contract.end_on + dt.timedelta(days=92)}
    amendment = services.save_amendment(ContractAmendment(contract=contract), values,
                                        {added.id: (ClauseState.INCLUDED, "第26条", None)}, user=procurement)
    amendment.document = demo.pdf(f"{contract.number}_第1回変更契約書.pdf", user=procurement)
    services.submit_amendment(amendment, user=procurement)
    services.decide_amendment(amendment, user=demo.users["lead"], approve=True,
                              comment="延長後も条項・確認の体制は維持されることを確認")
    contract = contracts["R8-002"]
    c12 = next(clause for clause in rules.active_clauses() if clause.code == "C12")
    values = {**{name: getattr(contract, name) for name in services.PROTECTED}, "document": None,
              "reason": "例外承認の条件どおり、インシデントの公表（C12）の条項を追加する",
              "amended_on": demo.today}
    amendment = services.save_amendment(ContractAmendment(contract=contract), values,
                                        {c12.id: (ClauseState.INCLUDED, "第18条", None)}, user=procurement)
    amendment.document = demo.pdf(f"{contract.number}_第1回変更契約書（案）.pdf", user=procurement)
    services.submit_amendment(amendment, user=procurement)  # waits for the lead's decision (inbox)


def _draft(demo: Demo, *, vendor, unit, officer, classification, subcontracting: Subcontracting | None,
           **fields) -> Contract:
    """A new contract, saved as the contract form saves it
    (contracts.services.save_contract): a draft."""
    values = {"integrity_id": None, "availability_id": None, "handles_my_number": False, "work_places": None,
              "verification_cycle": None, "document": None, **fields, "vendor_id": vendor.id, "unit_id": unit.id,
              "officer_id": officer.id, "classification_id": classification.id if classification else None,
              "subcontracting": subcontracting or Subcontracting.PROHIBITED}
    amount, method, manager, contact, budget = OFFICE.get(fields.get("number"), (None, None, None, None, None))
    values.update(amount=amount, method=method.value if method else "", contractor_manager=manager,
                  contractor_manager_contact=contact, budget_item=budget)
    return services.save_contract(Contract(), values, user=demo.users["procurement"])


def _matrix(contract: Contract, left_out: tuple[str, ...]) -> None:
    """The clause matrix: the mandatory clauses and C17, C18 included (at
    articles from 第5条 on), ``left_out`` not included, the rest not
    applicable."""
    mandatory = {clause.id for clause in rules.mandatory_clauses(contract)}
    rows = {}
    for article, clause in enumerate(rules.active_clauses(), start=5):
        if clause.code in left_out:
            rows[clause.id] = (ClauseState.NOT_INCLUDED, None, None)
        elif clause.id in mandatory or clause.code in ("C17", "C18"):
            rows[clause.id] = (ClauseState.INCLUDED, f"第{article}条", None)
        else:
            rows[clause.id] = (ClauseState.NOT_APPLICABLE, None, "本業務の内容から該当しない")
    services.save_matrix(contract, rows)


def _to(demo: Demo, contract: Contract, status: ContractStatus) -> None:
    """Take a draft to ``status`` through rules.change_status: an exception
    asked for and approved first where a clause is missing; the disposal
    recorded before a contract that held classified information ends or is terminated; the
    subcontractor requests made and decided once it is signed.  A vendor that is now
    取引停止 or 終了 was 取引中 when its contract was signed: it is active for
    the signing and retired again afterwards."""
    procurement = demo.users["procurement"]
    vendor, later = contract.vendor, contract.vendor.status
    if rules.vendor_barred(vendor) and PATHS[status][:1] == (ContractStatus.SIGNED,):
        # Signed while the business was 取引中; the vendor was suspended or ended afterwards.
        vendor.status = VendorStatus.ACTIVE
    if contract.number in EXCEPTIONS and status is not ContractStatus.DRAFT:
        clause, reason, comment = EXCEPTIONS[contract.number]
        request = services.request_exception(contract, clause=clause, reason=reason, user=procurement)
        services.decide_exception(request, approver=demo.users["lead"], approve=True, comment=comment,
                                  expires_on=contract.end_on)
    if contract.number in PENDING_EXCEPTIONS:
        clause, reason = PENDING_EXCEPTIONS[contract.number]
        services.request_exception(contract, clause=clause, reason=reason, user=procurement)
    if PATHS[status][:1] == (ContractStatus.SIGNED,):
        _select(demo, contract)
    for step in PATHS[status]:
        if step in (ContractStatus.ENDED, ContractStatus.TERMINATED) and contract.number in DISPOSALS:
            method, detail, proof_name = DISPOSALS[contract.number]
            proof = demo.pdf(f"{contract.number}_{proof_name}.pdf", user=procurement)
            rules.record_disposal(contract, done_on=min(contract.end_on, demo.today), method=method, detail=detail,
                                  evidence=proof, user=procurement)
        rules.change_status(contract, step, user=procurement, signed_on=_signed_on(demo, contract))
        if step is ContractStatus.SIGNED and contract.number in SUBCONTRACTORS:
            _subcontractors(demo, contract)
    if vendor.status is not later:
        vendor.status = later
        audit.label(vendor, "retire")
        db.session.flush()


def _signed_on(demo: Demo, contract: Contract) -> dt.date:
    """The demo's signing date (締結日): the start of the period (today at the latest),
    not before the selection that covers the contract."""
    day = min(demo.today, contract.start_on or demo.today)
    decided = contract.selection.decided_on if contract.selection else None
    return max(day, decided) if decided else day


def _subcontractors(demo: Demo, contract: Contract) -> None:
    """The contract's subcontractor requests, through the services: each with
    its 承諾書, requested by procurement; approved by the approver (four
    eyes), one of them ended since, one still 承認待ち."""
    procurement, approver = demo.users["procurement"], demo.users["approver"]
    for name, scope, vendor_name, (outcome, reason) in SUBCONTRACTORS[contract.number]:
        vendor = db.session.scalar(select(Vendor).where(Vendor.name == vendor_name)) if vendor_name else None
        document = demo.pdf(f"{contract.number}_再委託承諾書_{name}.pdf", user=procurement)
        row = services.request_subcontractor(contract, name=name, scope=scope, document=document,
                                             vendor_id=vendor.id if vendor else None, user=procurement)
        if outcome == "pending":
            continue
        services.decide_subcontractor(row, approve=True, comment="承諾書の内容を確認", user=approver)
        if outcome == "ended":
            services.end_subcontractor(row, ended_on=demo.today, reason=reason, user=procurement)


def _select(demo: Demo, contract: Contract) -> None:
    """The selection that covers the contract before it is signed, as on its page:
    recorded for the contract (every criterion assessed), or the vendor's yearly
    selection confirmed for it with a comment; a 不適合 criterion justified and
    approved by another person (the security lead)."""
    procurement = demo.users["procurement"]
    decided_on = min(contract.start_on - dt.timedelta(days=30), demo.today) if contract.start_on else demo.today
    not_met = NOT_MET.get(contract.number)
    results = {criterion.id: ((Assessment.NOT_MET, not_met[1]) if not_met and criterion.code == not_met[0]
                              else (Assessment.MET, None))
               for criterion in vendor_services.active_criteria()}
    if contract.number in CONFIRMED_SELECTIONS:
        vendor_services.record_selection(contract.vendor, decided_on=decided_on, decision=SelectionDecision.SELECTED,
                                         user=procurement, notes="年度当初の事業者選定（総合評価）", results=results)
        db.session.refresh(contract.vendor)  # its selections, newest first
        services.confirm_vendor_selection(contract, comment=CONFIRMED_SELECTIONS[contract.number], user=procurement)
        return
    selection = services.record_contract_selection(
        contract, decided_on=decided_on, decision=SelectionDecision.SELECTED, user=procurement,
        notes="本契約の委託先として選定基準により評価", results=results, justification=not_met[2] if not_met else None)
    if not_met:
        vendor_services.decide_justification(selection, approver=demo.users["lead"], approve=True, comment=not_met[3])


def _verify(demo: Demo, contract: Contract, days_ago: int, exceptions: dict) -> None:
    """A verification recorded and submitted as on its page: started, saved
    with its results and conclusion, its evidence attached, submitted (a
    result that does not conform opens its finding)."""
    verifier = demo.users["verifier"]
    verification = checks.start(contract, user=verifier)
    results = {row.id: exceptions.get(row.clause.code, (Result.CONFORMS, None)) for row in verification.results}
    checks.save_draft(verification, performed_on=demo.today - dt.timedelta(days=days_ago), method=verification.method,
                      conclusion="概ね適合。指摘事項は期限を定めて是正を求める。" if exceptions else "すべて適合。",
                      remarks=None, results=results)
    proof = demo.pdf(f"{contract.number}_定期報告書.pdf", user=verifier, allowed=files.EVIDENCE_TYPES)
    checks.attach(verification, proof)
    checks.submit(verification, user=verifier)
