"""The incident register in the JSON API (issue 19): /api/v1/incidents lists,
reads and creates (anyone with a token records an incident, through the same
rules as the page); a personal-data incident exists only for those who may
read it; an incident is not changed through the API."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from contracts.models import ContractStatus
from core.db import db
from core.incidents import CONTRACT, Incident, IncidentKind, IncidentStatus, Severity
from core.models import AuditEntry
from tests import factories
from tests.conftest import api_token


@pytest.fixture
def api(app, users):
    client = app.test_client()
    return client, {name: {"Authorization": f"Bearer {api_token(app, name)}"}
                    for name in ("social", "verifier", "auditor", "lead")}


@pytest.fixture
def contract_incidents(app, users):
    """A contract of 財政課 with an incident involving personal data and one without."""
    with app.app_context():
        unit = factories.unit("財政課")
        contract = factories.contract("R8-API-1", status=ContractStatus.SIGNED, unit=unit)
        plain = factories.incident(kind=IncidentKind.CONTRACT_BREACH, subject=(CONTRACT, contract.id),
                                   title="無断の再委託", severity=Severity.MODERATE, unit_id=unit.id)
        personal = factories.incident(kind=IncidentKind.LEAK, subject=(CONTRACT, contract.id), title="USBの紛失",
                                      severity=Severity.SEVERE, personal_data=True, people_affected=120,
                                      unit_id=unit.id)
        db.session.commit()
        return {"contract": contract.id, "plain": plain.id, "personal": personal.id}


def test_anyone_with_a_token_records_an_incident(app, api, contract_incidents):
    client, headers = api
    response = client.post("/api/v1/incidents", headers=headers["social"], json={
        "kind": "outage", "severity": "moderate", "title": "委託先システムの停止",
        "summary": "受託者のサーバーが停止し、申請受付ができなかった。",
        "subject": f"contract:{contract_incidents['contract']}",
        "occurred_at": "2026-11-30T09:00:00+09:00", "learned_at": "2026-11-30T01:30:00Z",
        "contractor_reported_at": "2026-11-30T10:15", "people_affected": 0})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["number"].startswith("INC-") and body["status"] == "received"
    assert body["occurred_at"] == "2026-11-30T00:00:00+00:00"  # stored in UTC, said so
    assert body["learned_at"] == "2026-11-30T01:30:00+00:00"
    assert body["contractor_reported_at"] == "2026-11-30T01:15:00+00:00"  # no offset: Japan time, as on the page
    assert response.headers["Location"].endswith(f"/api/v1/incidents/{body['id']}")
    with app.app_context():
        incident = db.session.get(Incident, body["id"])
        assert incident.subject_type == CONTRACT and incident.recorded_by.username == "social"
        assert incident.status is IncidentStatus.RECEIVED
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "incidents",
                                                          AuditEntry.object_id == str(incident.id))) is not None


def test_a_refused_incident_says_why_and_records_nothing(app, api):
    client, headers = api
    response = client.post("/api/v1/incidents", headers=headers["social"], json={
        "kind": "impersonation", "severity": "minor", "title": "なりすまし", "summary": "本団体を名乗る",
        "occurred_at": "2026-11-30T09:00:00+09:00", "learned_at": "yesterday"})
    assert response.status_code == 422
    fields = {error["field"] for error in response.get_json()["errors"]}
    assert "learned_at" in fields
    response = client.post("/api/v1/incidents", headers=headers["social"], json={
        "kind": "impersonation", "severity": "minor", "title": "なりすまし", "summary": "本団体を名乗る",
        "occurred_at": "2026-11-30T09:00:00+09:00", "learned_at": "2026-11-30T10:00:00+09:00"})
    assert response.status_code == 422  # an impersonation concerns an SNS account
    assert {error["field"] for error in response.get_json()["errors"]} == {"kind"}
    with app.app_context():
        assert db.session.scalar(select(Incident.id)) is None


def test_a_personal_data_incident_exists_only_for_those_who_may_read_it(api, contract_incidents):
    client, headers = api
    for name, sees in (("verifier", False), ("social", False), ("auditor", True), ("lead", True)):
        listed = {item["id"] for item in client.get("/api/v1/incidents", headers=headers[name]).get_json()["items"]}
        assert contract_incidents["plain"] in listed
        assert (contract_incidents["personal"] in listed) is sees, name
        read = client.get(f"/api/v1/incidents/{contract_incidents['personal']}", headers=headers[name])
        assert read.status_code == (200 if sees else 404), name
    item = client.get(f"/api/v1/incidents/{contract_incidents['personal']}", headers=headers["auditor"]).get_json()
    assert item["personal_data"] is True and item["people_affected"] == 120 and item["kind"] == "leak"
    assert item["subject"] == f"contract:{contract_incidents['contract']}"


def test_an_incident_is_not_changed_through_the_api(api, contract_incidents):
    client, headers = api
    response = client.patch(f"/api/v1/incidents/{contract_incidents['plain']}", headers=headers["lead"],
                            json={"title": "書き換え"})
    assert response.status_code in (404, 405)
    assert client.get(f"/api/v1/incidents/{contract_incidents['plain']}",
                      headers=headers["lead"]).get_json()["title"] == "無断の再委託"


def test_the_list_filters_by_kind(api, contract_incidents):
    client, headers = api
    items = client.get("/api/v1/incidents?kind=breach", headers=headers["lead"]).get_json()["items"]
    assert [item["id"] for item in items] == [contract_incidents["plain"]]
    assert dt.date.fromisoformat(items[0]["occurred_at"][:10])
