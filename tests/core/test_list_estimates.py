"""Page counts of very large lists (issue 21): on PostgreSQL the unfiltered
audit trail shows PostgreSQL's estimate of its size, said to be one
(「約…件」), instead of counting every entry; a filtered list, the last pages
and SQLite keep the exact count."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, text

import core.lists
from core.db import db
from core.models import AuditEntry
from tests.conftest import DEMO_PASSWORD, login_as


def _status(client, url: str) -> str:
    body = client.get(url).get_data(as_text=True)
    return re.search(r'<p class="mb-0" role="status">(.*?)</p>', body, re.S).group(1)


def _postgres(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def test_the_trail_counts_exactly_where_counting_is_cheap(demo):
    """SQLite counts from an index; a small table on PostgreSQL is counted too."""
    client = demo.test_client()
    login_as(client, "auditor", DEMO_PASSWORD)
    with demo.app_context():
        live = db.session.scalar(select(func.count()).select_from(AuditEntry))
    status = _status(client, "/audit/")
    assert status.startswith(f"{live}件中") and "約" not in status


@pytest.fixture
def estimating(demo, monkeypatch):
    monkeypatch.setattr(core.lists, "ESTIMATE_ABOVE", 10)  # the demo's trail stands for 260,000 entries
    with demo.app_context():
        db.session.execute(text("ANALYZE audit_entries" if _postgres(demo) else "ANALYZE"))
        db.session.commit()
    client = demo.test_client()
    login_as(client, "auditor", DEMO_PASSWORD)
    return client


def test_the_unfiltered_trail_says_its_count_is_an_estimate(demo, estimating):
    status = _status(estimating, "/audit/")
    if not _postgres(demo):  # the estimate is PostgreSQL's (pg_class.reltuples); SQLite counts from an index
        with demo.app_context():
            live = db.session.scalar(select(func.count()).select_from(AuditEntry))
        assert status.startswith(f"{live}件中") and "約" not in status
        return
    assert status.startswith("約") and "推定値" in status
    with demo.app_context():
        estimate = db.session.scalar(text("SELECT reltuples::bigint FROM pg_class WHERE oid = 'audit_entries'::regclass"))
    assert f"約{estimate:,}件中 1–20件" in status
    with demo.app_context():
        db.session.execute(text("UPDATE users SET locale = 'en' WHERE username = 'auditor'"))
        db.session.commit()
    assert "of about" in _status(estimating, "/audit/")


def test_a_filtered_trail_and_its_last_page_count_exactly(demo, estimating):
    with demo.app_context():
        action = db.session.scalar(select(AuditEntry.action).limit(1))
        filtered = db.session.scalar(select(func.count()).where(AuditEntry.action == action))
        live = db.session.scalar(select(func.count()).select_from(AuditEntry))
    status = _status(estimating, f"/audit/?action={action}")
    assert status.startswith(f"{filtered}件中") and "約" not in status
    last = (live + 19) // 20
    assert _status(estimating, f"/audit/?page={last}").startswith(f"{live}件中")
