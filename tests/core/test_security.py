"""Headers, cookies, the secret key and error pages."""
from __future__ import annotations

import os
import stat

import pytest

from app import create_app
from tests.conftest import login_as


def test_every_response_carries_the_security_headers(client, users):
    for path in ("/login", "/static/itaku.css", "/no-such-page"):
        response = client.get(path)
        response.close()
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_script_and_load_nothing_from_outside(client, users):
    login_as(client, "admin")
    for path in ("/login", "/", "/admin/users", "/vendors/"):
        html = client.get(path).get_data(as_text=True)
        for tag in html.split("<script")[1:]:
            assert tag.split(">")[0].strip().startswith("src=\"/"), f"inline or remote script on {path}"
        assert "http://" not in html.split("<body")[0] and "https://" not in html.split("<body")[0]


def test_session_cookie_flags(client, users):
    response = client.post("/login", data={"username": "admin", "password": "correct-horse-battery"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


@pytest.mark.config(SESSION_COOKIE_SECURE=True)
def test_secure_cookie_when_configured(client, users):
    response = client.post("/login", data={"username": "admin", "password": "correct-horse-battery"})
    assert "Secure" in response.headers["Set-Cookie"]


def test_secure_cookie_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ITAKU_SESSION_COOKIE_SECURE", "1")
    monkeypatch.setenv("ITAKU_INSTANCE_PATH", str(tmp_path))
    assert create_app({"DATABASE_URL": "sqlite://"}).config["SESSION_COOKIE_SECURE"] == 1


def test_secret_key_is_generated_once_with_mode_0600(monkeypatch, tmp_path):
    monkeypatch.setenv("ITAKU_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("ITAKU_SECRET_KEY", raising=False)
    first = create_app({"DATABASE_URL": "sqlite://"}).config["SECRET_KEY"]
    second = create_app({"DATABASE_URL": "sqlite://"}).config["SECRET_KEY"]
    assert first == second and len(first) >= 64
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def test_secret_key_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ITAKU_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("ITAKU_SECRET_KEY", "from-the-environment")
    assert create_app({"DATABASE_URL": "sqlite://"}).config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("path, method, status, text", [
    ("/no-such-page", "GET", 404, "ページが見つかりません"),
    ("/admin/users", "GET", 403, "この操作は許可されていません"),
    ("/logout", "GET", 405, "この方法では操作できません"),
])
def test_error_pages_use_the_layout(client, users, path, method, status, text):
    login_as(client, "auditor")
    response = client.open(path, method=method)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert text in html and 'id="main-nav"' in html and "Traceback" not in html


@pytest.mark.config(TESTING=False, PROPAGATE_EXCEPTIONS=False)
def test_a_crash_shows_the_500_page_without_a_trace(app, users):
    def boom():
        raise RuntimeError("secret internals")

    from core.auth import access

    app.add_url_rule("/boom", "boom", access(any_user=True)(boom))
    client = app.test_client()
    login_as(client, "auditor")
    response = client.get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "システムエラーが発生しました" in html
    assert "secret internals" not in html and "Traceback" not in html
