"""My work and approvals inbox (自分の作業・承認待ち, issue 18): one page per
user listing what waits for them across the modules, and a count in the
header.

Each domain adds its providers to the registry (core/plugins.py:
``add_inbox``): ``provider(user)`` returns :class:`Entry` items — the
requests the user may decide (``group="approval"``) and the records they
are responsible for that carry flags (``"flag"``).  Core adds the user's own
overdue and due-soon work from core.due (``"due"``) and nothing
domain-specific.  A provider loads its records in bulk (one query for the
requests, one for their subjects: :func:`pending`), and runs none when the
user holds no role that decides its kind.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field, replace
from typing import Any

from flask import Blueprint, g, render_template, request, session
from flask.sessions import NullSession
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select

from core import due, plugins
from core.approvals import Approval, Decision, edited_by
from core.auth import access
from core.db import db
from core.timeutil import local_date, today

bp = Blueprint("inbox", __name__)

APPROVAL, DUE, FLAG = "approval", "due", "flag"
GROUPS = ((APPROVAL, _l("承認待ち（あなたが決定できるもの）")),
          (DUE, _l("期限切れ・期限の近い作業")),
          (FLAG, _l("担当している記録の注意事項")))
DUE_SOON_DAYS = 30  # as the first reminder (core.reminders.THRESHOLDS)


@dataclass(frozen=True)
class Entry:
    """One thing waiting for the user: its kind (a label), a readable
    description (values already in it, formatted — never a lazy string), since
    when (a request's date, a due date), and where to act."""
    group: str
    kind: Any
    description: str
    since: dt.date | None
    endpoint: str
    params: dict = field(default_factory=dict)
    overdue: bool = False


def pending(kind: str, model, options=()) -> list[tuple[Approval, Any]]:
    """The pending requests of ``kind``, oldest first, each with its subject
    (a ``model`` row, loaded with ``options``; None if it is gone): one
    query for the subjects whatever their number, the requests being read
    once for every kind (:func:`_pending_requests`).  Only requests about ``model``'s rows: a
    kind may be asked about several (a completion report, core.measures, is
    about a contract finding or an improvement measure)."""
    requests = [request for request in _pending_requests()
                if request.kind == kind and request.subject_type == model.__tablename__]
    ids = {request.subject_id for request in requests}
    subjects = {row.id: row for row in db.session.scalars(
        select(model).where(model.id.in_(ids)).options(*options))} if ids else {}
    return [(request, subjects.get(request.subject_id)) for request in requests]


def _pending_requests() -> list[Approval]:
    """Every pending request, oldest first: one query per request (they are
    few; each provider reads its kinds of them), kept with the entries."""
    kept = g.setdefault("inbox_entries", {})
    if PENDING_KEY not in kept:
        kept[PENDING_KEY] = list(db.session.scalars(select(Approval).where(Approval.decision == Decision.PENDING)
                                                    .order_by(Approval.requested_at, Approval.id)))
    return kept[PENDING_KEY]


PENDING_KEY = "pending requests"


def may_decide(request: Approval, user) -> bool:
    """Four eyes, as every kind has it: not the requester, nor one who
    edited the subject while it was pending (core.approvals.edited_by).
    A kind's own roles and rules are checked by its provider."""
    return request.requested_by_id != user.id and not edited_by(request, user)


def request_entry(kind, request: Approval, description: str, endpoint: str, params: dict) -> Entry:
    return Entry(APPROVAL, kind, description, local_date(request.requested_at),
                 endpoint, params)


def flag_entries(flags, responsible, kind, endpoint: str, param: str) -> list[Entry]:
    """Entries for the live records a user is responsible for (``responsible``:
    a SQL condition on the register of ``flags``, a core.flags.FlagSet) that
    carry flags, by name: one query, which returns only the flagged records,
    their names and their flags (a user may answer for hundreds of records);
    ``param``: the record's id in the link."""
    model = flags.status.class_
    names = flags.names
    conditions = [flags.condition(name) for name in names]
    rows = db.session.execute(select(model.id, model.name, *conditions).where(responsible, or_(*conditions))
                              .order_by(model.name, model.id)).all()
    result = []
    for record_id, name, *held in rows:
        found = {flag for flag, value in zip(names, held, strict=True) if value}
        labels = "、".join(str(flag.label) for flag in flags.ordered() if flag.name in found)
        result.append(Entry(FLAG, kind, _("%(name)s：%(flags)s", name=name, flags=labels), None,
                            endpoint, {param: record_id}))
    return result


DUE_SHOWN = 100  # the due group lists the first, by due date, and counts the rest (a user may have thousands)


def _due_scope(user, **kwargs) -> due.DueScope:
    """The user's own due work (core.due.scope_for) due within DUE_SOON_DAYS."""
    return due.scope_for(user, until=today() + dt.timedelta(days=DUE_SOON_DAYS), **kwargs)


def _due_entries(user) -> list[Entry]:
    on = today()
    house = plugins.registry()
    labels: dict[str, str] = {}  # each kind's label read once in the user's language, not once per row
    return [Entry(DUE, labels.get(item.kind) or labels.setdefault(item.kind, str(house.due_label(item.kind))),
                  item.title, item.due_on, item.endpoint, dict(item.params), overdue=item.due_on < on)
            for item in due.items(_due_scope(user, limit=DUE_SHOWN))]


def _kept(user) -> dict:
    """What this request has gathered for ``user`` (kept on ``g``)."""
    return g.setdefault("inbox_entries", {}).setdefault(user.id, {})


def _provided(user) -> list[Entry]:
    """What the domains' providers list for ``user``, once per request."""
    kept = _kept(user)
    if "provided" not in kept:
        kept["provided"] = [entry for provider in plugins.registry().inbox for entry in provider(user)]
    return kept["provided"]


def entries(user) -> list[Entry]:
    """Everything waiting for ``user``, once per request: the due group
    holds the first DUE_SHOWN of the user's due work (:func:`due_more`)."""
    kept = _kept(user)
    if "due" not in kept:
        kept["due"] = _due_entries(user)
    return _provided(user) + kept["due"]


def _due_counts(user) -> due.Counts:
    """The user's due work and, of it, the overdue: counted in the same
    statements, once per request."""
    kept = _kept(user)
    if "counts" not in kept:
        kept["counts"] = due.count(_due_scope(user, split=today()))
    return kept["counts"]


def due_more(user) -> int:
    """How many of the user's due items the due group leaves out (counted, not built)."""
    entries(user)
    return max(_due_counts(user).total - len(_kept(user)["due"]), 0)


def grouped(user) -> list[tuple[str, Any, list[Entry]]]:
    """The page's groups; each kind (a lazy label, shared by a provider's
    entries) read once in the user's language, not once per row."""
    labels: dict[int, str] = {}
    found = [replace(entry, kind=labels.get(id(entry.kind)) or labels.setdefault(id(entry.kind), str(entry.kind)))
             for entry in entries(user)]
    return [(key, label, [entry for entry in found if entry.group == key]) for key, label in GROUPS]


def count(user) -> int:
    """The header's badge: requests to decide and overdue work — the
    overdue due items counted in SQL, not built (on the inbox page, with
    the page's own count)."""
    provided = sum(1 for entry in _provided(user) if entry.group == APPROVAL or entry.overdue)
    if "counts" in _kept(user):
        return provided + _kept(user)["counts"].early
    return provided + due.count(due.scope_for(user, until=today() - dt.timedelta(days=1)))


def approval_queue(user) -> list[Entry]:
    """The requests ``user`` may decide (the dashboard's queue): the providers' alone, no due work."""
    return [entry for entry in _provided(user) if entry.group == APPROVAL]


@bp.get("/inbox")
@access(any_user=True)
def index():
    return render_template("inbox/index.html", groups=grouped(current_user), due_more=due_more(current_user),
                           due_shown=DUE_SHOWN)


BADGE_KEY = "inbox_count"
BADGE_SECONDS = 300


def badge() -> int:
    """The header's count, kept in the session for a few minutes (the due
    items are gathered from every register), and counted afresh after any
    change the user makes (a POST) and on the inbox page itself."""
    if not current_user.is_authenticated:
        return 0
    if isinstance(session, NullSession):  # no session (the API): nothing is kept
        return count(current_user)
    now = time.time()
    kept = session.get(BADGE_KEY)
    if request.endpoint == "inbox.index" or not kept or kept[1] != current_user.id or now - kept[2] > BADGE_SECONDS:
        kept = [count(current_user), current_user.id, now]
        session[BADGE_KEY] = kept
    return kept[0]


def init_app(app) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def _forget_badge():
        if request.method not in ("GET", "HEAD") and not isinstance(session, NullSession):
            session.pop(BADGE_KEY, None)

    @app.context_processor
    def inbox_badge():
        return {"inbox_count": badge}
