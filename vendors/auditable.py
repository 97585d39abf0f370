"""Vendors as the audit trail shows them (core.audit_display, issue 20):
their form labels, their names and their page."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.db import db
from core.i18n import date_filter
from core.plugins import AuditRecord
from vendors.forms import CertificationForm, ContactForm, SelectionForm, VendorForm
from vendors.models import Selection, Vendor


def _selection_names(ids) -> dict:
    """A selection named by its vendor and the day it was decided."""
    ids = list(ids)
    rows = db.session.execute(select(Selection.id, Selection.decided_on, Vendor.name).join(
        Vendor, Vendor.id == Selection.vendor_id).where(Selection.id.in_(ids))).all() if ids else []
    return {row.id: _("%(vendor)s の選定（%(day)s）", vendor=row.name, day=date_filter(row.decided_on)) for row in rows}


def audit_records(house) -> None:
    house.add_audit_record(AuditRecord("vendors", forms=(VendorForm,), endpoint="vendors.detail", param="vendor_id",
                                       labels={"name": _l("名称")}))
    house.add_audit_record(AuditRecord("vendor_contacts", forms=(ContactForm,)))
    house.add_audit_record(AuditRecord("certifications", forms=(CertificationForm,),
                                       labels={"file_id": _l("認証の証明書")}))
    house.add_audit_record(AuditRecord("selections", forms=(SelectionForm,), name=_selection_names,
                                       labels={"decided_by_id": _l("決定者"), "approval_id": _l("承認")}))
    house.add_audit_record(AuditRecord("selection_assessments", labels={"criterion_id": _l("選定基準")}))
