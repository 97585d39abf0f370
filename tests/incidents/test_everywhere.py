"""Incidents shown where they matter (issue 19): on the page of the contract,
vendor, cloud service or SNS account they concern — a personal-data incident
only to those who may read it —, in the registers' PDFs, the annual audit
pack and the annual report to the CISO."""
from __future__ import annotations

import datetime as dt

import pytest

from contracts.models import ContractStatus
from core.db import db
from core.incidents import CLOUD_SERVICE, CONTRACT, IncidentKind, Severity
from core.models import User
from tests import factories
from tests.conftest import login_as


@pytest.fixture
def records(app, users):
    """A signed contract of another unit (財政課) with two incidents — one
    involving personal data —, and a cloud service with an outage."""
    with app.app_context():
        unit = factories.unit("財政課")
        contract = factories.contract("R8-INC-1", status=ContractStatus.SIGNED, unit=unit)
        factories.incident(kind=IncidentKind.CONTRACT_BREACH, subject=(CONTRACT, contract.id),
                           title="再委託の無断実施", severity=Severity.MODERATE, unit_id=unit.id)
        factories.incident(kind=IncidentKind.LEAK, subject=(CONTRACT, contract.id), title="USBメモリの紛失",
                           severity=Severity.SEVERE, personal_data=True, unit_id=unit.id)
        service = factories.cloud_service("オンライン会議", administrator=db.session.get(User, users["admin"]))
        factories.incident(kind=IncidentKind.OUTAGE, subject=(CLOUD_SERVICE, service.id), title="全面停止",
                           severity=Severity.MODERATE)
        db.session.commit()
        return {"contract": contract.id, "vendor": contract.vendor_id, "service": service.id}


def test_the_contract_page_lists_its_incidents_and_offers_to_record_one(client, records):
    login_as(client, "auditor")
    page = client.get(f"/contracts/{records['contract']}").get_data(as_text=True)
    assert "再委託の無断実施" in page and "USBメモリの紛失" in page
    assert "契約違反" in page and "重大" in page and "受付" in page
    assert f"/incidents/new?subject=contract:{records['contract']}" in page.replace("%3A", ":")


def test_a_personal_data_incident_is_not_shown_to_who_may_not_read_it(client, records):
    login_as(client, "verifier")  # 総務課: not a handler of 財政課's contract
    page = client.get(f"/contracts/{records['contract']}").get_data(as_text=True)
    assert "再委託の無断実施" in page and "USBメモリの紛失" not in page
    vendor = client.get(f"/vendors/{records['vendor']}").get_data(as_text=True)
    assert "再委託の無断実施" in vendor and "USBメモリの紛失" not in vendor


def test_the_vendor_page_lists_the_incidents_of_its_contracts(client, records):
    login_as(client, "lead")
    page = client.get(f"/vendors/{records['vendor']}").get_data(as_text=True)
    assert "再委託の無断実施" in page and "USBメモリの紛失" in page and "R8-INC-1" in page


def test_the_cloud_service_page_lists_its_incidents(client, records):
    login_as(client, "procurement")
    page = client.get(f"/cloud/{records['service']}").get_data(as_text=True)
    assert "全面停止" in page and "サービス停止・障害" in page
    assert f"/incidents/new?subject=cloud_service:{records['service']}" in page.replace("%3A", ":")


def test_the_demo_has_the_impersonation_first_a_late_reported_lost_usb_stick_and_a_cloud_outage(demo):
    from sqlalchemy import select

    from contracts.models import Contract
    from core.incidents import SOCIAL_ACCOUNT, Incident, IncidentStatus

    with demo.app_context():
        incidents = db.session.scalars(select(Incident).order_by(Incident.id)).all()
        assert incidents[0].id == 1 and incidents[0].kind is IncidentKind.IMPERSONATION
        assert incidents[0].subject_type == SOCIAL_ACCOUNT and incidents[0].is_open
        usb = next(i for i in incidents if i.kind is IncidentKind.LEAK)
        assert usb.subject_type == CONTRACT and db.session.get(Contract, usb.subject_id).number == "R8-001"
        assert usb.severity is Severity.SEVERE and usb.personal_data and usb.people_affected == 120
        assert usb.contractor_reported_at - usb.detected_at >= dt.timedelta(hours=24)  # late under C10
        assert usb.contractor_reported_at - usb.occurred_at >= dt.timedelta(days=2)
        outage = next(i for i in incidents if i.kind is IncidentKind.OUTAGE)
        assert outage.subject_type == CLOUD_SERVICE and outage.severity is Severity.MODERATE
        assert outage.contained_at is not None and outage.status is not IncidentStatus.RECEIVED


# --- the annual report to the CISO ------------------------------------------------------------

def _at(day: dt.date, hours: float = 0) -> dt.datetime:
    from core.timeutil import JST

    start = dt.datetime.combine(day, dt.time(9), JST).astimezone(dt.UTC).replace(tzinfo=None)
    return start + dt.timedelta(hours=hours)


