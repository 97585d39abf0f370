"""Commands: demo, create-admin, audit-verify, backup; and the migrations."""
from __future__ import annotations

import shutil
import warnings
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from app import create_app
from core.db import db
from core.models import AuditEntry, User
from core.textkey import include_in_migrations
from tests.conftest import BASE_CONFIG, DEMO_PASSWORD, login_as


def table_counts(app) -> dict[str, int]:
    with app.app_context():
        names = [t for t in inspect(db.engine).get_table_names() if t != "alembic_version"]
        return {t: db.session.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar() for t in names}


def test_demo_loads_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Demo data loaded" in first.output
    for name in ("admin", "procurement", "verifier", "social", "auditor"):
        assert name in first.output
    counts = table_counts(app)
    second = runner.invoke(args=["demo"])
    assert "nothing changed" in second.output
    assert table_counts(app) == counts


def test_demo_users_can_sign_in_with_their_role(demo):
    for name in ("admin", "procurement", "verifier", "social", "auditor"):
        client = demo.test_client()
        login_as(client, name, DEMO_PASSWORD)
        with demo.app_context():
            user = db.session.scalar(select(User).where(User.username == name))
            assert [r.value for r in user.role_set] == [name]


def test_demo_covers_every_status(demo):
    from cloud.models import CloudService, ServiceStatus
    from contracts.models import Contract, ContractStatus
    from vendors.models import Vendor, VendorStatus

    with demo.app_context():
        for model, column, enum in ((Vendor, Vendor.status, VendorStatus), (Contract, Contract.status, ContractStatus),
                                    (CloudService, CloudService.status, ServiceStatus)):
            assert set(db.session.scalars(select(column).distinct())) == set(enum), model.__name__


def test_create_admin_asks_for_the_password_twice(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "chief", "--name", "消防長"],
                           input="a-long-admin-secret\na-long-admin-secret\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Password") >= 1 and "Repeat for confirmation" in result.output
    client = app.test_client()
    login_as(client, "chief", "a-long-admin-secret")
    assert client.get("/admin/users").status_code == 200


def test_create_admin_refuses_a_mismatch_then_a_weak_password(app):
    runner = app.test_cli_runner()
    mismatch = runner.invoke(args=["create-admin", "chief"], input="a-long-admin-secret\nsomething-else-123\n")
    assert mismatch.exit_code != 0
    weak = runner.invoke(args=["create-admin", "chief"], input="short\nshort\n")
    assert weak.exit_code != 0 and "12" in weak.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "chief")) is None


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as connection, warnings.catch_warnings():
        # SQLite's reflection skips an index on expressions (the vendors' order by
        # reading, the keys' last characters: migration 0030), and Alembic then
        # skips the model's one too.
        warnings.filterwarnings("ignore", ".*expression-based index '?ix_[a-z_]+_(reading_order|search_key_end)")
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "include_name": include_in_migrations})
        assert compare_metadata(context, db.metadata) == []


def test_backup_restores_every_record(demo, tmp_path):
    if demo.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # PostgreSQL is backed up with pg_dump (README): the command says so.
        result = demo.test_cli_runner().invoke(args=["backup", str(tmp_path)])
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    storage = Path(demo.config["STORAGE_PATH"])
    (storage / "ab").mkdir(parents=True, exist_ok=True)  # the demo stores files in such folders too
    (storage / "ab" / "test-evidence.pdf").write_bytes(b"%PDF-1.4 demo")
    runner = demo.test_cli_runner()
    result = runner.invoke(args=["backup", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    assert "integrity ok, audit chain ok" in result.output
    [copy] = list((tmp_path / "backups").iterdir())
    # Restore: put the copy where a fresh installation keeps its database.
    restored_db = tmp_path / "restored" / "itaku.db"
    restored_db.parent.mkdir()
    shutil.copyfile(copy / "itaku.db", restored_db)
    restored = create_app({**BASE_CONFIG, "DATABASE_URL": f"sqlite:///{restored_db}",
                           "STORAGE_PATH": str(copy / "files")})
    assert table_counts(restored) == table_counts(demo)
    assert (copy / "files" / "ab" / "test-evidence.pdf").read_bytes() == b"%PDF-1.4 demo"
    verify = restored.test_cli_runner().invoke(args=["audit-verify"])
    assert verify.exit_code == 0
    login_as(restored.test_client(), "auditor", DEMO_PASSWORD)
    with restored.app_context():
        db.engine.dispose()


def test_backup_while_a_transaction_is_open_copies_the_last_commit(app, users, tmp_path):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return  # pg_dump's business (see test_backup_restores_every_record)
    with app.app_context():
        users_before = db.session.scalar(select(func.count()).select_from(User))
        # Another connection holds uncommitted work (SQLite's write lock)…
        other = db.engine.connect()
        transaction = other.begin()
        other.execute(text("UPDATE users SET display_name = '書きかけ'"))
        try:
            result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "backups")])
        finally:
            transaction.rollback()
            other.close()
    assert result.exit_code == 0, result.output
    [copy] = list((tmp_path / "backups").iterdir())
    restored = create_app({**BASE_CONFIG, "DATABASE_URL": f"sqlite:///{copy / 'itaku.db'}"})
    with restored.app_context():
        names = db.session.scalars(select(User.display_name)).all()
        assert len(names) == users_before and "書きかけ" not in names
        db.engine.dispose()


def test_audit_verify_on_a_fresh_database(app):
    result = app.test_cli_runner().invoke(args=["audit-verify"])
    assert result.exit_code == 0 and "OK: 0 entries" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
