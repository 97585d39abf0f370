"""Issue 17: one open (draft or pending) amendment per contract, whatever
the timing: officers drafting an amendment to the same contract at the same
moment through the served app get one draft, and the others a clear refusal
(409), never an error page or a second draft (a partial unique index holds
it on SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from contracts.models import AmendmentStatus, ContractAmendment, ContractStatus
from core.db import db
from tests import factories
from tests.contracts.test_amendments import amendment_data
from tests.served import together

DRAFTERS = 6


def test_parallel_drafts_leave_one_open_amendment(app, users, served_app):
    with app.app_context():
        contract = factories.contract(status=ContractStatus.SIGNED)
        db.session.commit()
        contract_id = contract.id
    path = f"/contracts/{contract_id}/amendments/new"
    calls = []
    for n in range(DRAFTERS):
        browser = served_app.session()
        served_app.login(browser, "procurement")
        data = {**amendment_data(app, contract_id, end_on=f"{2028 + n}-03-31", reason=f"{n}番の変更"),
                "csrf_token": served_app.csrf(browser, path)}
        calls.append(lambda browser=browser, data=data: browser.post(
            served_app.url + path, data=data, allow_redirects=False, timeout=60,
            files={"document": ("変更契約書.pdf", b"%PDF-1.4 amendment", "application/pdf")}))

    answers = together(calls)
    statuses = sorted(a.status_code for a in answers)
    assert not [s for s in statuses if s >= 500], served_app.log.read_text()[-3000:]
    assert statuses == [302] + [409] * (DRAFTERS - 1), statuses
    refused = [a for a in answers if a.status_code == 409]
    assert all("起案中または承認待ちの変更契約が既にあります" in a.text for a in refused)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ContractAmendment).where(
            ContractAmendment.contract_id == contract_id,
            ContractAmendment.status.in_((AmendmentStatus.DRAFT, AmendmentStatus.PENDING)))) == 1


def test_the_database_refuses_a_second_open_amendment(app, users):
    """The index itself, without the service's check in front of it."""
    with app.app_context():
        contract = factories.contract(status=ContractStatus.SIGNED)
        author = factories.clerk()
        for number, status in ((1, AmendmentStatus.APPROVED), (2, AmendmentStatus.WITHDRAWN),
                               (3, AmendmentStatus.DRAFT)):
            db.session.add(ContractAmendment(contract=contract, number=number, reason="r", amended_on=contract.start_on,
                                             author_id=author.id, status=status, changes={}))
        db.session.flush()
        db.session.add(ContractAmendment(contract=contract, number=4, reason="r", amended_on=contract.start_on,
                                         author_id=author.id, status=AmendmentStatus.PENDING, changes={}))
        with pytest.raises(IntegrityError):
            db.session.flush()
