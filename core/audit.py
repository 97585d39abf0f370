"""The audit trail (policy: 完全性 — integrity).

Every insert, update and delete of an ``Audited`` model is captured in the
session's ``after_flush`` hook and appended to ``audit_entries`` on the same
connection, so the entry commits or rolls back together with the change.
Events that change no row (login, logout, a failed login, printing) are
written with :func:`log`.

Entries form a hash chain: each stores the SHA-256 of its own canonical
content, which includes the previous entry's hash.  Appending first updates
the single ``audit_head`` row, which serialises writers on PostgreSQL (row
lock) and on SQLite (write lock), so the chain never forks.

A long transaction (a spreadsheet import) runs :func:`deferred`: its
entries are collected as it flushes and appended in one step when it
commits, so the head row is held for milliseconds, not for the whole
import; entries of a savepoint that is rolled back, or of a transaction
that is rolled back, are dropped with it (a preview never touches the
chain).
"""
from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from flask import g, has_app_context, has_request_context, request
from flask_login import current_user
from sqlalchemy import Connection, and_, event, insert, inspect, or_, select, update
from sqlalchemy.orm import Session

from core.db import db
from core.models import Audited, AuditEntry, AuditHead
from core.timeutil import utcnow

GENESIS_HASH = "0" * 64
REDACTED = "********"

_entries = AuditEntry.__table__
_head = AuditHead.__table__


def jsonable(value: Any) -> Any:
    """A JSON-safe, canonical form of a column value."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (float, decimal.Decimal)):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


def _timestamp(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")


def entry_hash(row: dict[str, Any] | Any) -> str:
    """SHA-256 of an entry's canonical content (every field but ``hash``)."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    content = {
        "seq": int(get("seq")),
        "at": _timestamp(get("at")),
        "user_id": get("user_id"),
        "username": get("username"),
        "action": get("action"),
        "object_type": get("object_type"),
        "object_id": get("object_id"),
        "changes": get("changes"),
        "ip": get("ip"),
        "prev_hash": get("prev_hash"),
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- who is acting ---------------------------------------------------------

@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str


SYSTEM = Actor(None, "system")  # outside any request: commands, jobs
ANONYMOUS = Actor(None, "anonymous")  # a request from someone not signed in


def set_actor(actor: Actor) -> None:
    """Name who acts outside a logged-in request (CLI commands, jobs)."""
    g.itaku_actor = actor


def current_actor() -> Actor:
    actor = g.get("itaku_actor") if has_app_context() else None
    if actor is not None:
        return actor
    if has_request_context():
        if current_user and current_user.is_authenticated:
            return Actor(current_user.id, current_user.username)
        return ANONYMOUS
    return SYSTEM


def _client_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


# --- writing ----------------------------------------------------------------

def _append(connection: Connection, entries: list[dict[str, Any]], actor: Actor | None = None) -> None:
    """Append entries to the chain on ``connection`` (inside its transaction)."""
    if not entries:
        return
    # Take the chain's lock first: the UPDATE blocks any other writer until
    # this transaction ends, so the head read next is the real head.
    connection.execute(update(_head).where(_head.c.id == 1).values(seq=_head.c.seq + len(entries)))
    head = connection.execute(select(_head.c.seq, _head.c.hash).where(_head.c.id == 1)).one()
    seq, prev = head.seq - len(entries), head.hash
    actor, ip, now = actor or current_actor(), _client_ip(), utcnow()
    rows = []
    for entry in entries:
        seq += 1
        row = {
            "seq": seq, "at": now, "user_id": actor.user_id, "username": actor.username,
            "ip": ip, "prev_hash": prev, "object_type": None, "object_id": None, "changes": None,
            **entry,
        }
        row["hash"] = prev = entry_hash(row)
        rows.append(row)
    connection.execute(insert(_entries), rows)
    connection.execute(update(_head).where(_head.c.id == 1).values(hash=prev))


def log(action: str, obj: Any = None, *, object_type: str | None = None,
        object_id: Any = None, changes: dict[str, Any] | None = None, actor: Actor | None = None) -> None:
    """Write one entry for an event that is not a row change (login, print…).
    It joins the current transaction: the caller commits.  ``actor`` names
    who acts when that is not the signed-in user (a sign-in itself)."""
    if obj is not None:
        object_type = object_type or type(obj).__tablename__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    entry = {
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "changes": jsonable(changes) if changes else None,
    }
    session = db.session()
    if _deferring(session):
        _defer(session, [entry], actor)
    else:
        _append(db.session.connection(), [entry], actor)


# --- deferred appending (long transactions) ---------------------------------

_DEFERRED, _PENDING = "audit_deferred", "audit_pending"


@contextmanager
def deferred() -> Iterator[None]:
    """Within this block, the session's entries wait and are appended to the
    chain in one step when its transaction commits (see the module's
    docstring).  Entries collected here are appended at that commit even if
    it comes after the block."""
    info = db.session.info
    info[_DEFERRED] = info.get(_DEFERRED, 0) + 1
    try:
        yield
    finally:
        info[_DEFERRED] -= 1


def _deferring(session: Session) -> bool:
    # Once entries wait, later ones wait too: the chain keeps their order.
    return bool(session.info.get(_DEFERRED) or session.info.get(_PENDING))


def _defer(session: Session, entries: list[dict[str, Any]], actor: Actor | None = None) -> None:
    actor, ip = actor or current_actor(), _client_ip()
    transaction = session.get_nested_transaction()  # the savepoint (if any) they belong to
    session.info.setdefault(_PENDING, []).extend(
        (transaction, {"user_id": actor.user_id, "username": actor.username, "ip": ip, **entry})
        for entry in entries)