@pytest.fixture
def year_of_incidents(app, users):
    """This 年度: a severe leak contained in 2 hours, a moderate leak closed
    (no containment time) after 10 hours, a moderate outage contained in 6
    hours, one still open; last year's incident is left out."""
    from core.timeutil import fiscal_year, fiscal_year_range, today

    year = fiscal_year(today())
    start = fiscal_year_range(year)[0]
    with app.app_context():
        first = factories.incident(kind=IncidentKind.LEAK, subject=(None, None), severity=Severity.SEVERE,
                                   occurred_on=start, contained_at=_at(start, 2))
        factories.incident(kind=IncidentKind.LEAK, subject=(None, None), severity=Severity.MODERATE,
                           occurred_on=start, closed_on=start, title="closed")
        factories.incident(kind=IncidentKind.OUTAGE, subject=(None, None), severity=Severity.MODERATE,
                           occurred_on=start, contained_at=_at(start, 6))
        factories.incident(kind=IncidentKind.OUTAGE, subject=(None, None), severity=Severity.MINOR,
                           occurred_on=start)
        factories.incident(kind=IncidentKind.MALWARE, subject=(None, None), severity=Severity.SEVERE,
                           occurred_on=start - dt.timedelta(days=1), contained_at=_at(start, -10))
        db.session.commit()
        assert first.id
    return year


def test_the_report_counts_incidents_by_kind_and_severity_and_the_time_to_contain(app, year_of_incidents):
    from incidents import report

    with app.app_context():
        tables = {str(t.title): t for t in report.tables(year_of_incidents)}
        by_kind = tables["事故（種類別・重大度別）"]
        assert [str(h) for h in by_kind.headers] == ["種類", "重大", "中", "軽微", "計"]
        rows = {row[0]: row[1:] for row in by_kind.rows}
        assert rows["情報漏えい・紛失"] == ["1", "1", "0", "2"]
        assert rows["サービス停止・障害"] == ["0", "1", "1", "2"]
        assert "マルウェア" not in rows  # last year's
        assert rows["計"] == ["1", "2", "1", "4"]
        contain = tables["封じ込めまでの時間"]
        rows = {row[0]: row[1:] for row in contain.rows}
        # the factory's incidents occur at 9:00 and close at 17:00 (Japan): 8 hours
        assert rows["重大"] == ["1", "2時間0分", "2時間0分"]
        assert rows["中"] == ["2", "7時間0分", "8時間0分"]
        assert rows["計"] == ["3", "6時間0分", "8時間0分"]
        assert "1" in str(contain.note)  # one not contained yet


def test_the_report_page_shows_the_incident_tables(client, year_of_incidents):
    login_as(client, "admin")
    html = client.get("/report/").get_data(as_text=True)
    assert "事故（種類別・重大度別）" in html and "封じ込めまでの時間" in html


# --- the annual audit pack --------------------------------------------------------------------

def test_the_pack_lists_the_incidents_of_the_year_with_cause_and_prevention(app, client, year_of_incidents):
    from tests.conftest import read_pdf

    with app.app_context():
        from sqlalchemy import select

        from core.incidents import Incident

        closed = db.session.scalar(select(Incident).where(Incident.title == "closed"))
        closed.cause, closed.prevention = "暗号化されていない媒体", "媒体の暗号化を必須にした"
        db.session.commit()
    login_as(client, "auditor")
    _pages, text = read_pdf(client.get(f"/checklists/pack.pdf?fy={year_of_incidents}"))
    flat = text.replace("\n", "")
    assert "事故・インシデント" in flat
    for expected in ("情報漏えい・紛失", "サービス停止・障害", "重大", "終結", "暗号化されていない媒体",
                     "媒体の暗号化を必須にした", "本団体"):
        assert expected in flat, expected
    assert "マルウェア" not in flat  # last year's


# --- the registers' PDFs ----------------------------------------------------------------------

def _numbers(app, *titles) -> dict[str, str]:
    from sqlalchemy import select

    from core.incidents import Incident

    with app.app_context():
        return dict(db.session.execute(select(Incident.title, Incident.number).where(Incident.title.in_(titles))).all())


def test_the_registers_pdfs_show_the_open_incidents(app, client, records):
    from tests.conftest import read_pdf

    numbers = _numbers(app, "再委託の無断実施", "USBメモリの紛失", "全面停止")
    login_as(client, "lead")
    _pages, checklist = read_pdf(client.get(f"/contracts/{records['contract']}/checklist.pdf"))
    checklist = checklist.replace("\n", "")
    assert "対応中の事故" in checklist
    assert numbers["再委託の無断実施"] in checklist and numbers["USBメモリの紛失"] in checklist
    _pages, summary = read_pdf(client.get(f"/vendors/{records['vendor']}/summary.pdf"))
    summary = summary.replace("\n", "")
    assert "対応中の事故" in summary and numbers["USBメモリの紛失"] in summary
    _pages, register = read_pdf(client.get("/cloud/register.pdf"))
    register = register.replace("\n", "")
    assert "対応中の事故" in register and numbers["全面停止"] in register


def test_the_registers_pdfs_leave_out_personal_data_incidents_the_reader_may_not_read(app, client, records):
    from tests.conftest import read_pdf

    numbers = _numbers(app, "再委託の無断実施", "USBメモリの紛失")
    login_as(client, "verifier")
    _pages, checklist = read_pdf(client.get(f"/contracts/{records['contract']}/checklist.pdf"))
    checklist = checklist.replace("\n", "")
    assert numbers["再委託の無断実施"] in checklist and numbers["USBメモリの紛失"] not in checklist
