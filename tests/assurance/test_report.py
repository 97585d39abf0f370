"""The annual report to the CISO and the committee (issue 18): its figures
against the registers for a generated year (the expected numbers counted
here, record by record), the previous year and the change, the decisions,
the PDF (≤ 10 pages for a large body, no date split, its print in the audit
trail), who may read it, and the English page."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from assurance import report
from cloud import rules as cloud_rules
from cloud.models import IN_USE, CloudService, Track
from contracts import rules as contract_rules
from contracts.models import Contract, ContractStatus, Finding, MeasureStatus, Verification, VerificationStatus
from core import approvals, measures
from core.approvals import Approval, Decision
from core.audit import AuditEntry
from core.db import db
from core.gendata import generate
from core.incidents import Incident, IncidentKind, Severity
from core.models import Role
from core.timeutil import JST, fiscal_year, fiscal_year_range, today, utcnow
from social import rules as social_rules
from social.models import SocialAccount
from tests import factories
from tests.conftest import DEMO_PASSWORD, filled_template, login_as, read_pdf
from tests.core.test_pdf_year import layout, split_dates

YEAR = fiscal_year(today())
EXPIRING = 25  # clause exceptions expiring within 90 days: more than a topic shows (20)


def _day(moment: dt.datetime | None) -> dt.date | None:
    return moment.replace(tzinfo=dt.UTC).astimezone(JST).date() if moment else None


def _end(year: int) -> dt.date:
    return min(fiscal_year_range(year)[1], today())


def _fill_body():
    """The demo, a generated body on top, and what generation leaves out:
    clause exceptions nearing expiry, a cloud request waiting for long,
    incidents this year and last, improvement measures overdue."""
    generate(40, 400, 800, report=lambda _line: None)
    lead, clerk = factories.lead(), factories.clerk()
    for n in range(EXPIRING):
        contract = factories.contract(f"EXP-{n:03d}", status=ContractStatus.IN_FORCE, left_out=("C12",))
        exception = contract_rules.exceptions(contract)[0]
        exception.expires_on = today() + dt.timedelta(days=10 + n)
    waiting = factories.cloud_service("長く待つサービス")
    request = approvals.request(cloud_rules.KIND, waiting, reason="利用したい", requester=clerk)
    request.requested_at = utcnow() - dt.timedelta(days=45)
    recent = approvals.request(cloud_rules.KIND, factories.cloud_service("最近のサービス"), reason="利用したい",
                               requester=clerk)
    recent.requested_at = utcnow() - dt.timedelta(days=3)
    account = factories.social_account()
    factories.incident(account, occurred_on=today())
    factories.incident(account, kind=IncidentKind.WRONG_POST, occurred_on=today(), closed_on=today())
    factories.incident(account, occurred_on=fiscal_year_range(YEAR - 1)[0] + dt.timedelta(days=3),
                       closed_on=fiscal_year_range(YEAR - 1)[0] + dt.timedelta(days=5))
    for due in (today() - dt.timedelta(days=5), today() + dt.timedelta(days=5)):
        measures.open_measure(source_type="audit_finding", source_id=1, title="是正", measure="手順を見直す",
                              due_on=due, owner_id=lead.id)


filled_report_body = filled_template(_fill_body)


@pytest.fixture
def body(filled_report_body, demo):
    """The demo with _fill_body's records (built once per session)."""
    return demo


