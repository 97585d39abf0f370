"""Sign-in, lockout, sessions and passwords."""
from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import select

from core import timeutil
from core.auth import LAST_SEEN_STEP
from core.db import db
from core.models import AuditEntry, User
from tests.conftest import PASSWORD, login_as

REFUSED = "ユーザー名またはパスワードが正しくないか、アカウントが一時的にロックされています。"


def entries(app, action=None):
    with app.app_context():
        stmt = select(AuditEntry).order_by(AuditEntry.seq)
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        return [(e.action, e.username, e.object_id, e.changes) for e in db.session.scalars(stmt)]


def user(app, name) -> User:
    with app.app_context():
        found = db.session.scalar(select(User).where(User.username == name))
        db.session.expunge(found)
        return found


def test_login_and_logout(client, users, auth, app):
    response = auth.login("verifier", follow=True)
    assert "ログインしました。" in response.get_data(as_text=True)
    assert client.get("/").status_code == 200
    auth.logout()
    assert client.get("/").status_code == 302
    assert [(action, name) for action, name, *_ in entries(app)][-2:] == [("login", "verifier"), ("logout", "verifier")]


def test_refusals_all_look_the_same(client, users, auth, app):
    unknown = auth.login("nobody", "whatever-password")
    wrong = auth.login("verifier", "wrong-password-1")
    for response in (unknown, wrong):
        assert response.status_code == 401
        assert REFUSED in response.get_data(as_text=True)
    failed = entries(app, "login_failed")
    assert [(name, changes["reason"]) for _a, name, _id, changes in failed] == [
        ("anonymous", "unknown user"), ("anonymous", "wrong password")]


def test_five_failures_lock_the_account_for_fifteen_minutes(client, users, auth, app, monkeypatch):
    start = dt.datetime(2026, 11, 26, 1, 0, 0)
    monkeypatch.setattr(timeutil, "utcnow", lambda: start)
    monkeypatch.setattr("core.accounts.utcnow", lambda: start)
    for _ in range(5):
        assert auth.login("verifier", "wrong-password-1").status_code == 401
    assert user(app, "verifier").locked_until == start + dt.timedelta(minutes=15)
    assert len(entries(app, "lockout")) == 1
    # The right password is refused while locked, with the same message.
    response = auth.login("verifier", PASSWORD)
    assert response.status_code == 401
    assert REFUSED in response.get_data(as_text=True)
    assert entries(app, "login_failed")[-1][3] == {"reason": "locked"}
    # 15 minutes later the lock has expired.
    later = start + dt.timedelta(minutes=15, seconds=1)
    monkeypatch.setattr("core.accounts.utcnow", lambda: later)
    monkeypatch.setattr("core.models.utcnow", lambda: later)
    assert auth.login("verifier", PASSWORD).status_code == 302


@pytest.mark.config(LOGIN_MAX_FAILURES=2, LOGIN_LOCK_MINUTES=60)
def test_lockout_limits_are_configurable(client, users, auth, app):
    auth.login("verifier", "wrong-password-1")
    assert not user(app, "verifier").is_locked()
    auth.login("verifier", "wrong-password-1")
    locked = user(app, "verifier")
    assert locked.is_locked()
    assert locked.locked_until - timeutil.utcnow() > dt.timedelta(minutes=59)


def test_admin_unlocks_a_locked_account(client, users, auth, app):
    for _ in range(5):
        auth.login("verifier", "wrong-password-1")
    assert user(app, "verifier").is_locked()
    admin = app.test_client()
    login_as(admin, "admin")
    page = admin.get(f"/admin/users/{users['verifier']}").get_data(as_text=True)
    assert "ロック中" in page
    admin.post(f"/admin/users/{users['verifier']}/unlock")
    assert not user(app, "verifier").is_locked()
    assert entries(app, "unlock")[-1][1] == "admin"
    assert auth.login("verifier", PASSWORD).status_code == 302


def test_a_deactivated_user_cannot_sign_in_and_their_session_ends(client, users, auth, app):
    login_as(client, "verifier")
    admin = app.test_client()
    login_as(admin, "admin")
    admin.post(f"/admin/users/{users['verifier']}/active")
    assert client.get("/").status_code == 302  # the open session is gone
    assert auth.login("verifier", PASSWORD).status_code == 401


