"""Findings saved at the same moment through the served app (several
processes, their own connections) each take their own number within the
plan: the unique (plan, number) index refuses a number taken meanwhile, and
the finding takes the next one — never an error page, never a duplicate."""
from __future__ import annotations

from sqlalchemy import select

from assurance.audit_models import AuditFinding
from core.db import db
from core.models import User
from tests import factories
from tests.served import together

WRITERS = 6


def test_parallel_findings_are_numbered_one_to_n(app, users, served_app):
    with app.app_context():
        plan, _warnings = factories.audit_plan(auditors=(db.session.get(User, users["auditor"]),))
        db.session.commit()
        plan_id = plan.id
    path = f"/audits/{plan_id}/findings/new"
    calls = []
    for n in range(WRITERS):
        browser = served_app.session()
        served_app.login(browser, "auditor")
        data = {"csrf_token": served_app.csrf(browser, path), "severity": "minor", "criterion_text": "対策基準",
                "condition": f"同時に記録した事実{n}", "recommendation": "", "target": "", "unit_id": ""}
        calls.append(lambda browser=browser, data=data: browser.post(
            served_app.url + path, data=data, allow_redirects=False, timeout=60))
    answers = together(calls)
    statuses = [a.status_code for a in answers]
    assert statuses == [302] * WRITERS, (statuses, served_app.log.read_text()[-3000:])
    with app.app_context():
        numbers = db.session.scalars(select(AuditFinding.number).where(AuditFinding.plan_id == plan_id)).all()
    assert sorted(numbers) == list(range(1, WRITERS + 1))
