"""Leftover uploads (issue 15, section 5): an import's upload never
confirmed, and a file stored by a transaction that then failed, are
reported by ``flask check`` and removed by ``flask cleanup-files`` once
they are old enough that no request can still be using them."""
from __future__ import annotations

import io
import os
import time
from pathlib import Path

from werkzeug.datastructures import FileStorage

from core import files
from core.db import db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DAY = 24 * 3600


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def stored(app, *, commit: bool) -> Path:
    """A file stored through core.files, its transaction committed or failed."""
    with app.test_request_context():
        record = files.store(FileStorage(io.BytesIO(PDF), filename="a.pdf"))
        path = record.path()
        if commit:
            db.session.commit()
        else:
            db.session.rollback()
    assert path.is_file()
    return path


def leftovers(app):
    storage = Path(app.config["STORAGE_PATH"])
    imports = storage / "imports"
    imports.mkdir(parents=True, exist_ok=True)
    old_upload, new_upload = imports / ("1-" + "a" * 32), imports / ("1-" + "b" * 32)
    for path in (old_upload, new_upload):
        path.write_bytes(b"name\nx\n")
    age(old_upload, 2 * DAY)
    kept = stored(app, commit=True)
    age(kept, 2 * DAY)
    orphan = stored(app, commit=False)
    age(orphan, 2 * DAY)
    fresh_orphan = stored(app, commit=False)  # perhaps a request still writing: not touched
    return {"old_upload": old_upload, "new_upload": new_upload, "kept": kept, "orphan": orphan,
            "fresh_orphan": fresh_orphan}


def test_check_reports_and_cleanup_removes_only_old_leftovers(app):
    paths = leftovers(app)
    runner = app.test_cli_runner()

    checked = runner.invoke(args=["check"])
    assert "2 leftover file(s)" in checked.output, checked.output
    assert str(paths["orphan"]) in checked.output and str(paths["old_upload"]) in checked.output
    assert "audit chain OK" in checked.output

    dry = runner.invoke(args=["cleanup-files", "--dry-run"])
    assert dry.exit_code == 0 and "would remove 2 file(s)" in dry.output, dry.output
    assert all(path.exists() for path in paths.values())

    done = runner.invoke(args=["cleanup-files"])
    assert done.exit_code == 0 and "removed 2 file(s)" in done.output, done.output
    assert not paths["orphan"].exists() and not paths["old_upload"].exists()
    assert paths["kept"].exists() and paths["fresh_orphan"].exists() and paths["new_upload"].exists()
    assert "0 leftover file(s)" in runner.invoke(args=["check"]).output

    soon = runner.invoke(args=["cleanup-files", "--older-than", "0"])
    assert "removed 2 file(s)" in soon.output and paths["kept"].exists()  # the fresh orphan and upload


def test_check_fails_when_a_stored_file_is_missing(app):
    kept = stored(app, commit=True)
    kept.unlink()
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1 and "1 stored file(s) missing" in result.output, result.output