def test_idle_session_expires(client, users, app):
    login_as(client, "verifier")
    assert client.get("/").status_code == 200
    # The cookie itself expires after 30 idle minutes; the server also
    # refuses a replayed cookie whose last activity is older than that.
    with client.session_transaction() as session:
        session["last_seen"] -= 31 * 60
    response = client.get("/", follow_redirects=True)
    assert "一定時間操作がなかったため、ログアウトしました。" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_password_change_ends_other_sessions(client, users, app):
    login_as(client, "verifier")
    other_device = app.test_client()
    login_as(other_device, "verifier")
    response = client.post("/account", data={
        "current_password": PASSWORD, "new_password": "a-new-long-password", "confirm_password": "a-new-long-password"},
        follow_redirects=True)
    assert "パスワードを変更しました" in response.get_data(as_text=True)
    assert client.get("/").status_code == 200  # this session goes on
    assert other_device.get("/").status_code == 302  # the other one has ended
    assert entries(app, "password_change")[-1][1] == "verifier"
    fresh = app.test_client()
    login_as(fresh, "verifier", "a-new-long-password")


@pytest.mark.parametrize("new, message", [
    ("short-pw", "パスワードは12文字以上にしてください。"),
    ("verifier", "パスワードは12文字以上にしてください。"),
    ("VERIFIER1234"[:8] + "", "パスワードは12文字以上にしてください。"),
])
def test_password_policy_on_change(client, users, app, new, message):
    login_as(client, "verifier")
    response = client.post("/account", data={
        "current_password": PASSWORD, "new_password": new, "confirm_password": new})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert user(app, "verifier").password_changed_at is not None
    login_as(app.test_client(), "verifier")  # the old password still works


def test_password_equal_to_user_name_is_refused(client, users, app):
    login_as(client, "admin")
    response = client.post("/admin/users/new", data={
        "username": "longusername1", "display_name": "x", "unit_id": "1", "roles": ["auditor"], "locale": "ja",
        "new_password": "LongUserName1", "confirm_password": "LongUserName1"})
    assert response.status_code == 400
    assert "パスワードにユーザー名は使えません。" in response.get_data(as_text=True)


def test_wrong_current_password_changes_nothing(client, users, app):
    login_as(client, "verifier")
    response = client.post("/account", data={
        "current_password": "not-my-password", "new_password": "a-new-long-password",
        "confirm_password": "a-new-long-password"})
    assert "現在のパスワードが正しくありません。" in response.get_data(as_text=True)
    login_as(app.test_client(), "verifier")


def test_passwords_are_stored_with_a_modern_kdf(app):
    assert app.config["PASSWORD_HASH_METHOD"] != "scrypt"  # lowered for the suite only
    from app import DEFAULTS

    assert DEFAULTS["PASSWORD_HASH_METHOD"] == "scrypt"


def test_login_redirects_only_within_the_site(client, users):
    response = client.post("/login?next=//evil.example/x", data={"username": "verifier", "password": PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/vendors/", data={"username": "verifier", "password": PASSWORD})
    assert response.headers["Location"] == "/vendors/"


def test_a_page_read_again_soon_sends_no_new_cookie_and_idleness_still_ends_the_session(client, users, app):
    """Issue 21: the session cookie is not signed and sent again on every
    request, only when the last activity moves on (every LAST_SEEN_STEP s)."""
    login_as(client, "verifier")
    assert client.get("/").status_code == 200
    again = client.get("/")
    assert again.status_code == 200 and "Set-Cookie" not in again.headers
    with client.session_transaction() as session:
        session["last_seen"] -= LAST_SEEN_STEP  # a step later, the activity is written again
    moved = client.get("/")
    assert "Set-Cookie" in moved.headers
    with client.session_transaction() as session:
        assert abs(session["last_seen"] - time.time()) < 5
        session["last_seen"] -= app.config["IDLE_TIMEOUT_MINUTES"] * 60 - 1  # not yet idle long enough
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session["last_seen"] -= app.config["IDLE_TIMEOUT_MINUTES"] * 60 + LAST_SEEN_STEP + 1
    assert client.get("/").status_code == 302
