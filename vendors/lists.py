"""The vendor list: its search, filters and sorts, shared by the list page,
the spreadsheet export and the API (core.lists)."""
from __future__ import annotations

from core.lists import ListView, enum_filter, id_filter
from vendors import services
from vendors.models import Vendor, VendorStatus


def _certification_filter(stmt, value):
    return stmt.where(services.expiring_certifications_filter()) if value == "expiring" else stmt


LIST = ListView(
    search=[Vendor.search_key],  # name, kana and corporate number, folded (core.textkey)
    filters={
        "status": enum_filter(Vendor.status, VendorStatus),
        "unit": id_filter(Vendor.unit_id),
        "cert": _certification_filter,
    },
    sorts={"name": (Vendor.kana, Vendor.name), "status": Vendor.status, "updated": Vendor.updated_at},
    default_sort="name",
)