def expected(year: int) -> dict[str, object]:
    """The figures of ``year``, counted record by record."""
    day, current = _end(year), fiscal_year_range(year)[1] >= today()
    start, end = fiscal_year_range(year)
    contracts = db.session.scalars(select(Contract)).all()
    found: dict[str, object] = {}
    for contract in contracts:
        if current:
            live = contract.status in (ContractStatus.SIGNED, ContractStatus.IN_FORCE)
        else:
            live = (contract.status in (ContractStatus.SIGNED, ContractStatus.IN_FORCE, ContractStatus.ENDED)
                    and contract.start_on <= day and (contract.end_on is None or contract.end_on >= day))
        if live:
            key = f"contracts.in_force.{contract.classification.code if contract.classification else 'none'}"
            found[key] = found.get(key, 0) + 1
    checks: dict[int, list[dt.date]] = {}
    for check in db.session.scalars(select(Verification).where(Verification.status == VerificationStatus.SUBMITTED)):
        checks.setdefault(check.contract_id, []).append(check.performed_on)
    due = done = 0
    for contract in contracts:
        if contract.status not in (ContractStatus.SIGNED, ContractStatus.IN_FORCE, ContractStatus.ENDED):
            continue
        if contract.start_on is None or contract.end_on is None:
            continue
        due_on = min(end, contract.end_on)
        if contract.start_on <= due_on and contract.end_on >= start and due_on <= day:
            due += 1
            done += any(start <= performed <= due_on for performed in checks.get(contract.id, []))
    found["contracts.coverage"] = round(100 * done / due, 1) if due else None
    found["contracts.overdue_verifications"] = sum(
        1 for c in contracts if c.verification_due_on is not None and c.verification_due_on < today()) if current else None

    def overdue(row) -> bool:
        accepted = row.status is MeasureStatus.ACCEPTED and (row.accepted_at is None or _day(row.accepted_at) <= day)
        return _day(row.created_at) <= day and row.due_on < day and not accepted

    found["contracts.overdue_measures"] = sum(overdue(f) for f in db.session.scalars(select(Finding)))
    found["core.overdue_measures"] = sum(overdue(m) for m in db.session.scalars(select(measures.Measure)))
    found["contracts.gaps"] = sum(1 for c in contracts if c.has_gap and c.status in (
        ContractStatus.SIGNED, ContractStatus.IN_FORCE)) if current else None
    found["contracts.exceptions"] = sum(
        1 for a in db.session.scalars(select(Approval).where(Approval.kind == contract_rules.EXCEPTION))
        if a.decision is Decision.APPROVED and _day(a.decided_at) <= day and (a.expires_on is None or a.expires_on >= day))
    services = db.session.scalars(select(CloudService)).all()
    found["cloud.in_use.ta"] = sum(1 for s in services if s.status in IN_USE and cloud_rules.track(s) is Track.TA) \
        if current else None
    found["cloud.in_use.tb"] = sum(1 for s in services if s.status in IN_USE and cloud_rules.track(s) is Track.TB) \
        if current else None
    found["cloud.violations"] = sum(1 for s in services if cloud_rules.FLAGS.of(s)) if current else None
    found["social.flagged"] = sum(1 for a in db.session.scalars(select(SocialAccount))
                                  if social_rules.FLAGS.of(a)) if current else None
    incidents = [i for i in db.session.scalars(select(Incident)) if start <= _day(i.occurred_at) <= day]
    found["incidents.count"] = len(incidents)
    found["incidents.severe"] = sum(1 for i in incidents if i.severity is Severity.SEVERE)
    found["incidents.personal"] = sum(1 for i in incidents if i.personal_data)
    return found


def _rows(built: report.Report) -> dict[str, report.Row]:
    return {row.key: row for group in built.groups for row in group.rows}


def test_the_figures_match_the_registers_this_year_and_last(body):
    with body.app_context():
        built = report.build(YEAR)
        rows = _rows(built)
        now, before = expected(YEAR), expected(YEAR - 1)
        assert now["contracts.coverage"] is not None and before["contracts.coverage"] is not None
        assert now["contracts.overdue_measures"] > 0 and now["core.overdue_measures"] >= 1  # generated ones too (issue 21)
        assert now["incidents.count"] >= 2 and before["incidents.count"] >= 1
        for key, value in now.items():
            assert rows[key].value == value, key
        for key, value in before.items():
            assert rows[key].previous == value, key
        # a level with no contract in force still shows: 0, not left out
        assert all(rows[key].value == now.get(key, 0) for key in rows if key.startswith("contracts.in_force."))
        assert sum(rows[k].value for k in rows if k.startswith("contracts.in_force.")) > 0


