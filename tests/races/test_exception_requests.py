"""Issue 17: only one request per clause of a contract can be pending, even
when officers send theirs at the same moment through the served app (the
check, then the partial unique index on approvals for what slips past it)."""
from __future__ import annotations

from urllib.parse import urljoin

from sqlalchemy import select

from contracts import rules
from core.approvals import Approval, Decision
from core.db import db
from core.models import Role
from tests import factories
from tests.served import together

REQUESTS = 6


def test_simultaneous_requests_for_one_clause_leave_one_pending(app, users, served_app):
    with app.app_context():
        contract = factories.contract(left_out=("C12",))
        for n in range(REQUESTS):
            factories.user(f"buyer{n}", Role.PROCUREMENT)
        db.session.commit()
        contract_id = contract.id
    path = f"/contracts/{contract_id}"
    calls, browsers = [], []
    for n in range(REQUESTS):
        browser = served_app.session()
        browsers.append(browser)
        served_app.login(browser, f"buyer{n}", factories.PASSWORD)
        data = {"csrf_token": served_app.csrf(browser, path), "clause": "C12", "reason": f"{n}番の申請"}
        calls.append(lambda browser=browser, data=data: browser.post(
            served_app.url + path + "/exceptions", data=data, allow_redirects=False, timeout=60))

    answers = together(calls)
    statuses = [a.status_code for a in answers]
    assert not [s for s in statuses if s >= 500], (statuses, served_app.log.read_text()[-3000:])
    # The refused ones return to the contract (Post/Redirect/Get), which shows why.
    assert statuses.count(302) == 1 and statuses.count(303) == REQUESTS - 1, statuses
    refused = [browser.get(urljoin(served_app.url + path, answer.headers["Location"]), timeout=60).text
               for browser, answer in zip(browsers, answers, strict=True) if answer.status_code == 303]
    assert all("承認待ち" in text for text in refused)
    with app.app_context():
        pending = db.session.scalars(select(Approval).where(
            Approval.kind == rules.EXCEPTION, Approval.subject_id == contract_id,
            Approval.decision == Decision.PENDING)).all()
        assert [a.topic for a in pending] == ["C12"]
