"""Test data, built to order: each function adds one record (and what it
cannot exist without) through ``db.session`` and flushes; the test commits.

Call them inside the test's app context::

    with app.app_context():
        contract = factories.contract(status=ContractStatus.SIGNED)
        db.session.commit()
        contract_id = contract.id

Every argument has a plain default, and names and numbers are unique per
call, so a test passes only what it asserts on.  A signed contract is
signed through the contract rules (contracts.rules.change_status), as in
the app: a selected vendor and every mandatory clause included.
"""
from __future__ import annotations

import datetime as dt
import io
import itertools

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from cloud.models import CloudInformation, CloudService, CloudServiceUnit, InformationState, ServiceStatus
from contracts import rules as contract_rules
from contracts import services as contract_services
from contracts.models import (
    ClauseState,
    Contract,
    ContractClause,
    ContractKind,
    ContractStatus,
    Disposal,
    DisposalMethod,
    Finding,
    Method,
    Result,
    Verification,
    VerificationResult,
    VerificationStatus,
)
from core import accounts, files, timeutil
from core.db import db
from core.files import StoredFile
from core.incidents import SOCIAL_ACCOUNT, Incident, IncidentKind, IncidentStatus, Severity
from core.measures import Measure, open_measure
from core.models import ClassificationLevel, OrgUnit, Role, User
from social.models import AccountMember, AccountStatus, MemberRole, Platform, SocialAccount
from vendors import services as vendor_services
from vendors.models import (
    Assessment,
    Certification,
    CertificationKind,
    Selection,
    SelectionAssessment,
    SelectionCriterion,
    SelectionDecision,
    Vendor,
    VendorStatus,
)
from vendors.rules import corporate_number_check_digit

PASSWORD = "correct-horse-battery"  # tests.conftest.PASSWORD
_numbers = itertools.count(1)


def _next() -> int:
    return next(_numbers)


def _flush(obj):
    db.session.add(obj)
    db.session.flush()
    return obj


def level(code: str) -> ClassificationLevel:
    """A classification level seeded by the migrations (C1, C2, C3A…)."""
    found = db.session.scalar(select(ClassificationLevel).where(ClassificationLevel.code == code))
    assert found is not None, f"no classification level {code}"
    return found


def unit(name: str | None = None, *, parent: OrgUnit | None = None, **fields) -> OrgUnit:
    """An organisational unit; an existing one of that name is reused."""
    name = name or f"テスト課{_next()}"
    found = db.session.scalar(select(OrgUnit).where(OrgUnit.name == name))
    return found or _flush(OrgUnit(name=name, parent=parent, **fields))


def user(username: str | None = None, *roles: Role | str, unit: OrgUnit | None = None,
         password: str = PASSWORD, **fields) -> User:
    """An active user with ``roles`` (none: no role), in ``unit`` when given."""
    username = username or f"user{_next()}"
    created = accounts.create_user(username=username, display_name=fields.pop("display_name", f"{username} さん"),
                                   password=password, roles=[Role(r) for r in roles], unit=unit, **fields)
    return _flush(created)


def clerk(username: str = "factory-clerk") -> User:
    """The one user who records what a factory needs recorded (a selection,
    a signature), created on first use: a test that asserts on who did it
    passes its own user instead."""
    found = db.session.scalar(select(User).where(User.username == username))
    return found or user(username, Role.PROCUREMENT)


def lead(username: str = "factory-lead") -> User:
    """The security lead (統括情報セキュリティ責任者) who decides what a factory
    needs decided (a clause exception), created on first use."""
    found = db.session.scalar(select(User).where(User.username == username))
    return found or user(username, Role.LEAD)