def test_the_change_reads_better_or_worse(app):
    worse = report.Row("k", "overdue", 7, 4, better="lower")
    assert (worse.change, worse.arrow, worse.reading) == (3, "▲3", "worse")
    better = report.Row("k", "coverage", 92.5, 90.0, unit="%", better="higher")
    assert (better.change, better.arrow, better.reading) == (2.5, "▲2.5pt", "better")
    fewer = report.Row("k", "incidents", 1, 3, better="lower")
    assert (fewer.arrow, fewer.reading) == ("▼2", "better")
    assert report.Row("k", "in force", 5, 5).arrow == "±0"
    unknown = report.Row("k", "gaps", 5, None, better="lower")
    assert (unknown.change, unknown.arrow, unknown.reading) == (None, "—", None)
    assert report.Row("k", "neutral", 9, 5).reading is None


def test_a_year_without_records_gives_zeros_and_unknowns(app, users):
    with app.app_context():
        rows = _rows(report.build(YEAR))
    assert rows["incidents.count"].value == 0 and rows["contracts.exceptions"].value == 0
    assert rows["contracts.coverage"].value is None  # nothing was due: no share to give
    assert rows["contracts.gaps"].previous is None  # today's flag: not known of last year


def test_the_page_shows_figures_changes_and_decisions_with_links(client, body):
    login_as(client, "lead", DEMO_PASSWORD)
    response = client.get(f"/report/?year={YEAR}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    with body.app_context():
        now, before = expected(YEAR), expected(YEAR - 1)
        waiting = db.session.scalar(select(CloudService.id).where(CloudService.name == "長く待つサービス"))
        first = db.session.scalar(select(Contract.id).where(Contract.number == "EXP-000"))
    row = html[html.index('data-key="incidents.count"'):]
    row = row[:row.index("</tr>")]
    assert re.findall(r'<td class="text-end">([^<]*)</td>', row) == [str(now["incidents.count"]),
                                                                     str(before["incidents.count"]),
                                                                     f"▲{now['incidents.count'] - before['incidents.count']}"]
    assert "悪化" in row
    assert "期限が近い条項の例外" in html and "EXP-000" in html and f'href="/contracts/{first}"' in html
    assert "EXP-019" in html and "EXP-020" not in html and "他 5 件" in html  # capped at 20
    assert "長く待つサービス" in html and f'href="/cloud/{waiting}"' in html
    assert "最近のサービス" not in html  # waiting 3 days: not the committee's business
    assert f'href="/report/{YEAR}.pdf"' in html


def test_an_approver_sees_the_decisions_without_links_to_what_they_cannot_open(client, body):
    login_as(client, "approver", DEMO_PASSWORD)
    html = client.get("/report/").get_data(as_text=True)
    assert "EXP-000" in html and 'href="/contracts/' not in html  # approvers do not read contracts
    assert 'href="/cloud/' in html


def test_the_pdf_stays_short_keeps_dates_whole_and_is_recorded(client, body):
    login_as(client, "auditor", DEMO_PASSWORD)
    response = client.get(f"/report/{YEAR}.pdf")
    pages, text = read_pdf(response)
    assert pages <= 10
    assert "情報セキュリティに関する年次報告" in text and "委員会に諮る事項" in text
    assert "EXP-000" in text and "他 5 件" in text and "長く待つサービス" in text
    assert "最高情報セキュリティ責任者" in text and "報告先（CISO）" in text  # the addressee, the sign-off
    assert split_dates(layout(response.data)) == []
    with body.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "print")
                                   .order_by(AuditEntry.id.desc())).first()
        assert entry.changes["document"] == "annual_report" and entry.changes["fiscal_year"] == YEAR
        assert entry.changes["pages"] == pages


