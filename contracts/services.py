"""Contract writes: the pages, the spreadsheet import and the API change
contracts, their clause matrix, the clause catalogue and verifications here.
They build on the rules of contracts/rules.py (signing, exceptions,
subcontractors, disposal) and contracts/verification.py (recording
verifications, corrective measures).  Everything here flushes and writes the
audit trail (through the models); the caller commits once."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from contracts import rules
from contracts import verification as checks
from contracts.models import (
    Clause,
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
    Subcontracting,
    Verification,
    VerificationResult,
)
from contracts.rules import ContractRuleError
from contracts.schedule import Cycle
from core import audit, classification, files
from core.approvals import Approval
from core.db import db, savepoint
from core.models import ClassificationLevel
from core.timeutil import utcnow
from core.validators import fold
from vendors import services as vendor_services
from vendors.models import Assessment, Selection, SelectionDecision, Vendor


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
    A clause marked not applicable needs its reason.  The matrix is part of
    the contract: the contract is touched, so its version moves (a second
    matrix form opened earlier is stale) and the audit trail names the
    change "clauses"."""
    existing = rules.matrix(contract)
    for clause_id, (state, article, reason) in rows.items():
        if state is ClauseState.NOT_APPLICABLE and not (reason or "").strip():
            raise ContractRuleError(_l("「該当なし」には理由が必要です。"))
        row = existing.get(clause_id)
        if row is None:
            row = ContractClause(clause_id=clause_id)
            contract.clauses.append(row)
        row.state = state
        row.article = (article or "").strip() or None if state is ClauseState.INCLUDED else None
        row.reason = (reason or "").strip() or None if state is ClauseState.NOT_APPLICABLE else None
    db.session.flush()
    audit.label(contract, "clauses")
    contract.updated_at = utcnow()
    db.session.flush()


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


# --- the selection that covers the contract (issue 17) -------------------------

def record_contract_selection(contract: Contract, *, decided_on: dt.date, decision: SelectionDecision, user,
                              notes: str | None, results: dict[int, tuple[Assessment, str | None]],
                              justification: str | None = None) -> Selection:
    """「この契約の選定を記録」: a selection of the contract's vendor
    (vendors.services.record_selection, with its rules), linked to the contract."""
    if contract.status not in rules.LIVE:
        raise ContractRuleError(_l("終了・解除・取下げの契約の選定記録は変更できません。"))
    selection = vendor_services.record_selection(contract.vendor, decided_on=decided_on, decision=decision,
                                                 user=user, notes=notes, results=results,
                                                 justification=justification)
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
