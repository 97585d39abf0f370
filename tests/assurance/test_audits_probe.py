"""The read-only probe (issue 18): the auditor role may now write audit plans
and findings, and still changes no register.

Signed in as the auditor on the demo data, the probe follows every link it
can reach and submits every form it finds (the hostile crawler's, from
tests/core/test_hostile_input.py: payloads in every text field, a refused
form sent again with the flagged fields fixed), the register's own actions
too (deleting, retiring, status changes, imports), leaving out only signing
out, the language switch, the auditor's own account settings and the audit
plan's status button.  Then no
row of any table has changed outside the audit module's tables — the
measures its findings open, and the audit trail's entries about those,
included — while the audit tables did gain rows (the probe reached them).
"""
from __future__ import annotations

import re

from sqlalchemy import select

from core.db import db
from core.models import AuditEntry
from tests.conftest import DEMO_PASSWORD, login_as
from tests.core.test_hostile_input import Crawler, pattern, resolve

AUDIT_TABLES = {"audit_plans", "audit_plan_units", "audit_plan_auditors", "audit_targets", "audit_findings"}
# The audit trail records each write: its entries and its chain's head change with any allowed write.
TRAIL = {"audit_entries", "audit_head"}
# The plan's status button is left out too: pressed first, it would report the demo's plan
# before its finding form is sent (it writes only audit_plans: tests/assurance/test_audits.py).
SKIP = re.compile(r"^/(logout|language|login|account)|^/audits/\d+/status$")


def _snapshot() -> dict[str, set[tuple]]:
    rows = {}
    for table in db.metadata.sorted_tables:
        if table.name in TRAIL:
            continue
        rows[table.name] = {tuple(str(value) for value in row) for row in db.session.execute(select(table))}
    return rows


def _allowed_measure(row: tuple, columns: list[str]) -> bool:
    return dict(zip(columns, row, strict=True)).get("source_type") == "audit_finding"


def test_the_auditor_changes_no_register(app, demo):
    client = app.test_client()
    login_as(client, "auditor", DEMO_PASSWORD)
    with app.app_context():
        before = _snapshot()
        last_entry = db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0

    crawler = Crawler(client, "auditor")
    done: set[str] = set()
    answered: dict[str, set[int]] = {}

    def fill(url, page):
        for form in page.forms:
            action = resolve(url, form)
            key = form.method + " " + pattern(action)
            if key in done or SKIP.search(action):
                continue
            done.add(key)
            status, _target = crawler.submit(url, form)
            answered.setdefault(key, set()).add(status)

    crawler.crawl(["/", "/audits/"], on_page=fill, limit=300)
    assert crawler.pages > 50

    with app.app_context():
        after = _snapshot()
        changed = {}
        for name, rows in after.items():
            if name in AUDIT_TABLES:
                continue
            added, removed = rows - before[name], before[name] - rows
            if name == "measures":
                columns = [c.name for c in db.metadata.tables[name].columns]
                # an audit finding's measure: opened, or edited by the auditor who opened it
                added = {row for row in added if not _allowed_measure(row, columns)}
                removed = {row for row in removed if not _allowed_measure(row, columns)}
            if added or removed:
                changed[name] = (sorted(added)[:3], sorted(removed)[:3])
        assert changed == {}, f"the auditor changed registers: {changed}"
        entries = db.session.execute(select(AuditEntry.action, AuditEntry.object_type).where(
            AuditEntry.id > last_entry)).all()
        outside = {(action, kind) for action, kind in entries
                   if kind not in AUDIT_TABLES | {"measures"} and action not in ("login", "print")}  # a print is a read, recorded
        assert outside == set(), f"audit entries about other records: {outside}"
        # The probe reached the audit forms and saved through them.
        gained = {name for name in AUDIT_TABLES if after[name] - before[name]}
    assert {"audit_plans", "audit_findings"} <= gained, (gained, {k: v for k, v in answered.items() if "audits" in k})
