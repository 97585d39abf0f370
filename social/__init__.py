"""SNS Official social-media accounts."""
from flask import Flask
from flask_babel import lazy_gettext as _l

from core import plugins
from social import auditable, demo, documents, exchange, gendata, report, rules, services, views


def init_app(app: Flask) -> None:
    """Plug the domain into the app (core/plugins.py)."""
    app.register_blueprint(views.bp)
    house = plugins.registry(app)
    house.add_panel(40, views.dashboard_panel)
    house.add_due(rules.due_items, labels={"social_review": _l("SNSアカウントの見直し"),
                                         "social_scan": _l("なりすまし点検")}, count=rules.due_count)
    house.add_inspection_items(40, "SNS", "ソーシャルメディア", "Social media", documents.INSPECTION_ITEMS)
    house.add_facts(documents.facts, order=40)
    house.add_pack_part(40, documents.pack_sections)
    house.add_registers(lambda: [exchange.register()], order=40)
    house.add_document(plugins.Document(40, _l("SNS公式アカウント台帳（PDF）"), "social.register_pdf"))
    services.add_responsibilities(house)  # what a leaver hands over (人事異動, core.handover)
    house.add_inbox(services.inbox_entries)  # what waits for a user (core.inbox)
    house.add_auditable(auditable.auditable())  # what an audit plan may name (assurance)
    house.add_incident_subject(auditable.incident_subject())  # what an incident may concern (incidents)
    auditable.audit_records(house)  # how the audit trail shows its records (core.audit_display)
    house.add_seeder(40, demo.seed)
    house.add_generator(40, gendata.generate)
    house.add_report_figures(40, report.figures)  # the annual report to the CISO (core/report.py)
