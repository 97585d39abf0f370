"""Reminders through a real SMTP server (aiosmtpd on 127.0.0.1) and the
iCalendar feed read back with the icalendar package."""
from __future__ import annotations

import datetime as dt
import re
import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar
from sqlalchemy import select

from contracts.models import Contract
from core import plugins, reminders
from core.db import db
from core.due import DueItem, all_items
from core.models import ReminderLog
from core.timeutil import today
from tests.conftest import DEMO_PASSWORD, login_as
from vendors.models import Certification, CertificationKind, Vendor, VendorStatus


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def mailing_app(demo, smtp):
    _inbox, port = smtp
    demo.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SENDER="itaku@example.lg.jp",
                       BASE_URL="https://itaku.example.lg.jp")
    return demo


@pytest.mark.parametrize("days_left, expected", [
    (31, None), (30, "30"), (8, "30"), (7, "7"), (1, "7"), (0, "0"), (-1, "overdue"), (-40, "overdue"),
])
def test_thresholds(days_left, expected):
    on = dt.date(2026, 11, 26)
    item = DueItem("k", "verification", "t", on + dt.timedelta(days=days_left), None, "dashboard.index")
    assert reminders.threshold_for(item, on) == expected


def test_one_digest_per_person_and_never_twice(mailing_app, smtp):
    inbox, _port = smtp
    app = mailing_app
    runner = app.test_cli_runner()
    with app.app_context():
        due_now = [item for item in all_items() if reminders.threshold_for(item, dt.date.today()) is not None]
        assert due_now, "the demo has items due"
    first = runner.invoke(args=["remind"])
    assert first.exit_code == 0, first.output
    assert len(inbox.messages) >= 1
    recipients = [tuple(rcpt) for rcpt, _message in inbox.messages]
    assert len(recipients) == len(set(recipients))  # one digest per person
    rcpt, message = next((r, m) for r, m in inbox.messages if r == ["procurement@example.lg.jp"])
    body = message.get_content()
    assert message["Subject"].startswith("[Itaku]") and "調達 花子 様" in body
    assert "R8-001" in body and "期限超過" in body
    assert "https://itaku.example.lg.jp/contracts/" in body
    # Same day again: nothing new.
    second = runner.invoke(args=["remind"])
    assert "0 email(s)" in second.output
    assert len(inbox.messages) == len(recipients)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(ReminderLog)) >= len(due_now)


def test_a_new_threshold_sends_again_only_that_item(mailing_app, smtp):
    inbox, _port = smtp
    app = mailing_app
    with app.app_context():
        item = DueItem("test:1", "verification", "テスト項目", dt.date(2026, 12, 31), None, "dashboard.index")
        plugins.registry(app).add_due(lambda scope: [item])  # this app's registry only: the next test builds another
        before = len(inbox.messages)
        reminders.run(on=dt.date(2026, 12, 1))  # 30 days left
        texts = [m.get_content() for _r, m in inbox.messages[before:]]
        assert any("テスト項目" in t for t in texts)
        before = len(inbox.messages)
        reminders.run(on=dt.date(2026, 12, 10))  # still the 30-day step: not again
        assert not any("テスト項目" in m.get_content() for _r, m in inbox.messages[before:])
        reminders.run(on=dt.date(2026, 12, 24))  # 7 days left: again
        assert any("テスト項目" in m.get_content() for _r, m in inbox.messages[before:])


def test_items_without_a_responsible_person_go_to_admins(mailing_app, smtp):
    inbox, _port = smtp
    app = mailing_app
    with app.app_context():
        contract = db.session.scalar(select(Contract).where(Contract.number == "R8-002"))
        contract.officer_id = None
        db.session.commit()
    app.test_cli_runner().invoke(args=["remind"])
    admin_mail = [m.get_content() for r, m in inbox.messages if r == ["admin@example.lg.jp"]]
    assert admin_mail and "R8-002" in admin_mail[0]