def vendor(name: str | None = None, *, selected: bool = True, status: VendorStatus = VendorStatus.ACTIVE,
           unit: OrgUnit | None = None, decided_by: User | None = None, **fields) -> Vendor:
    """A vendor with a valid corporate number; ``selected``: with a positive
    selection record (every criterion met), which signing a contract needs."""
    n = _next()
    base = f"{4300_0000_0000 + n:012d}"
    fields.setdefault("corporate_number", f"{corporate_number_check_digit(base)}{base}")
    created = Vendor(name=name or f"株式会社テスト{n}", status=status, unit=unit, **fields)
    if selected:
        decided_by = decided_by or clerk()
        criteria = db.session.scalars(select(SelectionCriterion.id).where(SelectionCriterion.active)
                                      .order_by(SelectionCriterion.sort_order, SelectionCriterion.code)).all()
        created.selections.append(Selection(
            decided_on=timeutil.today() - dt.timedelta(days=30), decision=SelectionDecision.SELECTED,
            decided_by_id=decided_by.id,
            assessments=[SelectionAssessment(criterion_id=c, result=Assessment.MET) for c in criteria]))
    return _flush(created)


def certification(vendor_: Vendor | None = None, *, kind: CertificationKind = CertificationKind.ISMS,
                  valid_until: dt.date | None = None, **fields) -> Certification:
    """A certification of ``vendor_`` valid for a year unless ``valid_until`` says otherwise."""
    vendor_ = vendor_ or vendor()
    valid_until = valid_until or timeutil.today() + dt.timedelta(days=365)
    return _flush(Certification(vendor=vendor_, kind=kind, number=fields.pop("number", f"IS {_next()}"),
                                valid_until=valid_until, **fields))


def contract(number: str | None = None, *, vendor_: Vendor | None = None, status: ContractStatus = ContractStatus.DRAFT,
             classification: str | None = "C2", personal: bool = False, clauses: str = "mandatory",
             include: tuple[str, ...] = (), left_out: tuple[str, ...] = (),
             exception_reason: str = "次回更新時に追加することで合意済み",
             unit: OrgUnit | None = None, officer: User | None = None, by: User | None = None,
             start_on: dt.date | None = None, end_on: dt.date | None = None, selection: str | None = "confirm",
             **fields) -> Contract:
    """A contract and its clause matrix, moved to ``status`` through the
    contract rules (so a signed one has what signing needs).

    ``clauses``: "mandatory" includes every mandatory clause and marks the
    others not applicable; "none" leaves the matrix empty (a draft with gaps).
    ``include``: clause codes included besides the mandatory ones;
    ``left_out``: clause codes not included (a contract signed without a
    mandatory one has an exception per missing clause for ``exception_reason``,
    approved for a year by a security lead, as the rules ask).
    ``selection``: "confirm" confirms the vendor's valid selection for the
    contract (when it has one), as signing needs; None links no selection."""
    n = _next()
    today = timeutil.today()
    catalogue = contract_rules.active_clauses() if clauses == "mandatory" else []
    created = Contract(
        number=number or f"T-{n:04d}", title=fields.pop("title", f"テスト業務委託{n}"),
        vendor=vendor_ or vendor(), kind=fields.pop("kind", ContractKind.OUTSOURCING), unit=unit, officer=officer,
        classification_id=level(classification).id if classification else None, handles_personal_info=personal,
        start_on=start_on or today - dt.timedelta(days=30), end_on=end_on or today + dt.timedelta(days=335),
        status=ContractStatus.DRAFT, **fields)
    for article, clause in enumerate(catalogue, start=1):
        if clause.code in left_out:
            created.clauses.append(ContractClause(clause_id=clause.id, state=ClauseState.NOT_INCLUDED))
            continue
        included = clause.is_mandatory_for(created) or clause.code in include
        created.clauses.append(ContractClause(
            clause_id=clause.id, state=ClauseState.INCLUDED if included else ClauseState.NOT_APPLICABLE,
            article=f"第{article}条" if included else None, reason=None if included else "該当しない"))
    _flush(created)
    path = {ContractStatus.DRAFT: (), ContractStatus.SIGNED: (ContractStatus.SIGNED,),
            ContractStatus.IN_FORCE: (ContractStatus.SIGNED, ContractStatus.IN_FORCE),
            ContractStatus.ENDED: (ContractStatus.SIGNED, ContractStatus.IN_FORCE, ContractStatus.ENDED),
            ContractStatus.TERMINATED: (ContractStatus.SIGNED, ContractStatus.TERMINATED),
            ContractStatus.WITHDRAWN: (ContractStatus.WITHDRAWN,)}[status]
    by = by or officer or (clerk() if path else None)
    if selection == "confirm" and vendor_services.valid_selection(created.vendor) is not None:
        contract_services.confirm_vendor_selection(created, comment="事業者の選定記録が本契約の業務を含むため",
                                                   user=by or clerk())
    if path and path[0] is ContractStatus.SIGNED:
        for gap in contract_rules.clause_gaps(created):  # one request per clause, decided by a security lead
            exception = contract_services.request_exception(created, clause=gap.code, reason=exception_reason,
                                                            user=by)
            contract_services.decide_exception(exception, approver=lead(), approve=True, comment="承認",
                                               expires_on=today + dt.timedelta(days=365))
    for step in path:
        if (step in (ContractStatus.ENDED, ContractStatus.TERMINATED) and created.handles_classified
                and created.disposal is None):
            _flush(Disposal(contract=created, done_on=created.end_on if created.end_on <= today else today,
                            kind=DisposalMethod.ERASURE, method="データを消去し、消去証明書を受領",
                            evidence=stored_file(by=by), recorded_by_id=by.id))
        contract_rules.change_status(created, step, user=by)
    return created


