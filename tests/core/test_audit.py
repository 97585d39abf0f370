"""The audit trail: one entry per change, in the same transaction, hash-chained."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from contracts.models import ContractStatus
from core import audit
from core.db import db
from core.models import AuditEntry, OrgUnit
from tests import factories
from tests.conftest import login_as


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def vendors(app, users):
    """Three vendors (ids), the first with a signed contract: with the
    users, a trail of more than 30 entries."""
    with app.app_context():
        made = [factories.vendor("株式会社道央情報システム", kana="ドウオウジョウホウシステム"),
                factories.vendor("空知ネットワーク株式会社", kana="ソラチネットワーク"),
                factories.vendor("株式会社みなとウェブ制作", kana="ミナトウェブセイサク")]
        factories.contract(vendor_=made[0], status=ContractStatus.SIGNED)
        db.session.commit()
        return [vendor.id for vendor in made]


def test_a_change_and_its_entry_commit_together(app):
    with app.app_context():
        before = count(AuditEntry)
        unit = OrgUnit(name="警防課")
        db.session.add(unit)
        db.session.commit()
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert count(AuditEntry) == before + 1
        assert (entry.action, entry.object_type, entry.object_id) == ("create", "org_units", str(unit.id))
        assert entry.changes["name"] == "警防課"
        unit.name = "予防課"
        db.session.commit()
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry.action == "update"
        assert entry.changes == {"name": ["警防課", "予防課"]}


def test_a_rolled_back_change_leaves_no_entry(app):
    with app.app_context():
        before = count(AuditEntry)
        db.session.add(OrgUnit(name="総務課"))
        db.session.flush()  # the entry is written here…
        db.session.rollback()  # …and goes with the change
        assert count(AuditEntry) == before
        assert count(OrgUnit) == 0
        assert audit.verify_chain(db.session.connection()).ok


def test_a_failed_write_leaves_neither_change_nor_entry(client, users, app):
    with app.app_context():
        before = count(AuditEntry), count(OrgUnit)
    login_as(client, "admin")
    # A duplicate name is refused with a message: nothing is half-written.
    response = client.post("/admin/units/new", data={"name": "総務課", "sort_order": "0", "active": "y"})
    assert response.status_code == 400
    assert "この名称の組織は既にあります。" in response.get_data(as_text=True)
    with app.app_context():
        assert count(OrgUnit) == before[1]
        assert count(AuditEntry) == before[0] + 1  # only the sign-in


def test_entries_name_the_acting_user_and_redact_passwords(client, users, app):
    login_as(client, "admin")
    client.post(f"/admin/users/{users['verifier']}/password",
                data={"reset-new_password": "another-long-secret", "reset-confirm_password": "another-long-secret"})
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "password_reset")).one()
        assert entry.username == "admin"
        assert entry.object_id == str(users["verifier"])
        assert entry.changes["password_hash"] == [audit.REDACTED, audit.REDACTED]
        assert "another-long-secret" not in str(entry.changes)


def test_chain_verifies_and_links_every_entry(app, vendors):
    with app.app_context():
        report = audit.verify_chain(db.session.connection())
        assert report.ok and report.checked > 30
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        assert entries[0].prev_hash == audit.GENESIS_HASH
        assert all(later.prev_hash == earlier.hash for earlier, later in zip(entries, entries[1:], strict=False))


def test_the_database_refuses_to_change_an_entry(app, vendors):
    with app.app_context():
        with pytest.raises(DBAPIError):
            db.session.execute(text("UPDATE audit_entries SET username = 'mallory' WHERE seq = 3"))
        db.session.rollback()
        with pytest.raises(DBAPIError):
            db.session.execute(text("DELETE FROM audit_entries WHERE seq = 3"))
        db.session.rollback()


def _drop_guard():
    """What someone with direct database access could do first."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("DROP TRIGGER audit_entries_no_update"))
        db.session.execute(text("DROP TRIGGER audit_entries_no_delete"))
    else:
        db.session.execute(text("DROP TRIGGER audit_entries_no_change ON audit_entries"))


@pytest.mark.parametrize("tamper, reason", [
    ("UPDATE audit_entries SET username = 'mallory' WHERE seq = 7", "content does not match its hash"),
    ("UPDATE audit_entries SET changes = NULL WHERE seq = 7", "content does not match its hash"),
    ("DELETE FROM audit_entries WHERE seq = 7", "missing entry (sequence gap)"),
])
def test_audit_verify_finds_the_first_tampered_entry(app, vendors, tamper, reason):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit-verify"])
    assert ok.exit_code == 0 and ok.output.startswith("OK:")
    with app.app_context():
        _drop_guard()
        db.session.execute(text(tamper))
        db.session.commit()
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert f"BROKEN at entry #7: {reason}" in result.output


def test_audit_verify_finds_entries_cut_from_the_end(app, vendors):
    with app.app_context():
        last = db.session.scalar(select(func.max(AuditEntry.seq)))
        _drop_guard()
        db.session.execute(text("DELETE FROM audit_entries WHERE seq = :seq"), {"seq": last})
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert "entries removed" in result.output