def test_a_vendor_certification_expiring_soon_reaches_the_administrators(mailing_app, smtp):
    """Vendors add their certifications' expiry dates to the due items (vendors/due.py): a vendor
    names no responsible person, so the administrators are reminded."""
    inbox, _port = smtp
    app = mailing_app
    with app.app_context():
        vendor = db.session.scalar(select(Vendor).where(Vendor.status != VendorStatus.ENDED).order_by(Vendor.id))
        expires = today() + dt.timedelta(days=5)
        vendor.certifications.append(Certification(kind=CertificationKind.OTHER, name="テスト認証", valid_until=expires))
        db.session.commit()
        [item] = [item for item in all_items() if "テスト認証" in item.title]
        assert (item.kind, item.due_on, item.owner_id, item.endpoint, item.params) == (
            "certification", expires, None, "vendors.detail", {"vendor_id": vendor.id})
        assert item.title == f"認証の有効期限 テスト認証（{vendor.name}）"
        reminders.run(on=today())
        link = f"/vendors/{vendor.id}"
    admin_mail = [m.get_content() for r, m in inbox.messages if r == ["admin@example.lg.jp"]]
    assert any("テスト認証" in text and link in text for text in admin_mail)


def test_calendar_feed_lists_the_users_due_dates_and_can_be_revoked(demo):
    client = demo.test_client()
    login_as(client, "procurement", DEMO_PASSWORD)
    page = client.post("/account/calendar", follow_redirects=True).get_data(as_text=True)
    token = re.search(r"/calendar/([A-Za-z0-9_-]+)\.ics", page).group(1)
    anonymous = demo.test_client()
    response = anonymous.get(f"/calendar/{token}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    events = list(calendar.walk("VEVENT"))
    summaries = [str(event["summary"]) for event in events]
    assert any("R8-001" in s for s in summaries) and any(s.startswith("措置期限") for s in summaries)
    assert all(isinstance(event.decoded("dtstart"), dt.date) for event in events)
    # Only the hash is stored.
    from core.models import User

    with demo.app_context():
        stored = db.session.scalar(select(User.calendar_token_hash).where(User.username == "procurement"))
        assert stored and token not in stored
    client.post("/account/calendar/revoke")
    assert anonymous.get(f"/calendar/{token}.ics").status_code == 404
    assert anonymous.get("/calendar/not-a-token.ics").status_code == 404


def test_the_administrators_calendar_holds_what_nobody_is_responsible_for(demo):
    """A certification's expiry has no responsible person: the administrators
    are told by mail (above), and it is in their calendar feed, not in a clerk's."""
    with demo.app_context():
        vendor = db.session.scalar(select(Vendor).where(Vendor.status != VendorStatus.ENDED).order_by(Vendor.id))
        vendor.certifications.append(Certification(kind=CertificationKind.OTHER, name="テスト認証",
                                                   valid_until=today() + dt.timedelta(days=20)))
        db.session.commit()

    def feed(username: str) -> list[str]:
        client = demo.test_client()
        login_as(client, username, DEMO_PASSWORD)
        page = client.post("/account/calendar", follow_redirects=True).get_data(as_text=True)
        token = re.search(r"/calendar/([A-Za-z0-9_-]+)\.ics", page).group(1)
        calendar = Calendar.from_ical(demo.test_client().get(f"/calendar/{token}.ics").data)
        return [str(event["summary"]) for event in calendar.walk("VEVENT")]

    assert any("テスト認証" in summary for summary in feed("admin"))
    assert not any("テスト認証" in summary for summary in feed("procurement"))


def test_an_unreachable_mail_server_records_nothing_and_says_so(demo):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # nothing listens here once the probe closes
    demo.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port)
    result = demo.test_cli_runner().invoke(args=["remind"])
    assert result.exit_code == 1 and "not sent (will retry next run)" in result.output
    with demo.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(ReminderLog)) == 0


def test_two_runs_at_the_same_moment_send_each_reminder_once(mailing_app, smtp):
    """Two servers' cron (or cron and a manual run) start `remind` together
    (issue 15 §3): two apps with their own engines and connections, released
    by a barrier.  Neither crashes, and nobody gets a digest twice."""
    import threading

    from app import create_app

    inbox, _port = smtp
    apps = [create_app(dict(mailing_app.config)) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def run(app):
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                outcomes.append(reminders.run())
        except Exception as error:  # noqa: BLE001 - the test reports any crash
            errors.append(error)
        finally:
            with app.app_context():
                db.engine.dispose()

    threads = [threading.Thread(target=run, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(outcomes) == 2 and not any(outcome.failed for outcome in outcomes)
    recipients = [tuple(rcpt) for rcpt, _message in inbox.messages]
    assert recipients and len(recipients) == len(set(recipients)), recipients
    assert sum(outcome.sent for outcome in outcomes) == len(inbox.messages)
    with mailing_app.app_context():
        assert reminders.run().sent == 0  # everything due was recorded
