"""A POST without its CSRF token changes nothing; a stale edit is refused."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from core.db import db
from core.models import AuditEntry, OrgUnit, User
from tests.conftest import csrf_token, login_as


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_post_without_csrf_token_is_refused_and_changes_nothing(client, users, app):
    login_as(client, "admin")
    with app.app_context():
        entries_before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    response = client.post("/admin/units/1", data={"name": "乗っ取られた課", "version": "1", "sort_order": "0"})
    assert response.status_code == 400
    assert "フォームの有効期限が切れたか、不正な送信です" in response.get_data(as_text=True)
    response = client.post(f"/admin/users/{users['verifier']}/active")
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(OrgUnit, 1).name == "総務課"
        assert db.session.get(User, users["verifier"]).active
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries_before


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_post_with_csrf_token_is_accepted(client, users, app):
    login_as(client, "admin")
    token = csrf_token(client, "/admin/units/1")
    response = client.post("/admin/units/1", data={
        "csrf_token": token, "name": "総務課（改）", "version": "1", "sort_order": "0", "active": "y"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(OrgUnit, 1).name == "総務課（改）"


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_login_form_needs_its_token(client, users):
    response = client.post("/login", data={"username": "admin", "password": "correct-horse-battery"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_stale_edit_is_refused_and_newer_data_shown(client, users, app):
    login_as(client, "admin")
    # Two administrators open the same unit (version 1)…
    form = client.get("/admin/units/1").get_data(as_text=True)
    assert re.search(r'name="version" type="hidden" value="1"', form)
    other = app.test_client()
    login_as(other, "admin")
    # …the other one saves first…
    assert other.post("/admin/units/1", data={"name": "総務課A", "version": "1", "sort_order": "0",
                                              "active": "y"}).status_code == 302
    # …and this save, from the form opened at version 1, is refused.
    response = client.post("/admin/units/1", data={"name": "総務課B", "version": "1", "sort_order": "0",
                                                   "active": "y"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "これは他の利用者が先に更新しました" in html
    assert 'value="総務課A"' in html  # the newer data is shown
    assert 'name="version" type="hidden" value="2"' in html
    with app.app_context():
        assert db.session.get(OrgUnit, 1).name == "総務課A"


def test_stale_user_edit_is_refused(client, users, app):
    login_as(client, "admin")
    target = users["verifier"]
    data = {"username": "verifier", "display_name": "確認 一郎", "unit_id": "1", "roles": ["verifier"],
            "locale": "ja", "version": "1"}
    assert client.post(f"/admin/users/{target}", data=data).status_code == 302
    response = client.post(f"/admin/users/{target}", data={**data, "display_name": "確認 二郎"})
    assert response.status_code == 409
    with app.app_context():
        assert db.session.get(User, target).display_name == "確認 一郎"


def test_concurrent_save_after_the_check_is_still_refused(app, users):
    """Between the form's version check and the UPDATE another save may land:
    the version column makes the UPDATE itself fail (StaleDataError)."""
    from sqlalchemy.orm.exc import StaleDataError

    with app.app_context():
        unit = db.session.get(OrgUnit, 1)
        unit.name = "先に読んだ内容"
        with db.engine.begin() as other:
            other.exec_driver_sql("UPDATE org_units SET version = version + 1 WHERE id = 1")
        with pytest.raises(StaleDataError):
            db.session.commit()
