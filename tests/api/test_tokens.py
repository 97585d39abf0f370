"""API tokens: created on the account page and shown once, kept only as a
hash, revoked after a confirmation; both audited."""
from __future__ import annotations

import hashlib
import json
import re

import pytest
from sqlalchemy import select

from core.db import db
from core.models import ApiToken, AuditEntry
from tests.conftest import api_token, csrf_token, login_as

TOKEN = re.compile(r"itaku_[A-Za-z0-9_-]{43}")


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
