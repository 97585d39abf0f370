"""監査ログ: browse and export the audit trail (auditors and admins)."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Callable, Iterator

from flask import Blueprint, flash, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import audit_display, plugins
from core.audit import verify_chain
from core.auth import AUDIT_READERS, access
from core.db import db, distinct_values
from core.lists import ListView
from core.models import AuditEntry
from core.registers import Field, Register
from core.timeutil import JST

bp = Blueprint("audit", __name__, url_prefix="/audit")


def init_app(app) -> None:
    """The trail's pages, and the trail as a register (exported like the
    domains' registers, after them)."""
    app.register_blueprint(bp)
    plugins.registry(app).add_registers(lambda: [register()], order=90)
    audit_display.init_app(app)


# Kept here too: other modules read the labels from the trail's views.
ACTION_LABELS, OBJECT_LABELS = audit_display.ACTION_LABELS, audit_display.OBJECT_LABELS

@bp.app_template_global()
def action_label(action: str | None):
    """The action's label; an unknown one as stored."""
    return audit_display.action_label(action)


@bp.app_template_global()
def object_label(object_type: str | None):
    """The object type's label (its table name); an unknown one as stored."""
    return audit_display.object_label(object_type)


@bp.app_template_global()
def readable_history(entries):
    """Entries as people read them, grouped by save (core.audit_display)."""
    return audit_display.readable(entries)


def _day(value: str) -> dt.datetime | None:
    """A YYYY-MM-DD (Japan time) as the UTC instant it starts at."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None  # filters nothing; the page says why (index), the API's caller sees it unfiltered
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
    estimate_table="audit_entries",  # on PostgreSQL, 「約 260,000 件」 instead of counting every entry
)


@bp.route("/")
@access(AUDIT_READERS)
def index():
    for name in ("date_from", "date_to"):
        value = request.args.get(name, "").strip()
        if value and _day(value) is None:
            flash(_("日付はYYYY-MM-DDの形で入力してください: %(value)s", value=value), "warning")
    pagination, state = LIST.apply(select(AuditEntry))
    return render_template(
        "audit/index.html", pagination=pagination, state=state, groups=audit_display.readable(pagination.items),
        usernames=distinct_values(AuditEntry.username), object_types=distinct_values(AuditEntry.object_type),
        actions=distinct_values(AuditEntry.action))


@bp.route("/verify")
@access(AUDIT_READERS)
def verify():
    report = verify_chain(db.session.connection())
    return render_template("audit/verify.html", report=report)


def _at(entry: AuditEntry) -> dt.datetime:
    """Japan time, as the trail's page shows it (naive, for a spreadsheet)."""
    return entry.at.replace(tzinfo=dt.UTC).astimezone(JST).replace(tzinfo=None)


FIELDS = [
    Field("seq", "連番", lambda e: e.seq, kind="integer", width=8, read_only=True),
    Field("at", "日時", _at, kind="datetime", width=19, read_only=True),
    Field("username", "利用者", lambda e: e.username, width=14, read_only=True),
    Field("action", "操作", lambda e: e.action, width=10, read_only=True),
    Field("object_type", "対象", lambda e: e.object_type, width=16, read_only=True),
    Field("object_id", "対象ID", lambda e: e.object_id, width=8, read_only=True),
    Field("changes", "変更内容", lambda e: json.dumps(e.changes, ensure_ascii=False) if e.changes else None,
          width=60, read_only=True),
    Field("ip", "IPアドレス", lambda e: e.ip, width=15, read_only=True),
    Field("prev_hash", "直前のハッシュ", lambda e: e.prev_hash, width=20, read_only=True),
    Field("hash", "ハッシュ", lambda e: e.hash, width=20, read_only=True),
]


# The export's last column: each entry as people read it (core.audit_display), after the stored ones.
READABLE = Field("readable", "内容（読みやすい形）", lambda e: None, width=80, read_only=True)
CHUNK = 500


@dataclass
class TrailRegister(Register):
    """The trail's register: its export adds the readable column, the names
    loaded in bulk for every 500 entries (the API keeps the stored fields)."""

    def export_fields(self) -> list[Field]:
        return [*self.fields, READABLE]

    def export_rows(self, args) -> Callable[[], Iterator[tuple]]:
        # the entries' columns as rows, not records: the getters and the readable column only read them
        # (a quarter of a million records cost more to build than to write)
        columns = [getattr(AuditEntry, attr.key) for attr in db.inspect(AuditEntry).column_attrs]
        stmt = self.filtered(args).with_only_columns(*columns).execution_options(yield_per=CHUNK)
        getters = [f.get for f in self.fields]

        def rows() -> Iterator[tuple]:
            result = db.session.execute(stmt)
            try:
                for chunk in result.partitions(CHUNK):
                    for entry, text in zip(chunk, audit_display.readable_texts(chunk), strict=True):
                        yield (*(get(entry) for get in getters), text)
            finally:
                result.close()  # also when the client stops reading
        return rows


def register() -> Register:
    """The trail as a register: exported (streamed, whatever its length)
    with the page's filters; never imported or changed."""
    return TrailRegister(name="audit", title=_l("監査ログ"), model=AuditEntry, fields=FIELDS,
                         query=lambda: select(AuditEntry), list_view=LIST, readers=AUDIT_READERS,
                         list_endpoint="audit.index")
