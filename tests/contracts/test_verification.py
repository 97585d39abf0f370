"""Recording verifications, evidence, immutability, findings and the
four-eyes closure of corrective measures (issue 4)."""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from sqlalchemy import func, select

from contracts.models import ContractStatus, Finding, MeasureStatus, Result, Verification, VerificationStatus
from core import timeutil
from core.db import db
from core.models import AuditEntry, User
from tests import factories
from tests.conftest import login_as


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


@pytest.fixture
def officer(app, users):
    client = app.test_client()
    login_as(client, "verifier")
    return client


@pytest.fixture
def contracts(app, users):
    """Contract ids by key, all of 通信指令課 (the verifier's unit, under 消防本部):
    "signed", a C2 contract signed without C12 (an approved exception),
    started 200 days ago and never checked; "late", in force, whose check 100
    days ago left an open, overdue measure on C05 (partly); "due_soon", checked
    170 days ago with everything conforming."""
    today = timeutil.today()
    with app.app_context():
        unit = factories.unit("通信指令課", parent=factories.unit("消防本部"))
        verifier = db.session.get(User, users["verifier"])
        verifier.unit = unit
        signed = factories.contract("K-002", status=ContractStatus.SIGNED, left_out=("C12",), unit=unit,
                                    start_on=today - dt.timedelta(days=200))
        late = factories.contract("K-001", status=ContractStatus.IN_FORCE, unit=unit,
                                  start_on=today - dt.timedelta(days=200))
        factories.verification(late, verifier=verifier, performed_on=today - dt.timedelta(days=100),
                               results={"C05": Result.PARTLY})
        due_soon = factories.contract("K-004", status=ContractStatus.IN_FORCE, unit=unit,
                                      start_on=today - dt.timedelta(days=200))
        factories.verification(due_soon, verifier=verifier, performed_on=today - dt.timedelta(days=170))
        db.session.commit()
        return {"signed": signed.id, "late": late.id, "due_soon": due_soon.id, "late_vendor": late.vendor_id}


def start(client, contracts, key="signed") -> int:
    response = client.post(f"/verification/contracts/{contracts[key]}/start")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].split("/")[-2])


def form_data(app, verification_id: int, results: dict[str, tuple[str, str]], **fields) -> dict:
    with app.app_context():
        verification = db.session.get(Verification, verification_id)
        rows = [(row.id, row.clause.code) for row in verification.results]
        version = verification.version
    data = {"version": str(version), "performed_on": "2026-11-20", "method": "onsite",
            "conclusion": "概ね適合", "remarks": ""}
    for i, (row_id, code) in enumerate(rows):
        result, comment = results.get(code, ("conforms", ""))
        data.update({f"rows-{i}-result_id": str(row_id), f"rows-{i}-result": result, f"rows-{i}-comment": comment})
    data.update(fields)
    return data


def test_the_form_lists_what_to_verify_for_each_included_clause(app, officer, contracts):
    verification_id = start(officer, contracts)
    html = officer.get(f"/verification/{verification_id}/edit").get_data(as_text=True)
    assert "C12" not in html.split("<tbody>")[1].split("</tbody>")[0]  # excepted, not in the contract
    assert "C01" in html and "関係するポリシーの説明、遵守の誓約書" in html