def stored_file(name: str = "証明書.pdf", *, by: User | None = None) -> StoredFile:
    """A stored PDF (an evidence file), uploaded by ``by``."""
    return files.store(FileStorage(io.BytesIO(b"%PDF-1.4 factory"), filename=name), user=by or clerk())


def verification(contract_: Contract | None = None, *, verifier: User | None = None,
                 performed_on: dt.date | None = None, results: dict[str, Result] | None = None,
                 submitted: bool = True, conclusion: str = "概ね適合") -> Verification:
    """A verification of ``contract_`` (a signed one by default) with one
    result per included clause: CONFORMS unless ``results`` names the clause
    code.  Submitted, a nonconforming result has its open finding."""
    contract_ = contract_ or contract(status=ContractStatus.SIGNED)
    verifier = verifier or user(None, Role.VERIFIER)
    performed_on = performed_on or timeutil.today()
    results = results or {}
    created = Verification(contract=contract_, performed_on=performed_on, method=Method.DOCUMENT,
                           verifier_id=verifier.id, conclusion=conclusion,
                           status=VerificationStatus.SUBMITTED if submitted else VerificationStatus.DRAFT,
                           submitted_at=timeutil.utcnow() if submitted else None)
    included = sorted((row.clause for row in contract_.clauses if row.state is ClauseState.INCLUDED),
                      key=lambda c: (c.sort_order, c.code))
    for clause in included:
        created.results.append(VerificationResult(clause_id=clause.id, result=results.get(clause.code, Result.CONFORMS),
                                                  comment="指摘事項" if clause.code in results else None))
    _flush(created)
    if submitted:
        for row in created.results:
            if row.result in (Result.PARTLY, Result.DOES_NOT):
                finding(created, row)
    return created


def finding(verification_: Verification, result: VerificationResult, *, due_on: dt.date | None = None,
            **fields) -> Finding:
    """The open corrective measure of one nonconforming result."""
    return _flush(Finding(verification=verification_, result_id=result.id, contract_id=verification_.contract_id,
                          clause_id=result.clause_id, severity=result.result,
                          measure=fields.pop("measure", "是正措置を報告すること"),
                          due_on=due_on or verification_.performed_on + dt.timedelta(days=30), **fields))


def cloud_service(name: str | None = None, *, administrator: User | None = None, units: tuple[OrgUnit, ...] = (),
                  ceiling: str | None = "C1", status: ServiceStatus = ServiceStatus.REQUESTED,
                  information: tuple[tuple[str, str], ...] = (), **fields) -> CloudService:
    """An external service used by ``units``, holding ``information``
    ((name, level code) pairs).  No approval is recorded: for a decided
    service, take it through the approval pages."""
    created = _flush(CloudService(name=name or f"テストサービス{_next()}", administrator=administrator,
                                  ceiling=level(ceiling) if ceiling else None, status=status,
                                  provider_name=fields.pop("provider_name", "テスト提供事業者"), **fields))
    for used_by in units:
        created.unit_links.append(CloudServiceUnit(unit=used_by))
    for info_name, code in information:
        created.information.append(CloudInformation(name=info_name, classification=level(code),
                                                    state=InformationState.HELD))
    db.session.flush()
    return created