def test_auditor_browses_filters_and_exports_the_trail(app, vendors):
    client = app.test_client()
    login_as(client, "auditor")
    page = client.get("/audit/?action=create&object_type=vendors").get_data(as_text=True)
    assert "株式会社道央情報システム" in page
    assert "ログイン" not in page.split("<tbody>")[1]  # filtered to creations only
    csv_response = client.get("/audit/export.csv?object_type=vendors")
    body = csv_response.get_data(as_text=True)
    csv_response.close()
    assert csv_response.mimetype == "text/csv"
    assert body.startswith("\ufeff連番,日時,利用者,操作")
    assert body.count("\n") == 1 + len(vendors)  # header and one creation per vendor
    assert "株式会社道央情報システム" in body
    verify_page = client.get("/audit/verify").get_data(as_text=True)
    assert "異常はありません" in verify_page


def test_bad_date_filter_gets_a_message_not_an_error(app, vendors):
    client = app.test_client()
    login_as(client, "auditor")
    response = client.get("/audit/?date_from=2026-13-45")
    assert response.status_code == 200
    assert "日付はYYYY-MM-DDの形で入力してください" in response.get_data(as_text=True)


def test_date_range_filter(app, vendors):
    client = app.test_client()
    login_as(client, "auditor")
    html = client.get("/audit/?date_from=2000-01-01&date_to=2000-01-02").get_data(as_text=True)
    assert "該当するものはありません。" in html


def test_record_history_shows_on_its_page(app, vendors):
    client = app.test_client()
    login_as(client, "procurement")
    html = client.get(f"/vendors/{vendors[0]}").get_data(as_text=True)
    history = html[html.index('id="history-heading"'):]
    assert "登録" in history and "ドウオウジョウホウシステム" in history


def test_concurrent_writers_never_fork_the_chain(app):
    """Several workers (threads here, processes or servers in production)
    append at once: the head row serialises them, so the chain stays whole."""
    import threading

    from core import audit as trail

    workers, each = 6, 15
    errors = []

    def work(n):
        try:
            with app.app_context():
                for i in range(each):
                    trail.set_actor(trail.Actor(None, f"worker{n}"))
                    db.session.add(OrgUnit(name=f"並行{n}-{i}"))
                    db.session.flush()
                    trail.log("print", object_type="test", object_id=f"{n}-{i}")
                    db.session.commit()
        except Exception as error:  # reported below, with the thread's own traceback lost
            errors.append(repr(error))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        report = audit.verify_chain(db.session.connection())
        assert report.ok and report.checked == workers * each * 2
        seqs = db.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all()
        assert seqs == list(range(1, workers * each * 2 + 1))


def test_the_trail_names_actions_and_objects_in_the_readers_language(app, vendors):
    with app.app_context():
        audit.log("frobnicate", object_type="widgets", object_id=7)  # unknown to the labels: shown as stored
        db.session.commit()
    client = app.test_client()
    login_as(client, "auditor")
    rows = client.get("/audit/?action=create&object_type=vendors").get_data(as_text=True).split("<tbody>")[1]
    # named by the record's name and linked to it (issue 20), no longer 「委託事業者 #1」
    assert (f'<td class="cell-status">登録</td><td class="cell-title">委託事業者 <a href="/vendors/{vendors[0]}">株式会社道央情報システム</a></td>'
            in rows)
    unknown = client.get("/audit/?object_type=widgets").get_data(as_text=True)
    assert ('<td class="cell-status">frobnicate</td><td class="cell-title">widgets #7</td>') in unknown.split("<tbody>")[1]
    assert '<option value="frobnicate">frobnicate</option>' in unknown
    client.post("/language", data={"lang": "en", "next": "/audit/"})
    page = client.get("/audit/?action=create&object_type=vendors").get_data(as_text=True)
    assert (f'<td class="cell-status">Created</td><td class="cell-title">Vendors <a href="/vendors/{vendors[0]}">株式会社道央情報システム</a></td>'
            in page.split("<tbody>")[1])
    assert '<option value="login">Sign in</option>' in page
    history = client.get(f"/vendors/{vendors[0]}").get_data(as_text=True).split('id="history-heading"')[1]
    assert "<td>Created</td><td>Vendors" in history


def test_the_updates_of_one_save_are_entered_in_a_stable_order(app):
    """Records changed together appear in the trail by kind and id, not in
    whatever order the session happens to hold them (which changed from run
    to run, and with it every later hash)."""
    with app.app_context():
        units = [OrgUnit(name=f"課{i:02d}") for i in range(30)]
        db.session.add_all(units)
        db.session.commit()
        names = {unit: unit.name for unit in units}  # loaded first: no flush between the changes
        for unit in reversed(units):
            unit.name = names[unit] + "（改）"
        db.session.commit()
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "update")
                                     .order_by(AuditEntry.seq)).all()
        assert [int(e.object_id) for e in entries] == sorted(unit.id for unit in units)
