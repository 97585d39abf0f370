"""New users set their own password (issue 20): an account an administrator
creates, or whose password an administrator resets, must choose a new
password at the next sign-in; until then every page leads to that form."""
from __future__ import annotations

from sqlalchemy import select

from core.db import db
from core.models import AuditEntry, User
from tests.conftest import PASSWORD, api_token, login_as

NEW_USER = {"username": "yobou.sato", "display_name": "佐藤 二郎", "email": "", "unit_id": "1",
            "roles": ["procurement"], "locale": "ja",
            "new_password": "given-by-admin-1", "confirm_password": "given-by-admin-1"}
MINE = "chosen-by-myself-2"


def _create(app) -> None:
    admin = app.test_client()
    login_as(admin, "admin")
    assert admin.post("/admin/users/new", data=NEW_USER).status_code == 302


def _user(app, username: str) -> User:
    with app.app_context():
        return db.session.scalar(select(User).where(User.username == username))


def _change(client, current: str, new: str, confirm: str | None = None, **args):
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                  "confirm_password": confirm or new}, **args)


def test_a_user_created_by_an_administrator_chooses_a_password_before_anything_else(client, users, app):
    _create(app)
    assert _user(app, "yobou.sato").must_change_password
    response = login_as(client, "yobou.sato", "given-by-admin-1")
    # Wherever the sign-in leads, and whatever page is asked for, the form comes first.
    assert client.get(response.headers["Location"]).headers["Location"].startswith("/account/password")
    for path in ("/", "/contracts/", "/account", "/inbox"):
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert answer.headers["Location"] == f"/account/password?next={path}", path
    assert client.post("/contracts/new", data={}).headers["Location"] == "/account/password"
    page = client.get("/account/password")
    assert page.status_code == 200
    assert "新しいパスワードの設定" in page.get_data(as_text=True)
    static = client.get("/static/itaku.css")
    static.close()
    assert static.status_code == 200

    done = _change(client, "given-by-admin-1", MINE, query_string={"next": "/contracts/"})
    assert done.status_code == 302 and done.headers["Location"] == "/contracts/"
    assert client.get("/contracts/").status_code == 200
    assert not _user(app, "yobou.sato").must_change_password
    assert client.get("/account/password").headers["Location"] == "/account"  # nothing left to change
    login_as(app.test_client(), "yobou.sato", MINE)


def test_the_new_password_must_differ_and_follow_the_rules(client, users, app):
    _create(app)
    login_as(client, "yobou.sato", "given-by-admin-1")
    same = _change(client, "given-by-admin-1", "given-by-admin-1")
    assert same.status_code == 400
    assert "新しいパスワードには、現在のパスワードと異なるものを指定してください。" in same.get_data(as_text=True)
    short = _change(client, "given-by-admin-1", "short")
    assert short.status_code == 400 and "パスワードは12文字以上にしてください。" in short.get_data(as_text=True)
    wrong = _change(client, "not-what-i-got-1", MINE)
    assert wrong.status_code == 400 and "現在のパスワードが正しくありません。" in wrong.get_data(as_text=True)
    mismatch = _change(client, "given-by-admin-1", MINE, "something-else-3")
    assert mismatch.status_code == 400 and "確認用のパスワードが一致しません。" in mismatch.get_data(as_text=True)
    # Nothing changed: still held at the form, the administrator's password still signs in.
    assert _user(app, "yobou.sato").must_change_password
    assert client.get("/").headers["Location"].startswith("/account/password")
    login_as(app.test_client(), "yobou.sato", "given-by-admin-1")


def test_a_reset_by_an_administrator_forces_a_change_and_both_are_audited(client, users, app):
    admin = app.test_client()
    login_as(admin, "admin")
    admin.post(f"/admin/users/{users['verifier']}/password",
               data={"reset-new_password": "reset-by-admin-1", "reset-confirm_password": "reset-by-admin-1"})
    page = admin.get(f"/admin/users/{users['verifier']}").get_data(as_text=True)
    assert "パスワード変更待ち" in page
    listed = admin.get("/admin/users?q=verifier").get_data(as_text=True)
    assert "パスワード変更待ち" in listed
    login_as(client, "verifier", "reset-by-admin-1")
    assert client.get("/verification/").headers["Location"].startswith("/account/password")
    assert _change(client, "reset-by-admin-1", MINE).status_code == 302
    assert client.get("/verification/").status_code == 200
    with app.app_context():
        entries = db.session.execute(select(AuditEntry.action, AuditEntry.username, AuditEntry.changes)
                                     .where(AuditEntry.object_type == "users",
                                            AuditEntry.object_id == str(users["verifier"]))
                                     .order_by(AuditEntry.seq)).all()
    reset, change = [e for e in entries if e.action in ("password_reset", "password_change")][-2:]
    assert (reset.action, reset.username) == ("password_reset", "admin")
    assert (change.action, change.username) == ("password_change", "verifier")
    assert "must_change_password" in str(reset.changes) and "must_change_password" in str(change.changes)


def test_sign_out_works_while_the_change_is_pending(client, users, app):
    _create(app)
    login_as(client, "yobou.sato", "given-by-admin-1")
    assert client.post("/logout").headers["Location"] == "/login"
    assert client.get("/").headers["Location"].startswith("/login")


def test_api_tokens_are_not_held_back(client, users, app):
    secret = api_token(app, "procurement")
    admin = app.test_client()
    login_as(admin, "admin")
    admin.post(f"/admin/users/{users['procurement']}/password",
               data={"reset-new_password": "reset-by-admin-1", "reset-confirm_password": "reset-by-admin-1"})
    assert _user(app, "procurement").must_change_password
    response = client.get("/api/v1/vendors", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200


def test_users_made_otherwise_are_not_forced(client, users, app):
    """Test factories, the demo and the command line create users without
    the flag: only an administrator's create and reset set it."""
    login_as(client, "procurement", PASSWORD)
    assert client.get("/contracts/").status_code == 200
    assert not _user(app, "procurement").must_change_password


def test_the_own_password_change_refuses_the_same_password(client, users, app):
    login_as(client, "verifier")
    response = client.post("/account", data={"current_password": PASSWORD, "new_password": PASSWORD,
                                             "confirm_password": PASSWORD})
    assert response.status_code == 400
    assert "新しいパスワードには、現在のパスワードと異なるものを指定してください。" in response.get_data(as_text=True)