def test_submit_with_results_and_evidence_opens_findings(app, officer, contracts):
    verification_id = start(officer, contracts)
    data = form_data(app, verification_id, {"C05": ("partly", "研修記録が一部不足"), "C10": ("does_not", "月次報告なし")},
                     submit="1")
    data["files"] = (io.BytesIO(b"%PDF-1.5 report"), "定期報告書.pdf")
    data["rows-0-file"] = (io.BytesIO(docx_bytes()), "誓約書.docx")
    response = officer.post(f"/verification/{verification_id}/edit", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        verification = db.session.get(Verification, verification_id)
        assert verification.status is VerificationStatus.SUBMITTED and verification.submitted_at
        kinds = sorted(e.file.content_type for e in verification.evidence)
        assert kinds == ["application/pdf",
                         "application/vnd.openxmlformats-officedocument.wordprocessingml.document"]
        assert [e.result.clause.code for e in verification.evidence if e.result] == ["C01"]
        findings = db.session.scalars(select(Finding).order_by(Finding.id)).all()
        opened = [(f.clause.code, f.severity.value, f.status) for f in findings if f.verification_id == verification_id]
        assert opened == [("C05", "partly", MeasureStatus.OPEN), ("C10", "does_not", MeasureStatus.OPEN)]
        evidence_id = verification.evidence[0].id
    page = officer.get(f"/verification/{verification_id}").get_data(as_text=True)
    assert "研修記録が一部不足" in page and "定期報告書.pdf" in page
    download = officer.get(f"/verification/{verification_id}/evidence/{evidence_id}")
    assert download.status_code == 200
    download.close()


def test_a_submitted_verification_never_changes(app, officer, contracts):
    verification_id = start(officer, contracts)
    officer.post(f"/verification/{verification_id}/edit", data=form_data(app, verification_id, {}, submit="1"))
    with app.app_context():
        before = db.session.get(Verification, verification_id).conclusion
    response = officer.post(f"/verification/{verification_id}/edit",
                            data=form_data(app, verification_id, {}, conclusion="書き換え"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/verification/{verification_id}")
    with app.app_context():
        assert db.session.get(Verification, verification_id).conclusion == before
    # A correction is a new verification that names the one it corrects.
    response = officer.post(f"/verification/{verification_id}/correct")
    copy_id = int(response.headers["Location"].split("/")[-2])
    assert copy_id != verification_id
    officer.post(f"/verification/{copy_id}/edit", data=form_data(app, copy_id, {}, conclusion="訂正後の所見", submit="1"))
    with app.app_context():
        copy = db.session.get(Verification, copy_id)
        assert copy.corrects_id == verification_id and copy.conclusion == "訂正後の所見" and copy.is_submitted
        assert db.session.get(Verification, verification_id).conclusion == before
    assert "この確認には訂正があります" in officer.get(f"/verification/{verification_id}").get_data(as_text=True)


def test_submission_needs_a_conclusion_and_comments_for_nonconformities(app, officer, contracts):
    verification_id = start(officer, contracts)
    no_conclusion = officer.post(f"/verification/{verification_id}/edit",
                                 data=form_data(app, verification_id, {}, conclusion="", submit="1"))
    assert "提出するには総合所見を入力してください。" in no_conclusion.get_data(as_text=True)
    no_comment = officer.post(f"/verification/{verification_id}/edit",
                              data=form_data(app, verification_id, {"C03": ("does_not", "")}, submit="1"))
    assert "不適合・一部不適合には内容（コメント）を記入してください: C03" in no_comment.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Verification, verification_id).status is VerificationStatus.DRAFT


def test_evidence_is_checked_by_content(app, officer, contracts):
    verification_id = start(officer, contracts)
    data = form_data(app, verification_id, {})
    data["files"] = (io.BytesIO(b"#!/bin/sh\necho hi"), "report.pdf")
    response = officer.post(f"/verification/{verification_id}/edit", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "PDF、画像、Office文書のファイルを選んでください" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Verification, verification_id).evidence == []


def test_closing_a_measure_needs_a_second_verifier(app, officer, contracts):
    with app.app_context():
        finding = db.session.scalars(select(Finding).where(Finding.status == MeasureStatus.OPEN)).first()
        finding_id, version = finding.id, finding.version
    officer.post(f"/verification/findings/{finding_id}/measure", data={
        "measure": "未受講者2名に研修を実施し記録を提出", "owner_id": "", "due_on": "2026-12-20", "version": str(version)})
    officer.post(f"/verification/findings/{finding_id}/report", content_type="multipart/form-data", data={
        "note": "研修を実施", "evidence": (io.BytesIO(b"\x89PNG\r\n\x1a\nimg"), "研修記録.png")})
    with app.app_context():
        assert db.session.get(Finding, finding_id).status is MeasureStatus.REPORTED
    # The reporter cannot accept their own report.
    response = officer.post(f"/verification/findings/{finding_id}/accept", follow_redirects=True)
    assert "完了報告をした本人は確認できません" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Finding, finding_id).status is MeasureStatus.REPORTED
    # A second verifier accepts.
    from core import accounts
    from core.models import Role

    with app.app_context():
        accounts.create_user(username="verifier2", display_name="確認 三郎", password="second-verifier-pw",
                             roles=[Role.VERIFIER])
        db.session.commit()
    second = app.test_client()
    login_as(second, "verifier2", "second-verifier-pw")
    second.post(f"/verification/findings/{finding_id}/accept", data={"comment": "記録を確認"})
    with app.app_context():
        finding = db.session.get(Finding, finding_id)
        assert finding.status is MeasureStatus.ACCEPTED and finding.accepted_by.username == "verifier2"
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "findings",
                                                                     AuditEntry.object_id == str(finding_id))).all()
        assert {"report", "accept"} <= set(actions)


