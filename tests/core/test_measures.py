"""改善措置 (issue 18): one findings → measures mechanism.  A measure any
finding opens (core.measures.open_measure) goes 未着手 → 着手 → 完了報告 with
evidence → 確認 by someone else (never the reporter, whatever roles they
hold) or 差戻し; its owner sees it due on the dashboard, in the calendar and
the inbox; a leaver's open measures move to a successor; two confirmations
at the same moment make one decision."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from sqlalchemy import select

from core import handover, measures, plugins
from core.approvals import Approval, Decision
from core.db import db
from core.measures import Measure, MeasureStatus
from core.models import OrgUnit, Role, User
from core.timeutil import today
from tests import factories
from tests.conftest import login_as
from tests.served import together

TITLE = "自己点検 3.1 アクセス権の棚卸し未実施"


def _measure(app, users, *, owner="social", due_on=None, **fields) -> int:
    with app.app_context():
        row = factories.measure(title=TITLE, owner=db.session.get(User, users[owner]) if isinstance(owner, str)
                                else owner, opened_by=db.session.get(User, users["lead"]), due_on=due_on, **fields)
        db.session.commit()
        return row.id


def _load(app, measure_id) -> Measure:
    with app.app_context():
        row = db.session.get(Measure, measure_id)
        db.session.expunge(row)
        return row


def _post(client, path, measure_id, **data):
    """POST a step of measure ``measure_id`` (CSRF is off in the tests: tests/served.py has it on)."""
    return client.post(path, data=data, content_type="multipart/form-data")


def _as(client, username):
    """Sign ``client`` in as ``username``, signing out whoever was."""
    client.post("/logout")
    return login_as(client, username)


def _report(client, measure_id, note="棚卸しを実施した"):
    return _post(client, f"/measures/{measure_id}/report", measure_id, note=note,
                 evidence=(io.BytesIO(b"%PDF-1.4 evidence"), "棚卸し記録.pdf"))


def test_a_measure_goes_from_open_to_confirmed_by_someone_else(app, client, users):
    measure_id = _measure(app, users)
    _as(client, "social")
    page = client.get(f"/measures/{measure_id}").get_data(as_text=True)
    assert TITLE in page and "未着手" in page and "着手する" in page

    assert _post(client, f"/measures/{measure_id}/begin", measure_id).status_code == 302
    assert _load(app, measure_id).status is MeasureStatus.IN_PROGRESS
    assert "完了を報告する" in client.get(f"/measures/{measure_id}").get_data(as_text=True)

    answer = _report(client, measure_id)
    assert answer.status_code == 302
    page = client.get(f"/measures/{measure_id}").get_data(as_text=True)
    assert "完了報告" in page and "棚卸し記録.pdf" in page
    assert "完了報告をした本人は確認できません" in page
    download = client.get(f"/measures/{measure_id}/evidence")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    download.close()
    # The owner (a social user) is no acceptor: the step is not theirs.
    assert _post(client, f"/measures/{measure_id}/accept", measure_id).status_code == 403

    _as(client, "approver")
    assert "完了を確認する" in client.get(f"/measures/{measure_id}").get_data(as_text=True)
    answer = _post(client, f"/measures/{measure_id}/accept", measure_id, comment="確認した")
    assert answer.status_code == 302
    page = client.get(f"/measures/{measure_id}").get_data(as_text=True)
    assert "確認済" in page and "措置の完了を確認しました" in page
    row = _load(app, measure_id)
    assert row.status is MeasureStatus.ACCEPTED and row.accepted_by_id == users["approver"]


def test_a_returned_report_goes_back_to_in_progress(app, client, users):
    measure_id = _measure(app, users)
    _as(client, "social")
    assert _report(client, measure_id).status_code == 302
    _as(client, "lead")
    assert _post(client, f"/measures/{measure_id}/return", measure_id, comment="証拠が不足").status_code == 302
    page = client.get(f"/measures/{measure_id}").get_data(as_text=True)
    assert "措置を差し戻しました" in page and "対応中" in page
    assert _load(app, measure_id).status is MeasureStatus.IN_PROGRESS


def test_the_reporter_never_confirms_even_holding_an_acceptor_role(app, client, users):
    with app.app_context():
        both = factories.user("both", Role.SOCIAL, Role.APPROVER)
        db.session.commit()
        both_id = both.id
    with app.app_context():
        measure_id = _measure(app, users, owner=db.session.get(User, both_id))
    _as(client, "both")
    assert _report(client, measure_id).status_code == 302
    page = client.get(f"/measures/{measure_id}").get_data(as_text=True)
    assert "完了報告をした本人は確認できません" in page and "完了を確認する" not in page
    assert "の改善措置の完了報告" not in client.get("/inbox").get_data(as_text=True)
    answer = _post(client, f"/measures/{measure_id}/accept", measure_id)
    assert answer.status_code == 409
    assert "完了報告をした本人は確認できません" in answer.get_data(as_text=True)
    assert _load(app, measure_id).status is MeasureStatus.REPORTED
    # another approver sees it in the inbox and may confirm it
    _as(client, "approver")
    assert f"{TITLE} の改善措置の完了報告" in client.get("/inbox").get_data(as_text=True)


def test_an_audit_finding_measure_is_confirmed_by_an_auditor_only(app, client, users):
    plugins.registry(app).add_measure_source(
        "audit_finding", label="内部監査の指摘", link=lambda m: ("measures.index", {"source": "audit_finding"}),
        may_accept=lambda user, m: user.has_role(Role.AUDITOR), acceptors=frozenset({Role.AUDITOR}))
    audit_id = _measure(app, users, source_type="audit_finding")
    inspection_id = _measure(app, users)
    _as(client, "social")
    assert _report(client, audit_id).status_code == 302
    assert _report(client, inspection_id).status_code == 302
    page = client.get(f"/measures/{audit_id}").get_data(as_text=True)
    assert "内部監査の指摘" in page and "/measures?source=audit_finding" in page

    _as(client, "approver")
    assert _post(client, f"/measures/{audit_id}/accept", audit_id).status_code == 403
    _as(client, "auditor")
    inbox_page = client.get("/inbox").get_data(as_text=True)
    assert inbox_page.count(f"{TITLE} の改善措置の完了報告") == 1
    assert _post(client, f"/measures/{inspection_id}/accept", inspection_id).status_code == 403
    assert _post(client, f"/measures/{audit_id}/accept", audit_id).status_code == 302
    assert _load(app, audit_id).status is MeasureStatus.ACCEPTED
    assert _load(app, inspection_id).status is MeasureStatus.REPORTED


def test_editing_a_measure_before_its_report_only(app, client, users):
    with app.app_context():
        gone = factories.user("gone", Role.SOCIAL)
        gone.active = False
        db.session.commit()
        gone_id = gone.id
    measure_id = _measure(app, users)
    _as(client, "social")  # the owner does not edit what was asked of them
    assert _post(client, f"/measures/{measure_id}/edit", measure_id, measure="x", due_on="2030-01-01",
                 owner_id=str(users["social"]), version="1").status_code == 403
    _as(client, "lead")  # the one who opened it
    version = _load(app, measure_id).version
    answer = _post(client, f"/measures/{measure_id}/edit", measure_id, measure="権限を棚卸しする",
                   owner_id=str(gone_id), due_on="2030-01-01", version=str(version))
    assert answer.status_code == 400  # an inactive user is not offered
    assert _load(app, measure_id).owner_id == users["social"]
    with app.app_context(), pytest.raises(measures.MeasureRefusal, match="無効な利用者は措置の担当者にできません"):
        measures.update(db.session.get(Measure, measure_id), measure="x", owner_id=gone_id, due_on=today())
    answer = _post(client, f"/measures/{measure_id}/edit", measure_id, measure="権限を棚卸しする",
                   owner_id=str(users["verifier"]), due_on="2030-01-01", version=str(version))
    assert answer.status_code == 302
    row = _load(app, measure_id)
    assert (row.measure, row.owner_id, row.due_on) == ("権限を棚卸しする", users["verifier"], dt.date(2030, 1, 1))

    _as(client, "verifier")
    assert _report(client, measure_id).status_code == 302
    _as(client, "lead")
    answer = _post(client, f"/measures/{measure_id}/edit", measure_id, measure="後から変える",
                   owner_id=str(users["verifier"]), due_on="2030-01-01", version=str(_load(app, measure_id).version))
    assert answer.status_code == 409 and "完了報告後の措置は変更できません" in answer.get_data(as_text=True)


def test_an_overdue_measure_shows_for_its_owner_and_not_for_others(app, client, users):
    with app.app_context():
        elsewhere = OrgUnit(name="情報政策課")
        db.session.add(elsewhere)
        factories.user("other", Role.SOCIAL, unit=elsewhere)
        db.session.commit()
        unit = db.session.get(User, users["social"]).unit
    _measure(app, users, due_on=today() - dt.timedelta(days=3), unit=unit)

    _as(client, "social")
    inbox_page = client.get("/inbox").get_data(as_text=True)
    assert f"改善措置期限 {TITLE}" in inbox_page and "期限切れ" in inbox_page
    dashboard = client.get("/").get_data(as_text=True)
    assert re.search(r"期限を過ぎた改善措置</a>\s*<span class=\"fw-bold\">1</span>", dashboard)
    listing = client.get("/measures?mine=yes&overdue=yes").get_data(as_text=True)
    assert TITLE in listing and "期限超過" in listing
    feed_url = re.search(r'value="http://localhost(/calendar/[^"]+\.ics)"',
                         client.post("/account/calendar").get_data(as_text=True)).group(1)
    assert f"改善措置期限 {TITLE}" in client.get(feed_url).get_data(as_text=True).replace("\r\n ", "")

    _as(client, "other")
    assert TITLE not in client.get("/inbox").get_data(as_text=True)
    assert re.search(r"期限を過ぎた改善措置</a>\s*<span class=\"fw-bold\">0</span>", client.get("/").get_data(as_text=True))
    assert TITLE not in client.get("/measures?mine=yes").get_data(as_text=True)


def test_a_leavers_open_measures_move_to_the_successor(app, users):
    with app.app_context():
        leaver = factories.user("leaver", Role.SOCIAL)
        open_one = factories.measure(owner=leaver)
        done = factories.measure(owner=leaver)
        done.status = MeasureStatus.ACCEPTED
        db.session.commit()
        with pytest.raises(handover.HandoverRefusal, match="改善措置"):
            handover.check_free(leaver)
        db.session.rollback()
        successor = db.session.get(User, users["social"])
        moved = handover.hand_over(db.session.get(User, leaver.id), successor)
        db.session.commit()
        assert moved["improvement_measure_owner"] and "改善措置" in moved["improvement_measure_owner"][0]
        assert db.session.get(Measure, open_one.id).owner_id == successor.id
        assert db.session.get(Measure, done.id).owner_id == leaver.id


def test_a_measure_completion_request_of_a_leaver_is_described_as_a_measure(app, users):
    with app.app_context():
        row = factories.measure(owner=db.session.get(User, users["social"]))
        request = measures.report(row, note="済", evidence=factories.stored_file(),
                                  user=db.session.get(User, users["social"]))
        describe, _roles = plugins.registry().request_kind(measures.CLOSURE)
        item = describe(request)
        assert item.endpoint == "measures.detail" and item.params == {"measure_id": row.id}


def test_two_confirmations_at_the_same_moment_make_one_decision(app, users, served_app):
    with app.app_context():
        for name in ("approver1", "approver2"):
            factories.user(name, Role.APPROVER)
        owner = db.session.get(User, users["social"])
        row = factories.measure(owner=owner)
        measures.report(row, note="済", evidence=factories.stored_file(), user=owner)
        db.session.commit()
        measure_id = row.id
    path = f"/measures/{measure_id}"
    calls = []
    for name in ("approver1", "approver2"):
        browser = served_app.session()
        served_app.login(browser, name, factories.PASSWORD)
        data = {"csrf_token": served_app.csrf(browser, path), "comment": name}
        calls.append(lambda browser=browser, data=data: browser.post(
            served_app.url + path + "/accept", data=data, allow_redirects=False, timeout=60))
    answers = together(calls)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [302, 409], (statuses, served_app.log.read_text()[-3000:])
    with app.app_context():
        decided = db.session.scalars(select(Approval).where(
            Approval.kind == measures.CLOSURE, Approval.subject_type == "measures",
            Approval.subject_id == measure_id)).all()
        assert [a.decision for a in decided] == [Decision.APPROVED]
        assert db.session.get(Measure, measure_id).status is MeasureStatus.ACCEPTED
