"""Imports and the audit trail's lock (issue 15, section 4): a preview takes
no lock on the chain's head and writes no entry; a confirmation appends
its entries in one step right before it commits, so the head row is held
for a moment, not for the whole import; the chain stays valid."""
from __future__ import annotations

import io
import re

from sqlalchemy import event, func, select

from core import audit
from core.db import db
from core.models import AuditEntry
from tests.conftest import login_as
from vendors.models import Vendor


def vendor_csv(rows: int) -> bytes:
    lines = ["名称,法人番号,担当組織,状態"]
    lines += [f"ロック試験{i}株式会社,,総務課,候補" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


class Statements:
    """Every SQL statement the app runs while recording."""

    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, *_args):
        self.seen.append(" ".join(statement.split()).lower())

    def index(self, pattern: str) -> list[int]:
        return [i for i, s in enumerate(self.seen) if re.search(pattern, s)]


HEAD_LOCK = r"^update audit_head set seq"
ENTRY_INSERT = r"^insert into audit_entries"
VENDOR_WRITE = r"^(insert into|update) vendors"


def test_a_preview_takes_no_lock_on_the_trail_and_writes_nothing(app, users):
    client = app.test_client()
    login_as(client, "procurement")
    with app.app_context():
        engine = db.engine
        before = db.session.scalar(select(func.max(AuditEntry.seq)))
        vendors = db.session.scalar(select(func.count()).select_from(Vendor))
    with Statements(engine) as statements:
        preview = client.post("/vendors/import", data={"file": (io.BytesIO(vendor_csv(40)), "v.csv")},
                              content_type="multipart/form-data")
    assert preview.status_code == 200 and "この内容で取り込む（40行）" in preview.get_data(as_text=True)
    assert statements.index(HEAD_LOCK) == [] and statements.index(ENTRY_INSERT) == []
    with app.app_context():
        assert db.session.scalar(select(func.max(AuditEntry.seq))) == before
        assert db.session.scalar(select(func.count()).select_from(Vendor)) == vendors


def test_a_confirmation_locks_the_trail_once_right_before_it_commits(app, users):
    client = app.test_client()
    login_as(client, "procurement")
    preview = client.post("/vendors/import", data={"file": (io.BytesIO(vendor_csv(40)), "v.csv")},
                          content_type="multipart/form-data")
    token = re.search(r'name="token" value="([0-9a-f]+)"', preview.get_data(as_text=True)).group(1)
    with app.app_context():
        engine = db.engine
        before = db.session.scalar(select(func.max(AuditEntry.seq)))
    with Statements(engine) as statements:
        done = client.post("/vendors/import/confirm", data={"token": token, "filename": "v.csv"})
    assert done.status_code == 302
    locks, writes = statements.index(HEAD_LOCK), statements.index(VENDOR_WRITE)
    assert len(writes) >= 40
    # One lock, taken after the last of the import's writes: the chain's
    # head is held only while the entries are appended and committed.
    assert len(locks) == 1 and locks[0] > max(writes), (locks, writes[-3:])
    assert len(statements.seen) - locks[0] < 10
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.seq > before)
                                     .order_by(AuditEntry.seq)).all()
        assert [e.action for e in entries].count("create") == 40
        assert entries[-1].action == "import" and entries[-1].changes["new"] == 40
        assert audit.verify_chain(db.session.connection()).ok


def test_a_rolled_back_savepoint_drops_its_deferred_entries(app):
    """Deferred entries follow their transaction: a savepoint rolled back
    takes its entries with it; the rest are appended at commit."""
    from core.db import savepoint
    from core.models import OrgUnit

    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AuditEntry))
        with audit.deferred():
            db.session.add(OrgUnit(name="残る課"))
            db.session.flush()
            with savepoint() as nested:
                db.session.add(OrgUnit(name="消える課"))
                db.session.flush()
                nested.rollback()
            db.session.commit()
        names = [(e.changes or {}).get("name") for e in db.session.scalars(
            select(AuditEntry).order_by(AuditEntry.seq)).all()[before:]]
        assert names == ["残る課"]
        assert audit.verify_chain(db.session.connection()).ok