def test_a_returned_measure_goes_back_to_in_progress(app, officer, contracts):
    with app.app_context():
        finding_id = db.session.scalar(select(Finding.id).where(Finding.status == MeasureStatus.OPEN))
    officer.post(f"/verification/findings/{finding_id}/report", content_type="multipart/form-data", data={
        "note": "対応済み", "evidence": (io.BytesIO(b"%PDF-1.4 x"), "x.pdf")})
    admin_verifier = app.test_client()
    from core import accounts
    from core.models import Role

    with app.app_context():
        accounts.create_user(username="verifier3", display_name="確認 四郎", password="third-verifier-pw",
                             roles=[Role.VERIFIER])
        db.session.commit()
    login_as(admin_verifier, "verifier3", "third-verifier-pw")
    admin_verifier.post(f"/verification/findings/{finding_id}/return", data={"comment": "証拠が不十分"})
    with app.app_context():
        assert db.session.get(Finding, finding_id).status is MeasureStatus.IN_PROGRESS


def test_overdue_measures_are_flagged_on_the_contract_and_dashboard(officer, contracts):
    dashboard = officer.get("/").get_data(as_text=True)
    # The verifier's dashboard counts their unit (通信指令課), and its links keep that filter.
    assert "表示の対象: 消防本部 › 通信指令課 の担当分" in dashboard
    assert 'href="/verification/findings?overdue=yes"' in dashboard
    assert 'href="/verification/?state=overdue&amp;unit=' in dashboard
    listing = officer.get("/verification/findings?overdue=yes").get_data(as_text=True).split("<tbody>")[1]
    assert "K-001" in listing
    page = officer.get(f"/contracts/{contracts['late']}").get_data(as_text=True)
    assert "未完了の措置" in page and "期限超過" in page


def test_schedule_page_shows_overdue_and_due_soon(officer, contracts):
    overdue = officer.get("/verification/?state=overdue").get_data(as_text=True).split("<tbody>")[1]
    assert "K-002" in overdue  # never checked
    soon = officer.get("/verification/?state=due_soon").get_data(as_text=True).split("<tbody>")[1]
    assert "K-004" in soon


def test_procurement_reads_but_cannot_record(app, contracts):
    client = app.test_client()
    login_as(client, "procurement")
    assert client.get("/verification/").status_code == 200
    assert client.post(f"/verification/contracts/{contracts['signed']}/start").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Verification)) == 2


def test_dashboard_counts_the_users_unit_and_everything_for_auditors(app, contracts):
    with app.app_context():
        factories.contract(clauses="none")  # a draft lacking its mandatory clauses
        prevention = factories.unit("予防課", parent=factories.unit("消防本部"))
        db.session.scalar(select(User).where(User.username == "social")).unit = prevention
        db.session.commit()
    auditor = app.test_client()
    login_as(auditor, "auditor")
    html = auditor.get("/").get_data(as_text=True)
    assert "表示の対象" not in html and 'href="/contracts/?gaps=yes"' in html
    assert 'class="tile-bar"' in html and "<rect" in html  # the by-status counts with their bars
    social = app.test_client()
    login_as(social, "social")  # 予防課: no contracts of its own
    assert "表示の対象: 消防本部 › 予防課 の担当分" in social.get("/").get_data(as_text=True)


def test_the_vendor_page_shows_the_latest_check_and_late_measures(officer, contracts):
    page = officer.get(f"/vendors/{contracts['late_vendor']}").get_data(as_text=True)
    assert "期限を過ぎた措置があります（1件）" in page and "最新の確認" in page and "実地確認" not in page


def test_admin_sets_the_default_cycle_per_level(app, contracts):
    from core.models import ClassificationLevel

    admin = app.test_client()
    login_as(admin, "admin")
    with app.app_context():
        c2 = db.session.scalar(select(ClassificationLevel.id).where(ClassificationLevel.code == "C2"))
    admin.post("/verification/cycles", data={f"cycle-{c2}": "monthly"})
    page = admin.get("/verification/").get_data(as_text=True)
    row = page.split("K-002")[1].split("</tr>")[0]
    assert "毎月" in row
