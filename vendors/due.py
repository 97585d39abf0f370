"""Due items of the vendor register (core/due.py): the expiry date of each
certification, for the reminders and the calendar feed — the certifications
the dashboard counts (vendors.services.expiring_certifications_count), of
vendors still in business."""
from __future__ import annotations

from flask_babel import force_locale
from sqlalchemy import select

from core import due
from core.approvals import Approval, Decision
from core.db import db
from core.due import EVERYONE, DueItem, DueScope
from core.timeutil import local_date
from vendors.models import Certification, CertificationKind, Selection, Vendor, VendorStatus


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


def _certifications(*columns):
    return (select(*columns).select_from(Certification).join(Vendor, Vendor.id == Certification.vendor_id)
            .where(Certification.valid_until.is_not(None), Vendor.status.not_in((VendorStatus.ENDED,))))


def due_items(scope: DueScope = EVERYONE) -> list[DueItem]:
    """Nobody answers for a vendor's items (a vendor names no responsible
    person): the administrators are told, so a scope of one user's own
    items has none."""
    if scope.owners() is not None and None not in scope.owners():
        return []
    rows = db.session.execute(due.window(scope, _certifications(
        Certification.id, Certification.kind, Certification.name, Certification.valid_until, Certification.vendor_id,
        Vendor.name), Certification.valid_until, Certification.id)).all()
    with force_locale("ja"):  # titles in Japanese, as every register's, whoever asks
        kinds = {kind: str(kind.label) for kind in CertificationKind}
        return [DueItem(key=f"certification:{cert_id}:{valid_until.isoformat()}", kind="certification",
                        # as Certification.label: an "other" certificate by its name
                        title=f"認証の有効期限 {name if kind is CertificationKind.OTHER and name else kinds[kind]}"
                              f"（{vendor}）", due_on=valid_until,
                        owner_id=None, endpoint="vendors.detail", params={"vendor_id": vendor_id})
                for cert_id, kind, name, valid_until, vendor_id, vendor in rows] + justification_items(scope)


def due_count(scope: DueScope = EVERYONE) -> int:
    if scope.owners() is not None and None not in scope.owners():
        return 0
    return (due.tally(scope, _certifications(Certification.id), Certification.valid_until)
            + len(justification_items(scope)))
