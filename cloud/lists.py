"""The cloud service list: its search, filters and sorts, shared by the list
page, the spreadsheet export and the API (core.lists)."""
from __future__ import annotations

from cloud import rules
from cloud.models import Agreement, CloudService, ServiceStatus, Track
from core.lists import ListView, enum_filter, int_arg
from core.textkey import SearchKey
from vendors.models import Vendor


def _track_filter(stmt, value):
    track = Track.parse(value)
    return stmt.where(rules.track_expr(track)) if track else stmt


def _unit_filter(stmt, value):
    unit_id = int_arg(value)
    return stmt.where(rules.used_by_unit_expr(unit_id)) if unit_id is not None else stmt


LIST = ListView(
    # name, reading, provider; the vendor's name: folded and indexed (core.textkey)
    search=[CloudService.search_key, SearchKey(Vendor, via=CloudService.vendor_id)],
    filters={
        "status": enum_filter(CloudService.status, ServiceStatus),
        "agreement": enum_filter(CloudService.agreement, Agreement),
        "track": _track_filter,
        "flag": rules.FLAGS.filter,
        "unit": _unit_filter,
    },
    sorts={"name": (CloudService.reading, CloudService.name), "status": CloudService.status, "review": CloudService.next_review_on,
           "updated": CloudService.updated_at},
    default_sort="name",
)
