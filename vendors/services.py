"""Vendor rules that change data.  They flush and write the audit trail
(through the models); the view commits."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select

from core import audit, plugins
from core.db import db
from core.refusals import Refusal
from core.timeutil import today
from vendors.models import (
    EXPIRY_WARNING_DAYS,
    Assessment,
    Certification,
    Selection,
    SelectionAssessment,
    SelectionCriterion,
    SelectionDecision,
    Vendor,
    VendorStatus,
)


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
        raise VendorRuleError(_l("選定済・取引中にするには、先に選定記録（選定する）を登録してください。"))


def active_criteria() -> list[SelectionCriterion]:
    return db.session.scalars(select(SelectionCriterion).where(SelectionCriterion.active)
                              .order_by(SelectionCriterion.sort_order, SelectionCriterion.code)).all()


def record_selection(vendor: Vendor, *, decided_on: dt.date, decision: SelectionDecision, user,
                     notes: str | None, results: dict[int, tuple[Assessment, str | None]]) -> Selection:
    """A selection decision with every active criterion of DOMAIN.md §2.1
    assessed.  A positive decision moves a candidate to 選定済."""
    criteria = active_criteria()
    missing = [c.code for c in criteria if c.id not in results]
    if missing:
        raise VendorRuleError(_("すべての選定基準を評価してください: %(codes)s", codes=", ".join(missing)))
    selection = Selection(vendor=vendor, decided_on=decided_on, decision=decision, decided_by_id=user.id,
                          notes=notes or None)
    for criterion in criteria:
        result, comment = results[criterion.id]
        selection.assessments.append(SelectionAssessment(criterion_id=criterion.id, result=result,
                                                         comment=comment or None))
    db.session.add(selection)
    db.session.flush()
    if decision is SelectionDecision.SELECTED and vendor.status is VendorStatus.CANDIDATE:
        vendor.status = VendorStatus.SELECTED
        db.session.flush()
    return selection


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
