"""Verifications and findings that mean something (issue 17): a verification
that checked nothing is not submitted, 確認を記録 reopens the draft, a draft
is deleted by its author only, the measure's owner reports completion and
another verifier or an administrator accepts it, and 着手 is explicit."""
from __future__ import annotations

import datetime as dt

import pytest

from contracts import verification as checks
from contracts.models import ContractStatus, Result, Verification, VerificationStatus
from core import timeutil
from core.db import db
from core.models import User
from tests import factories
from tests.conftest import login_as

PASSWORD = factories.PASSWORD


def _client(app, username: str):
    client = app.test_client()
    login_as(client, username, PASSWORD)
    return client


@pytest.fixture
def overdue(app, users):
    """A C2 contract signed 200 days ago and never checked: 期限超過."""
    with app.app_context():
        contract = factories.contract("V-001", status=ContractStatus.SIGNED,
                                      start_on=timeutil.today() - dt.timedelta(days=200))
        db.session.commit()
        assert contract.verification_due_on < timeutil.today()
        return contract.id


def _due(app, contract_id):
    from contracts.models import Contract

    with app.app_context():
        return db.session.get(Contract, contract_id).verification_due_on


def _form(app, verification_id: int, result: str, **fields) -> dict:
    with app.app_context():
        verification = db.session.get(Verification, verification_id)
        rows = [row.id for row in verification.results]
        version = verification.version
    data = {"version": str(version), "performed_on": timeutil.today().isoformat(), "method": "document",
            "conclusion": "所見", "remarks": ""}
    for i, row_id in enumerate(rows):
        data.update({f"rows-{i}-result_id": str(row_id), f"rows-{i}-result": result if i == 0 else "unchecked",
                     f"rows-{i}-comment": ""})
    data.update(fields)
    return data


# --- 1. nothing checked, nothing submitted ---------------------------------------------

NOTHING_CHECKED = "確認した条項がないため提出できません"


def test_a_verification_that_checked_nothing_is_not_submitted_and_keeps_the_due_date(app, users, overdue):
    verifier = _client(app, "verifier")
    before = _due(app, overdue)
    verification_id = int(verifier.post(f"/verification/contracts/{overdue}/start").headers["Location"].split("/")[-2])
    response = verifier.post(f"/verification/{verification_id}/edit",
                             data=_form(app, verification_id, "unchecked", submit="1"))
    assert response.status_code == 400 and NOTHING_CHECKED in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Verification, verification_id).status is VerificationStatus.DRAFT
    assert _due(app, overdue) == before
    assert "V-001" in verifier.get("/verification/?state=overdue").get_data(as_text=True).split("<tbody>")[1]
    # One clause checked (here: not applicable) is a verification: it is submitted and moves the date.
    response = verifier.post(f"/verification/{verification_id}/edit",
                             data=_form(app, verification_id, "na", submit="1"))
    assert response.status_code == 302
    assert _due(app, overdue) > before


def test_the_service_refuses_to_submit_a_verification_that_checked_nothing(app, users, overdue):
    from contracts.models import Contract

    with app.test_request_context(), app.app_context():
        contract = db.session.get(Contract, overdue)
        verifier = db.session.get(User, users["verifier"])
        before = contract.verification_due_on
        verification = checks.start(contract, user=verifier)
        verification.conclusion = "所見"
        with pytest.raises(checks.VerificationError, match=NOTHING_CHECKED):
            checks.submit(verification, user=verifier)
        assert verification.status is VerificationStatus.DRAFT
        verification.results[0].result = Result.CONFORMS
        checks.submit(verification, user=verifier)
        db.session.commit()
        assert verification.is_submitted and contract.verification_due_on > before


