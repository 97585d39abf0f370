"""Verifications and findings that mean something (issue 17): a verification
that checked nothing is not submitted, 確認を記録 reopens the draft, a draft
is deleted by its author only, the measure's owner reports completion and
another verifier or an administrator accepts it, and 着手 is explicit."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from contracts import verification as checks
from contracts.models import ContractStatus, Result, Verification, VerificationStatus
from core import timeutil
from core.db import db
from core.models import AuditEntry, Role, User
from tests import factories
from tests.conftest import csrf_token, login_as

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


# --- 2. one draft per contract, deleted by its author -----------------------------------

def test_recording_twice_reopens_the_draft(app, users, overdue):
    verifier = _client(app, "verifier")
    first = verifier.post(f"/verification/contracts/{overdue}/start").headers["Location"]
    second = verifier.post(f"/verification/contracts/{overdue}/start").headers["Location"]
    assert first == second
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Verification)) == 1


def test_the_service_reopens_the_contracts_draft(app, users, overdue):
    from contracts.models import Contract

    with app.test_request_context(), app.app_context():
        contract = db.session.get(Contract, overdue)
        verifier = db.session.get(User, users["verifier"])
        draft = checks.start(contract, user=verifier)
        assert checks.start(contract, user=verifier) is draft
        draft.results[0].result = Result.CONFORMS
        draft.conclusion = "所見"
        checks.submit(draft, user=verifier)
        assert checks.start(contract, user=verifier) is not draft  # a new one once submitted


def test_only_its_author_deletes_a_draft(app, users, overdue):
    with app.app_context():
        factories.user("verifier2", Role.VERIFIER)
        db.session.commit()
    author, other = _client(app, "verifier"), _client(app, "verifier2")
    verification_id = int(author.post(f"/verification/contracts/{overdue}/start").headers["Location"].split("/")[-2])
    page = author.get(f"/verification/{verification_id}").get_data(as_text=True)
    assert f'action="/verification/{verification_id}/delete"' in page
    assert f'action="/verification/{verification_id}/delete"' not in other.get(
        f"/verification/{verification_id}").get_data(as_text=True)
    refused = other.post(f"/verification/{verification_id}/delete", follow_redirects=True)
    assert "下書きを削除できるのは作成した本人だけです" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Verification, verification_id) is not None
    response = author.post(f"/verification/{verification_id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/contracts/{overdue}")
    with app.app_context():
        assert db.session.get(Verification, verification_id) is None
        assert db.session.scalar(select(AuditEntry).where(
            AuditEntry.object_type == "verifications", AuditEntry.object_id == str(verification_id),
            AuditEntry.action == "delete")) is not None


def test_a_submitted_verification_is_not_deleted(app, users, overdue):
    from contracts.models import Contract

    with app.app_context():
        verifier = db.session.get(User, users["verifier"])
        verification_id = factories.verification(db.session.get(Contract, overdue), verifier=verifier).id
        db.session.commit()
    response = _client(app, "verifier").post(f"/verification/{verification_id}/delete", follow_redirects=True)
    assert "提出済みの確認は削除できません" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Verification, verification_id) is not None


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_deleting_a_draft_needs_the_csrf_token(app, users, overdue):
    verifier = _client(app, "verifier")
    token = csrf_token(verifier, f"/contracts/{overdue}")
    verification_id = int(verifier.post(f"/verification/contracts/{overdue}/start", data={"csrf_token": token})
                          .headers["Location"].split("/")[-2])
    assert verifier.post(f"/verification/{verification_id}/delete").status_code == 400
    with app.app_context():
        assert db.session.get(Verification, verification_id) is not None
    assert verifier.post(f"/verification/{verification_id}/delete", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(Verification, verification_id) is None


def test_the_service_lets_only_the_author_delete_a_draft(app, users, overdue):
    from contracts.models import Contract

    with app.test_request_context(), app.app_context():
        contract = db.session.get(Contract, overdue)
        author = db.session.get(User, users["verifier"])
        other = factories.user("verifier2", Role.VERIFIER)
        draft = checks.start(contract, user=author)
        with pytest.raises(checks.VerificationError, match="作成した本人だけ"):
            checks.delete_draft(draft, user=other)
        checks.delete_draft(draft, user=author)
        assert db.session.scalar(select(func.count()).select_from(Verification)) == 0
        submitted = factories.verification(contract, verifier=author)
        with pytest.raises(checks.VerificationError, match="提出済みの確認は削除できません"):
            checks.delete_draft(submitted, user=author)