def cloud_information(name: str, code: str = "C2", *, held: bool = True) -> CloudInformation:
    """One kind of information (not yet attached to a service), held or planned."""
    return CloudInformation(name=name, classification=level(code),
                            state=InformationState.HELD if held else InformationState.PLANNED)


def social_account(name: str | None = None, *, responsible: User | None = None, operators: tuple[User, ...] = (),
                   platform: Platform = Platform.X, status: AccountStatus = AccountStatus.ACTIVE,
                   unit: OrgUnit | None = None, **fields) -> SocialAccount:
    """An official account of ``responsible`` (a new social user by default)."""
    n = _next()
    responsible = responsible or user(None, Role.SOCIAL)
    created = _flush(SocialAccount(name=name or f"テスト公式アカウント{n}", url=fields.pop("url", f"https://example.com/{n}"),
                                   platform=platform, status=status, unit=unit, responsible_id=responsible.id,
                                   last_post_on=fields.pop("last_post_on", timeutil.today()), **fields))
    for member in (responsible, *operators):
        created.members.append(AccountMember(user=member, role=MemberRole.OPERATOR))
    db.session.flush()
    return created


def _jst_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9), timeutil.JST).astimezone(dt.UTC).replace(tzinfo=None)


def incident(account: SocialAccount | None = None, *, kind: IncidentKind = IncidentKind.IMPERSONATION,
             reported_by: User | None = None, occurred_on: dt.date | None = None, closed_on: dt.date | None = None,
             severity: Severity | None = None, subject: tuple[str | None, int | None] | None = None,
             **fields) -> Incident:
    """An incident (core.incidents) written straight to the table: of
    ``account`` (a new SNS account when no ``subject`` is given; an
    impersonation unless ``kind`` says otherwise), occurred at 9:00 JST on
    ``occurred_on`` (by default today, or yesterday until 13:00 JST: the
    tests act hours after it happened, and a time in the future is refused),
    closed on ``closed_on`` when given."""
    if subject is None:
        account = account or social_account()
        subject = (SOCIAL_ACCOUNT, account.id)
        fields.setdefault("unit_id", account.unit_id)
        reported_by_id = reported_by.id if reported_by else account.responsible_id
    else:
        reported_by_id = (reported_by or user(None, Role.PROCUREMENT)).id
    if occurred_on is None:
        occurred_on = timeutil.today()
        if _jst_start(occurred_on) + dt.timedelta(hours=4) > timeutil.utcnow():
            occurred_on -= dt.timedelta(days=1)
    occurred = _jst_start(occurred_on)
    closed = {} if closed_on is None else {
        "status": IncidentStatus.CLOSED, "closed_at": _jst_start(closed_on) + dt.timedelta(hours=8),
        "cause": "原因", "prevention": "再発防止策"}
    return _flush(Incident(
        number=f"INC-T-{next(_numbers):05d}", kind=kind,
        severity=severity or (Severity.SEVERE if kind in (IncidentKind.IMPERSONATION, IncidentKind.TAKEOVER)
                              else Severity.MINOR),
        status=closed.pop("status", fields.pop("status", IncidentStatus.RECEIVED)), title=fields.pop("title", f"{kind.label}の事案"),
        summary=fields.pop("summary", "公式を名乗るアカウントが見つかった。"), subject_type=subject[0],
        subject_id=subject[1], occurred_at=occurred, learned_at=fields.pop("learned_at", occurred),
        recorded_by_id=reported_by_id, personal_data=fields.pop("personal_data", False),
        my_number=fields.pop("my_number", False), wrongful_intent=fields.pop("wrongful_intent", False),
        **closed, **fields))


def measure(*, source_type: str = "inspection_answer", source_id: int = 1, title: str = "自己点検 3.1 不適合",
            owner: User | None = None, opened_by: User | None = None, due_on: dt.date | None = None,
            unit: OrgUnit | None = None, text: str = "手順書を改訂する") -> Measure:
    """An open improvement measure (core.measures.open_measure), owned by ``owner`` (a new social user)."""
    owner = owner or user(None, Role.SOCIAL)
    return open_measure(source_type=source_type, source_id=source_id, title=title, measure=text,
                        due_on=due_on or timeutil.today() + dt.timedelta(days=30), owner_id=owner.id,
                        unit_id=unit.id if unit else None, opened_by=opened_by)


