"""Vendor rules that change data.  They flush and write the audit trail
(through the models); the view commits.  The pages, the spreadsheet import
and the API all write vendors here."""
from __future__ import annotations

import datetime as dt
import re

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core import approvals, audit, files, handover, inbox, plugins
from core.approvals import Approval, Decision
from core.db import db, savepoint
from core.models import Role
from core.refusals import Refusal
from core.timeutil import today
from core.validators import fold
from vendors.models import (
    EXPIRY_WARNING_DAYS,
    Assessment,
    Certification,
    CertificationKind,
    Selection,
    SelectionAssessment,
    SelectionCriterion,
    SelectionDecision,
    Vendor,
    VendorContact,
    VendorStatus,
)
from vendors.rules import is_valid_corporate_number


class VendorRuleError(Refusal):
    """A change the rules refuse; the message is for the user."""


# Statuses that say the vendor was chosen: they need a positive selection.
NEEDS_SELECTION = (VendorStatus.SELECTED, VendorStatus.ACTIVE)


def corporate_number_taken(number: str | None, exclude_id: int | None = None) -> bool:
    if not number:
        return False
    stmt = select(Vendor.id).where(Vendor.corporate_number == number)
    if exclude_id:
        stmt = stmt.where(Vendor.id != exclude_id)
    return db.session.scalar(stmt) is not None


def check_status(vendor: Vendor, status: VendorStatus) -> None:
    """選定済 and 取引中 need a positive selection record (policy §6(8):
    the contractor is selected before a contract is signed)."""
    if status in NEEDS_SELECTION and not vendor.is_selected:
        raise VendorRuleError(_l("選定済・取引中にするには、先に選定記録（選定する）を登録してください。"),
                              field="status")


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def save_vendor(vendor: Vendor, values: dict) -> Vendor:
    """Apply the vendor form's values (``form.data``) and flush.  The
    corporate number is NFKC-folded (full-width ７ is 7) and must then be 13
    ASCII digits with its check digit; it is unique (checked first, then caught again at the
    database); a status that says the vendor was chosen needs its selection
    (check_status); ending or suspending a vendor is audited as retiring it."""
    number = fold(values["corporate_number"]) or None
    if number and not re.fullmatch(r"[0-9]{13}", number):
        raise VendorRuleError(_l("法人番号は13桁の数字で入力してください。"), field="corporate_number")
    if number and not is_valid_corporate_number(number):
        raise VendorRuleError(_l("法人番号のチェックデジットが正しくありません。番号を確認してください。"),
                              field="corporate_number")
    if corporate_number_taken(number, exclude_id=vendor.id):
        raise VendorRuleError(_("この法人番号の事業者は既に登録されています。"), field="corporate_number")
    status = VendorStatus(values["status"])
    check_status(vendor, status)
    vendor.name = values["name"].strip()
    vendor.kana = _text(values["kana"])
    vendor.corporate_number = number
    vendor.address = _text(values["address"])
    vendor.representative = _text(values["representative"])
    vendor.website = _text(values["website"])
    vendor.unit_id = values["unit_id"]
    vendor.notes = _text(values["notes"])
    if vendor.id is not None and vendor.status is not status and status in (VendorStatus.ENDED,
                                                                             VendorStatus.SUSPENDED):
        audit.label(vendor, "retire")
    vendor.status = status
    db.session.add(vendor)
    try:
        with savepoint():
            db.session.flush()
    except IntegrityError as error:
        raise VendorRuleError(_("この法人番号の事業者は既に登録されています。"), field="corporate_number") from error
    return vendor


def save_from_form(form, vendor: Vendor) -> Vendor | None:
    """Save from a validated vendor form (core.registers.Register.save): a
    refusal goes beside its field and None comes back."""
    try:
        return save_vendor(vendor, form.data)
    except VendorRuleError as error:
        form[error.field].errors.append(str(error))
        return None


def add_contact(vendor: Vendor, *, name: str, department: str | None, phone: str | None,
                email: str | None) -> VendorContact:
    contact = VendorContact(name=name.strip(), department=department or None, phone=fold(phone) or None,
                            email=email or None)
    vendor.contacts.append(contact)
    db.session.flush()
    return contact


