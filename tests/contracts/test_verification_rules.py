"""Verifications and findings that mean something (issue 17): a verification
that checked nothing is not submitted, 確認を記録 reopens the draft, a draft
is deleted by its author only, the measure's owner reports completion and
another verifier or an administrator accepts it, and 着手 is explicit."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from contracts import verification as checks
from contracts.models import ContractStatus, Finding, MeasureStatus, Result, Verification, VerificationStatus
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


# --- 3. the owner reports, another verifier or an administrator accepts ------------------

@pytest.fixture
def measure(app, users):
    """An open measure owned by the procurement officer, from a check by the only verifier."""
    with app.app_context():
        officer = db.session.get(User, users["procurement"])
        contract = factories.contract("V-002", status=ContractStatus.IN_FORCE, officer=officer)
        verification = factories.verification(contract, verifier=db.session.get(User, users["verifier"]),
                                              results={"C05": Result.PARTLY})
        finding = verification.findings[0]
        finding.owner_id = officer.id
        db.session.commit()
        return finding.id


def _report(client, finding_id):
    return client.post(f"/verification/findings/{finding_id}/report", content_type="multipart/form-data", data={
        "note": "研修を実施", "evidence": (io.BytesIO(b"%PDF-1.4 x"), "記録.pdf")})


def _status(app, finding_id):
    with app.app_context():
        return db.session.get(Finding, finding_id).status


def test_the_owner_reports_and_the_only_verifier_accepts(app, users, measure):
    with app.app_context():
        # "whatever their role": the owner need not read contracts otherwise.
        db.session.get(Finding, measure).owner_id = factories.user("owner", Role.SOCIAL).id
        db.session.commit()
    owner = _client(app, "owner")
    page = owner.get(f"/verification/findings/{measure}")
    assert page.status_code == 200 and f'action="/verification/findings/{measure}/report"' in page.get_data(as_text=True)
    assert _client(app, "social").get(f"/verification/findings/{measure}").status_code == 403  # not the owner
    assert _report(owner, measure).status_code == 302
    assert _status(app, measure) is MeasureStatus.REPORTED
    verifier = _client(app, "verifier")
    page = verifier.get(f"/verification/findings/{measure}").get_data(as_text=True)
    assert "完了を確認する" in page
    response = verifier.post(f"/verification/findings/{measure}/accept", follow_redirects=True)
    assert "措置の完了を確認しました。" in response.get_data(as_text=True)
    assert _status(app, measure) is MeasureStatus.ACCEPTED


def test_a_reporter_never_accepts_their_own_report(app, users, measure):
    verifier = _client(app, "verifier")
    assert _report(verifier, measure).status_code == 302  # verifiers may still report
    page = verifier.get(f"/verification/findings/{measure}").get_data(as_text=True)
    assert "完了報告をした本人は確認できません" in page
    response = verifier.post(f"/verification/findings/{measure}/accept", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert response.history[0].status_code == 303 and "完了報告をした本人は確認できません" in text and "申請" not in text.split(
        "完了報告をした本人は確認できません")[1][:40]
    assert _status(app, measure) is MeasureStatus.REPORTED
    admin = _client(app, "admin")
    assert admin.post(f"/verification/findings/{measure}/accept").status_code == 302
    assert _status(app, measure) is MeasureStatus.ACCEPTED


def test_who_may_report_and_accept(app, users, measure):
    # Neither the owner nor a verifier: refused.
    assert _report(_client(app, "auditor"), measure).status_code == 403
    assert _status(app, measure) is MeasureStatus.OPEN
    assert _report(_client(app, "procurement"), measure).status_code == 302  # the owner
    # The procurement officer may not accept, not even someone else's report.
    assert _client(app, "auditor").post(f"/verification/findings/{measure}/accept").status_code == 403
    assert _status(app, measure) is MeasureStatus.REPORTED


def test_the_service_rules_for_reporting_and_accepting(app, users, measure):
    with app.test_request_context(), app.app_context():
        finding = db.session.get(Finding, measure)
        owner = db.session.get(User, users["procurement"])
        verifier = db.session.get(User, users["verifier"])
        auditor = db.session.get(User, users["auditor"])
        with pytest.raises(checks.VerificationError, match="担当者または確認担当"):
            checks.report_done(finding, note="済", evidence=None, user=auditor)
        checks.report_done(finding, note="済", evidence=None, user=owner)
        with pytest.raises(checks.VerificationError, match="確認担当または管理者"):
            checks.decide_closure(finding, user=owner, accept=True, comment=None)
        checks.decide_closure(finding, user=verifier, accept=True, comment=None)
        assert finding.status is MeasureStatus.ACCEPTED and finding.accepted_by_id == verifier.id


def test_the_service_refuses_the_reporter_as_acceptor(app, users, measure):
    with app.test_request_context(), app.app_context():
        finding = db.session.get(Finding, measure)
        verifier = db.session.get(User, users["verifier"])
        checks.report_done(finding, note="済", evidence=None, user=verifier)
        with pytest.raises(checks.VerificationError, match="完了報告をした本人は確認できません"):
            checks.decide_closure(finding, user=verifier, accept=True, comment=None)
        assert finding.status is MeasureStatus.REPORTED
        checks.decide_closure(finding, user=db.session.get(User, users["admin"]), accept=False, comment="不足")
        assert finding.status is MeasureStatus.IN_PROGRESS


# --- 4. 着手 -------------------------------------------------------------------------

def test_the_owner_starts_the_measure(app, users, measure):
    auditor = _client(app, "auditor")
    assert auditor.post(f"/verification/findings/{measure}/begin").status_code == 403
    assert _status(app, measure) is MeasureStatus.OPEN
    owner = _client(app, "procurement")
    page = owner.get(f"/verification/findings/{measure}").get_data(as_text=True)
    assert f'action="/verification/findings/{measure}/begin"' in page
    response = owner.post(f"/verification/findings/{measure}/begin", follow_redirects=True)
    assert "措置に着手しました。" in response.get_data(as_text=True)
    assert _status(app, measure) is MeasureStatus.IN_PROGRESS
    again = owner.post(f"/verification/findings/{measure}/begin", follow_redirects=True)
    assert "未着手の措置だけを着手にできます。" in again.get_data(as_text=True)
    assert f'action="/verification/findings/{measure}/begin"' not in owner.get(
        f"/verification/findings/{measure}").get_data(as_text=True)


def test_saving_the_measure_does_not_start_it(app, users, measure):
    with app.app_context():
        version = db.session.get(Finding, measure).version
    _client(app, "verifier").post(f"/verification/findings/{measure}/measure", data={
        "measure": "研修を実施", "owner_id": str(users["procurement"]), "due_on": "2026-12-20",
        "version": str(version)})
    assert _status(app, measure) is MeasureStatus.OPEN


def test_the_service_rules_for_starting(app, users, measure):
    with app.test_request_context(), app.app_context():
        finding = db.session.get(Finding, measure)
        with pytest.raises(checks.VerificationError, match="担当者・確認担当・管理者"):
            checks.begin(finding, user=db.session.get(User, users["auditor"]))
        assert finding.status is MeasureStatus.OPEN
        checks.begin(finding, user=db.session.get(User, users["verifier"]))
        assert finding.status is MeasureStatus.IN_PROGRESS
        with pytest.raises(checks.VerificationError, match="未着手の措置だけ"):
            checks.begin(finding, user=db.session.get(User, users["admin"]))


def test_a_refused_report_keeps_no_file(app, users, measure):
    from werkzeug.datastructures import FileStorage

    from contracts import services
    from core.files import StoredFile

    def upload():
        return FileStorage(io.BytesIO(b"%PDF-1.4 x"), filename="記録.pdf", content_type="application/pdf")

    with app.test_request_context(), app.app_context():
        finding = db.session.get(Finding, measure)
        with pytest.raises(checks.VerificationError):
            services.report_done(finding, note="済", upload=upload(), user=db.session.get(User, users["auditor"]))
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0
        services.report_done(finding, note="済", upload=upload(), user=db.session.get(User, users["procurement"]))
        assert finding.status is MeasureStatus.REPORTED and finding.closure_evidence is not None
