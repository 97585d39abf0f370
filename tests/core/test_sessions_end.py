"""Sign-out ends the session on the server (issue 15 §6): a copy of the
cookie taken before signing out no longer signs anyone in, and
re-activating a user does not bring back their old sessions or tokens."""
from __future__ import annotations

from tests.conftest import api_token, login_as


def test_a_cookie_replayed_after_sign_out_is_signed_out(app, users):
    browser = app.test_client()
    login_as(browser, "verifier")
    copied = browser.get_cookie("session").value
    assert browser.get("/").status_code == 200
    assert browser.post("/logout").status_code == 302
    assert browser.get("/").status_code == 302

    thief = app.test_client()
    thief.set_cookie("session", copied)
    answer = thief.get("/")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_sign_out_ends_the_users_other_sessions_too(app, users):
    """Rotating the user's token signs out every browser of theirs: the
    price of keeping no per-session record."""
    first, second = app.test_client(), app.test_client()
    login_as(first, "verifier")
    login_as(second, "verifier")
    first.post("/logout")
    assert second.get("/").status_code == 302


def test_reactivation_brings_back_no_old_session_or_token(app, users):
    browser = app.test_client()
    login_as(browser, "verifier")
    copied = browser.get_cookie("session").value
    secret = api_token(app, "verifier")
    bearer = {"Authorization": f"Bearer {secret}"}
    assert browser.get("/api/v1/dashboard", headers=bearer).status_code == 200

    admin = app.test_client()
    login_as(admin, "admin")
    admin.post(f"/admin/users/{users['verifier']}/active")  # deactivate
    admin.post(f"/admin/users/{users['verifier']}/active")  # and activate again

    replay = app.test_client()
    replay.set_cookie("session", copied)
    assert replay.get("/").status_code == 302
    assert app.test_client().get("/api/v1/dashboard", headers=bearer).status_code == 401
    # The user signs in afresh and works as before.
    fresh = app.test_client()
    login_as(fresh, "verifier")
    assert fresh.get("/").status_code == 200
