"""API tokens: created on the account page and shown once, kept only as a
hash, revoked after a confirmation, bound to the user's current roles and
state; the API takes a token and nothing else."""
from __future__ import annotations

import hashlib
import json
import re

import pytest
from sqlalchemy import select

from core.db import db
from core.models import ApiToken, AuditEntry, Role, User
from tests.conftest import api_token, csrf_token, login_as

TOKEN = re.compile(r"itaku_[A-Za-z0-9_-]{43}")


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def create_token(client, name: str = "月次集計"):
    return client.post("/account/tokens", data={"token-name": name})


def test_a_new_token_is_shown_once_and_kept_only_as_its_hash(app, client, users):
    login_as(client, "procurement")
    response = create_token(client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    [secret] = TOKEN.findall(html)
    assert "二度と表示されません" in html
    assert "Set-Cookie" not in response.headers or secret not in response.headers["Set-Cookie"]

    again = client.get("/account").get_data(as_text=True)
    assert "月次集計" in again and secret not in again and not TOKEN.search(again)

    with app.app_context():
        token = db.session.scalars(select(ApiToken)).one()
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert token.user_id == users["procurement"] and token.revoked_at is None
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "api_tokens")).one()
        assert entry.action == "create" and entry.username == "procurement"
        assert entry.changes["name"] == "月次集計" and entry.changes["token_hash"] == "********"
        trail = json.dumps([e.changes for e in db.session.scalars(select(AuditEntry))], ensure_ascii=False)
        assert secret not in trail and token.token_hash not in trail


def test_a_token_needs_a_name(client, users):
    login_as(client, "procurement")
    response = create_token(client, "  ")
    assert response.status_code == 400
    assert not TOKEN.search(response.get_data(as_text=True))


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_creating_a_token_needs_the_forms_csrf_token(app, client, users):
    login_as(client, "procurement")
    assert create_token(client).status_code == 400
    response = client.post("/account/tokens", data={"token-name": "集計",
                                                    "token-csrf_token": csrf_token(client, "/account")})
    assert TOKEN.search(response.get_data(as_text=True))


def test_revoking_asks_first_and_is_audited(app, client, users):
    login_as(client, "procurement")
    create_token(client)
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    page = client.get("/account").get_data(as_text=True)
    form = re.search(rf'<form[^>]*action="/account/tokens/{token_id}/revoke"[^>]*>', page).group(0)
    assert "data-confirm" in form and 'method="post"' in form

    response = client.post(f"/account/tokens/{token_id}/revoke")
    assert response.status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert "APIトークン「月次集計」を無効にしました。" in page and "有効なトークンはありません。" in page
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is not None
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "api_tokens")
                                   .order_by(AuditEntry.seq.desc())).first()
        assert entry.action == "revoke" and entry.username == "procurement"


def test_nobody_revokes_anothers_token(app, client, users):
    api_token(app, "procurement")
    login_as(client, "admin")
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None


# --- the token at the API ------------------------------------------------------------

def test_the_token_signs_the_api_in_and_its_use_is_noted(app, client, users):
    login_as(client, "procurement")
    [secret] = TOKEN.findall(create_token(client).get_data(as_text=True))
    assert app.test_client().get("/api/v1/vendors", headers=bearer(secret)).status_code == 200
    with app.app_context():
        assert db.session.scalars(select(ApiToken)).one().last_used_at is not None
    assert "月次集計" in client.get("/account").get_data(as_text=True)


def test_a_revoked_token_stops_working(app, client, users):
    secret = api_token(app, "procurement")
    assert app.test_client().get("/api/v1/vendors", headers=bearer(secret)).status_code == 200
    login_as(client, "procurement")
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    client.post(f"/account/tokens/{token_id}/revoke")
    assert app.test_client().get("/api/v1/vendors", headers=bearer(secret)).status_code == 401


def test_a_token_acts_with_its_users_roles_and_state_at_each_request(app, users):
    secret = api_token(app, "procurement")
    api = app.test_client()
    assert api.get("/api/v1/vendors", headers=bearer(secret)).status_code == 200
    with app.app_context():
        user = db.session.get(User, users["procurement"])
        user.set_roles([Role.SOCIAL])
        db.session.commit()
    assert api.get("/api/v1/vendors", headers=bearer(secret)).status_code == 403
    with app.app_context():
        user = db.session.get(User, users["procurement"])
        user.set_roles([Role.PROCUREMENT])
        user.active = False
        db.session.commit()
    response = api.get("/api/v1/vendors", headers=bearer(secret))
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


@pytest.mark.parametrize("authorization", ["", "Bearer", "Bearer itaku_wrong", "Basic cHJvY3VyZW1lbnQ6eA==",
                                           "itaku_" + "x" * 43])
def test_without_a_valid_bearer_token_the_api_answers_401(app, users, authorization):
    response = app.test_client().get("/api/v1/vendors", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["status"] == 401


def test_the_api_never_takes_the_session_cookie(app, client, users):
    login_as(client, "procurement")
    response = client.get("/api/v1/vendors")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert "Set-Cookie" not in response.headers  # the session is neither read nor written
    assert client.post("/api/v1/vendors", json={"name": "x"}).status_code == 401
    assert client.get("/vendors/").status_code == 200  # the browser is still signed in


def test_a_token_opens_no_page(app, users):
    secret = api_token(app, "procurement")
    response = app.test_client().get("/vendors/", headers=bearer(secret))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def _last_used(app):
    with app.app_context():
        return db.session.scalars(select(ApiToken)).one().last_used_at


def _set_last_used(app, value):
    with app.app_context():
        db.session.scalars(select(ApiToken)).one().last_used_at = value
        db.session.commit()


def test_the_last_use_is_written_at_most_once_a_minute(app, users):
    import datetime as dt

    from core.api_tokens import LAST_USED_PRECISION
    from core.timeutil import utcnow

    secret = api_token(app, "procurement")
    api = app.test_client()
    assert _last_used(app) is None
    assert api.get("/api/v1/vendors", headers=bearer(secret)).status_code == 200
    first = _last_used(app)
    assert first is not None
    assert api.get("/api/v1/vendors", headers=bearer(secret)).status_code == 200
    assert _last_used(app) == first  # a read within the minute writes nothing
    stale = utcnow() - LAST_USED_PRECISION - dt.timedelta(seconds=5)
    _set_last_used(app, stale)
    assert api.get("/api/v1/vendors", headers=bearer(secret)).status_code == 200
    assert _last_used(app) > stale


def test_a_refused_request_still_counts_as_the_tokens_use(app, users):
    secret = api_token(app, "social")
    assert app.test_client().get("/api/v1/contracts", headers=bearer(secret)).status_code == 403
    assert _last_used(app) is not None


def test_noting_the_use_commits_nothing_of_the_requests_work(app, users):
    """The last use is written before the request's work, in its own short
    transaction: a write the request then fails is not committed with it."""
    secret = api_token(app, "procurement")
    response = app.test_client().post("/api/v1/vendors", json={"name": ""}, headers=bearer(secret))
    assert response.status_code == 422
    assert _last_used(app) is not None
    with app.app_context():
        assert db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "vendors")).all() == []