def test_a_large_generated_body_still_fits_ten_pages(client, demo):
    with demo.app_context():
        generate(100, 1000, 2000, report=lambda _line: None)
        clerk = factories.clerk()
        for n in range(60):  # many decisions of one kind
            request = approvals.request(cloud_rules.KIND, factories.cloud_service(f"待機サービス{n:03d}"),
                                        reason="利用したい", requester=clerk)
            request.requested_at = utcnow() - dt.timedelta(days=40 + n)
        db.session.commit()
    login_as(client, "admin", DEMO_PASSWORD)
    pages, text = read_pdf(client.get(f"/report/{YEAR}.pdf"))
    assert pages <= 10 and "他 40 件" in text


@pytest.mark.parametrize("role, status", [(Role.ADMIN, 200), (Role.LEAD, 200), (Role.AUDITOR, 200),
                                          (Role.APPROVER, 200), (Role.PROCUREMENT, 403), (Role.VERIFIER, 403),
                                          (Role.SOCIAL, 403)])
def test_who_may_read_the_report(client, users, role, status):
    login_as(client, role)
    assert client.get("/report/").status_code == status
    assert client.get(f"/report/{YEAR}.pdf").status_code == status


def test_years_not_begun_or_malformed_are_not_found(client, users):
    login_as(client, "lead")
    assert client.get(f"/report/?year={YEAR + 1}").status_code == 404
    assert client.get("/report/?year=２０２５").status_code == 404
    assert client.get(f"/report/{YEAR + 1}.pdf").status_code == 404
    assert client.get(f"/report/?year={YEAR - 1}").status_code == 200


@pytest.mark.parametrize("role, shown", [(Role.AUDITOR, True), (Role.APPROVER, True), (Role.PROCUREMENT, False)])
def test_the_menu_and_the_checklists_page_link_to_the_report(client, users, role, shown):
    login_as(client, role)
    html = client.get("/checklists/").get_data(as_text=True)
    nav, page = html[html.index('id="main-nav"'):html.index("</nav>")], html[html.index("</nav>"):]
    assert ('href="/report/"' in nav) is shown and ('href="/report/"' in page) is shown


def test_the_english_page(client, body):
    login_as(client, "lead", DEMO_PASSWORD)
    client.post("/language", data={"lang": "en", "next": "/"})
    html = client.get("/report/").get_data(as_text=True)
    assert '<html lang="en">' in html
    for words in ("Annual information security report", "Key figures and the change since the previous year",
                  "Decisions for the committee", "Clause exceptions nearing expiry", f"FY{YEAR - 1}",
                  "Contracts in force", "Incidents in the year"):
        assert words in html, words
    assert "委員会に諮る事項" not in html


def test_contributed_tables_are_shown_and_capped(client, app, users):
    from core import plugins
    from core.report import Table

    rows = [[f"区分{n:02d}", str(n), None] for n in range(50)]
    plugins.registry(app).add_report_part(10, lambda year: [Table("自己点検の結果（領域別）", ["領域", "適合", "不適合"], rows,
                                                                  note="一部不適合を含む")])
    login_as(client, "admin")
    html = client.get("/report/").get_data(as_text=True)
    assert "自己点検の結果（領域別）" in html and "区分29" in html and "区分30" not in html and "他 20 件" in html
    assert "一部不適合を含む" in html and "<td>—</td>" in html
    pages, text = read_pdf(client.get(f"/report/{YEAR}.pdf"))
    assert "区分29" in text and "区分30" not in text and "他 20 件" in text
    assert pages <= 10


def test_no_blank_page_after_the_cover(client, users):
    """The cover, then each section on its own page: four pages when each fits one."""
    login_as(client, "admin")
    pages, text = read_pdf(client.get(f"/report/{YEAR}.pdf"))
    assert pages == 4 and "委員会に諮る事項はありません。" in text
