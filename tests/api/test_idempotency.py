"""API retries with ``Idempotency-Key`` (issue 15 §5): a client that lost
the answer to a POST sends it again with the same key and gets the first
answer, not a second record."""
from __future__ import annotations

import requests
from sqlalchemy import func, select

from core.db import db
from tests.conftest import api_token
from tests.served import together
from vendors.models import Vendor

VENDOR = {"name": "再送商事", "unit": "総務課", "status": "候補"}


def vendors(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Vendor))


def bearer(app, user="procurement", key=None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {api_token(app, user)}"}
    return {**headers, "Idempotency-Key": key} if key else headers


def test_a_retry_gets_the_first_answer_and_creates_nothing(app, users, client):
    headers = bearer(app, key="order-2026-0001")
    before = vendors(app)
    first = client.post("/api/v1/vendors", json=VENDOR, headers=headers)
    assert first.status_code == 201
    again = client.post("/api/v1/vendors", json=VENDOR, headers=headers)
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert vendors(app) == before + 1
    # Without a key every POST is a new request, as before.
    assert client.post("/api/v1/vendors", json=VENDOR, headers=bearer(app)).status_code == 201
    assert vendors(app) == before + 2


def test_the_same_key_with_another_request_is_refused(app, users, client):
    headers = bearer(app, key="order-2026-0002")
    assert client.post("/api/v1/vendors", json=VENDOR, headers=headers).status_code == 201
    before = vendors(app)
    other = client.post("/api/v1/vendors", json={**VENDOR, "name": "別の会社"}, headers=headers)
    assert other.status_code == 422
    assert other.mimetype == "application/problem+json" and "Idempotency-Key" in other.get_json()["detail"]
    assert vendors(app) == before


def test_keys_are_the_users_own_and_a_refused_request_is_not_kept(app, users, client):
    key = "shared-looking-key"
    assert client.post("/api/v1/vendors", json=VENDOR, headers=bearer(app, key=key)).status_code == 201
    # Another user's identical key is another request.
    assert client.post("/api/v1/vendors", json=VENDOR, headers=bearer(app, "admin", key)).status_code == 403
    # A refused request keeps nothing: corrected and sent with the same key, it runs.
    headers = bearer(app, key="fix-then-retry")
    assert client.post("/api/v1/vendors", json={"name": "未完成"}, headers=headers).status_code == 422
    assert client.post("/api/v1/vendors", json={"name": "未完成"}, headers=headers).status_code == 422
    before = vendors(app)
    assert client.post("/api/v1/vendors", json={**VENDOR, "name": "未完成"}, headers=headers).status_code == 201
    assert vendors(app) == before + 1


def test_a_malformed_key_is_a_400(app, users, client):
    for key in ("", "x" * 256, "bad\u3042key"):
        headers = {**bearer(app), "Idempotency-Key": key}
        answer = client.post("/api/v1/vendors", json=VENDOR, headers=headers)
        assert answer.status_code == 400, key


def test_the_document_names_the_header_on_every_post(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    posts = [op for path in document["paths"].values() for method, op in path.items() if method == "post"]
    assert posts
    for op in posts:
        assert any(p.get("name") == "Idempotency-Key" and p["in"] == "header" for p in op.get("parameters", []))


def test_first_attempts_at_the_same_moment_create_one_record(app, users, served_app):
    headers = bearer(app, key="lost-answer-retry")
    before = vendors(app)
    post = lambda: requests.post(served_app.url + "/api/v1/vendors", json=VENDOR, headers=headers,  # noqa: E731
                                 timeout=60)
    answers = together([post] * 6)
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}, statuses
    assert 201 in statuses
    assert vendors(app) == before + 1
    created = {a.json()["id"] for a in answers if a.status_code == 201}
    assert len(created) == 1
    for answer in answers:
        if answer.status_code == 409:  # the loser is told to retry, and the retry gets the answer
            assert answer.headers.get("Retry-After")
    retry = requests.post(served_app.url + "/api/v1/vendors", json=VENDOR, headers=headers, timeout=60)
    assert retry.status_code == 201 and retry.json()["id"] in created


def test_a_claim_left_by_a_process_that_died_is_taken_over(app, users, client):
    """A worker killed between claiming the key and committing its work
    leaves a claim without an answer (and no record: the work rolled back).
    The client's retry must not be told "in progress" for a day: once the
    claim is older than any request can run, the retry does the work."""
    import datetime as dt

    from core.models import IdempotencyKey, User
    from core.timeutil import utcnow

    headers = bearer(app, key="order-2026-crash")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "procurement"))
        db.session.add(IdempotencyKey(user_id=user.id, key="order-2026-crash", fingerprint="0" * 64,
                                      created_at=utcnow() - dt.timedelta(minutes=2)))
        db.session.commit()
    before = vendors(app)
    retry = client.post("/api/v1/vendors", json=VENDOR, headers=headers)
    assert retry.status_code == 201 and vendors(app) == before + 1
    assert client.post("/api/v1/vendors", json=VENDOR, headers=headers).get_json() == retry.get_json()
