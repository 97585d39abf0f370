"""Due items of the vendor register (core/due.py): the expiry date of each
certification, for the reminders and the calendar feed — the certifications
the dashboard counts (vendors.services.expiring_certifications_count), of
vendors still in business."""
from __future__ import annotations

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from core import due
from core.approvals import Approval, Decision
from core.db import db
from core.due import EVERYONE, DueItem, DueScope
from core.timeutil import local_date
from vendors.models import Certification, Selection, Vendor, VendorStatus


def justification_items(scope: DueScope = EVERYONE) -> list[DueItem]:
    """A 選定 with a 不適合 criterion awaiting the approval of its
    justification: due from the day it was asked for, told to the
    administrators (its deciders are administrators, approvers and the security lead)."""
    rows = db.session.execute(
        select(Selection.id, Vendor.name, Approval.requested_at).join(Approval, Approval.id == Selection.approval_id)
        .join(Vendor, Vendor.id == Selection.vendor_id).where(Approval.decision == Decision.PENDING)
        .order_by(Selection.id)).all()  # as vendors.services.pending_justifications, without the records
    return due.within(scope, [
        DueItem(key=f"selection_justification:{selection_id}", kind="selection_justification",
                title=f"選定理由の承認（{name}）", due_on=local_date(requested_at),
                owner_id=None, endpoint="vendors.justifications")
        for selection_id, name, requested_at in rows])


def _certifications():
    return (select(Certification).join(Vendor, Vendor.id == Certification.vendor_id)
            .where(Certification.valid_until.is_not(None), Vendor.status.not_in((VendorStatus.ENDED,))))


def due_items(scope: DueScope = EVERYONE) -> list[DueItem]:
    """Nobody answers for a vendor's items (a vendor names no responsible
    person): the administrators are told, so a scope of one user's own
    items has none."""
    if scope.owners() is not None and None not in scope.owners():
        return []
    certifications = db.session.scalars(
        due.window(scope, _certifications(), Certification.valid_until, Certification.id)
        .options(contains_eager(Certification.vendor))).all()
    with force_locale("ja"):  # titles in Japanese, as every register's, whoever asks
        return [DueItem(key=f"certification:{c.id}:{c.valid_until.isoformat()}", kind="certification",
                        title=f"認証の有効期限 {c.label}（{c.vendor.name}）", due_on=c.valid_until,
                        owner_id=None, endpoint="vendors.detail", params={"vendor_id": c.vendor_id})
                for c in certifications] + justification_items(scope)


def due_count(scope: DueScope = EVERYONE) -> int:
    if scope.owners() is not None and None not in scope.owners():
        return 0
    return (due.tally(scope, _certifications(), Certification.valid_until)
            + len(justification_items(scope)))
