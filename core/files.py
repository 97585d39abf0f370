"""One store for every uploaded file (certificates, contract documents,
evidence): type checked by content, size limited, SHA-256 recorded, kept
under a random name in STORAGE_PATH (outside the web root).  Downloads go
through the owning record's view, which applies that record's read rule."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import secrets
import time
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from urllib.parse import quote

from flask import current_app, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import FileStorage
from werkzeug.http import dump_options_header

from core.db import db
from core.models import Audited, ImportJob
from core.timeutil import utcnow

# Signatures of the accepted kinds (first bytes of the file).
SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    # Word/Excel/PowerPoint 97–2003 (OLE compound file)
    "application/x-ole-storage": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
}
# Office Open XML files are ZIP archives: told apart by their parts.
OOXML = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
DOCUMENT_TYPES = ("application/pdf", "image/png", "image/jpeg")
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# Verification evidence: PDF, images and Office documents up to 20 MB.
EVIDENCE_TYPES = DOCUMENT_TYPES + ("image/gif", "application/x-ole-storage", *OOXML.values())
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024


class FileRejected(ValueError):
    """The upload is refused; the message is for the user."""


class StoredFile(Audited, db.Model):
    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    storage_key: Mapped[str] = mapped_column(String(80), unique=True)
    uploaded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    def path(self) -> Path:
        return Path(current_app.config["STORAGE_PATH"]) / self.storage_key


def sniff(data: bytes, allowed: tuple[str, ...]) -> str | None:
    """The content type read from the bytes themselves, if it is allowed."""
    for content_type in allowed:
        if any(data.startswith(signature) for signature in SIGNATURES.get(content_type, ())):
            return content_type
    if data.startswith(b"PK\x03\x04"):
        ooxml = _office_open_xml(data)
        if ooxml in allowed:
            return ooxml
    return None


def _office_open_xml(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        return None
    if "[Content_Types].xml" not in names:
        return None
    for prefix, content_type in OOXML.items():
        if any(name.startswith(prefix) for name in names):
            return content_type
    return None


def store(upload: FileStorage, *, allowed: tuple[str, ...] = DOCUMENT_TYPES,
          max_bytes: int = MAX_DOCUMENT_BYTES, user=None) -> StoredFile:
    """Check and keep an upload; return its (flushed) record.  The bytes are
    written before the row, so a failed transaction can leave an orphan file
    on disk but never a row without its file."""
    data = upload.read(max_bytes + 1)
    if not data:
        raise FileRejected(_l("ファイルが空です。"))
    if len(data) > max_bytes:
        raise FileRejected(_("ファイルは%(mb)sMBまでです。", mb=max_bytes // (1024 * 1024)))
    content_type = sniff(data, allowed)
    if content_type is None:
        if allowed == DOCUMENT_TYPES:
            raise FileRejected(_l("PDF、PNG、JPEGのファイルを選んでください（中身で判定します）。"))
        raise FileRejected(_l("PDF、画像、Office文書のファイルを選んでください（中身で判定します）。"))
    key = f"{secrets.token_hex(1)}/{secrets.token_hex(20)}"
    path = Path(current_app.config["STORAGE_PATH"]) / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    record = StoredFile(original_name=display_name(upload.filename), content_type=content_type, size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), storage_key=key,
                        uploaded_by_id=getattr(user, "id", None))
    db.session.add(record)
    db.session.flush()
    return record


def display_name(name: str | None, limit: int = 255, upload: bool = True) -> str:
    """A file's name as kept and sent back: its last path part (for a name
    the app builds, ``upload=False``: slashes become _), NFKC, without
    control or format characters (a CR/LF made every download of the file a
    500; a right-to-left override disguises an extension), at most ``limit``
    characters with its extension kept, and never empty."""
    text = unicodedata.normalize("NFKC", name or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = text.replace("\\", "/").rsplit("/", 1)[-1].strip() if upload else text.replace("/", "_").replace("\\", "_").strip()
    if len(text) > limit:
        stem, dot, extension = text.rpartition(".")
        text = f"{stem[:limit - len(extension) - 1]}.{extension}" if dot and len(extension) < 16 else text[:limit]
    return text or "file"


def content_disposition(filename: str, kind: str = "attachment") -> str:
    """The Content-Disposition of a download named ``filename``, encoded as
    werkzeug's send_file does: an ASCII ``filename`` and, for any other
    name, an RFC 6266 ``filename*`` in UTF-8."""
    name = display_name(filename, upload=False)
    if name.isascii():
        return dump_options_header(kind, {"filename": name})
    simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return dump_options_header(kind, {"filename": simple, "filename*": f"UTF-8''{quote(name, safe='!#$&+^`|~')}"})


def send(record: StoredFile):
    """The file as a download, under its original name (cleaned again:
    rows kept before names were cleaned at upload still download)."""
    return send_file(record.path(), mimetype=record.content_type, as_attachment=True,
                     download_name=display_name(record.original_name), max_age=0)


# --- leftovers -------------------------------------------------------------------------

_KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{40}")


@dataclass
class Leftovers:
    """Files nothing refers to, older than the threshold: uploads of
    imports never confirmed (STORAGE_PATH/imports), and stored files whose
    row was never committed (:func:`store` writes the bytes first); and the
    keys of rows whose file is missing (never removed here: reported)."""

    files: list[Path]
    missing: list[str]


def leftovers(older_than: dt.timedelta) -> Leftovers:
    """What :func:`remove_leftovers` would remove.  Only files older than
    ``older_than`` count, so an upload still being previewed, or a file whose
    transaction has not committed yet, is never taken."""
    root = Path(current_app.config["STORAGE_PATH"])
    cutoff = time.time() - older_than.total_seconds()
    known = set(db.session.scalars(select(StoredFile.storage_key)))
    found: list[Path] = []
    on_disk: set[str] = set()
    for path in sorted(root.glob("??/*")):
        key = path.relative_to(root).as_posix()
        if not (path.is_file() and _KEY.fullmatch(key)):
            continue
        on_disk.add(key)
        if key not in known and path.stat().st_mtime < cutoff:
            found.append(path)
    waiting = {f"{user_id}-{token}" for user_id, token in db.session.execute(
        select(ImportJob.user_id, ImportJob.token).where(ImportJob.status.in_(("queued", "running"))))}
    imports = root / "imports"
    for path in sorted(imports.iterdir()) if imports.is_dir() else []:
        if path.is_file() and path.name.split(".")[0] not in waiting and path.stat().st_mtime < cutoff:
            found.append(path)
    return Leftovers(found, sorted(known - on_disk))


def remove_leftovers(older_than: dt.timedelta) -> list[Path]:
    """Remove the leftover files (see :func:`leftovers`) and the records of
    import jobs finished before the threshold; the files removed."""
    found = leftovers(older_than).files
    for path in found:
        path.unlink(missing_ok=True)
    db.session.execute(delete(ImportJob).where(ImportJob.status.in_(("done", "failed")),
                                               ImportJob.updated_at < utcnow() - older_than))
    return found