def add_certification(vendor: Vendor, *, kind: str, name: str | None, number: str | None, issuer: str | None,
                      valid_until: dt.date | None, upload, user) -> Certification:
    """A certification (ISMS, Privacy Mark…) with its certificate file when
    one is given; a rejected file (files.FileRejected) records nothing."""
    stored = files.store(upload, user=user) if upload else None
    certification = Certification(kind=CertificationKind(kind), name=_text(name), number=number or None,
                                  issuer=issuer or None, valid_until=valid_until, file=stored)
    vendor.certifications.append(certification)
    db.session.flush()
    return certification


def retire(vendor: Vendor, user) -> None:
    """End the business with the vendor (状態: 終了) instead of deleting it
    (the spreadsheet import's and the API's retire)."""
    if vendor.status is not VendorStatus.ENDED:
        audit.label(vendor, "retire")
        vendor.status = VendorStatus.ENDED


def active_criteria() -> list[SelectionCriterion]:
    return db.session.scalars(select(SelectionCriterion).where(SelectionCriterion.active)
                              .order_by(SelectionCriterion.sort_order, SelectionCriterion.code)).all()


# The four-eyes approval of a 選定 made although a criterion is 不適合 (issue 17).
JUSTIFICATION = "selection_justification"
# Who decides it (never the person who recorded the selection: core.approvals.decide).
JUSTIFICATION_DECIDERS = frozenset({Role.ADMIN, Role.APPROVER, Role.LEAD})


def record_selection(vendor: Vendor, *, decided_on: dt.date, decision: SelectionDecision, user,
                     notes: str | None, results: dict[int, tuple[Assessment, str | None]],
                     justification: str | None = None, decided_by_id: int | None = None) -> Selection:
    """A selection decision with every active criterion of DOMAIN.md §2.1
    assessed.  A 選定 with any criterion 不適合 needs a written justification,
    which another person approves (decide_justification); until then it is not
    a positive selection.  A positive decision moves a candidate to 選定済."""
    criteria = active_criteria()
    missing = [c.code for c in criteria if c.id not in results]
    if missing:
        raise VendorRuleError(_("すべての選定基準を評価してください: %(codes)s", codes=", ".join(missing)))
    justification = fold(justification) or None
    not_met = any(results[c.id][0] is Assessment.NOT_MET for c in criteria)
    needs_approval = decision is SelectionDecision.SELECTED and not_met
    if needs_approval and not justification:
        raise VendorRuleError(_l("「不適合」の基準があるまま選定するには、その理由を記載してください。"
                                 "理由は別の担当者（管理者・承認者・統括情報セキュリティ責任者）が承認します。"),
                              field="justification")
    decided_by_id = decided_by_id or user.id  # who decided: chosen on the form, else the person saving
    if decided_by_id != user.id and handover.inactive_among([decided_by_id]):
        raise VendorRuleError(_l("無効な利用者は決定者にできません。"), field="decided_by_id")
    selection = Selection(vendor=vendor, decided_on=decided_on, decision=decision, decided_by_id=decided_by_id,
                          notes=notes or None, justification=justification if needs_approval else None)
    for criterion in criteria:
        result, comment = results[criterion.id]
        selection.assessments.append(SelectionAssessment(criterion_id=criterion.id, result=result,
                                                         comment=comment or None))
    db.session.add(selection)
    db.session.flush()
    if needs_approval:
        selection.approval = approvals.request(JUSTIFICATION, selection, reason=justification, requester=user)
        db.session.flush()
    _move_to_selected(selection)
    return selection


def _move_to_selected(selection: Selection) -> None:
    if selection.is_positive and selection.vendor.status is VendorStatus.CANDIDATE:
        selection.vendor.status = VendorStatus.SELECTED
        db.session.flush()


def decide_justification(selection: Selection, *, approver, approve: bool, comment: str | None = None) -> Approval:
    """Approve or reject the justification of a 選定 with a 不適合 criterion:
    an administrator, an approver or the security lead, never the recorder."""
    if selection.approval is None:
        raise VendorRuleError(_l("この選定記録には承認が必要な理由がありません。"))
    if not approver.has_role(*JUSTIFICATION_DECIDERS):
        raise VendorRuleError(_l("選定理由の承認は、管理者・承認者・統括情報セキュリティ責任者が行います。"))
    decided = approvals.decide(selection.approval, approver=approver, approve=approve, comment=fold(comment) or None)
    _move_to_selected(selection)
    return decided


