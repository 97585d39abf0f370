"""The one incident register (issue 19): recording, handling and closing an
incident, the SNS incidents moved in by migration 0025 with their history,
who may read a personal-data incident, and the dashboard's red notice."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from core import audit
from core.db import db
from core.incidents import Incident, IncidentAction, IncidentKind, IncidentStatus, Severity
from core.models import Role
from core.timeutil import JST, today, utcnow
from tests import factories
from tests.conftest import BASE_CONFIG, login_as


def _local(moment: dt.datetime) -> str:
    return moment.replace(tzinfo=dt.UTC).astimezone(JST).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def account(app, users):
    """An SNS account of the ``social`` user (its responsible person)."""
    from core.models import User

    with app.app_context():
        made = factories.social_account("防災情報", responsible=db.session.get(User, users["social"]))
        db.session.commit()
        return made.id


def _record(client, account_id: int, **overrides):
    now = utcnow() - dt.timedelta(hours=1)
    data = {"kind": "takeover", "severity": "severe", "subject": f"social_account:{account_id}",
            "title": "乗っ取りの疑い", "summary": "見覚えのない投稿があった", "occurred_at": _local(now),
            "learned_at": _local(now + dt.timedelta(minutes=30)), **overrides}
    return client.post("/incidents/new", data=data)


def test_an_incident_is_recorded_worked_through_and_closed(app, client, users, account):
    login_as(client, "social")
    response = _record(client, account)
    assert response.status_code == 302
    with app.app_context():
        incident = db.session.scalar(select(Incident))
        iid, number = incident.id, incident.number
        assert incident.status is IncidentStatus.RECEIVED and incident.checklist["INC-01"] is False
    assert number.startswith(f"INC-{today().year if today().month >= 4 else today().year - 1}-")
    dashboard = client.get("/").get_data(as_text=True)
    assert "至急対応が必要です" in dashboard and f"/incidents/{iid}" in dashboard
    assert "乗っ取り: 防災情報 — 乗っ取りの疑い" in dashboard
    assert client.post(f"/incidents/{iid}/actions", data={"action": "パスワードを再設定した"}).status_code == 302
    with app.app_context():
        incident = db.session.get(Incident, iid)
        assert incident.status is IncidentStatus.RESPONDING
        version = incident.version
    assert client.post(f"/incidents/{iid}/checklist", data={
        "version": str(version), "done": ["INC-01", "INC-03"]}).status_code == 302
    page = client.get(f"/incidents/{iid}").get_data(as_text=True)
    assert "パスワードを再設定した" in page and "乗っ取り" in page
    with app.app_context():
        incident = db.session.get(Incident, iid)
        assert incident.checklist["INC-01"] and incident.checklist["INC-03"] and not incident.checklist["INC-02"]
    # Closing needs the cause and the prevention.
    refused = client.post(f"/incidents/{iid}/close", data={"closed_at": _local(utcnow()), "cause": "",
                                                            "prevention": "二要素認証を必須にする"})
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.get(Incident, iid).is_open
    # …and the measures, with the reporting chain told (a 重大 incident: the lead and the CISO).
    close = {"closed_at": _local(utcnow()), "cause": "使い回したパスワード", "prevention": "二要素認証を必須にする",
             "measures-0-measure": "二要素認証を設定する", "measures-0-owner_id": str(users["social"]),
             "measures-0-due_on": (today() + dt.timedelta(days=14)).isoformat()}
    refused = client.post(f"/incidents/{iid}/close", data=close)
    assert refused.status_code == 409 and "必要な報告" in refused.get_data(as_text=True)
    for role in ("lead", "ciso"):
        assert client.post(f"/incidents/{iid}/notifications", data={
            "recipient_role": role, "recipient": "情報政策課長", "notified_at": _local(utcnow() - dt.timedelta(minutes=5)),
            "means": "電話"}).status_code == 302
    assert client.post(f"/incidents/{iid}/close", data=close).status_code == 302
    assert "至急対応が必要です" not in client.get("/").get_data(as_text=True)
    after = client.post(f"/incidents/{iid}/actions", data={"action": "追記"})
    assert after.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(IncidentAction.text).where(IncidentAction.incident_id == iid)).all() == [
            "パスワードを再設定した"]
    future = _local(utcnow() + dt.timedelta(days=1))
    response = _record(client, account, occurred_at=future, learned_at=future)
    assert response.status_code == 400 and "未来の日時は指定できません" in response.get_data(as_text=True)


def test_anyone_signed_in_records_an_incident_of_the_body(app, client, users):
    login_as(client, "auditor")
    response = _record(client, 0, subject="", kind="leak", severity="moderate", title="USBメモリの紛失")
    assert response.status_code == 302
    with app.app_context():
        incident = db.session.scalar(select(Incident))
        assert incident.subject_type is None and incident.kind is IncidentKind.LEAK


def test_an_sns_kind_needs_an_sns_account(app, client, users):
    login_as(client, "procurement")
    response = _record(client, 0, subject="", kind="impersonation")
    assert response.status_code == 400 and "SNSアカウントの事案として記録してください" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Incident.id)) is None


@pytest.mark.parametrize("role, sees", [(Role.ADMIN, True), (Role.LEAD, True), (Role.AUDITOR, True),
                                        (Role.PROCUREMENT, False), (Role.APPROVER, False)])
def test_a_personal_data_incident_is_seen_only_by_its_handlers_the_lead_admins_and_auditors(
        app, client, users, role, sees):
    from core.models import OrgUnit

    with app.app_context():
        elsewhere = OrgUnit(name="予防課")
        db.session.add(elsewhere)
        db.session.flush()
        secret = factories.incident(subject=(None, None), kind=IncidentKind.LEAK, personal_data=True,
                                    title="住民名簿の紛失", unit_id=elsewhere.id)
        plain = factories.incident(subject=(None, None), kind=IncidentKind.OUTAGE, title="庁内システムの停止",
                                   unit_id=elsewhere.id)
        db.session.commit()
        secret_id, plain_id = secret.id, plain.id
    login_as(client, role)
    assert client.get(f"/incidents/{secret_id}").status_code == (200 if sees else 404)
    assert client.get(f"/incidents/{plain_id}").status_code == 200
    listing = client.get("/incidents/?status=all").get_data(as_text=True)
    assert ("住民名簿の紛失" in listing) is sees and "庁内システムの停止" in listing
    assert ("住民名簿の紛失" in client.get("/").get_data(as_text=True)) is sees


def test_the_sns_incidents_move_into_the_register_with_their_history(tmp_path):
    """A database at 0024 holding SNS incidents as the demo made them, upgraded."""
    from app import create_app

    app = create_app({**BASE_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}",
                      "STORAGE_PATH": str(tmp_path / "files")})
    with app.app_context():
        upgrade(revision="0024")
        run = db.session.execute
        # The account as the schema at 0024 held it: written in SQL, not through
        # today's model (whose later columns — a reading, a search key — 0024 lacks).
        user_id, unit_id = factories.user(None, Role.SOCIAL).id, None
        account_id = run(text(
            "INSERT INTO social_accounts (platform, name, url, status, responsible_id, last_post_on,"
            " review_cycle_months, approval_before_posting, profile_states_official, verified_badge, mfa_enabled,"
            " recovery_owned, created_at, updated_at, version) VALUES ('x', '○○消防本部 公式', 'https://example.com/1',"
            " 'active', :user, '2026-11-01', 12, 0, 0, 0, 0, 0, '2026-11-01 00:00:00', '2026-11-01 00:00:00', 1)"),
            {"user": user_id}).lastrowid
        run(text("INSERT INTO social_incidents (id, account_id, kind, occurred_on, summary, notified, checklist,"
                 " reported_by_id, closed_on, closing_note, created_at, updated_at, version) VALUES"
                 " (3, :account, 'impersonation', '2026-11-30', 'なりすまし', '総務課', :open_list, :user, NULL, NULL,"
                 "  '2026-11-30 01:00:00', '2026-11-30 01:00:00', 2),"
                 " (4, :account, 'wrong_post', '2026-10-24', '誤投稿', NULL, NULL, :user, '2026-10-25', '訂正した',"
                 "  '2026-10-24 02:00:00', '2026-10-25 02:00:00', 3)"),
            {"open_list": json.dumps({"INC-01": True, "INC-02": False}), "account": account_id, "user": user_id})
        run(text("INSERT INTO social_incident_actions (id, incident_id, at, user_id, text) VALUES"
                 " (7, 3, '2026-11-30 02:00:00', :user, 'X社に報告した')"), {"user": user_id})
        audit.log("create", object_type="social_incidents", object_id=3)
        audit.log("create", object_type="social_incident_actions", object_id=7)
        db.session.commit()
        upgrade()
        moved = {i.id: i for i in db.session.scalars(select(Incident))}
        assert set(moved) == {3, 4}
        open_, closed = moved[3], moved[4]
        assert open_.kind is IncidentKind.IMPERSONATION and open_.severity is Severity.SEVERE
        assert open_.status is IncidentStatus.RESPONDING and open_.subject_id == account_id
        assert open_.unit_id == unit_id
        assert open_.checklist == {"INC-01": True, "INC-02": False} and open_.summary == "なりすまし"
        assert open_.occurred_at == dt.datetime(2026, 11, 29, 15) and open_.number.startswith("INC-2026-")
        assert {(a.id, a.text) for a in open_.actions if a.legacy_object} == {(7, "X社に報告した")}
        assert [a.text for a in open_.actions if not a.legacy_object] == ["報告先（移行前の記録）: 総務課"]
        assert closed.status is IncidentStatus.CLOSED and closed.cause == "訂正した"
        from core.audit import history
        from incidents.access import legacy_parts

        assert {(e.object_type, e.object_id) for e in history(open_, *open_.actions, *legacy_parts(open_))} == {
            ("social_incidents", "3"), ("social_incident_actions", "7")}
        downgrade(revision="0024")
        back = db.session.execute(text("SELECT id, kind, occurred_on, closed_on FROM social_incidents"
                                       " ORDER BY id")).all()
        assert [(row[0], row[1], str(row[2])[:10], str(row[3])[:10] if row[3] else None) for row in back] == [
            (3, "impersonation", "2026-11-30", None), (4, "wrong_post", "2026-10-24", "2026-10-25")]
        db.session.remove()
        db.engine.dispose()


def test_who_may_read_the_personal_data_incidents_is_decided_in_bulk(demo):
    """The list narrows the personal-data incidents to those the user may
    handle (core.incidents.visible) with the same answer as ``may_read`` for
    each, and in a number of statements that does not grow with them
    (issue 21: a prefecture has hundreds)."""
    from sqlalchemy import event, func, select

    from core import plugins
    from core.gendata import generate
    from core.incidents import Incident, may_read, visible
    from core.models import User

    def readable(user) -> tuple[set[int], int]:
        statements = []
        listen = lambda *_args: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            ids = set(db.session.scalars(visible(select(Incident.id), user)))
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
        return ids, len(statements)

    with demo.test_request_context():
        users = db.session.scalars(select(User).where(User.username.in_(("procurement", "social", "verifier")))).all()
        generate(20, 2000, 20, report=lambda _line: None)
        assert db.session.scalar(select(func.count()).select_from(Incident).where(Incident.personal_data)) > 10
        # the user (expired by the commit), the incidents' columns, one per kind of subject, the list
        ceiling = 3 + len(plugins.registry().incident_subjects)
        for user in users:
            ids, statements = readable(user)
            assert ids == {i.id for i in db.session.scalars(select(Incident)) if may_read(user, i)}, user.username
            assert statements <= ceiling, user.username
