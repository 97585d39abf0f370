"""監査・自己点検 (policy §7), issue 18: recorded self-inspections, audits, the
report to the CISO and the committee.

It spans the domains and reads them only through the app's registry
(core/plugins.py): the items and facts each domain contributes, the figures
for the report.  It imports no domain, and no domain imports it
(.importlinter).  Each part below plugs itself in with its ``init_app``.
"""
from __future__ import annotations

from flask import Flask

from assurance import audit_views, auditable, gendata, inspection_views, report_views
from core import plugins

PARTS: tuple = (inspection_views, audit_views, report_views)


def init_app(app: Flask) -> None:
    for part in PARTS:
        part.init_app(app)
    auditable.audit_records(plugins.registry(app))  # how the audit trail shows its records (core.audit_display)
    plugins.registry(app).add_generator(60, gendata.generate)  # flask gen-data: the yearly loop, last
