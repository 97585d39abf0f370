"""The incident's pages (issue 19): correcting an open incident, evidence
files, the 事故報告書 PDF (its print in the audit trail) and the header's
entry."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import select

from core.db import db
from core.incidents import Incident, IncidentKind, Severity
from core.models import AuditEntry, Role, User
from core.timeutil import JST, utcnow
from tests import factories
from tests.conftest import login_as


def _switch(client, role: str) -> None:
    client.post("/logout")
    login_as(client, role)


def _local(moment: dt.datetime) -> str:
    return moment.replace(tzinfo=dt.UTC).astimezone(JST).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def outage(app, users):
    """An open outage of the body, handled by the users' unit (総務課)."""
    with app.app_context():
        unit_id = db.session.get(User, users["procurement"]).unit_id
        made = factories.incident(subject=(None, None), kind=IncidentKind.OUTAGE, title="庁内システムの停止",
                                  unit_id=unit_id)
        db.session.commit()
        return made.id


def _edit_data(app, incident_id, **overrides):
    with app.app_context():
        incident = db.session.get(Incident, incident_id)
        data = {"version": str(incident.version), "kind": incident.kind.value, "severity": "severe",
                "title": "庁内システムの全面停止", "summary": "基幹系が3時間止まった",
                "occurred_at": _local(incident.occurred_at), "learned_at": _local(incident.learned_at),
                "unit_id": str(incident.unit_id), "people_affected": "12"}
    return {**data, **overrides}


def test_a_handler_corrects_an_open_incident(app, client, outage):
    login_as(client, "procurement")
    page = client.get(f"/incidents/{outage}/edit")
    assert page.status_code == 200 and "庁内システムの停止" in page.get_data(as_text=True)
    response = client.post(f"/incidents/{outage}/edit", data=_edit_data(app, outage))
    assert response.status_code == 302
    with app.app_context():
        incident = db.session.get(Incident, outage)
        assert incident.title == "庁内システムの全面停止" and incident.severity is Severity.SEVERE
        assert incident.people_affected == 12
        assert db.session.scalar(select(AuditEntry).where(
            AuditEntry.object_type == "incidents", AuditEntry.object_id == str(outage),
            AuditEntry.action == "update")) is not None
    assert "庁内システムの全面停止" in client.get(f"/incidents/{outage}").get_data(as_text=True)


def test_a_correction_on_a_stale_form_or_with_bad_times_changes_nothing(app, client, outage):
    login_as(client, "procurement")
    stale = client.post(f"/incidents/{outage}/edit", data=_edit_data(app, outage, version="0"))
    assert stale.status_code == 409
    with app.app_context():
        version = db.session.get(Incident, outage).version
    # the page shows the stored record with its version: saving it again goes through
    assert f'name="version" type="hidden" value="{version}"' in stale.get_data(as_text=True)
    future = client.post(f"/incidents/{outage}/edit", data=_edit_data(
        app, outage, learned_at=_local(utcnow() + dt.timedelta(days=2))))
    assert future.status_code == 400 and "未来の日時は指定できません" in future.get_data(as_text=True)
    sns = client.post(f"/incidents/{outage}/edit", data=_edit_data(app, outage, kind="takeover"))
    assert sns.status_code == 400 and "SNSアカウントの事案として" in sns.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Incident, outage).title == "庁内システムの停止"


def test_only_handlers_correct_and_a_closed_incident_is_never_corrected(app, client, users, outage):
    login_as(client, "auditor")
    assert client.get(f"/incidents/{outage}/edit").status_code == 302
    assert client.post(f"/incidents/{outage}/edit", data=_edit_data(app, outage)).status_code == 302
    with app.app_context():
        assert db.session.get(Incident, outage).title == "庁内システムの停止"
    assert "記録を修正" not in client.get(f"/incidents/{outage}").get_data(as_text=True)
    with app.app_context():
        closed = factories.incident(subject=(None, None), kind=IncidentKind.OUTAGE, closed_on=dt.date(2025, 5, 1),
                                    occurred_on=dt.date(2025, 4, 30), title="終わった停止")
        db.session.commit()
        closed_id = closed.id
    _switch(client, "lead")
    assert client.get(f"/incidents/{closed_id}/edit").status_code == 302
    refused = client.post(f"/incidents/{closed_id}/edit", data=_edit_data(app, closed_id))
    assert refused.status_code == 302
    with app.app_context():
        assert db.session.get(Incident, closed_id).title == "終わった停止"


