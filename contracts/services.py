"""Contract writes: the pages, the spreadsheet import and the API change
contracts, their clause matrix, the clause catalogue and verifications here.
They build on the rules of contracts/rules.py (signing, exceptions,
subcontractors, disposal) and contracts/verification.py (recording
verifications, corrective measures).  Everything here flushes and writes the
audit trail (through the models); the caller commits once."""
from __future__ import annotations

import datetime as dt
import unicodedata

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from contracts import rules
from contracts import verification as checks
from contracts.models import (
    AmendmentStatus,
    Clause,
    ClauseState,
    Contract,
    ContractAmendment,
    ContractClause,
    ContractKind,
    ContractStatus,
    Disposal,
    DisposalMethod,
    Finding,
    Method,
    Result,
    Subcontracting,
    Verification,
    VerificationResult,
)
from contracts.rules import ContractRuleError
from contracts.schedule import Cycle
from core import approvals, audit, classification, files
from core.approvals import Approval, Decision
from core.db import db, savepoint
from core.models import ClassificationLevel, Role
from core.timeutil import utcnow
from vendors.models import Vendor


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
    changed = [name for name, value in _proposed(values).items() if value != current[name]]
    if changed and needs_amendment(contract):  # a signed contract changes only through an amendment (issue 17)
        raise ContractRuleError(_amendment_only(changed), field=changed[0])
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


def save_matrix(contract: Contract, rows: dict[int, tuple[ClauseState, str | None, str | None]]) -> None:
    """Store the clause matrix: (state, article, reason) per clause id.
    A clause marked not applicable needs its reason.  The matrix of a signed
    or in-force contract changes only through an amendment (issue 17): a
    change is refused, the same matrix saved again is not.  The matrix is
    part of the contract: the contract is touched, so its version moves (a
    second matrix form opened earlier is stale) and the audit trail names
    the change "clauses"."""
    rows = _matrix_rows(rows)
    if needs_amendment(contract):
        current = _current_rows(contract)
        if any(current.get(clause_id) != _row_json(row) for clause_id, row in rows.items()):
            raise ContractRuleError(_amendment_only(["clauses"]))
    _write_matrix(contract, rows)
    audit.label(contract, "clauses")
    contract.updated_at = utcnow()
    db.session.flush()


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


def _nfkc(value: str | None) -> str | None:
    return unicodedata.normalize("NFKC", value or "").strip() or None


def record_disposal(contract: Contract, *, done_on: dt.date, method: DisposalMethod, detail: str | None, upload,
                    user) -> Disposal:
    """返却・廃棄 (clause C09) with its evidence: the file is kept first (a
    rejected one, files.FileRejected, records nothing; none is refused),
    then rules.record_disposal (the method fits the class)."""
    if not upload:
        raise ContractRuleError(_l("返却・消去を証明する書類を添付してください。"), field="evidence")
    evidence = files.store(upload, user=user)
    return rules.record_disposal(contract, done_on=done_on, method=method, detail=detail, evidence=evidence,
                                 user=user)


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
             "handles_personal_info", "handles_my_number", "system_access", "subcontracting")
FIELD_LABELS = {
    "vendor_id": _l("委託事業者"), "kind": _l("種別"), "start_on": _l("契約開始日"), "end_on": _l("契約終了日"),
    "classification_id": _l("機密性"), "integrity_id": _l("完全性"), "availability_id": _l("可用性"),
    "handles_personal_info": _l("個人情報を取り扱う"), "handles_my_number": _l("個人番号（マイナンバー）を取り扱う"),
    "system_access": _l("システムへのアクセス"), "subcontracting": _l("再委託"), "clauses": _l("セキュリティ条項"),
}
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
    if name in ("kind", "subcontracting"):
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


def change_lines(amendment: ContractAmendment, locale: str = "ja") -> list[tuple[str, str, str]]:
    """What the amendment changes (or changed), readable: (what, before, after)."""
    changes = amendment.changes or {}
    lines = []
    for name in PROTECTED:
        change = (changes.get("fields") or {}).get(name)
        if change is not None:
            lines.append((str(FIELD_LABELS[name]), _readable(name, change["before"], locale),
                          _readable(name, change["after"], locale)))
    clauses = changes.get("clauses") or {}
    labels = {clause.code: clause.label(locale) for clause in db.session.scalars(
        select(Clause).where(Clause.code.in_(list(clauses) or [""])))}
    for code in sorted(clauses):
        lines.append((f"{code} {labels.get(code, '')}".strip(), _readable_row(clauses[code]["before"]),
                      _readable_row(clauses[code]["after"])))
    return lines


def _readable(name: str, value, locale: str) -> str:
    if value is None:
        return "—"
    if name in _FLAGS:
        return _("はい") if value else _("いいえ")
    if name == "vendor_id":
        vendor = db.session.get(Vendor, value)
        return vendor.name if vendor else str(value)
    if name in _LEVELS:
        level = db.session.get(ClassificationLevel, value)
        return level.label(locale) if level else str(value)
    if name in ("kind", "subcontracting"):
        return str(_from_json(name, value).label)
    return str(value)


def _readable_row(row: list | None) -> str:
    if not row:
        return "—"
    state, article, reason = row
    return str(ClauseState(state).label) + (f"（{article}）" if article else "") + (f"（{reason}）" if reason else "")
