"""Figures built from the whole registers, kept until the registers change
(issue 21).

The inspection facts beside an open self-inspection and the annual report's
figures count every contract of the body (50,000 in a prefecture): about a
second each, on every view of those pages.  What they count changes only
when a record changes, and every change of a record appends to the audit
trail (core.audit: the Audited models, in the same transaction), so the
trail's head — its sequence number and hash, read with one primary-key
lookup — names the registers' state; with today's date (the facts count
what is overdue *today*) it is the key under which a result is kept.

A result is kept per app (per worker process), the latest few per key;
a worker that has not seen the change yet builds it again on its next
view.  The hash, not the sequence number alone, keys it: a result built
inside a transaction later rolled back names a head no committed state
has.  Only results that depend on the records and the day, never on the
user reading them, may be kept here; a key names the locale when the
result holds translated text.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Hashable

from flask import current_app
from sqlalchemy import select

from core.db import db
from core.models import AuditHead
from core.timeutil import today

KEPT = 32  # results per app, the least recently used dropped first
_EXTENSION = "itaku.snapshots"


def state() -> tuple:
    """The registers' state: the audit trail's head (sequence number and
    hash) and the day."""
    head = db.session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    return (head.seq, head.hash) if head else (0, ""), today()


def kept(key: Hashable, build: Callable[[], Any]) -> Any:
    """``build()``'s result for the registers as they are now: built once
    per state of the registers (``state``) and key."""
    store: OrderedDict = current_app.extensions.setdefault(_EXTENSION, OrderedDict())
    now = state()
    found = store.get(key)
    if found is not None and found[0] == now:
        store.move_to_end(key)
        return found[1]
    result = build()
    store[key] = (now, result)
    store.move_to_end(key)
    while len(store) > KEPT:
        store.popitem(last=False)
    return result


def forget() -> None:
    """Drop every kept result (tests; after a bulk change outside the trail)."""
    current_app.extensions.pop(_EXTENSION, None)
