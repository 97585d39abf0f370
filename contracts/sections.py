"""What contracts add to other domains' pages and documents (core/plugins.py:
``add_section``), so that vendors and core need not know contracts:

- the vendor page: the "register a contract" button, the notices about its
  contracts (missing clauses, late measures, the latest verification), the
  block listing its contracts and the block of the contracts it is a
  subcontractor in (再委託先としての契約);
- the incidents of the vendor's contracts (issue 19);
- the vendor summary (PDF): the table of the vendor's contracts;
- the checklists page: the vendor filter and the table of contract checklists.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask import g, request
from jinja2.environment import TemplateModule
from reportlab.lib.units import mm
from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from contracts import rules
from contracts import verification as checks
from contracts.documents import in_scope
from contracts.models import Contract, ContractStatus, Finding, Subcontractor, SubcontractorStatus, Verification
from core import incidents, plugins
from core.auth import can_view
from core.db import db
from core.incidents import CONTRACT
from core.inspection import Scope
from core.lists import int_arg
from core.pdf import BODY, H2, day, p, table
from vendors.models import Vendor

# --- the vendor page ------------------------------------------------------------------

@dataclass
class VendorContracts:
    contracts: list[Contract]
    gaps: dict  # contract id → the mandatory clauses it lacks (live contracts)
    schedule: dict  # contract id → its verification ScheduleRow
    late: dict  # contract id → how many of its measures are overdue
    latest: Verification | None  # the newest submitted verification of any of them


def _vendor_contracts(vendor: Vendor) -> VendorContracts:
    """The vendor's contracts as its page shows them: asked for by two slots,
    so read once per request."""
    known = g.setdefault("itaku_vendor_contracts", {})
    if vendor.id not in known:
        contracts = db.session.scalars(select(Contract).where(Contract.vendor_id == vendor.id)
                                       .options(selectinload(Contract.clauses))
                                       .order_by(Contract.start_on.desc())).all()
        catalogue = rules.read_clauses()
        known[vendor.id] = VendorContracts(
            contracts=contracts,
            gaps={c.id: rules.clause_gaps(c, catalogue) for c in contracts if rules.is_live(c)},
            schedule={row.contract.id: row for row in checks.schedule(contracts)},
            late=dict(db.session.execute(select(Finding.contract_id, func.count()).where(
                Finding.contract_id.in_([c.id for c in contracts]), checks.overdue_measures())
                .group_by(Finding.contract_id)).all()),
            latest=db.session.scalars(select(Verification).join(Contract).where(
                Contract.vendor_id == vendor.id, Verification.status == checks.VerificationStatus.SUBMITTED)
                .order_by(Verification.performed_on.desc()).limit(1)).first())
    return known[vendor.id]


def vendor_actions(vendor: Vendor) -> TemplateModule:
    """Among the buttons of those who may edit the vendor: register a contract with it."""
    return plugins.block("contracts/_vendor_actions.html", vendor=vendor)


def vendor_notices(vendor: Vendor) -> TemplateModule:
    data = _vendor_contracts(vendor)
    return plugins.block("contracts/_vendor_notices.html", gaps=data.gaps, late=data.late, latest=data.latest)


def vendor_block(vendor: Vendor) -> TemplateModule:
    data = _vendor_contracts(vendor)
    return plugins.block("contracts/_vendor_contracts.html", contracts=data.contracts, gaps=data.gaps,
                         schedule=data.schedule, late=data.late)


def vendor_subcontracts(vendor: Vendor) -> TemplateModule | str:
    """The contracts the vendor is (or was, or is asked to be) a subcontractor
    in (clause C08); none: no block.  Withdrawn requests are left out."""
    rows = db.session.scalars(select(Subcontractor).where(
        Subcontractor.vendor_id == vendor.id, Subcontractor.status != SubcontractorStatus.WITHDRAWN)
        .options(selectinload(Subcontractor.contract).selectinload(Contract.vendor))
        .order_by(Subcontractor.id.desc())).all()
    return plugins.block("contracts/_vendor_subcontracts.html", rows=rows) if rows else ""


def vendor_incidents(vendor: Vendor) -> TemplateModule | str:
    """The incidents of the vendor's contracts (issue 19) the user may read;
    no contracts: no block."""
    contracts = _vendor_contracts(vendor).contracts
    if not contracts:
        return ""
    return plugins.block("contracts/_vendor_incidents.html",
                         incidents=incidents.of_subjects(CONTRACT, [c.id for c in contracts]),
                         names={c.id: c.number for c in contracts})


def vendor_is_subcontractor(vendor: Vendor) -> bool:
    """A vendor named as a subcontractor is never deleted (vendors.services.has_history)."""
    return bool(db.session.scalar(select(exists().where(Subcontractor.vendor_id == vendor.id))))


def vendor_has_contracts(vendor: Vendor) -> bool:
    """A vendor with contracts is never deleted (vendors.services.has_history)."""
    return bool(db.session.scalar(select(exists().where(Contract.vendor_id == vendor.id))))


# --- the vendor summary (PDF) ---------------------------------------------------------

def vendor_summary_tables(vendor_ids: list[int]) -> dict[int, list]:
    """The "契約" part of each vendor's summary (vendors/documents.py): one
    query for all of them."""
    contracts = defaultdict(list)
    for contract in db.session.scalars(select(Contract).where(Contract.vendor_id.in_(vendor_ids)).options(
            selectinload(Contract.classification)).order_by(Contract.number)):
        contracts[contract.vendor_id].append(contract)
    labels = {member: str(member.label) for member in ContractStatus}  # translated once, not once per cell
    open_incidents = incidents.open_lines(CONTRACT, [c.id for of in contracts.values() for c in of])
    return {vendor_id: [p("契約", H2), _contract_table(contracts[vendor_id], labels, open_incidents)]
            for vendor_id in vendor_ids}


def _contract_table(contracts: list[Contract], labels: dict, open_incidents: dict):
    if not contracts:
        return p("なし", BODY)
    return table(["契約番号", "件名", "機密性", "契約期間", "状態", "対応中の事故"], [
        [c.number, c.title, c.classification.label_ja if c.classification else "—",
         f"{day(c.start_on)} 〜 {day(c.end_on)}", labels[c.status], "\n".join(open_incidents.get(c.id, [])) or "なし"]
        for c in contracts],
        [22 * mm, 50 * mm, 20 * mm, 33 * mm, 15 * mm, 40 * mm])


# --- the checklists page --------------------------------------------------------------

def checklists_filter() -> TemplateModule:
    """The vendor to narrow the contract checklists to (those who may print them)."""
    vendors = db.session.scalars(select(Vendor).order_by(Vendor.kana)).all() if _may_print() else []
    return plugins.block("contracts/_checklists_filter.html", vendors=vendors, vendor=request.args.get("vendor", ""))


def checklists_block(scope: Scope, fy_label: str) -> TemplateModule:
    """The contracts the fiscal year's audit covers (at most 500), each with its checklist and on-site sheet."""
    contracts = []
    if _may_print():
        stmt = select(Contract).where(Contract.id.in_(in_scope(scope))).options(selectinload(Contract.vendor))
        if (vendor_id := int_arg(request.args.get("vendor", ""))) is not None:
            stmt = stmt.where(Contract.vendor_id == vendor_id)
        contracts = db.session.scalars(stmt.order_by(Contract.number).limit(500)).all()
    return plugins.block("contracts/_checklists_contracts.html", contracts=contracts, fy_label=fy_label)


def _may_print() -> bool:
    return can_view("contracts.checklist_pdf")