@event.listens_for(Session, "before_commit")
def _append_deferred(session: Session) -> None:
    if session.in_nested_transaction() or not session.info.get(_PENDING):
        return  # a savepoint's release: its entries wait for the real commit
    session.flush()  # the commit's own flush comes after this hook: its entries too
    pending = session.info.pop(_PENDING, [])
    _append(session.connection(), [entry for _transaction, entry in pending])


@event.listens_for(Session, "after_soft_rollback")
def _drop_deferred(session: Session, previous_transaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    if previous_transaction.parent is None:  # the whole transaction
        session.info.pop(_PENDING, None)
    elif previous_transaction.nested:  # a savepoint: its entries, and those of savepoints within it
        session.info[_PENDING] = [(t, e) for t, e in pending if not _within(t, previous_transaction)]


def _within(transaction, ancestor) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _columns(obj: Audited) -> Iterable[str]:
    return [attr.key for attr in inspect(obj).mapper.column_attrs]


def _value(obj: Audited, key: str, value: Any) -> Any:
    return REDACTED if key in obj.__audit_redact__ else jsonable(value)


def _diff(obj: Audited) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for key in _columns(obj):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if jsonable(old) != jsonable(new):
            changes[key] = [_value(obj, key, old), _value(obj, key, new)]
    return changes


def _snapshot(obj: Audited) -> dict[str, Any]:
    state = inspect(obj)
    return {key: _value(obj, key, state.dict.get(key)) for key in _columns(obj)
            if key not in obj.__audit_ignore__ and state.dict.get(key) is not None}


def label(obj: Audited, action: str) -> None:
    """Name the action of the next flush of ``obj`` ("retire", "approve",
    "password_reset"…) instead of the generic create/update/delete.  A named
    action is written even when only bookkeeping columns changed."""
    db.session.info.setdefault("audit_labels", {})[obj] = action


def _labels(session: Session) -> dict[Any, str]:
    return session.info.setdefault("audit_labels", {})


def _object_entry(session: Session, obj: Audited, action: str, changes: dict[str, Any]) -> dict[str, Any]:
    action = _labels(session).pop(obj, None) or action
    # New rows have their key by now, though not yet their identity.
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    object_id = "-".join(str(part) for part in key) if key and None not in key else None
    return {"action": action, "object_type": type(obj).__tablename__,
            "object_id": object_id, "changes": changes or None}


@event.listens_for(Session, "after_flush")
def _capture(session: Session, _flush_context) -> None:
    entries = []
    labels = _labels(session)
    for obj in session.new:
        if isinstance(obj, Audited):
            entries.append(_object_entry(session, obj, "create", _snapshot(obj)))
    # session.dirty is a set (its order changes from run to run): by kind and id, the
    # trail and its hashes are the same whenever the same changes are made.
    for obj in sorted(session.dirty, key=lambda o: (type(o).__name__, inspect(o).identity or ())):
        if isinstance(obj, Audited) and session.is_modified(obj, include_collections=False):
            changes = _diff(obj)
            if obj in labels or set(changes) - obj.__audit_ignore__:
                entries.append(_object_entry(session, obj, "update", changes))
    for obj in session.deleted:
        if isinstance(obj, Audited):
            entries.append(_object_entry(session, obj, "delete", _snapshot(obj)))
    if entries and _deferring(session):
        _defer(session, entries)
    elif entries:
        _append(session.connection(), entries)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_labels(session: Session, *_args) -> None:
    session.info.pop("audit_labels", None)


# --- verifying ---------------------------------------------------------------

@dataclass
class ChainReport:
    checked: int
    broken_seq: int | None = None
    reason: str | None = None
    head_hash: str = GENESIS_HASH

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify_chain(connection: Connection, batch: int = 5000) -> ChainReport:
    """Walk the whole chain in order; report the first entry that does not
    hash to itself or does not point at its predecessor."""
    prev, expected_seq, checked, last = GENESIS_HASH, 1, 0, 0
    columns = [_entries.c[name] for name in (
        "seq", "at", "user_id", "username", "action", "object_type", "object_id",
        "changes", "ip", "prev_hash", "hash")]
    while True:
        rows = connection.execute(
            select(*columns).where(_entries.c.seq > last).order_by(_entries.c.seq).limit(batch)
        ).mappings().all()
        if not rows:
            break
        for row in rows:
            if row["seq"] != expected_seq:
                return ChainReport(checked, expected_seq, "missing entry (sequence gap)", prev)
            if row["prev_hash"] != prev:
                return ChainReport(checked, row["seq"], "does not link to the previous entry", prev)
            if entry_hash(dict(row)) != row["hash"]:
                return ChainReport(checked, row["seq"], "content does not match its hash", prev)
            prev, expected_seq, checked, last = row["hash"], expected_seq + 1, checked + 1, row["seq"]
    head = connection.execute(select(_head.c.seq, _head.c.hash).where(_head.c.id == 1)).one()
    if head.seq != checked or head.hash != prev:
        return ChainReport(checked, checked + 1, "chain head does not match the last entry (entries removed)", prev)
    return ChainReport(checked, head_hash=prev)


def history(obj: Any, *parts: Any, limit: int = 100) -> list[AuditEntry]:
    """The newest entries about one record and the rows that belong to it
    (a contract's clause rows, its exceptions…), for its detail page."""
    by_type: dict[str, set[str]] = {}
    for item in (obj, *parts):
        if item is not None and getattr(item, "id", None) is not None:
            by_type.setdefault(type(item).__tablename__, set()).add(str(item.id))
    return db.session.scalars(
        select(AuditEntry)
        .where(or_(*[and_(AuditEntry.object_type == kind, AuditEntry.object_id.in_(ids))
                     for kind, ids in by_type.items()]))
        .order_by(AuditEntry.seq.desc()).limit(limit)
    ).all()
