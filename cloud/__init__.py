"""外部サービス Cloud and external services."""
from flask import Flask
from flask_babel import lazy_gettext as _l

from cloud import auditable, demo, documents, exchange, gendata, report, rules, services, views
from core import plugins


def init_app(app: Flask) -> None:
    """Plug the domain into the app (core/plugins.py)."""
    app.register_blueprint(views.bp)
    house = plugins.registry(app)
    house.add_panel(30, views.dashboard_panel)
    house.add_due(rules.due_items, labels={"cloud_review": _l("外部サービスの見直し"),
                                         "cloud_ismap": _l("ISMAP登録の期限")}, count=rules.due_count)
    house.add_inspection_items(30, "CLD", "外部サービス", "External services", documents.INSPECTION_ITEMS)
    house.add_facts(documents.facts, order=30)
    house.add_pack_part(30, documents.pack_sections)
    house.add_registers(lambda: [exchange.register()], order=30)
    house.add_document(plugins.Document(30, _l("外部サービス台帳（PDF）"), "cloud.register_pdf"))
    house.add_reference("vendor", rules.vendor_has_services)
    services.add_responsibilities(house)  # what a leaver hands over (人事異動, core.handover)
    house.add_inbox(services.inbox_entries)  # what waits for a user (core.inbox)
    house.add_auditable(auditable.auditable())  # what an audit plan may name (assurance)
    house.add_incident_subject(auditable.incident_subject())  # what an incident may concern (incidents)
    auditable.audit_records(house)  # how the audit trail shows its records (core.audit_display)
    house.add_seeder(30, demo.seed)
    house.add_generator(30, gendata.generate)
    house.add_report_figures(30, report.figures)  # the annual report to the CISO (core/report.py)
    house.add_decisions(30, report.decisions)
