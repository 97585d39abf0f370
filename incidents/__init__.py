"""事故・インシデント (緊急時対応, policy §6(7); issue 19): one register for the
incidents of contractors, cloud services, SNS accounts and the body.

The records are core's (core/incidents.py), so that a domain can show the
incidents of its records without importing this package; the domains offer
their records as incident subjects through the registry
(``Registry.add_incident_subject``).  This package imports no domain, and no
domain imports it (.importlinter).
"""
from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core import plugins
from core.dashboard import Panel, Tile, statement
from core.db import db
from core.incidents import ALARMING, MEASURE_SOURCE, OPEN_STATUSES, Incident, Severity
from incidents import access, demo, exchange, forms, gendata, report, rules, services, views


def dashboard_panel(user) -> Panel:
    """Open incidents; above every panel, in red, each open 重大 incident and
    each open leak, takeover or impersonation the user may read — whatever
    its unit: every dashboard that can see it shows it."""
    visible = access.visible(select(Incident), user).where(Incident.status.in_(OPEN_STATUSES))
    alarming = visible.where((Incident.severity == Severity.SEVERE) | Incident.kind.in_(ALARMING))
    shown = db.session.scalars(alarming.order_by(Incident.occurred_at)).all()
    subjects = services.describe(shown)
    notices = [Tile(_("%(kind)s: %(subject)s — %(title)s（%(number)s）", kind=i.kind.label, subject=subjects[i.id],
                      title=i.title, number=i.number), 1, "incidents.detail", {"incident_id": i.id}, alert=True)
               for i in shown]

    if user.has_role(*access.READ_ALL):  # the same SQL for all of them: built once
        count = statement(("incidents.open",), lambda: select(func.count()).select_from(
            select(Incident).where(Incident.status.in_(OPEN_STATUSES)).subquery()))
    else:  # narrowed to the incidents the user may read: as it is
        count = select(func.count()).select_from(visible.subquery())
    return Panel(_l("事故・インシデント"), "incidents.index",
                 [Tile(_l("対応中の事故"), count, "incidents.index", {"status": "open"}, alert=True)], notices)


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    house = plugins.registry(app)
    house.add_panel(45, dashboard_panel)
    house.add_seeder(60, demo.seed)
    house.add_generator(50, gendata.generate)  # flask gen-data: after the registers it draws subjects from
    house.add_registers(exchange.registers, order=45)  # /api/v1/incidents and the export
    house.add_report_figures(45, report.figures)  # the annual report to the CISO (core/report.py)
    # the prevention measures of a closed incident, and a contractor's late report (C10) (core.measures)
    house.add_due(rules.due_items, labels={rules.DUE_KIND: _l("事故の報告期限")})
    house.add_measure_source(MEASURE_SOURCE, label=_l("事故・インシデント"),
                             link=lambda measure: ("incidents.detail", {"incident_id": measure.source_id}))
    house.add_report_part(45, report.tables)
    # the trail as people read it (core.audit_display): the forms' labels, and the rest
    house.add_audit_record(plugins.AuditRecord(
        "incidents", forms=(forms.EditForm, forms.CloseForm, forms.ContainForm),
        hidden=frozenset({"subject_type"}),
        labels={"personal_data": _l("個人情報"), "my_number": _l("マイナンバー"), "wrongful_intent": _l("不正の目的"),
                "ppc_required": _l("個人情報保護委員会への報告"), "ppc_preliminary_on": _l("速報の日付"),
                "ppc_final_on": _l("確報の日付"), "checklist": _l("対応チェックリスト"),
                "late_report_at": _l("受託者の報告遅延を記録した日時")}))
    house.add_audit_record(plugins.AuditRecord("incident_actions", labels={"text": _l("行った対応")}))
    house.add_audit_record(plugins.AuditRecord("incident_notifications", forms=(forms.NotifyForm,)))
    house.add_audit_record(plugins.AuditRecord("incident_checklist_items", forms=(forms.ChecklistItemForm,)))
    house.add_pack_part(50, report.pack_sections)  # the annual audit pack (core.inspection)