def inspection_item(code: str | None = None, *, area: str = "OWN", area_name: str = "本団体の点検",
                    text_ja: str = "本団体の点検項目", retired: bool = False, **values):
    """One of the body's own self-inspection items (core.inspection_items),
    added through the catalogue's rule; ``retired`` retires it too."""
    from core import inspection_items

    code = code or f"{area}-{next(_numbers):02d}"
    row = inspection_items.add_item({"code": code, "text_ja": text_ja, "frequency_ja": "毎年度", "area": "",
                                     "new_area_code": area, "new_area_name_ja": area_name, **values})
    if retired:
        inspection_items.retire(row.code)
    return row


# --- recorded self-inspections (assurance, issue 18) ----------------------------------

def inspection(fiscal_year: int = 2026, *, unit_: OrgUnit | None = None, responsible: User | None = None,
               by: User | None = None, answered: dict | None = None, result=None):
    """A self-inspection of the active items (assurance.inspections.start);
    with ``result`` (an AnswerResult) every item answered so, ``answered``
    ({code: AnswerResult}) overriding it — a 一部不適合/不適合 with its measure."""
    from assurance import inspections as service
    from assurance.inspection_models import AnswerResult
    by = by or user(f"insp-{_next()}", Role.PROCUREMENT)
    made = service.start(fiscal_year=fiscal_year, unit_id=unit_.id if unit_ else None,
                         responsible=responsible or by, user=by)
    if result is not None or answered:
        for row in made.answers:
            value = (answered or {}).get(row.code, result or AnswerResult.CONFORMING)
            needs = value.needs_measure
            service.record_answer(row, service.AnswerInput(
                value, f"{row.code} の点検", "改善する" if needs else None, by.id if needs else None,
                dt.date(fiscal_year + 1, 3, 31) if needs else None), user=by)
    return made


def approved_inspection(fiscal_year: int = 2026, **kwargs):
    """An inspection answered, submitted, checked and approved by three people."""
    from assurance import inspections as service
    from assurance.inspection_models import AnswerResult
    kwargs.setdefault("result", AnswerResult.CONFORMING)
    made = inspection(fiscal_year, **kwargs)
    service.submit(made, user=db.session.get(User, made.editors[0]))
    service.check(made, user=user(f"checker-{_next()}", Role.APPROVER), approve=True)
    service.approve(made, user=user(f"approver-{_next()}", Role.LEAD), approve=True)
    return made
def audit_plan(*, auditors: tuple[User, ...] = (), units: tuple[OrgUnit, ...] = (),
               targets: tuple[tuple[str, int], ...] = (), fiscal_year: int | None = None, title: str | None = None):
    """An audit plan (assurance.audits.save_plan) of the current 年度 by
    ``auditors`` (a new auditor by default); returns (plan, its independence warnings)."""
    from assurance import audits

    auditors = auditors or (user(None, Role.AUDITOR),)
    start = timeutil.today()
    return audits.save_plan(None, user=auditors[0], fiscal_year=fiscal_year or timeutil.fiscal_year(start),
                            title=title or f"テスト監査{_next()}", method="書面監査", period_start=start,
                            period_end=start + dt.timedelta(days=30), registers=[], unit_ids=[u.id for u in units],
                            auditor_ids=[a.id for a in auditors], targets=list(targets))


def audit_finding(plan, *, severity=None, target: tuple[str, int] | None = None, unit: OrgUnit | None = None,
                  by: User | None = None, condition: str = "記録が一部欠けている。"):
    """A finding of ``plan`` (moderate unless ``severity`` says otherwise), by its first auditor."""
    from assurance import audits
    from assurance.audit_models import Severity

    return audits.add_finding(plan, user=by or plan.auditors[0], severity=severity or Severity.MODERATE,
                              condition=condition, recommendation="改善すること。", criterion_code=None,
                              criterion_text="対策基準", target=target, unit_id=unit.id if unit else None)
