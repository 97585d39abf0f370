"""契約 Contracts: register, security clauses, verification."""
from flask import Flask
from flask_babel import lazy_gettext as _l

from contracts import (
    auditable,
    demo,
    documents,
    due,
    exchange,
    gaps,
    gendata,
    pickers,
    report,
    sections,
    services,
    verification,
    verification_views,
    views,
)
from core import plugins


def init_app(app: Flask) -> None:
    """Plug contracts and their verification into the app (core/plugins.py)."""
    app.register_blueprint(views.bp)
    app.register_blueprint(verification_views.bp)
    pickers.init_app(app)  # /pick/contracts (core.pickers)
    gaps.keep_current()  # the stored gap flag and the next verification's date follow every flush
    due.keep_current()
    # the notes closed incidents leave for a contract's next verification (issue 19)
    app.jinja_env.globals["contract_verification_notes"] = verification.open_notes
    house = plugins.registry(app)
    house.add_panel(20, views.dashboard_panel)
    house.add_panel(25, verification_views.dashboard_panel)
    house.add_panel(26, views.subcontractor_panel)
    house.add_due(verification.due_items, labels={"verification": _l("確認期限"), "measure": _l("措置期限")},
                  count=verification.due_count)
    house.add_due(due.exception_items, labels={"clause_exception": _l("条項の例外の有効期限")},
                  count=due.exception_count)
    house.add_inspection_items(10, "OUT", "業務委託", "Outsourcing", documents.INSPECTION_ITEMS)
    house.add_facts(documents.facts, order=10)
    house.add_pack_part(10, documents.pack_sections)
    house.add_pack_part(20, documents.pack_vendor_summaries)
    house.add_registers(exchange.registers, order=20)
    # What contracts add to the vendor register and the checklists page.
    house.add_reference("vendor", sections.vendor_has_contracts)
    house.add_reference("vendor", sections.vendor_is_subcontractor)
    house.add_section("vendors.detail.actions", 10, sections.vendor_actions)
    house.add_section("vendors.detail.notices", 10, sections.vendor_notices)
    house.add_section("vendors.detail", 10, sections.vendor_block)
    house.add_section("vendors.detail", 15, sections.vendor_subcontracts)
    house.add_section("vendors.detail", 20, sections.vendor_incidents)
    house.add_section("vendors.summary", 10, sections.vendor_summary_tables)
    house.add_section("checklists.filters", 10, sections.checklists_filter)
    house.add_section("checklists.index", 10, sections.checklists_block)
    services.add_responsibilities(house)  # what a leaver hands over (人事異動, core.handover)
    house.add_inbox(services.inbox_entries)  # what waits for a user (core.inbox)
    house.add_auditable(auditable.auditable())  # what an audit plan may name (assurance)
    house.add_incident_subject(auditable.incident_subject())  # what an incident may concern (incidents)
    auditable.audit_records(house)  # how the audit trail shows its records (core.audit_display)
    house.add_seeder(20, demo.seed)
    house.add_generator(20, gendata.generate)
    house.add_report_figures(20, report.figures)  # the annual report to the CISO (core/report.py)
    house.add_decisions(20, report.decisions)
