"""Consistent backups of an SQLite installation (PostgreSQL: use pg_dump).

SQLite's online backup API copies a consistent snapshot while the app keeps
serving; the copy is then checked with ``PRAGMA integrity_check`` and by
verifying the audit chain inside it."""
from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import create_engine

from core.audit import verify_chain
from core.db import db
from core.timeutil import utcnow


class BackupError(Exception):
    pass


@dataclass
class BackupResult:
    path: Path
    audit_entries: int
    head_hash: str
    files: int


def backup(directory: str | None = None) -> BackupResult:
    engine = db.engine
    if engine.dialect.name != "sqlite":
        raise BackupError("this database is PostgreSQL: back it up with pg_dump (see README, Backups)")
    source_path = engine.url.database
    if not source_path or source_path == ":memory:":
        raise BackupError("the database is in memory: nothing to back up")
    base = Path(directory) if directory else Path(current_app.instance_path) / "backups"
    target = base / f"itaku-{utcnow():%Y%m%dT%H%M%SZ}"
    target.mkdir(parents=True, exist_ok=False)
    copy_path = target / "itaku.db"
    source = sqlite3.connect(source_path)
    destination = sqlite3.connect(copy_path)
    try:
        with destination:
            source.backup(destination)
        check = destination.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        destination.close()
        source.close()
    if check != "ok":
        raise BackupError(f"integrity check of the copy failed: {check}")
    copy_engine = create_engine(f"sqlite:///{copy_path}")
    try:
        with copy_engine.connect() as connection:
            report = verify_chain(connection)
    finally:
        copy_engine.dispose()
    if not report.ok:
        raise BackupError(f"audit chain in the copy is broken at entry #{report.broken_seq}: {report.reason}")
    files = 0
    storage = Path(current_app.config["STORAGE_PATH"])
    if storage.is_dir():
        shutil.copytree(storage, target / "files")
        files = sum(1 for p in (target / "files").rglob("*") if p.is_file())
    return BackupResult(target, report.checked, report.head_hash, files)
