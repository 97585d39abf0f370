"""Issue 18: one self-inspection not yet approved per (年度, unit | whole
body), whatever the timing: staff starting the same year's inspection at the
same moment through the served app get one, and the others a clear refusal
(409), never an error page or a second open inspection (a partial unique
index on a never-NULL scope key holds it on SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from assurance.inspection_models import Inspection, InspectionStatus
from core.db import db
from tests import factories
from tests.served import together

STARTERS = 6
YEAR = 2026


def test_parallel_starts_leave_one_open_inspection(app, users, served_app):
    calls = []
    for n in range(STARTERS):
        browser = served_app.session()
        served_app.login(browser, ("procurement", "admin", "lead")[n % 3])
        data = {"fiscal_year": str(YEAR), "unit_id": "", "responsible_id": str(users["procurement"]),
                "summary": f"{n}番の点検", "csrf_token": served_app.csrf(browser, "/inspections/")}
        calls.append(lambda browser=browser, data=data: browser.post(
            served_app.url + "/inspections/new", data=data, allow_redirects=False, timeout=60))

    answers = together(calls)
    statuses = sorted(a.status_code for a in answers)
    assert not [s for s in statuses if s >= 500], served_app.log.read_text()[-3000:]
    assert statuses == [302] + [409] * (STARTERS - 1), statuses
    assert all("承認前の自己点検が既にあります" in a.text for a in answers if a.status_code == 409)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Inspection)) == 1


def test_the_database_refuses_a_second_open_inspection_of_the_whole_body(app, users):
    """The index itself, without the service's check in front of it: NULL
    units (the whole body) collide through the scope key."""
    with app.app_context():
        first = factories.inspection(YEAR)
        first.status = InspectionStatus.APPROVED
        db.session.flush()
        factories.inspection(YEAR)  # approved ones do not count
        db.session.add(Inspection(fiscal_year=YEAR, unit_id=None, scope_key=0, edition=3,
                                  responsible_id=first.responsible_id, status=InspectionStatus.SUBMITTED))
        with pytest.raises(IntegrityError):
            db.session.flush()
