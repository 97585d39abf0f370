"""監査ログ: browse and export the audit trail (auditors and admins)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

from flask import Blueprint, Response, flash, render_template, request, stream_with_context
from flask_babel import gettext as _
from sqlalchemy import select

from core.audit import verify_chain
from core.auth import AUDIT_READERS, access
from core.db import db
from core.lists import ListView
from core.models import AuditEntry
from core.timeutil import JST

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _day(value: str) -> dt.datetime | None:
    """A YYYY-MM-DD (Japan time) as the UTC instant it starts at."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        flash(_("日付はYYYY-MM-DDの形で入力してください: %(value)s", value=value), "warning")
        return None
    return dt.datetime.combine(day, dt.time(), JST).astimezone(dt.UTC).replace(tzinfo=None)


def _date_from(stmt, value):
    start = _day(value)
    return stmt if start is None else stmt.where(AuditEntry.at >= start)


def _date_to(stmt, value):
    start = _day(value)
    return stmt if start is None else stmt.where(AuditEntry.at < start + dt.timedelta(days=1))


LIST = ListView(
    filters={
        "user": lambda s, v: s.where(AuditEntry.username == v),
        "object_type": lambda s, v: s.where(AuditEntry.object_type == v),
        "object_id": lambda s, v: s.where(AuditEntry.object_id == v),
        "action": lambda s, v: s.where(AuditEntry.action == v),
        "date_from": _date_from,
        "date_to": _date_to,
    },
    sorts={"seq": AuditEntry.seq},
    default_sort="seq",
    default_desc=True,
)


def _choices(column):
    return db.session.scalars(select(column).distinct().where(column.is_not(None)).order_by(column)).all()


@bp.route("/")
@access(AUDIT_READERS)
def index():
    pagination, state = LIST.apply(select(AuditEntry))
    return render_template(
        "audit/index.html", pagination=pagination, state=state,
        usernames=_choices(AuditEntry.username), object_types=_choices(AuditEntry.object_type),
        actions=_choices(AuditEntry.action))


@bp.route("/verify")
@access(AUDIT_READERS)
def verify():
    report = verify_chain(db.session.connection())
    return render_template("audit/verify.html", report=report)


CSV_COLUMNS = ("seq", "at", "username", "action", "object_type", "object_id", "changes", "ip", "prev_hash", "hash")


@bp.route("/export.csv")
@access(AUDIT_READERS)
def export_csv():
    """The filtered trail as CSV (UTF-8 with BOM for Excel), streamed in
    batches so memory stays flat however long the trail is."""
    stmt = select(AuditEntry)
    for name, apply_filter in LIST.filters.items():
        if request.args.get(name):
            stmt = apply_filter(stmt, request.args[name])
    stmt = stmt.order_by(AuditEntry.seq).execution_options(yield_per=1000)

    def rows():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow(CSV_COLUMNS)
        # A client that stops reading closes the generator: close the
        # (server-side, on PostgreSQL) cursor with it.
        with db.session.scalars(stmt) as entries:
            yield from _csv_chunks(entries, writer, buffer)
        yield buffer.getvalue()

    return Response(stream_with_context(rows()), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=itaku-audit.csv"})


def _csv_chunks(entries, writer, buffer):
    for entry in entries:
        writer.writerow([
            entry.seq, entry.at.replace(tzinfo=dt.UTC).astimezone(JST).isoformat(timespec="seconds"),
            entry.username, entry.action, entry.object_type or "", entry.object_id or "",
            json.dumps(entry.changes, ensure_ascii=False) if entry.changes else "",
            entry.ip or "", entry.prev_hash, entry.hash])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
