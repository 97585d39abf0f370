"""core.db.distinct_values: the filter choices of a big table (the audit
trail), by skipping through an index instead of reading every row."""
from __future__ import annotations

from sqlalchemy import select

from core import audit
from core.db import db, distinct_values
from core.models import AuditEntry


def test_every_value_once_in_order_without_nulls(app, users):
    with app.app_context():
        audit._append(db.session.connection(), [
            {"action": "zz-last", "object_type": "aa-first", "object_id": "1"},
            {"action": "zz-last", "object_type": "aa-first", "object_id": "2"},
            {"action": "login", "object_type": None, "object_id": None},
        ], audit.Actor(None, "gen-data"))
        for attribute in (AuditEntry.action, AuditEntry.object_type, AuditEntry.username):
            stored = db.session.scalars(select(attribute)).all()
            expected = sorted({value for value in stored if value is not None})
            assert distinct_values(attribute) == expected
        assert None in db.session.scalars(select(AuditEntry.object_type)).all()  # the NULLs were there
        assert "gen-data" in distinct_values(AuditEntry.username)
        assert distinct_values(AuditEntry.action)[-1] == "zz-last"
        assert distinct_values(AuditEntry.object_type)[0] == "aa-first"
