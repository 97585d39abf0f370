"""Contract writes: the pages, the spreadsheet import and the API change
contracts, their clause matrix, the clause catalogue and verifications here.
They build on the rules of contracts/rules.py (signing, exceptions,
subcontractors, disposal) and contracts/verification.py (recording
verifications, corrective measures).  Everything here flushes and writes the
audit trail (through the models); the caller commits once."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from contracts import rules
from contracts import verification as checks
from contracts.models import (
    AmendmentStatus,
    Clause,
    ClauseState,
    Contract,
    ContractAmendment,
    ContractClause,
    ContractingMethod,
    ContractKind,
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
from contracts.rules import ContractRuleError
from contracts.schedule import Cycle
from core import approvals, audit, classification, files, handover, inbox, measures, plugins
from core.approvals import Approval, Decision
from core.db import db, savepoint
from core.files import StoredFile
from core.models import ClassificationLevel, Role
from core.timeutil import fiscal_year, fiscal_year_range, today, utcnow
from core.validators import fold
from vendors import services as vendor_services
from vendors.models import Assessment, Selection, SelectionDecision, Vendor
from vendors.rules import is_valid_corporate_number


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


# --- the contract --------------------------------------------------------------

def number_taken(number: str, exclude_id: int | None = None) -> bool:
    stmt = select(Contract.id).where(Contract.number == number.strip())
    if exclude_id:
        stmt = stmt.where(Contract.id != exclude_id)
    return db.session.scalar(stmt) is not None


def save_contract(contract: Contract, values: dict, *, user) -> Contract:
    """Apply the contract form's values (``form.data``) and flush.  The
    contract number is unique (checked first, then caught again at the
    database); personal data needs its minimum level (core.classification:
    the class-3 tier, MIC R6.10); the contract's document, when one is given, is kept first (a
    rejected file, files.FileRejected, changes nothing).  The status is not
    among the values: it moves by change_status alone."""
    if number_taken(values["number"], contract.id):
        raise ContractRuleError(_("この契約番号は既に使われています。"), field="number")
    level = db.session.get(ClassificationLevel, values["classification_id"]) if values["classification_id"] else None
    reason = classification.below_minimum(level, personal=bool(values["handles_personal_info"]),
                                          my_number=bool(values["handles_my_number"]))
    if reason:  # classification follows the data (MIC R6.10)
        raise ContractRuleError(reason, field="classification_id")
    vendor = db.session.get(Vendor, values["vendor_id"]) if values["vendor_id"] else None
    if (contract.status in (ContractStatus.SIGNED, ContractStatus.IN_FORCE) and values["vendor_id"] != contract.vendor_id
            and rules.vendor_barred(vendor)):  # the signing gate holds after signing too (issue 17)
        raise ContractRuleError(_("「%(status)s」の事業者を締結済・履行中の契約の委託事業者にすることはできません。",
                                  status=vendor.status.label), field="vendor_id")
    current = protected_values(contract)
    # Amount and method left blank on a contract signed before they were kept (issue 20) may be filled in
    # once without an amendment (audited as any edit); a value recorded changes only by amendment.
    changed = [name for name, value in _proposed(values).items() if name in values and value != current[name]
               and not (name in FILLABLE and current[name] is None)]
    if changed and needs_amendment(contract):  # a signed contract changes only through an amendment (issue 17)
        raise ContractRuleError(_amendment_only(changed), field=changed[0])
    if (Subcontracting(values["subcontracting"]) is Subcontracting.PROHIBITED and any(
            s.status in (SubcontractorStatus.PENDING, SubcontractorStatus.APPROVED) for s in contract.subcontractors)):
        # C08: re-subcontracting cannot be prohibited while a subcontractor is approved or awaits a decision.
        raise ContractRuleError(_l("承認済み・承認待ちの再委託先がある契約は再委託を「禁止」にできません。"
                                   "先に再委託先を終了するか、申請を取り下げてください。"), field="subcontracting")
    if values["officer_id"] != contract.officer_id and handover.inactive_among([values["officer_id"]]):
        raise ContractRuleError(_l("無効な利用者は契約の担当者にできません。"), field="officer_id")  # 人事異動
    document = files.store(values["document"], user=user) if values.get("document") else None
    contract.number = values["number"].strip()
    contract.title = values["title"].strip()
    contract.vendor_id = values["vendor_id"]
    contract.kind = ContractKind(values["kind"])
    contract.unit_id = values["unit_id"]
    contract.officer_id = values["officer_id"]
    contract.start_on, contract.end_on = values["start_on"], values["end_on"]
    contract.classification_id = values["classification_id"]
    contract.integrity_id, contract.availability_id = values["integrity_id"], values["availability_id"]
    contract.handles_personal_info = values["handles_personal_info"]
    contract.handles_my_number = values["handles_my_number"]
    contract.system_access = bool(values.get("system_access"))
    contract.work_places = _text(values["work_places"])
    contract.subcontracting = Subcontracting(values["subcontracting"])
    contract.verification_cycle = Cycle.parse(values["verification_cycle"] or "")
    # The fields offices keep (issue 20); amount and method change by amendment once signed (PROTECTED).
    if "amount" in values:
        contract.amount = values["amount"]
        contract.method = ContractingMethod.parse(values.get("method") or "")
        contract.contractor_manager = _nfkc(values.get("contractor_manager"))
        contract.contractor_manager_contact = _nfkc(values.get("contractor_manager_contact"))
        contract.budget_item = _nfkc(values.get("budget_item"))
    if document is not None:
        contract.document = document
    db.session.add(contract)
    try:
        with savepoint():
            db.session.flush()
    except IntegrityError as error:
        raise ContractRuleError(_("この契約番号は既に使われています。"), field="number") from error
    return contract


def save_from_form(form, contract: Contract) -> Contract | None:
    """Save from a validated contract form (core.registers.Register.save),
    on behalf of the signed-in user: a refusal goes beside its field and
    None comes back."""
    try:
        return save_contract(contract, form.data, user=current_user)
    except files.FileRejected as error:
        form.document.errors.append(str(error))
    except ContractRuleError as error:
        form[error.field].errors.append(str(error))
    return None


def end(contract: Contract, user) -> None:
    """End a contract that is still live (the spreadsheet import's and the
    API's retire), by the rules of change_status (the disposal record…): a
    draft is withdrawn (取下げ), a signed contract ends."""
    if contract.status not in rules.CLOSED:
        target = ContractStatus.WITHDRAWN if contract.status is ContractStatus.DRAFT else ContractStatus.ENDED
        rules.change_status(contract, target, user=user)


def save_matrix(contract: Contract, rows: dict[int, tuple[ClauseState, str | None, str | None]], *,
                user=None) -> None:
    """Store the clause matrix: (state, article, reason) per clause id.
    A clause marked not applicable needs its reason.  The matrix of a signed
    or in-force contract changes only through an amendment (issue 17): a
    change is refused, the same matrix saved again is not.  The matrix is
    part of the contract: the contract is touched, so its version moves (a
    second matrix form opened earlier is stale) and the audit trail names
    the change "clauses".  A pending exception whose clauses are now all
    included is withdrawn (issue 17); ``user``: who saved the matrix."""
    rows = _matrix_rows(rows)
    if needs_amendment(contract):
        current = _current_rows(contract)
        if any(current.get(clause_id) != _row_json(row) for clause_id, row in rows.items()):
            raise ContractRuleError(_amendment_only(["clauses"]))
    _write_matrix(contract, rows)
    audit.label(contract, "clauses")
    contract.updated_at = utcnow()
    db.session.flush()
    withdraw_covered_exceptions(contract, user=user)


def _matrix_rows(rows: dict) -> dict[int, tuple[ClauseState, str | None, str | None]]:
    """The rows as stored: an article only when included, a reason only
    when not applicable (and then required); text NFKC-normalised."""
    result = {}
    for clause_id, (state, article, reason) in rows.items():
        article, reason = _nfkc(article), _nfkc(reason)
        if state is ClauseState.NOT_APPLICABLE and not reason:
            raise ContractRuleError(_l("「該当なし」には理由が必要です。"))
        result[clause_id] = (state, article if state is ClauseState.INCLUDED else None,
                             reason if state is ClauseState.NOT_APPLICABLE else None)
    return result


def _write_matrix(contract: Contract, rows: dict[int, tuple[ClauseState, str | None, str | None]]) -> None:
    existing = rules.matrix(contract)
    for clause_id, (state, article, reason) in rows.items():
        row = existing.get(clause_id)
        if row is None:
            row = ContractClause(clause_id=clause_id)
            contract.clauses.append(row)
        row.state, row.article, row.reason = state, article, reason
    db.session.flush()


# --- clause exceptions (four-eyes: procurement asks, the security lead decides) ---

def request_exception(contract: Contract, *, clause: str, reason: str, user) -> Approval:
    """Ask to sign without one missing mandatory clause (issue 17: one request
    per clause, with its reason).  Refused on a contract that is not a draft,
    for a clause that is not missing, already covered by an approved exception
    that has not expired, or already asked for and 承認待ち.  The last rule
    holds under simultaneous requests too: the partial unique index
    uq_approvals_one_pending refuses a second pending row for the clause."""
    if contract.status is not ContractStatus.DRAFT:
        raise ContractRuleError(_l("例外は締結前（起案）の契約についてのみ申請できます。"))
    gaps = {c.code for c in rules.clause_gaps(contract)}
    if not gaps:
        raise ContractRuleError(_l("必須条項の不足はありません。例外の申請は不要です。"))
    code = unicodedata.normalize("NFKC", clause or "").strip().upper()
    if not code:
        raise ContractRuleError(_l("例外を申請する条項を選択してください。"), field="clause")
    if code not in gaps:
        raise ContractRuleError(_("%(code)s はこの契約で不足している必須条項ではありません。", code=code),
                                field="clause")
    reason = unicodedata.normalize("NFKC", reason or "").strip()
    if not reason:
        raise ContractRuleError(_l("例外の理由を入力してください。"), field="reason")
    known = rules.exceptions(contract)
    if code in rules.excepted_codes(contract, known):
        raise ContractRuleError(_("%(code)s には有効期限内の承認済みの例外があります。", code=code), field="clause")
    if code in rules.pending_codes(contract, known):
        raise ContractRuleError(_pending_message(code), field="clause")
    try:
        with savepoint():
            return approvals.request(rules.EXCEPTION, contract, reason=reason, requester=user,
                                     details={"clauses": [code]}, topic=code)
    except IntegrityError:  # another officer's request for the clause was stored meanwhile
        raise ContractRuleError(_pending_message(code), field="clause") from None


def _pending_message(code: str) -> str:
    return _("%(code)s の例外は既に申請され、承認待ちです。決定を待ってください。", code=code)


def decide_exception(approval: Approval, *, approver, approve: bool, comment: str | None = None,
                     expires_on: dt.date | None = None) -> Approval:
    """Approve or reject a clause exception (issue 17): decided by the
    統括情報セキュリティ責任者 or an administrator (policy §3), never by its
    requester (core.approvals); an approval states the last day the exception
    holds, not in the past."""
    if not approver.has_role(*rules.EXCEPTION_DECIDERS):
        raise ContractRuleError(_l("必須条項の例外は、統括情報セキュリティ責任者または管理者が決定します。"))
    if approve:
        if expires_on is None:
            raise ContractRuleError(_l("例外の有効期限を入力してください。"), field="expires_on")
        if expires_on < today():
            raise ContractRuleError(_l("例外の有効期限に過去の日付は指定できません。"), field="expires_on")
    comment = unicodedata.normalize("NFKC", comment or "").strip() or None
    return approvals.decide(approval, approver=approver, approve=approve, comment=comment,
                            expires_on=expires_on if approve else None)


def withdraw_covered_exceptions(contract: Contract, *, user=None) -> list[Approval]:
    """Withdraw each pending exception whose clauses the contract now
    includes: nothing is left to decide (issue 17).  Audited as withdraw,
    with a comment saying why."""
    included = {row.clause.code for row in contract.clauses if row.state is ClauseState.INCLUDED}
    withdrawn = []
    for approval in rules.exceptions(contract):
        codes = rules.exception_clauses(approval)
        if approval.decision is Decision.PENDING and codes and set(codes) <= included:
            # Stored text, in Japanese like the rest of the record (not a lazy string).
            approvals.withdraw(approval, user=user, comment=f"条項（{', '.join(codes)}）が契約に記載されたため、"
                                                            "申請を自動的に取り下げました。")
            withdrawn.append(approval)
    return withdrawn


def _nfkc(value: str | None) -> str | None:
    return unicodedata.normalize("NFKC", value or "").strip() or None


def record_disposal(contract: Contract, *, done_on: dt.date, method: DisposalMethod, detail: str | None, upload,
                    user) -> Disposal:
    """返却・廃棄 (clause C09) with its evidence: the file is kept first (a
    rejected one, files.FileRejected, records nothing), then
    rules.record_disposal (the method fits the class; no file is refused
    unless the data was handed over to the successor contract)."""
    evidence = files.store(upload, user=user) if upload else None
    return rules.record_disposal(contract, done_on=done_on, method=method, detail=detail, evidence=evidence,
                                 user=user)


# --- renewal (単年度契約の更新) ----------------------------------------------------------

# The contracts next year's contract may be made from: signed, in force or ended.
RENEWABLE = (ContractStatus.SIGNED, ContractStatus.IN_FORCE, ContractStatus.ENDED)


def successor_of(contract: Contract) -> Contract | None:
    """The contract that renews ``contract``, read from the database."""
    return db.session.scalar(select(Contract).where(Contract.predecessor_id == contract.id))


def already_renewed(successor: Contract) -> ContractRuleError:
    return ContractRuleError(_("この契約の次年度の契約は既に作成されています（%(number)s）。", number=successor.number))


def _next_year(day: dt.date) -> dt.date:
    """The same day a year later (29 February: the 28th)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def renewal_defaults(contract: Contract) -> dict:
    """What the renewal form starts with: the same title and the next
    period — the next fiscal year (1 April – 31 March) when the contract
    ran for one, else its period a year later."""
    start, end = contract.start_on, contract.end_on
    if start and end and (start, end) != fiscal_year_range(fiscal_year(start)):
        start_on, end_on = _next_year(start), _next_year(end)
    else:
        start_on, end_on = fiscal_year_range(fiscal_year(end or start or today()) + 1)
    return {"title": contract.title, "start_on": start_on, "end_on": end_on}


def renew(contract: Contract, *, number: str, title: str, start_on: dt.date | None, end_on: dt.date | None,
          user) -> Contract:
    """Next year's contract (単年度契約の更新, issue 17): a new draft with its
    own number, title and period that copies the vendor, kind, unit,
    officer, classification levels, personal data / My Number / system
    access, work places, subcontracting, the clause matrix (state, article,
    reason), the approved subcontractors and the verification cycle, and
    names ``contract`` as its predecessor.  Verifications, findings,
    exceptions, the document and the history stay with the old contract,
    which does not change.  One successor per contract: the unique
    predecessor_id holds it under parallel requests too."""
    if contract.status not in RENEWABLE:
        raise ContractRuleError(_l("次年度の契約は、締結済・履行中・終了の契約からのみ作成できます。"))
    if (existing := successor_of(contract)) is not None:
        raise already_renewed(existing)
    number = unicodedata.normalize("NFKC", number or "").strip()
    title = unicodedata.normalize("NFKC", title or "").strip()
    if not number:
        raise ContractRuleError(_l("契約番号を入力してください。"), field="number")
    if len(number) > 50:
        raise ContractRuleError(_l("契約番号は50文字以内で入力してください。"), field="number")
    if number_taken(number):
        raise ContractRuleError(_("この契約番号は既に使われています。"), field="number")
    if not title:
        raise ContractRuleError(_l("件名を入力してください。"), field="title")
    if len(title) > 200:
        raise ContractRuleError(_l("件名は200文字以内で入力してください。"), field="title")
    if start_on is None or end_on is None:
        raise ContractRuleError(_l("契約期間を入力してください。"), field="start_on" if start_on is None else "end_on")
    if end_on < start_on:
        raise ContractRuleError(_l("終了日は開始日以降の日付にしてください。"), field="end_on")
    renewed = Contract(
        number=number, title=title, start_on=start_on, end_on=end_on, status=ContractStatus.DRAFT,
        predecessor_id=contract.id, vendor_id=contract.vendor_id, kind=contract.kind, unit_id=contract.unit_id,
        officer_id=contract.officer_id, classification_id=contract.classification_id,
        integrity_id=contract.integrity_id, availability_id=contract.availability_id,
        handles_personal_info=contract.handles_personal_info, handles_my_number=contract.handles_my_number,
        system_access=contract.system_access, work_places=contract.work_places,
        subcontracting=contract.subcontracting, verification_cycle=contract.verification_cycle,
        clauses=[ContractClause(clause_id=row.clause_id, state=row.state, article=row.article, reason=row.reason)
                 for row in contract.clauses],
        # The approved subcontractors carry over with their approval (the same
        # approval document); ended, pending, rejected or withdrawn ones do not.
        subcontractors=[Subcontractor(name=row.name, scope=row.scope, status=SubcontractorStatus.APPROVED,
                                      approved_on=row.approved_on, approver_id=row.approver_id,
                                      vendor_id=row.vendor_id, document_id=row.document_id,
                                      requested_by_id=row.requested_by_id)
                        for row in contract.subcontractors if row.status is SubcontractorStatus.APPROVED])
    try:
        with savepoint():  # begin_nested() flushes what is pending: add inside it
            db.session.add(renewed)
            db.session.flush()
    except IntegrityError as error:
        # A parallel renewal saved its successor first, or took the number.
        if (existing := successor_of(contract)) is not None:
            raise already_renewed(existing) from error
        raise ContractRuleError(_("この契約番号は既に使われています。"), field="number") from error
    db.session.expire(contract, ["successor"])
    return renewed
# --- subcontractors (再委託, clause C08) -------------------------------------------------

# The four-eyes record of a subcontractor request (core/approvals.py).
SUBCONTRACTOR = "subcontractor"
# Who decides a subcontractor request besides never its requester: an
# administrator, an approver or the security lead (統括情報セキュリティ責任者).
SUBCONTRACTOR_DECIDERS = frozenset({Role.ADMIN, Role.APPROVER, Role.LEAD})


def _subcontractor_vendor(vendor_id: int | None, corporate_number: str | None) -> Vendor | None:
    """The vendor record a request links to: chosen, or found by its 法人番号
    (NFKC-folded: full-width ７ is 7, then 13 ASCII digits with the check
    digit of vendors.rules).  Both given must name the same vendor."""
    vendor = None
    if vendor_id is not None:
        vendor = db.session.get(Vendor, vendor_id)
        if vendor is None:
            raise ContractRuleError(_l("選択した事業者が見つかりません。"), field="vendor_id")
    number = fold(corporate_number)
    if not number:
        return vendor
    if not re.fullmatch(r"[0-9]{13}", number):
        raise ContractRuleError(_l("法人番号は13桁の数字で入力してください。"), field="corporate_number")
    if not is_valid_corporate_number(number):
        raise ContractRuleError(_l("法人番号のチェックデジットが正しくありません。番号を確認してください。"),
                                field="corporate_number")
    found = db.session.scalar(select(Vendor).where(Vendor.corporate_number == number))
    if found is None:
        raise ContractRuleError(_l("この法人番号の事業者は登録されていません。先に事業者を登録するか、空欄にしてください。"),
                                field="corporate_number")
    if vendor is not None and vendor.id != found.id:
        raise ContractRuleError(_l("選択した事業者と法人番号が一致しません。"), field="corporate_number")
    return found


def request_subcontractor(contract: Contract, *, name: str, scope: str | None, document, user,
                          vendor_id: int | None = None, corporate_number: str | None = None) -> Subcontractor:
    """再委託の申請 (clause C08: prior written approval): a contract that
    allows subcontracting with approval (承認制; 禁止 refuses) and is not
    closed; the name; the approval document (再委託承認申請書 / 承諾書, an
    upload or a stored file: required, kept last so a refusal keeps no
    file); optionally the subcontractor's vendor record.  The request is
    承認待ち until another person decides it (decide_subcontractor)."""
    if contract.subcontracting is Subcontracting.PROHIBITED:
        raise ContractRuleError(_l("この契約は再委託を禁止しています。再委託先を申請するには「承認制」にしてください。"))
    if contract.status in rules.CLOSED:
        raise ContractRuleError(_("「%(status)s」の契約には再委託先を申請できません。", status=contract.status.label))
    name = fold(name)
    if not name:
        raise ContractRuleError(_l("再委託先の名称を入力してください。"), field="name")
    vendor = _subcontractor_vendor(vendor_id, corporate_number)
    if not document:
        raise ContractRuleError(_l("再委託承認申請書（承諾書）を添付してください。"), field="document")
    if not isinstance(document, StoredFile):
        try:
            document = files.store(document, user=user)
        except files.FileRejected as error:
            raise ContractRuleError(str(error), field="document") from error
    row = Subcontractor(name=name, scope=fold(scope) or None, status=SubcontractorStatus.PENDING, vendor=vendor,
                        document=document, requested_by_id=user.id)
    audit.label(row, "request")
    contract.subcontractors.append(row)
    db.session.flush()
    approvals.request(SUBCONTRACTOR, row, reason=f"{row.name}（{row.scope or ''}）", requester=user)
    return row


def subcontractor_approval(row: Subcontractor) -> Approval | None:
    """The request's four-eyes record (the latest)."""
    return db.session.scalar(select(Approval).where(
        Approval.kind == SUBCONTRACTOR, Approval.subject_type == Subcontractor.__tablename__,
        Approval.subject_id == row.id).order_by(Approval.id.desc()).limit(1))


def decide_subcontractor(row: Subcontractor, *, approve: bool, comment: str | None, user) -> Subcontractor:
    """Approve or reject a pending request (four eyes): by an administrator,
    an approver or the security lead, never by its requester (whatever other
    roles the requester holds).  Approved, it is one of the contract's
    subcontractors from today (approved_on, approver)."""
    if not user.has_role(*SUBCONTRACTOR_DECIDERS):
        raise ContractRuleError(_l("再委託の申請を決定できるのは管理者・承認者・統括情報セキュリティ責任者です。"))
    if row.status is not SubcontractorStatus.PENDING:
        raise ContractRuleError(_l("この申請は既に決定済みです。"))
    if row.requested_by_id == user.id:
        raise ContractRuleError(_l("申請者本人は再委託を承認・却下できません。別の担当者が決定してください。"))
    approval = subcontractor_approval(row)
    try:
        approvals.decide(approval, approver=user, approve=approve, comment=fold(comment) or None)
    except approvals.ApprovalError as error:
        raise ContractRuleError(str(error)) from error
    if approve:
        row.status = SubcontractorStatus.APPROVED
        row.approver_id = user.id
        row.approved_on = today()
    else:
        row.status = SubcontractorStatus.REJECTED
    audit.label(row, "approve" if approve else "reject")
    db.session.flush()
    return row


def withdraw_subcontractor(row: Subcontractor, *, user) -> Subcontractor:
    """A pending or rejected request is withdrawn (取下げ) by its requester;
    the row stays, with its history."""
    if row.status not in (SubcontractorStatus.PENDING, SubcontractorStatus.REJECTED):
        raise ContractRuleError(_l("取り下げられるのは承認待ち・却下の申請だけです。"))
    if row.requested_by_id != user.id:
        raise ContractRuleError(_l("申請を取り下げられるのは申請者本人だけです。"))
    approval = subcontractor_approval(row)
    if approval is not None and approval.decision is Decision.PENDING:
        approvals.withdraw(approval, user=user, comment="申請者が取下げ")
    row.status = SubcontractorStatus.WITHDRAWN
    audit.label(row, "withdraw")
    db.session.flush()
    return row


def end_subcontractor(row: Subcontractor, *, ended_on: dt.date | None, reason: str | None, user) -> Subcontractor:
    """An approved subcontractor is ended (終了), never deleted: the end date
    (not in the future, not before its approval) and the reason are kept."""
    if row.status is not SubcontractorStatus.APPROVED:
        raise ContractRuleError(_l("終了できるのは承認された再委託先だけです。"))
    reason = fold(reason)
    if not reason:
        raise ContractRuleError(_l("終了の理由を入力してください。"), field="end_reason")
    if ended_on is None:
        raise ContractRuleError(_l("日付を入力してください。"), field="ended_on")
    if ended_on > today():
        raise ContractRuleError(_l("終了日に未来の日付は指定できません。"), field="ended_on")
    if row.approved_on is not None and ended_on < row.approved_on:
        raise ContractRuleError(_l("終了日は承認日以降の日付にしてください。"), field="ended_on")
    row.status = SubcontractorStatus.ENDED
    row.ended_on = ended_on
    row.end_reason = reason
    audit.label(row, "end")
    db.session.flush()
    return row


def delete_subcontractor(row: Subcontractor) -> None:
    """Never: an approved subcontractor is ended, a request is withdrawn,
    so the contract's history of re-subcontracting stays whole (C08)."""
    if row.status in (SubcontractorStatus.APPROVED, SubcontractorStatus.ENDED):
        raise ContractRuleError(_l("承認された再委託先は削除できません。終了日と理由を記録して「終了」にしてください。"))
    raise ContractRuleError(_l("再委託の申請は削除できません。承認待ち・却下の申請は申請者が取り下げてください。"))


# --- the clause catalogue -----------------------------------------------------------

def save_clause(clause: Clause, values: dict) -> Clause:
    """Apply the clause form's values (``form.data``) and flush.  Codes are
    unique; a clause taken out of use is audited as retired (contracts keep
    their rows of it)."""
    code = values["code"].strip().upper()
    taken = db.session.scalar(select(Clause.id).where(Clause.code == code, Clause.id != (clause.id or 0)))
    if taken:
        raise ContractRuleError(_("このコードの条項は既にあります。"), field="code")
    clause.code = code
    for name in ("label_ja", "label_en", "verify_ja", "verify_en"):
        setattr(clause, name, _text(values[name]))
    kinds = values.get("mandatory_kinds") or []
    known = {kind.value for kind in ContractKind}
    if any(kind not in known for kind in kinds):
        raise ContractRuleError(_("契約の種別が正しくありません。"), field="mandatory_kinds")
    clause.mandatory_if_personal = values["mandatory_if_personal"]
    clause.mandatory_base = bool(values.get("mandatory_base"))
    clause.mandatory_kinds = ",".join(kind.value for kind in ContractKind if kind.value in kinds) or None
    clause.mandatory_if_access = bool(values.get("mandatory_if_access"))
    clause.sort_order = values["sort_order"] or 0
    if not values["active"] and clause.active:
        audit.label(clause, "retire")
    clause.active = values["active"]
    clause.mandatory_levels = db.session.scalars(select(ClassificationLevel).where(
        ClassificationLevel.id.in_(values["mandatory_levels"] or []))).all()
    db.session.add(clause)
    db.session.flush()
    return clause


# --- verification ----------------------------------------------------------------

def record_verification(verification: Verification, *, performed_on: dt.date, method: Method,
                        conclusion: str | None, remarks: str | None, results: dict[int, tuple[Result, str | None]],
                        evidence: list[tuple[VerificationResult | None, object]], submit: bool,
                        user) -> list[Finding]:
    """Save the draft (checks.save_draft), keep each piece of evidence, for
    one result row or for the whole verification, and submit when asked
    (checks.submit: the findings it opens come back).  A refusal
    (checks.VerificationError) or a rejected file (files.FileRejected)
    leaves the caller to roll back."""
    checks.save_draft(verification, performed_on=performed_on, method=method, conclusion=conclusion,
                      remarks=remarks, results=results)
    for row, upload in evidence:
        checks.attach(verification, files.store(upload, allowed=files.EVIDENCE_TYPES,
                                                max_bytes=files.MAX_EVIDENCE_BYTES, user=user), result=row)
    return checks.submit(verification, user=user) if submit else []


def report_done(finding: Finding, *, note: str, upload, user) -> Approval:
    """A corrective measure reported done with its closure evidence: the
    file is kept first (a rejected one, files.FileRejected, records
    nothing), then checks.report_done asks another verifier to accept it.
    Who may not report is refused before any file is kept."""
    if not checks.can_report(user, finding):
        raise checks.VerificationError(_l("完了報告ができるのは措置の担当者または確認担当です。"))
    evidence = files.store(upload, allowed=files.EVIDENCE_TYPES, max_bytes=files.MAX_EVIDENCE_BYTES, user=user)
    return checks.report_done(finding, note=note, evidence=evidence, user=user)


def set_default_cycles(cycles: dict[ClassificationLevel, Cycle | None]) -> None:
    """The default verification cycle of each confidentiality level (None:
    left as it is)."""
    for level, cycle in cycles.items():
        if cycle is not None and level.verification_cycle != cycle.value:
            level.verification_cycle = cycle.value
    db.session.flush()


# --- amendments (変更契約, issue 17) ----------------------------------------------------
#
# Once a contract is 締結済 or 履行中, its protected terms — the vendor, the
# classification levels, personal data and My Number, access to systems, the
# kind, the period, re-subcontracting and the clause matrix — change only
# through an amendment: drafted with its reason, date and document, approved
# by someone other than its author, and applied only then, after the signing
# gates (rules.check_signable) and the classification-follows-data rule pass
# again on the amended contract.

AMENDMENT = "contract_amendment"  # core.approvals kind: the four-eyes decision
AMENDABLE = (ContractStatus.SIGNED, ContractStatus.IN_FORCE)
# Who may decide an amendment (never its author).
AMENDMENT_DECIDERS = (Role.PROCUREMENT, Role.ADMIN, Role.LEAD)
PROTECTED = ("vendor_id", "kind", "start_on", "end_on", "classification_id", "integrity_id", "availability_id",
             "handles_personal_info", "handles_my_number", "system_access", "subcontracting", "amount", "method")
FIELD_LABELS = {
    "vendor_id": _l("委託事業者"), "kind": _l("種別"), "start_on": _l("契約開始日"), "end_on": _l("契約終了日"),
    "classification_id": _l("機密性"), "integrity_id": _l("完全性"), "availability_id": _l("可用性"),
    "handles_personal_info": _l("個人情報を取り扱う"), "handles_my_number": _l("個人番号（マイナンバー）を取り扱う"),
    "system_access": _l("システムへのアクセス"), "subcontracting": _l("再委託"), "clauses": _l("セキュリティ条項"),
    "amount": _l("契約金額"), "method": _l("契約方法"),
}
FILLABLE = ("amount", "method")  # protected, but a blank one is filled in without an amendment
_LEVELS = ("classification_id", "integrity_id", "availability_id")
_FLAGS = ("handles_personal_info", "handles_my_number", "system_access")


def needs_amendment(contract: Contract) -> bool:
    """The contract is signed or in force: its protected terms change only by amendment."""
    return contract.id is not None and contract.status in AMENDABLE


def _amendment_only(names: list[str]) -> str:
    return _("締結済・履行中の契約の%(fields)sは直接変更できません。契約のページから変更契約を起案し、"
             "承認を受けてください。", fields="、".join(str(FIELD_LABELS[name]) for name in names))


def _as_json(name: str, value):
    """A protected value as the amendment stores it (ids, enum values, ISO dates)."""
    if name in _FLAGS:
        return bool(value)
    if value is None or value == "":
        return None
    if name in ("start_on", "end_on"):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if name in ("kind", "subcontracting", "method"):
        return getattr(value, "value", value)
    return int(value)


def _from_json(name: str, value):
    if value is None or name in _FLAGS:
        return value
    if name in ("start_on", "end_on"):
        return dt.date.fromisoformat(value)
    if name == "kind":
        return ContractKind(value)
    if name == "subcontracting":
        return Subcontracting(value)
    if name == "method":
        return ContractingMethod(value)
    return value


def protected_values(contract: Contract) -> dict:
    return {name: _as_json(name, getattr(contract, name)) for name in PROTECTED}


def _proposed(values: dict) -> dict:
    return {name: _as_json(name, values.get(name)) for name in PROTECTED}


def _current_rows(contract: Contract) -> dict[int, list]:
    return {row.clause_id: [row.state.value, row.article, row.reason] for row in contract.clauses}


def _row_json(row: tuple[ClauseState, str | None, str | None]) -> list:
    return [row[0].value, row[1], row[2]]


def amendments(contract: Contract) -> list[ContractAmendment]:
    return db.session.scalars(select(ContractAmendment).where(ContractAmendment.contract_id == contract.id)
                              .order_by(ContractAmendment.number)).all()


def open_amendment(contract: Contract) -> ContractAmendment | None:
    return db.session.scalar(select(ContractAmendment).where(
        ContractAmendment.contract_id == contract.id,
        ContractAmendment.status.in_((AmendmentStatus.DRAFT, AmendmentStatus.PENDING))))


def save_amendment(amendment: ContractAmendment, values: dict, rows: dict, *, user) -> ContractAmendment:
    """Draft (or edit the draft of) an amendment to a signed or in-force
    contract: ``values`` are the amendment form's (reason, amended_on,
    document, and the protected terms as proposed), ``rows`` the proposed
    clause matrix, (state, article, reason) per clause id.  What differs from
    the contract is kept as its changes; nothing changes on the contract
    until the amendment is approved.  Only the author edits a draft; one
    draft or pending amendment per contract (held by a partial unique index
    against parallel requests)."""
    contract = amendment.contract
    if contract.status not in AMENDABLE:
        raise ContractRuleError(_l("変更契約は締結済・履行中の契約についてのみ起案できます。"))
    if amendment.id is not None:
        if amendment.status is not AmendmentStatus.DRAFT:
            raise ContractRuleError(_l("起案中の変更契約のみ編集できます。"))
        if amendment.author_id != user.id:
            raise ContractRuleError(_l("変更契約を編集できるのは起案者のみです。"))
    elif open_amendment(contract) is not None:
        raise ContractRuleError(_l("この契約には起案中または承認待ちの変更契約が既にあります。先にそれを承認・却下・取下げしてください。"))
    reason = _nfkc(values.get("reason"))
    if not reason:
        raise ContractRuleError(_l("変更の理由を入力してください。"), field="reason")
    if not isinstance(values.get("amended_on"), dt.date):
        raise ContractRuleError(_l("日付を入力してください。"), field="amended_on")
    proposed = _proposed(values)
    if proposed["vendor_id"] is None or db.session.get(Vendor, proposed["vendor_id"]) is None:
        raise ContractRuleError(_l("委託事業者を選択してください。"), field="vendor_id")
    if proposed["start_on"] is None or proposed["end_on"] is None:
        raise ContractRuleError(_l("日付を入力してください。"), field="start_on")
    if proposed["end_on"] < proposed["start_on"]:
        raise ContractRuleError(_l("契約終了日は契約開始日以降にしてください。"), field="end_on")
    if proposed["handles_my_number"] and not proposed["handles_personal_info"]:
        raise ContractRuleError(_l("マイナンバーを取り扱う場合は「個人情報を取り扱う」にもチェックしてください。"),
                                field="handles_my_number")
    level = db.session.get(ClassificationLevel, proposed["classification_id"]) if proposed["classification_id"] else None
    refusal = classification.below_minimum(level, personal=proposed["handles_personal_info"],
                                           my_number=proposed["handles_my_number"])
    if refusal:  # classification follows the data (MIC R6.10)
        raise ContractRuleError(refusal, field="classification_id")
    rows = _matrix_rows(rows)
    before = protected_values(contract)
    fields = {name: {"before": before[name], "after": proposed[name]} for name in PROTECTED
              if before[name] != proposed[name]}
    current = _current_rows(contract)
    codes = dict(db.session.execute(select(Clause.id, Clause.code).where(Clause.id.in_(list(rows) or [0]))).all())
    clauses = {codes[clause_id]: {"before": current.get(clause_id), "after": _row_json(row)}
               for clause_id, row in rows.items() if clause_id in codes and current.get(clause_id) != _row_json(row)}
    if values.get("document"):
        amendment.document = files.store(values["document"], user=user)
    amendment.reason, amendment.amended_on = reason, values["amended_on"]
    amendment.changes = {"fields": fields, "clauses": clauses}
    if amendment.id is None:
        amendment.author_id = user.id
        amendment.status = AmendmentStatus.DRAFT
        amendment.number = (db.session.scalar(select(func.max(ContractAmendment.number)).where(
            ContractAmendment.contract_id == contract.id)) or 0) + 1
        db.session.add(amendment)
    try:
        with savepoint():
            db.session.flush()
    except IntegrityError as error:  # another request opened one at the same moment
        raise ContractRuleError(_l("この契約には起案中または承認待ちの変更契約が既にあります。"
                                   "先にそれを承認・却下・取下げしてください。")) from error
    return amendment


def submit_amendment(amendment: ContractAmendment, *, user) -> Approval:
    """The author asks for the decision: the amendment changes something and
    has its document (変更契約書)."""
    if amendment.status is not AmendmentStatus.DRAFT:
        raise ContractRuleError(_l("起案中の変更契約のみ承認を申請できます。"))
    if amendment.author_id != user.id:
        raise ContractRuleError(_l("変更契約の承認を申請できるのは起案者のみです。"))
    if not (amendment.changes or {}).get("fields") and not (amendment.changes or {}).get("clauses"):
        raise ContractRuleError(_l("変更する項目がありません。契約の内容を変更してから申請してください。"))
    if amendment.document is None:
        raise ContractRuleError(_l("変更契約書のファイルを添付してから申請してください。"), field="document")
    amendment.status = AmendmentStatus.PENDING
    audit.label(amendment, "submit")
    return approvals.request(AMENDMENT, amendment, reason=amendment.reason, requester=user,
                             details={"contract_id": amendment.contract_id, "number": amendment.number})


def pending_approval(amendment: ContractAmendment) -> Approval | None:
    return db.session.scalar(select(Approval).where(
        Approval.kind == AMENDMENT, Approval.subject_type == ContractAmendment.__tablename__,
        Approval.subject_id == amendment.id, Approval.decision == Decision.PENDING))


def can_decide_amendment(user, amendment: ContractAmendment) -> bool:
    return user.has_role(*AMENDMENT_DECIDERS) and user.id != amendment.author_id


def decide_amendment(amendment: ContractAmendment, *, user, approve: bool, comment: str | None = None) -> None:
    """Approve or reject a pending amendment; never by its author.  Approval
    applies the changes, then runs the signing gates (rules.check_signable:
    a vendor not 取引停止 or 終了, its selection, the mandatory clauses or
    approved exceptions) and the classification-follows-data rule on the
    amended contract: if one refuses, the approval is refused with its
    message and nothing changes."""
    if amendment.status is not AmendmentStatus.PENDING:
        raise ContractRuleError(_l("承認待ちの変更契約のみ承認・却下できます。"))
    if user.id == amendment.author_id:
        raise ContractRuleError(_l("起案者本人は変更契約を承認できません。別の担当者が承認してください。"))
    if not user.has_role(*AMENDMENT_DECIDERS):
        raise ContractRuleError(_l("変更契約を承認できるのは契約担当、管理者または統括情報セキュリティ責任者です。"))
    request = pending_approval(amendment)
    if approve:
        if amendment.contract.status not in AMENDABLE:
            raise ContractRuleError(_l("変更契約は締結済・履行中の契約についてのみ承認できます。"))
        if amendment.document is None:
            raise ContractRuleError(_l("変更契約書のファイルが添付されていません。"))
        with savepoint():  # a refusal below rolls the applied changes back
            _apply(amendment)
    if request is not None:
        approvals.decide(request, approver=user, approve=approve, comment=_nfkc(comment))
    amendment.status = AmendmentStatus.APPROVED if approve else AmendmentStatus.REJECTED
    amendment.approver_id = user.id
    amendment.decided_at = utcnow()
    amendment.comment = _nfkc(comment)
    audit.label(amendment, "approve" if approve else "reject")
    db.session.flush()


def _apply(amendment: ContractAmendment) -> None:
    """The amendment's changes on its contract, then the gates.  The
    ``before`` of each change is what the contract held when it applied."""
    contract = amendment.contract
    changes = amendment.changes or {}
    current = protected_values(contract)
    fields = {}
    for name, change in (changes.get("fields") or {}).items():
        fields[name] = {"before": current[name], "after": change["after"]}
        setattr(contract, name, _from_json(name, change["after"]))
    clauses = {}
    if changes.get("clauses"):
        catalogue = {clause.code: clause for clause in db.session.scalars(select(Clause).where(
            Clause.code.in_(list(changes["clauses"]))))}
        existing = _current_rows(contract)
        rows = {}
        for code, change in changes["clauses"].items():
            if code in catalogue:
                state, article, reason = change["after"]
                rows[catalogue[code].id] = (ClauseState(state), article, reason)
                clauses[code] = {"before": existing.get(catalogue[code].id), "after": change["after"]}
        _write_matrix(contract, rows)
    amendment.changes = {"fields": fields, "clauses": clauses}
    audit.label(contract, "amend")
    contract.updated_at = utcnow()
    db.session.flush()
    db.session.refresh(contract, ["vendor", "classification"])
    if "vendor_id" in fields and (selection := vendor_services.valid_selection(contract.vendor)) is not None:
        # A new vendor needs a selection that covers the contract: its selection still
        # valid, confirmed for the contract by the amendment's author, the reason as comment.
        rules.link_selection(contract, selection, basis=rules.CONFIRMED, user=amendment.author,
                             comment=f"第{amendment.number}回変更契約による委託事業者の変更: {amendment.reason}")
    rules.check_signable(contract)
    reason = classification.below_minimum(contract.classification, personal=contract.handles_personal_info,
                                          my_number=contract.handles_my_number)
    if reason:
        raise ContractRuleError(reason)


def withdraw_amendment(amendment: ContractAmendment, *, user) -> None:
    """The author (or an administrator) withdraws a draft or pending amendment."""
    if not amendment.is_open:
        raise ContractRuleError(_l("起案中または承認待ちの変更契約のみ取り下げられます。"))
    if amendment.author_id != user.id and not user.has_role(Role.ADMIN):
        raise ContractRuleError(_l("変更契約を取り下げられるのは起案者または管理者です。"))
    request = pending_approval(amendment)
    if request is not None:
        approvals.withdraw(request, user=user)
    amendment.status = AmendmentStatus.WITHDRAWN
    audit.label(amendment, "withdraw")
    db.session.flush()


def change_lines(amendment: ContractAmendment, locale: str = "ja",
                 date=dt.date.isoformat) -> list[tuple[str, str, str]]:
    """What the amendment changes (or changed), readable: (what, before, after).
    ``date`` writes a date (pages pass their date filter, documents keep ISO)."""
    changes = amendment.changes or {}
    lines = []
    for name in PROTECTED:
        change = (changes.get("fields") or {}).get(name)
        if change is not None:
            lines.append((str(FIELD_LABELS[name]), _readable(name, change["before"], locale, date),
                          _readable(name, change["after"], locale, date)))
    clauses = changes.get("clauses") or {}
    labels = {clause.code: clause.label(locale) for clause in db.session.scalars(
        select(Clause).where(Clause.code.in_(list(clauses) or [""])))}
    for code in sorted(clauses):
        lines.append((f"{code} {labels.get(code, '')}".strip(), _readable_row(clauses[code]["before"]),
                      _readable_row(clauses[code]["after"])))
    return lines


def _readable(name: str, value, locale: str, date=dt.date.isoformat) -> str:
    if value is None:
        return "—"
    if name in ("start_on", "end_on"):
        return date(dt.date.fromisoformat(value))
    if name in _FLAGS:
        return _("はい") if value else _("いいえ")
    if name == "vendor_id":
        vendor = db.session.get(Vendor, value)
        return vendor.name if vendor else str(value)
    if name in _LEVELS:
        level = db.session.get(ClassificationLevel, value)
        return level.label(locale) if level else str(value)
    if name in ("kind", "subcontracting", "method"):
        return str(_from_json(name, value).label)
    if name == "amount":
        return _("%(amount)s円", amount=f"{value:,}")
    return str(value)


def _readable_row(row: list | None) -> str:
    if not row:
        return "—"
    state, article, reason = row
    return str(ClauseState(state).label) + (f"（{article}）" if article else "") + (f"（{reason}）" if reason else "")


# --- people change (人事異動, core.handover) -------------------------------------------
# What a contracts user is responsible for, and how it moves to a successor.
# Contract officers come from procurement; a measure's owner may hold any
# role (issue 17); a draft verification belongs to a verifier.

LIVE = (ContractStatus.DRAFT, ContractStatus.SIGNED, ContractStatus.IN_FORCE)


def _officer_of(user) -> list[Contract]:
    return list(db.session.scalars(select(Contract).where(Contract.officer_id == user.id, Contract.status.in_(LIVE))
                                   .order_by(Contract.number)))


def officer_items(user) -> list[handover.Item]:
    return [handover.Item(_("%(number)s %(title)s（%(status)s）", number=c.number, title=c.title,
                            status=c.status.label), "contracts.detail", {"contract_id": c.id})
            for c in _officer_of(user)]


def hand_over_officer(leaver, successor) -> None:
    """The successor becomes the officer of the leaver's live contracts."""
    for contract in _officer_of(leaver):
        contract.officer_id = successor.id
    db.session.flush()


def _measures_of(user) -> list[Finding]:
    return list(db.session.scalars(select(Finding).where(Finding.owner_id == user.id,
                                                         Finding.status != MeasureStatus.ACCEPTED)
                                   .options(selectinload(Finding.contract), selectinload(Finding.clause))
                                   .order_by(Finding.due_on, Finding.id)))


def measure_items(user) -> list[handover.Item]:
    return [handover.Item(_("%(number)s %(clause)s の是正措置（%(status)s、期限 %(due)s）",
                            number=f.contract.number, clause=f.clause.code, status=f.status.label,
                            due=f.due_on.isoformat()), "verification.finding", {"finding_id": f.id})
            for f in _measures_of(user)]


def hand_over_measures(leaver, successor) -> None:
    """The successor becomes the owner (担当者) of the leaver's open measures."""
    for finding in _measures_of(leaver):
        finding.owner_id = successor.id
    db.session.flush()


def _drafts_of(user) -> list[Verification]:
    return list(db.session.scalars(select(Verification).where(Verification.verifier_id == user.id,
                                                              Verification.status == VerificationStatus.DRAFT)
                                   .options(selectinload(Verification.contract)).order_by(Verification.id)))


def draft_items(user) -> list[handover.Item]:
    return [handover.Item(_("%(number)s の確認（下書き、%(date)s）", number=v.contract.number,
                            date=v.performed_on.isoformat()), "verification.detail", {"verification_id": v.id})
            for v in _drafts_of(user)]


def hand_over_drafts(leaver, successor) -> None:
    """The successor becomes the verifier of the leaver's draft verifications."""
    for draft in _drafts_of(leaver):
        draft.verifier_id = successor.id
    db.session.flush()


def _amendments_of(user) -> list[ContractAmendment]:
    return list(db.session.scalars(
        select(ContractAmendment).where(ContractAmendment.author_id == user.id,
                                        ContractAmendment.status.in_((AmendmentStatus.DRAFT, AmendmentStatus.PENDING)))
        .options(selectinload(ContractAmendment.contract)).order_by(ContractAmendment.id)))


def amendment_items(user) -> list[handover.Item]:
    return [handover.Item(_("%(number)s の第%(n)s回変更（%(status)s）", number=a.contract.number, n=a.number,
                            status=a.status.label), "contracts.amendment_detail",
                          {"contract_id": a.contract_id, "amendment_id": a.id})
            for a in _amendments_of(user)]


def hand_over_amendments(leaver, successor) -> None:
    """The successor becomes the author of the leaver's draft or pending
    amendments (only the author edits, submits or withdraws one, and an open
    amendment blocks any other on its contract).  A pending one's request
    moves with core's pending requests."""
    for amendment in _amendments_of(leaver):
        amendment.author_id = successor.id
    db.session.flush()


def _subcontractor_requests_of(user) -> list[Subcontractor]:
    return list(db.session.scalars(
        select(Subcontractor).where(Subcontractor.requested_by_id == user.id,
                                    Subcontractor.status == SubcontractorStatus.PENDING)
        .options(selectinload(Subcontractor.contract)).order_by(Subcontractor.id)))


def subcontractor_request_items(user) -> list[handover.Item]:
    return [handover.Item(_("%(number)s の再委託先 %(name)s（承認待ち）", number=row.contract.number, name=row.name),
                          "contracts.detail", {"contract_id": row.contract_id})
            for row in _subcontractor_requests_of(user)]


def hand_over_subcontractor_requests(leaver, successor) -> None:
    """The successor becomes the requester of the leaver's pending
    subcontractor requests (the one who may withdraw them)."""
    for row in _subcontractor_requests_of(leaver):
        row.requested_by_id = successor.id
    db.session.flush()


def _amendment_request(approval: Approval) -> handover.Item:
    amendment = db.session.get(ContractAmendment, approval.subject_id)
    if amendment is None:
        return handover.Item(_("変更契約の承認申請 #%(id)s", id=approval.id))
    return handover.Item(_("%(number)s の第%(n)s回変更の承認申請", number=amendment.contract.number, n=amendment.number),
                         "contracts.amendment_detail", {"contract_id": amendment.contract_id,
                                                        "amendment_id": amendment.id})


def _subcontractor_request(approval: Approval) -> handover.Item:
    row = db.session.get(Subcontractor, approval.subject_id)
    if row is None:
        return handover.Item(_("再委託の承認申請 #%(id)s", id=approval.id))
    return handover.Item(_("%(number)s の再委託先 %(name)s の承認申請", number=row.contract.number, name=row.name),
                         "contracts.detail", {"contract_id": row.contract_id})


def _exception_item(approval: Approval) -> handover.Item:
    contract = db.session.get(Contract, approval.subject_id)
    clause = "・".join((approval.details or {}).get("clauses") or [])
    return handover.Item(_("%(number)s の条項の例外申請 %(clause)s", number=contract.number if contract else "?",
                           clause=clause), "contracts.detail", {"contract_id": approval.subject_id})


def _closure_item(approval: Approval) -> handover.Item:
    """A completion report: of a contract finding, or (the request kind is
    every measure's) of an improvement measure, described by core.measures."""
    if approval.subject_type != Finding.__tablename__:
        return measures.request_item(approval)
    finding = db.session.get(Finding, approval.subject_id)
    number = finding.contract.number if finding else "?"
    return handover.Item(_("%(number)s の是正措置の完了報告", number=number), "verification.finding",
                         {"finding_id": approval.subject_id})


def add_responsibilities(house) -> None:
    house.add_responsibility(plugins.Responsibility(
        key="contract_officer", order=20, label=_l("契約の担当者"), items=officer_items,
        hand_over=hand_over_officer, roles=frozenset({Role.PROCUREMENT})))
    house.add_responsibility(plugins.Responsibility(
        key="measure_owner", order=25, label=_l("是正措置の担当者"), items=measure_items,
        hand_over=hand_over_measures))
    house.add_responsibility(plugins.Responsibility(
        key="draft_verification", order=26, label=_l("下書きの確認（確認者）"), items=draft_items,
        hand_over=hand_over_drafts, roles=frozenset({Role.VERIFIER})))
    house.add_responsibility(plugins.Responsibility(
        key="amendment_author", order=21, label=_l("変更契約（起案・承認待ち）の起案者"), items=amendment_items,
        hand_over=hand_over_amendments, roles=frozenset({Role.PROCUREMENT})))
    house.add_responsibility(plugins.Responsibility(
        key="subcontractor_requester", order=22, label=_l("再委託先の申請（承認待ち）"),
        items=subcontractor_request_items, hand_over=hand_over_subcontractor_requests,
        roles=frozenset({Role.PROCUREMENT})))
    house.add_request_kind(AMENDMENT, _amendment_request, roles=frozenset({Role.PROCUREMENT}))
    house.add_request_kind(SUBCONTRACTOR, _subcontractor_request, roles=frozenset({Role.PROCUREMENT}))
    house.add_request_kind(rules.EXCEPTION, _exception_item, roles=frozenset({Role.PROCUREMENT}))
    house.add_request_kind(checks.CLOSURE, _closure_item)


# --- the selection that covers the contract (issue 17) -------------------------

def record_contract_selection(contract: Contract, *, decided_on: dt.date, decision: SelectionDecision, user,
                              notes: str | None, results: dict[int, tuple[Assessment, str | None]],
                              justification: str | None = None, decided_by_id: int | None = None) -> Selection:
    """「この契約の選定を記録」: a selection of the contract's vendor
    (vendors.services.record_selection, with its rules), linked to the contract."""
    if contract.status not in rules.LIVE:
        raise ContractRuleError(_l("終了・解除・取下げの契約の選定記録は変更できません。"))
    selection = vendor_services.record_selection(contract.vendor, decided_on=decided_on, decision=decision,
                                                 user=user, notes=notes, results=results,
                                                 justification=justification, decided_by_id=decided_by_id)
    rules.link_selection(contract, selection, basis=rules.FOR_CONTRACT, comment=None, user=user)
    return selection


def confirm_vendor_selection(contract: Contract, *, comment: str | None, user) -> Selection:
    """Confirm the vendor's selection, still valid (SELECTION_VALID_DAYS), as
    the selection of this contract; the comment says why it covers it."""
    comment = fold(comment)
    if not comment:
        raise ContractRuleError(_l("確認のコメントを入力してください（事業者の選定がこの契約を対象とする理由）。"),
                                field="comment")
    selection = vendor_services.valid_selection(contract.vendor)
    if selection is None:
        raise ContractRuleError(_("%(days)d日以内の事業者の選定記録（選定する）がありません。"
                                  "「この契約の選定を記録」で選定を記録してください。",
                                  days=vendor_services.selection_valid_days()))
    rules.link_selection(contract, selection, basis=rules.CONFIRMED, comment=comment, user=user)
    return selection


# --- what waits for a user (core.inbox, issue 18) ------------------------------

def inbox_entries(user) -> list:
    """The contract requests ``user`` may decide: clause exceptions, amendments,
    subcontractors and measure closures, each by its own deciders and never by
    its requester nor an editor (core.inbox.may_decide)."""
    found = []
    if user.has_role(*rules.EXCEPTION_DECIDERS):
        for request, contract in inbox.pending(rules.EXCEPTION, Contract):
            if contract is not None and inbox.may_decide(request, user):
                clause = "・".join((request.details or {}).get("clauses") or [])
                found.append(inbox.request_entry(
                    _l("必須条項の例外"), request,
                    _("%(number)s の条項の例外申請 %(clause)s", number=contract.number, clause=clause),
                    "contracts.detail", {"contract_id": contract.id}))
    if user.has_role(*AMENDMENT_DECIDERS):
        for request, amendment in inbox.pending(AMENDMENT, ContractAmendment,
                                                (selectinload(ContractAmendment.contract),)):
            if amendment is not None and amendment.status is AmendmentStatus.PENDING \
                    and can_decide_amendment(user, amendment) and inbox.may_decide(request, user):
                found.append(inbox.request_entry(
                    _l("変更契約"), request,
                    _("%(number)s の第%(n)s回変更の承認申請", number=amendment.contract.number, n=amendment.number),
                    "contracts.amendment_detail", {"contract_id": amendment.contract_id,
                                                   "amendment_id": amendment.id}))
    if user.has_role(*SUBCONTRACTOR_DECIDERS):
        for request, row in inbox.pending(SUBCONTRACTOR, Subcontractor, (selectinload(Subcontractor.contract),)):
            if row is not None and row.requested_by_id != user.id and inbox.may_decide(request, user):
                found.append(inbox.request_entry(
                    _l("再委託"), request,
                    _("%(number)s の再委託先 %(name)s の承認申請", number=row.contract.number, name=row.name),
                    "contracts.detail", {"contract_id": row.contract_id}))
    if checks.can_accept(user):
        for request, finding in inbox.pending(checks.CLOSURE, Finding, (selectinload(Finding.contract),)):
            if finding is not None and inbox.may_decide(request, user):
                found.append(inbox.request_entry(
                    _l("是正措置の完了確認"), request,
                    _("%(number)s の是正措置の完了報告", number=finding.contract.number),
                    "verification.finding", {"finding_id": finding.id}))
    return found