def test_handlers_add_evidence_and_readers_download_it(app, client, outage):
    login_as(client, "procurement")
    response = client.post(f"/incidents/{outage}/evidence", data={
        "file": (io.BytesIO(b"%PDF-1.4 log"), "障害ログ.pdf"), "note": "ベンダーの報告書"},
        content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get(f"/incidents/{outage}").get_data(as_text=True)
    assert "障害ログ.pdf" in page and "ベンダーの報告書" in page
    with app.app_context():
        evidence_id = db.session.get(Incident, outage).evidence[0].id
    rejected = client.post(f"/incidents/{outage}/evidence", data={
        "file": (io.BytesIO(b"#!/bin/sh\nrm -rf /"), "run.sh")}, content_type="multipart/form-data")
    assert rejected.status_code == 400 and "PDF、画像、Office文書" in rejected.get_data(as_text=True)
    _switch(client, "auditor")
    download = client.get(f"/incidents/{outage}/evidence/{evidence_id}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 log"
    download.close()
    assert client.post(f"/incidents/{outage}/evidence", data={
        "file": (io.BytesIO(b"%PDF-1.4 x"), "x.pdf")}, content_type="multipart/form-data").status_code == 403
    with app.app_context():
        assert len(db.session.get(Incident, outage).evidence) == 1


def test_a_personal_data_incidents_evidence_is_hidden_like_the_incident(app, client, users):
    with app.app_context():
        from core.models import OrgUnit

        elsewhere = OrgUnit(name="予防課")
        db.session.add(elsewhere)
        db.session.flush()
        secret = factories.incident(subject=(None, None), kind=IncidentKind.LEAK, personal_data=True,
                                    unit_id=elsewhere.id)
        db.session.commit()
        secret_id = secret.id
    login_as(client, "lead")
    assert client.post(f"/incidents/{secret_id}/evidence", data={
        "file": (io.BytesIO(b"%PDF-1.4 list"), "名簿.pdf")}, content_type="multipart/form-data").status_code == 302
    with app.app_context():
        evidence_id = db.session.get(Incident, secret_id).evidence[0].id
    _switch(client, "procurement")
    assert client.get(f"/incidents/{secret_id}/evidence/{evidence_id}").status_code == 404
    assert client.get(f"/incidents/{secret_id}/report.pdf").status_code == 404


def test_the_incident_report_prints_everything_and_each_print_is_recorded(app, client, outage):
    from tests.core.test_pdf_year import page_texts

    login_as(client, "procurement")
    client.post(f"/incidents/{outage}/actions", data={"action": "予備系に切り替えた"})
    response = client.get(f"/incidents/{outage}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page_texts(response.data))
    for expected in ("事故報告書", "庁内システムの停止", "予備系に切り替えた", "対応チェックリスト", "原因",
                     "最高情報セキュリティ責任者"):
        assert expected in text.replace("\n", ""), expected
    with app.app_context():
        prints = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "print", AuditEntry.object_type == "incidents",
            AuditEntry.object_id == str(outage))).all()
        assert len(prints) == 1 and prints[0].changes["document"] == "incident_report"


@pytest.mark.parametrize("role", list(Role))
def test_every_signed_in_user_finds_incidents_in_the_header(client, users, role):
    login_as(client, role)
    html = client.get("/").get_data(as_text=True)
    nav = html[html.index('id="main-nav"'):html.index("</nav>")]
    assert 'href="/incidents/"' in nav


def test_the_new_pages_speak_english_in_the_english_interface(app, client, outage):
    login_as(client, "admin")
    client.post("/language", data={"lang": "en", "next": "/"})
    detail = client.get(f"/incidents/{outage}").get_data(as_text=True)
    assert "Correct the record" in detail and "Incident report (PDF)" in detail and "No evidence files." in detail
    assert "記録を修正" not in detail
    edit = client.get(f"/incidents/{outage}/edit").get_data(as_text=True)
    assert "Correct the incident" in edit and "事案を修正" not in edit
    admin = client.get("/incidents/checklists").get_data(as_text=True)
    assert "Incident response checklists" in admin and "Add an item" in admin
    nav = admin[admin.index('id="main-nav"'):admin.index("</nav>")]
    assert ">Incidents<" in nav


def test_a_closed_incident_takes_no_more_evidence(app, client, users):
    with app.app_context():
        closed = factories.incident(subject=(None, None), kind=IncidentKind.OUTAGE, closed_on=dt.date(2025, 5, 1),
                                    occurred_on=dt.date(2025, 4, 30))
        db.session.commit()
        closed_id = closed.id
    login_as(client, "lead")
    response = client.post(f"/incidents/{closed_id}/evidence", data={
        "file": (io.BytesIO(b"%PDF-1.4 late"), "late.pdf")}, content_type="multipart/form-data",
        follow_redirects=True)
    assert "終結した事案は変更できません" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Incident, closed_id).evidence == []
