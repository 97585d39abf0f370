"""Due items of the vendor register (core/due.py): the expiry date of each
certification, for the reminders and the calendar feed — the certifications
the dashboard counts (vendors.services.expiring_certifications_count), of
vendors still in business."""
from __future__ import annotations

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from core.db import db
from core.due import DueItem
from core.timeutil import local_date
from vendors.models import Certification, Vendor, VendorStatus
from vendors.services import pending_justifications


def justification_items() -> list[DueItem]:
    """A 選定 with a 不適合 criterion awaiting the approval of its
    justification: due from the day it was asked for, told to the
    administrators (its deciders are administrators, approvers and the security lead)."""
    with force_locale("ja"):
        return [DueItem(key=f"selection_justification:{s.id}", kind="selection_justification",
                        title=f"選定理由の承認（{s.vendor.name}）", due_on=local_date(s.approval.requested_at),
                        owner_id=None, endpoint="vendors.justifications")
                for s in pending_justifications()]


def due_items() -> list[DueItem]:
    certifications = db.session.scalars(
        select(Certification).join(Vendor, Vendor.id == Certification.vendor_id)
        .where(Certification.valid_until.is_not(None), Vendor.status.not_in((VendorStatus.ENDED,)))
        .options(contains_eager(Certification.vendor))).all()
    with force_locale("ja"):  # titles in Japanese, as every register's, whoever asks
        return [DueItem(key=f"certification:{c.id}:{c.valid_until.isoformat()}", kind="certification",
                        title=f"認証の有効期限 {c.label}（{c.vendor.name}）", due_on=c.valid_until,
                        # A vendor names no responsible person: the administrators are told.
                        owner_id=None, endpoint="vendors.detail", params={"vendor_id": c.vendor_id})
                for c in certifications] + justification_items()