def pending_justifications() -> list[Selection]:
    """Selections whose justification awaits a decision, oldest first."""
    return db.session.scalars(select(Selection).join(Approval, Approval.id == Selection.approval_id)
                              .where(Approval.decision == Decision.PENDING).order_by(Selection.id)).all()


def pending_justifications_count():
    """SELECT count: selections whose justification awaits a decision (the dashboard)."""
    return (select(func.count()).select_from(Selection).join(Approval, Approval.id == Selection.approval_id)
            .where(Approval.decision == Decision.PENDING))


def selection_valid_days() -> int:
    return current_app.config["SELECTION_VALID_DAYS"]


def valid_selection(vendor: Vendor, on: dt.date | None = None) -> Selection | None:
    """The vendor's latest decided selection when it is positive (Vendor.is_selected)
    and still valid on ``on``: decided within SELECTION_VALID_DAYS before it."""
    settled = vendor.settled_selection
    return settled if settled is not None and is_valid(settled, on) else None


def is_valid(selection: Selection, on: dt.date | None = None) -> bool:
    """A positive selection decided within SELECTION_VALID_DAYS before ``on`` (default today)."""
    on = on or today()
    return selection.is_positive and on - dt.timedelta(days=selection_valid_days()) <= selection.decided_on <= on


def has_history(vendor: Vendor) -> bool:
    """Selection records, or records of the domains that build on vendors
    (contracts, cloud services: core/plugins.py add_reference), point to the vendor."""
    return bool(vendor.selections) or plugins.registry().referenced("vendor", vendor)


def delete_vendor(vendor: Vendor) -> None:
    """Only a vendor without history is deleted; one with history is
    retired (状態: 終了) instead, so the records that point to it stay whole."""
    if has_history(vendor):
        raise VendorRuleError(_l("契約・選定記録などの履歴がある事業者は削除できません。状態を「終了」にしてください。"))
    audit.label(vendor, "delete")
    db.session.delete(vendor)
    db.session.flush()


def expiring_certifications_filter(on: dt.date | None = None):
    """Vendors with a certification expired or expiring within 60 days."""
    limit = (on or today()) + dt.timedelta(days=EXPIRY_WARNING_DAYS)
    return exists().where(Certification.vendor_id == Vendor.id, Certification.valid_until <= limit)


def expiring_certifications_count(on: dt.date | None = None, unit_id: int | None = None):
    """SELECT count: certifications expired or expiring within 60 days, of
    vendors still in business (managed by one unit when given); the
    certifications by their date (index), each vendor by its key."""
    limit = (on or today()) + dt.timedelta(days=EXPIRY_WARNING_DAYS)
    stmt = (select(func.count()).select_from(Certification).join(Vendor, Vendor.id == Certification.vendor_id)
            .where(Certification.valid_until <= limit, Vendor.status.not_in((VendorStatus.ENDED,))))
    return stmt.where(Vendor.unit_id == unit_id) if unit_id is not None else stmt


# --- people change (人事異動, core.handover) -------------------------------------------

def _justification_request(approval: Approval):
    """A pending 不適合 justification, as the handover page lists it."""
    selection = db.session.get(Selection, approval.subject_id)
    if selection is None:
        return handover.Item(str(approval.reason))
    return handover.Item(_("%(vendor)s の選定（不適合の理由）の承認申請", vendor=selection.vendor.name),
                         "vendors.detail", {"vendor_id": selection.vendor_id})


def add_responsibilities(house) -> None:
    house.add_request_kind(JUSTIFICATION, _justification_request, roles=frozenset({Role.PROCUREMENT}))


# --- what waits for a user (core.inbox, issue 18) ------------------------------

def inbox_entries(user) -> list:
    """The selection justifications ``user`` may decide (JUSTIFICATION_DECIDERS,
    not the recorder nor an editor)."""
    if not user.has_role(*JUSTIFICATION_DECIDERS):
        return []
    return [inbox.request_entry(_l("選定理由（不適合）"), request,
                                _("%(vendor)s の選定（不適合の理由）の承認申請", vendor=selection.vendor.name),
                                "vendors.detail", {"vendor_id": selection.vendor_id})
            for request, selection in inbox.pending(JUSTIFICATION, Selection, (selectinload(Selection.vendor),))
            if selection is not None and inbox.may_decide(request, user)]
