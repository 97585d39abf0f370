"""委託事業者 Vendors: register, certifications, selection."""
from flask import Flask
from flask_babel import lazy_gettext as _l

from core import plugins
from vendors import auditable, demo, due, exchange, gendata, pickers, services, views


def init_app(app: Flask) -> None:
    """Plug the domain into the app (core/plugins.py)."""
    app.register_blueprint(views.bp)
    pickers.init_app(app)  # /pick/vendors (core.pickers)
    house = plugins.registry(app)
    house.add_panel(10, views.dashboard_panel)
    house.add_panel(11, views.justifications_panel)
    house.add_due(due.due_items, labels={"selection_justification": _l("選定理由の承認"),
                                            "certification": _l("認証の有効期限")}, count=due.due_count)
    house.add_registers(lambda: [exchange.register()], order=10)
    house.add_seeder(10, demo.seed)
    house.add_generator(10, gendata.generate)
    services.add_responsibilities(house)
    house.add_inbox(services.inbox_entries)  # what waits for a user (core.inbox)
    auditable.audit_records(house)  # how the audit trail shows its records (core.audit_display)
