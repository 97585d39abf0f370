"""The contract and finding lists: their search, filters and sorts, shared
by the list pages, the spreadsheet export and the API (core.lists)."""
from __future__ import annotations

from contracts import rules
from contracts import verification as checks
from contracts.models import Contract, ContractKind, ContractStatus, Finding, MeasureStatus
from core.lists import ListView, enum_filter, id_filter, int_arg
from core.textkey import SearchKey
from vendors.models import Vendor


def _gaps_filter(stmt, value):
    return stmt.where(Contract.status.in_(rules.LIVE), Contract.has_gap) if value == "yes" else stmt


def _exceptions_filter(stmt, value):
    return stmt.where(rules.pending_exception_expression()) if value == "pending" else stmt


def _ending_filter(stmt, value):
    days = int_arg(value, maximum=3650)
    return stmt.where(rules.ending_within(days)) if days is not None else stmt


LIST = ListView(
    # number, title; the vendor's name, kana and number: folded and indexed (core.textkey)
    search=[Contract.search_key, SearchKey(Vendor, via=Contract.vendor_id)],
    filters={
        "status": enum_filter(Contract.status, ContractStatus),
        "kind": enum_filter(Contract.kind, ContractKind),
        "unit": id_filter(Contract.unit_id),
        "vendor": id_filter(Contract.vendor_id),
        "classification": id_filter(Contract.classification_id),
        "gaps": _gaps_filter,
        "ending": _ending_filter,
        "exceptions": _exceptions_filter,
    },
    sorts={"number": Contract.number, "title": Contract.title, "vendor": Vendor.kana,
           "end": Contract.end_on, "status": Contract.status},
    default_sort="number",
)

FINDINGS = ListView(
    search=[Finding.measure],
    filters={
        "status": enum_filter(Finding.status, MeasureStatus),
        "contract": id_filter(Finding.contract_id),
        "overdue": lambda stmt, value: stmt.where(checks.overdue_measures()) if value == "yes" else stmt,
    },
    sorts={"due": Finding.due_on, "status": Finding.status},
    default_sort="due",
)
