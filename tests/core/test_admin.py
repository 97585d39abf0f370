"""Administration: users, roles and units."""
from __future__ import annotations

from sqlalchemy import func, select

from core.db import db
from core.models import AuditEntry, OrgUnit, Role, User
from tests.conftest import login_as

NEW_USER = {"username": "yobou.tanaka", "display_name": "田中 一郎", "email": "tanaka@example.lg.jp",
            "unit_id": "1", "roles": ["procurement", "verifier"], "locale": "ja",
            "new_password": "a-long-enough-pass", "confirm_password": "a-long-enough-pass"}


def test_admin_creates_a_user_with_several_roles(client, users, app):
    login_as(client, "admin")
    response = client.post("/admin/users/new", data=NEW_USER, follow_redirects=True)
    assert "利用者 yobou.tanaka を登録しました。" in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "yobou.tanaka"))
        assert user.role_set == {Role.PROCUREMENT, Role.VERIFIER}
        assert user.unit.name == "総務課"
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "users",
                                                            AuditEntry.object_id == str(user.id))).one()
        assert entry.action == "create" and entry.username == "admin"
    fresh = app.test_client()
    login_as(fresh, "yobou.tanaka", "a-long-enough-pass")
    # The administrator's password is for the first sign-in: the user chooses their own (issue 20).
    assert fresh.get("/contracts/").headers["Location"].startswith("/account/password")
    fresh.post("/account/password", data={"current_password": "a-long-enough-pass",
                                          "new_password": "my-own-long-pass", "confirm_password": "my-own-long-pass"})
    assert fresh.get("/contracts/").status_code == 200  # procurement
    assert fresh.get("/social/").status_code == 403


def test_bad_input_gets_messages_in_japanese_and_saves_nothing(client, users, app):
    login_as(client, "admin")
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(User))
    response = client.post("/admin/users/new", data={
        **NEW_USER, "username": "admin", "email": "not-an-email", "roles": [], "confirm_password": "different"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for message in ("メールアドレスの形式が正しくありません。", "役割を一つ以上選んでください。",
                    "確認用のパスワードが一致しません。"):
        assert message in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="email-error"' in html
    # A duplicate user name (any case) is refused too.
    response = client.post("/admin/users/new", data={**NEW_USER, "username": "ADMIN"})
    assert "このユーザー名は既に使われています。" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_admin_changes_roles_and_the_change_is_audited(client, users, app):
    login_as(client, "admin")
    target = users["social"]
    client.post(f"/admin/users/{target}", data={
        "username": "social", "display_name": "social user", "unit_id": "1", "roles": ["social", "auditor"],
        "locale": "ja", "version": "1"})
    with app.app_context():
        assert db.session.get(User, target).role_set == {Role.SOCIAL, Role.AUDITOR}
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "update",
                                                            AuditEntry.object_id == str(target))).one()
        assert entry.changes == {"roles": ["social", "auditor,social"]}


def test_admin_cannot_lock_themselves_out(client, users, app):
    login_as(client, "admin")
    me = users["admin"]
    response = client.post(f"/admin/users/{me}", data={
        "username": "admin", "display_name": "admin", "unit_id": "1", "roles": ["auditor"], "locale": "ja",
        "version": "1"})
    assert "自分自身から管理者の役割を外すことはできません。" in response.get_data(as_text=True)
    client.post(f"/admin/users/{me}/active")
    with app.app_context():
        user = db.session.get(User, me)
        assert user.active and Role.ADMIN in user.role_set


def test_users_are_deactivated_never_deleted(client, users, app):
    login_as(client, "admin")
    client.post(f"/admin/users/{users['auditor']}/active")
    with app.app_context():
        assert db.session.get(User, users["auditor"]).active is False
    html = client.get("/admin/users?active=0").get_data(as_text=True)
    assert "auditor" in html and "無効" in html
    client.post(f"/admin/users/{users['auditor']}/active")
    with app.app_context():
        assert db.session.get(User, users["auditor"]).active is True
        actions = db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.object_id == str(users["auditor"]), AuditEntry.object_type == "users")).all()
        assert actions[-2:] == ["deactivate", "activate"]


def test_user_list_search_and_role_filter(client, users):
    login_as(client, "admin")
    html = client.get("/admin/users?role=verifier").get_data(as_text=True)
    body = html.split("<tbody>")[1]
    assert "verifier" in body and "procurement" not in body
    html = client.get("/admin/users?q=soc").get_data(as_text=True)
    assert "1件中 1–1件を表示" in html


def test_admin_edits_the_unit_tree(client, users, app):
    login_as(client, "admin")
    client.post("/admin/units/new", data={"name": "消防本部", "sort_order": "1", "active": "y"})
    with app.app_context():
        hq = db.session.scalar(select(OrgUnit).where(OrgUnit.name == "消防本部"))
    client.post("/admin/units/1", data={"name": "総務課", "parent_id": str(hq.id), "sort_order": "2",
                                         "active": "y", "version": "1"})
    with app.app_context():
        assert db.session.get(OrgUnit, 1).path == "消防本部 › 総務課"
    # A unit cannot go under its own child.
    response = client.post(f"/admin/units/{hq.id}", data={"name": "消防本部", "parent_id": "1", "sort_order": "1",
                                                          "active": "y", "version": "1"})
    assert "自分の下位組織を上位組織にはできません。" in response.get_data(as_text=True)
    html = client.get("/admin/units").get_data(as_text=True)
    assert "総務課" in html and "消防本部" in html


def test_unknown_records_are_404(client, users):
    login_as(client, "admin")
    assert client.get("/admin/users/9999").status_code == 404
    assert client.get("/admin/units/9999").status_code == 404


def test_admin_resets_a_password_and_ends_the_users_sessions(client, users, app):
    victim = app.test_client()
    login_as(victim, "verifier")
    login_as(client, "admin")
    short = client.post(f"/admin/users/{users['verifier']}/password",
                        data={"reset-new_password": "short", "reset-confirm_password": "short"})
    assert short.status_code == 400 and "パスワードは12文字以上にしてください。" in short.get_data(as_text=True)
    assert victim.get("/").status_code == 200
    done = client.post(f"/admin/users/{users['verifier']}/password", follow_redirects=True,
                       data={"reset-new_password": "reset-by-admin-1", "reset-confirm_password": "reset-by-admin-1"})
    assert "パスワードを再設定しました" in done.get_data(as_text=True)
    assert victim.get("/").status_code == 302
    login_as(app.test_client(), "verifier", "reset-by-admin-1")
