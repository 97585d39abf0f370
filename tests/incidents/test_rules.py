"""The rules of an incident (issue 19): the PPC reporting need and its
deadlines, the contractor's C10 report and its lateness becoming a measure
against the contract, the reporting chain by severity and by classification,
the closing rules, and the note a closed contract incident leaves for the
contract's next verification."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from contracts import verification as contract_verification
from contracts.models import ContractStatus, VerificationNote
from core.db import db
from core.incidents import CONTRACT, MEASURE_SOURCE, IncidentKind, IncidentStatus, Severity
from core.measures import Measure
from core.models import Role
from core.timeutil import local_date, today, utcnow
from incidents import rules, services
from incidents.services import IncidentRefusal, MeasureEntry
from tests import factories

DAY = dt.timedelta(days=1)


def _days_ago(days: int) -> dt.date:
    return today() - dt.timedelta(days=days)


def _personal(days_ago: int = 10, **fields):
    """A leak of personal data the body learned of ``days_ago`` days ago (a matter of the body itself)."""
    return factories.incident(kind=IncidentKind.LEAK, subject=(None, None), occurred_on=_days_ago(days_ago),
                              personal_data=True, severity=fields.pop("severity", Severity.MODERATE), **fields)


def _contract_incident(contract, *, detected_hours: int = 1, reported_hours: int | None = None, **fields):
    incident = factories.incident(kind=IncidentKind.LEAK, subject=(CONTRACT, contract.id),
                                  occurred_on=fields.pop("occurred_on", _days_ago(5)),
                                  severity=fields.pop("severity", Severity.MINOR), unit_id=contract.unit_id, **fields)
    incident.detected_at = incident.occurred_at + dt.timedelta(hours=detected_hours)
    if reported_hours is not None:
        incident.contractor_reported_at = incident.detected_at + dt.timedelta(hours=reported_hours)
    db.session.flush()
    return incident


def _deadline(incident, kind):
    return next(d for d in rules.deadlines(incident) if d.kind == kind)


# --- the PPC (APPI art. 68) ---------------------------------------------------------------------

def test_the_ppc_need_follows_the_facts_and_the_handlers_decision(app):
    with app.app_context():
        plain = factories.incident(kind=IncidentKind.OUTAGE, subject=(None, None))
        assert rules.ppc_need(plain) == rules.NOT_APPLICABLE
        assert rules.deadlines(plain) == []
        incident = _personal()
        assert rules.ppc_need(incident) == rules.DECIDE
        incident.people_affected = 100
        assert rules.ppc_need(incident) == rules.DECIDE
        incident.people_affected = 101
        assert rules.ppc_need(incident) == rules.REQUIRED
        incident.people_affected = 3
        incident.wrongful_intent = True
        assert rules.ppc_need(incident) == rules.REQUIRED
        incident.wrongful_intent = False
        incident.my_number = True
        assert rules.ppc_need(incident) == rules.REQUIRED
        incident.my_number = False
        incident.ppc_required = False
        assert rules.ppc_need(incident) == rules.NOT_REQUIRED
        incident.ppc_required = True
        assert rules.ppc_need(incident) == rules.REQUIRED


def test_each_ppc_deadline_is_computed_and_flagged(app):
    with app.app_context():
        incident = _personal(days_ago=10)
        learned = local_date(incident.learned_at)
        preliminary, final = (_deadline(incident, rules.PPC_PRELIMINARY), _deadline(incident, rules.PPC_FINAL))
        assert preliminary.due_on == learned + 5 * DAY and preliminary.overdue  # 5 days, 10 days ago
        assert final.due_on == learned + 30 * DAY and final.state == rules.PENDING and not final.late
        services.record_ppc(incident, required=True, preliminary_on=learned + 7 * DAY, final_on=None)
        preliminary = _deadline(incident, rules.PPC_PRELIMINARY)
        assert preliminary.state == rules.DONE_LATE and preliminary.done_on == learned + 7 * DAY
        services.record_ppc(incident, required=True, preliminary_on=learned + 2 * DAY, final_on=learned + 9 * DAY)
        assert [d.state for d in rules.deadlines(incident)] == [rules.DONE, rules.DONE]
        incident.wrongful_intent = True  # caused by wrongful intent: 60 days for the final report
        assert _deadline(incident, rules.PPC_FINAL).due_on == learned + 60 * DAY


@pytest.mark.config(PPC_PRELIMINARY_DAYS=3, PPC_FINAL_DAYS=20)
def test_the_ppc_deadlines_follow_the_settings(app):
    with app.app_context():
        incident = _personal(days_ago=4)
        learned = local_date(incident.learned_at)
        assert _deadline(incident, rules.PPC_PRELIMINARY).due_on == learned + 3 * DAY
        assert _deadline(incident, rules.PPC_PRELIMINARY).overdue
        assert _deadline(incident, rules.PPC_FINAL).due_on == learned + 20 * DAY


def test_the_ppc_decision_and_dates_refuse_what_cannot_be(app):
    with app.app_context():
        incident = _personal(days_ago=3, my_number=True)
        learned = local_date(incident.learned_at)
        with pytest.raises(IncidentRefusal) as refused:
            services.record_ppc(incident, required=False, preliminary_on=None, final_on=None)
        assert refused.value.field == "required"
        with pytest.raises(IncidentRefusal) as refused:
            services.record_ppc(incident, required=True, preliminary_on=today() + DAY, final_on=None)
        assert refused.value.field == "preliminary_on"
        with pytest.raises(IncidentRefusal) as refused:
            services.record_ppc(incident, required=True, preliminary_on=learned - DAY, final_on=None)
        assert refused.value.field == "preliminary_on"
        assert incident.ppc_required is None and incident.ppc_preliminary_on is None
        plain = factories.incident(kind=IncidentKind.OUTAGE, subject=(None, None))
        with pytest.raises(IncidentRefusal):
            services.record_ppc(plain, required=True, preliminary_on=None, final_on=None)


# --- the contractor's report (C10) ------------------------------------------------------------------

def test_the_contractors_report_deadline_is_computed_and_flagged(app):
    with app.app_context():
        contract = factories.contract()
        waiting = _contract_incident(contract)  # detected 5 days ago, never reported
        deadline = _deadline(waiting, rules.CONTRACTOR_REPORT)
        assert deadline.due_at == waiting.detected_at + dt.timedelta(hours=24) and deadline.overdue
        in_time = _contract_incident(contract, reported_hours=23)
        assert _deadline(in_time, rules.CONTRACTOR_REPORT).state == rules.DONE
        late = _contract_incident(contract, reported_hours=30)
        assert _deadline(late, rules.CONTRACTOR_REPORT).state == rules.DONE_LATE
        fresh = _contract_incident(contract, occurred_on=today())
        fresh.occurred_at = fresh.detected_at = utcnow() - dt.timedelta(hours=2)
        assert _deadline(fresh, rules.CONTRACTOR_REPORT).state == rules.PENDING
        no_detection = _contract_incident(contract, reported_hours=None)
        no_detection.detected_at = None  # counted from the occurrence
        assert _deadline(no_detection, rules.CONTRACTOR_REPORT).due_at == no_detection.occurred_at + dt.timedelta(
            hours=24)
        # An SNS account binds no contractor.
        social = factories.incident()
        assert [d.kind for d in rules.deadlines(social)] == []


@pytest.mark.config(CONTRACTOR_REPORT_HOURS=48)
def test_the_contractors_report_period_follows_the_setting(app):
    with app.app_context():
        incident = _contract_incident(factories.contract(), reported_hours=30)
        assert _deadline(incident, rules.CONTRACTOR_REPORT).state == rules.DONE


def _measures_of(incident_id):
    return db.session.scalars(select(Measure).where(Measure.source_type == MEASURE_SOURCE,
                                                    Measure.source_id == incident_id)).all()


def test_a_late_contractor_report_becomes_a_measure_against_the_contract_once(app):
    with app.app_context():
        officer = factories.user(None, Role.PROCUREMENT)
        contract = factories.contract("K-0077", officer=officer)
        occurred = utcnow() - dt.timedelta(days=3)
        incident = services.record(
            by=officer, kind=IncidentKind.LEAK, severity=Severity.SEVERE, title="USBメモリの紛失",
            summary="委託先の作業員が住民データを含むUSBメモリを紛失", subject_type=CONTRACT, subject_id=contract.id,
            occurred_at=occurred, detected_at=occurred + dt.timedelta(hours=1),
            contractor_reported_at=occurred + dt.timedelta(hours=50), learned_at=occurred + dt.timedelta(hours=50),
            personal_data=True)
        [measure] = _measures_of(incident.id)
        assert "K-0077" in measure.title and incident.number in measure.title
        assert measure.owner_id == officer.id and measure.due_on == today() + 30 * DAY
        assert incident.late_report_at is not None
        assert services.check_late_report(incident) is False  # once
        assert len(_measures_of(incident.id)) == 1
        # Reported in time: nothing; reported later than due: the measure is opened then.
        other = services.record(
            by=officer, kind=IncidentKind.LEAK, severity=Severity.MINOR, title="誤送信", summary="メール誤送信",
            subject_type=CONTRACT, subject_id=contract.id, occurred_at=occurred, detected_at=occurred,
            learned_at=occurred + dt.timedelta(hours=2))
        assert _measures_of(other.id) == []
        services.contractor_reported(other, reported_at=occurred + dt.timedelta(hours=26))
        assert len(_measures_of(other.id)) == 1


# --- the reporting chain ----------------------------------------------------------------------------

def _notify(incident, role, by):
    return services.notify(incident, by, recipient_role=role, recipient="山田 太郎",
                           notified_at=incident.occurred_at + dt.timedelta(hours=2), means="電話")


def test_the_lead_is_always_told_and_the_ciso_when_severe(app):
    with app.app_context():
        handler = factories.user(None, Role.LEAD)
        minor = factories.incident(kind=IncidentKind.OUTAGE, subject=(None, None), severity=Severity.MINOR)
        assert [n.role for n in rules.required_notifications(minor)] == [rules.LEAD]
        assert rules.missing_notifications(minor) == [rules.LEAD]
        _notify(minor, rules.LEAD, handler)
        assert rules.missing_notifications(minor) == []
        severe = factories.incident(kind=IncidentKind.OUTAGE, subject=(None, None), severity=Severity.SEVERE)
        assert rules.missing_notifications(severe) == [rules.LEAD, rules.CISO]
        _notify(severe, rules.CISO, handler)
        assert rules.missing_notifications(severe) == [rules.LEAD]


def test_the_ciso_is_told_when_class_3_information_is_involved(app):
    with app.app_context():
        own = factories.incident(kind=IncidentKind.LEAK, subject=(None, None), severity=Severity.MINOR,
                                 classification_id=factories.level("C3C").id)
        assert rules.missing_notifications(own) == [rules.LEAD, rules.CISO]
        class_2 = factories.incident(kind=IncidentKind.LEAK, subject=(None, None), severity=Severity.MINOR,
                                     classification_id=factories.level("C2").id)
        assert rules.missing_notifications(class_2) == [rules.LEAD]
        # The contract may hold class-3 information: the CISO is told, whatever the incident says.
        held = _contract_incident(factories.contract(classification="C3B"))
        assert rules.missing_notifications(held) == [rules.LEAD, rules.CISO]
        assert rules.missing_notifications(_contract_incident(factories.contract(classification="C2"))) == [rules.LEAD]


def test_a_notification_refuses_bad_input(app):
    with app.app_context():
        by = factories.user(None, Role.LEAD)
        incident = factories.incident(kind=IncidentKind.OUTAGE, subject=(None, None))
        for kwargs, field in (({"notified_at": utcnow() + DAY}, "notified_at"),
                              ({"notified_at": incident.occurred_at - DAY}, "notified_at"),
                              ({"recipient": " "}, "recipient"), ({"means": ""}, "means"),
                              ({"recipient_role": "mayor"}, "recipient_role")):
            values = {"recipient_role": rules.LEAD, "recipient": "山田", "notified_at": incident.occurred_at,
                      "means": "電話", **kwargs}
            with pytest.raises(IncidentRefusal) as refused:
                services.notify(incident, by, **values)
            assert refused.value.field == field
        assert incident.notifications == []


def test_containment_moves_the_work_on_to_prevention(app):
    with app.app_context():
        incident = factories.incident(kind=IncidentKind.OUTAGE, subject=(None, None))
        with pytest.raises(IncidentRefusal):
            services.contain(incident, contained_at=incident.occurred_at - dt.timedelta(hours=1))
        with pytest.raises(IncidentRefusal):
            services.contain(incident, contained_at=utcnow() + DAY)
        assert incident.contained_at is None and incident.status is IncidentStatus.RECEIVED
        services.contain(incident, contained_at=incident.occurred_at + dt.timedelta(hours=3))
        assert incident.status is IncidentStatus.PREVENTING


# --- closing -------------------------------------------------------------------------------------------

def _close(incident, user, measures):
    return services.close(incident, user, closed_at=utcnow(), cause="作業手順の不備",
                          prevention="媒体の持出しを禁止する", measures=measures)


def test_closing_needs_measures_the_reporting_chain_and_the_ppc_reports(app):
    with app.app_context():
        lead = factories.user(None, Role.LEAD)
        owner = factories.user(None, Role.PROCUREMENT)
        incident = _personal(days_ago=10, people_affected=500)
        learned = local_date(incident.learned_at)
        measure = MeasureEntry("持出し禁止を手順書に明記する", owner.id, today() + 30 * DAY)
        with pytest.raises(IncidentRefusal) as refused:
            _close(incident, lead, [])
        assert refused.value.field == "measures"
        with pytest.raises(IncidentRefusal) as refused:
            _close(incident, lead, [MeasureEntry("手順書を改訂", None, today())])
        assert refused.value.field == "measures"
        with pytest.raises(IncidentRefusal) as refused:
            _close(incident, lead, [measure])
        assert refused.value.field == "notifications"
        _notify(incident, rules.LEAD, lead)
        with pytest.raises(IncidentRefusal) as refused:
            _close(incident, lead, [measure])
        assert refused.value.field == "ppc"  # 500 people: required, and not reported
        services.record_ppc(incident, required=True, preliminary_on=learned + DAY, final_on=None)
        with pytest.raises(IncidentRefusal):
            _close(incident, lead, [measure])
        assert incident.is_open
        services.record_ppc(incident, required=True, preliminary_on=learned + DAY, final_on=learned + 8 * DAY)
        [opened] = _close(incident, lead, [measure, MeasureEntry("", None, None)])
        assert incident.status is IncidentStatus.CLOSED
        assert opened.source_type == MEASURE_SOURCE and opened.source_id == incident.id
        assert opened.owner_id == owner.id and opened.measure == "持出し禁止を手順書に明記する"


def test_an_incident_without_a_required_report_closes_once_the_chain_is_told(app):
    with app.app_context():
        lead = factories.user(None, Role.LEAD)
        incident = factories.incident(kind=IncidentKind.OUTAGE, subject=(None, None), severity=Severity.MINOR)
        _notify(incident, rules.LEAD, lead)
        _close(incident, lead, [MeasureEntry("監視を強化する", lead.id, today() + 10 * DAY)])
        assert not incident.is_open


def test_a_closed_contract_incident_is_checked_by_the_next_verification(app):
    with app.app_context():
        lead = factories.user(None, Role.LEAD)
        contract = factories.contract(status=ContractStatus.SIGNED)
        incident = _contract_incident(contract, reported_hours=2, title="USBメモリの紛失")
        _notify(incident, rules.LEAD, lead)
        _close(incident, lead, [MeasureEntry("暗号化USBに限る", lead.id, today() + 30 * DAY)])
        [note] = contract_verification.open_notes(contract.id)
        assert incident.number in note.text and "媒体の持出しを禁止する" in note.text
        draft = factories.verification(contract, submitted=False)
        contract_verification.submit(draft, user=lead)
        assert contract_verification.open_notes(contract.id) == []
        done = db.session.scalar(select(VerificationNote).where(VerificationNote.contract_id == contract.id))
        assert done.verification_id == draft.id and done.done_at is not None


# --- reminders and the calendar feed --------------------------------------------------------------

def test_open_deadlines_join_the_handlers_and_the_leads_due_items(app):
    from core import due

    with app.app_context():
        handler = factories.user(None, Role.PROCUREMENT)
        lead = factories.user(None, Role.LEAD)
        other = factories.user(None, Role.PROCUREMENT)
        incident = _personal(days_ago=2, handler_id=handler.id)
        learned = local_date(incident.learned_at)
        mine = [item for item in due.items_for(handler) if item.params.get("incident_id") == incident.id]
        assert sorted(item.due_on for item in mine) == [learned + 5 * DAY, learned + 30 * DAY]
        assert all(item.endpoint == "incidents.detail" and incident.number in item.title for item in mine)
        assert len([i for i in due.items_for(lead) if i.params.get("incident_id") == incident.id]) == 2
        assert [i for i in due.items_for(other) if i.params.get("incident_id") == incident.id] == []
        incident.ppc_required, incident.ppc_preliminary_on = True, learned + DAY  # done: off the list
        assert [i.due_on for i in due.items_for(handler) if i.params.get("incident_id") == incident.id] == [
            learned + 30 * DAY]
        incident.status = IncidentStatus.CLOSED
        assert [i for i in due.items_for(lead) if i.params.get("incident_id") == incident.id] == []


# --- through the pages ----------------------------------------------------------------------------------

def _local(moment: dt.datetime) -> str:
    from core.timeutil import JST

    return moment.replace(tzinfo=dt.UTC).astimezone(JST).strftime("%Y-%m-%dT%H:%M")


def test_a_handler_works_a_contract_incident_through_the_pages(app, client, users):
    from tests.conftest import login_as

    with app.app_context():
        contract = factories.contract("K-0123", status=ContractStatus.SIGNED, classification="C3B",
                                      officer=db.session.get(factories.User, users["procurement"]))
        incident = _contract_incident(contract, title="USBメモリの紛失", personal_data=True, people_affected=150)
        draft = factories.verification(contract, submitted=False,
                                       verifier=db.session.get(factories.User, users["verifier"]))
        db.session.commit()
        iid, cid, vid, learned = incident.id, contract.id, draft.id, local_date(incident.learned_at)
    login_as(client, "lead")
    page = client.get(f"/incidents/{iid}").get_data(as_text=True)
    # The contractor never reported (overdue), the PPC report is required (150 people), both told: neither yet.
    assert "受託者からの報告（C10）" in page and "期限超過" in page and "報告が必要" in page
    assert page.count("未報告") == 2  # the lead and the CISO (the contract holds class-3 information)
    refused = client.post(f"/incidents/{iid}/ppc", data={"required": "no"})
    assert refused.status_code == 409 and "報告が必要です" in refused.get_data(as_text=True)
    assert client.post(f"/incidents/{iid}/ppc", data={
        "required": "yes", "preliminary_on": (learned + DAY).isoformat(),
        "final_on": (learned + 4 * DAY).isoformat()}).status_code == 302
    future = client.post(f"/incidents/{iid}/contain", data={"contained_at": _local(utcnow() + 2 * DAY)})
    assert future.status_code == 409 and "未来の日時" in future.get_data(as_text=True)
    with app.app_context():
        occurred = db.session.get(factories.Incident, iid).occurred_at
    assert client.post(f"/incidents/{iid}/contain", data={
        "contained_at": _local(occurred + dt.timedelta(hours=5))}).status_code == 302
    # The contractor's report, recorded later and late: a measure against the contract.
    assert client.post(f"/incidents/{iid}/contractor-report", data={
        "contractor_reported_at": _local(utcnow() + 2 * DAY)}).status_code == 409
    assert client.post(f"/incidents/{iid}/contractor-report", data={
        "contractor_reported_at": _local(occurred + dt.timedelta(hours=40))}).status_code == 302
    with app.app_context():
        [late] = _measures_of(iid)
        assert "K-0123" in late.title and late.owner_id == users["procurement"]
    for role in ("lead", "ciso"):
        assert client.post(f"/incidents/{iid}/notifications", data={
            "recipient_role": role, "recipient": "総務課長", "notified_at": _local(occurred + dt.timedelta(hours=3)),
            "means": "対面"}).status_code == 302
    no_measure = client.post(f"/incidents/{iid}/close", data={
        "closed_at": _local(utcnow()), "cause": "暗号化されていない媒体の持出し", "prevention": "暗号化媒体に限る"})
    assert no_measure.status_code == 409 and "再発防止の措置を1件以上" in no_measure.get_data(as_text=True)
    assert client.post(f"/incidents/{iid}/close", data={
        "closed_at": _local(utcnow()), "cause": "暗号化されていない媒体の持出し", "prevention": "暗号化媒体に限る",
        "measures-0-measure": "受託者の媒体管理を監査する", "measures-0-owner_id": str(users["procurement"]),
        "measures-0-due_on": (today() + 30 * DAY).isoformat()}).status_code == 302
    with app.app_context():
        incident = db.session.get(factories.Incident, iid)
        assert incident.status is IncidentStatus.CLOSED and incident.contained_at is not None
        number = incident.number
    # The contract's page and its next verification's form show what to check.
    contract_page = client.get(f"/contracts/{cid}").get_data(as_text=True)
    assert "次回の確認で確かめること" in contract_page and number in contract_page
    client.post("/logout")
    login_as(client, "verifier")
    form = client.get(f"/verification/{vid}/edit").get_data(as_text=True)
    assert "次回の確認で確かめること" in form and "暗号化媒体に限る" in form


def test_the_measures_of_an_incident_show_on_it_and_in_the_measures_register(app, client, users):
    from tests.conftest import login_as

    with app.app_context():
        officer = db.session.get(factories.User, users["procurement"])
        contract = factories.contract("K-0456", officer=officer)
        incident = _contract_incident(contract, reported_hours=40, title="委託先サーバーの障害")
        services.check_late_report(incident)
        db.session.commit()
        iid, number = incident.id, incident.number
    login_as(client, "lead")
    page = client.get(f"/incidents/{iid}").get_data(as_text=True)
    assert "この事案の措置" in page and "K-0456" in page
    register = client.get("/measures?source=incident").get_data(as_text=True)
    assert number in register and "K-0456" in register
    with app.app_context():
        [measure] = _measures_of(iid)
        measure_id = measure.id
    assert f"/incidents/{iid}" in client.get(f"/measures/{measure_id}").get_data(as_text=True)
