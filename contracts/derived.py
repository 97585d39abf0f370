"""Columns of a contract derived from other rows (contracts/gaps.py: the
"lacks a mandatory clause" flag; contracts/due.py: the next verification's
due date), kept current in the same transaction after every flush.

Before a flush, each rule names the contracts an object about to be written
touches (or ALL of them: an administrator's rare change to the catalogue or
a level); after it, the rule refreshes those contracts with one Core UPDATE
and the loaded contracts forget the old value.  Derived data, not an edit:
it moves neither the record's version nor the audit trail."""
from __future__ import annotations

import functools
from typing import Callable, Iterable

from sqlalchemy import event
from sqlalchemy.orm import Session

from contracts.models import Contract

ALL = "all"


@functools.cache  # the listeners are on the Session class, shared by every app: once per process
def keep_current(column: str, touched: Callable[[Session, object], Iterable | str],
                 refresh: Callable[[object, object], object]) -> None:
    """After every flush, ``refresh(connection, ids or ALL)`` the contracts
    that ``touched(session, obj)`` names (contracts, contract ids, or ALL)
    for the new, changed and deleted objects.  Called by contracts' init_app
    (gaps.keep_current, due.keep_current); a second call changes nothing."""
    key = f"itaku_refresh_{column}"

    @event.listens_for(Session, "before_flush")
    def _collect(session: Session, _context, _instances) -> None:
        wanted = session.info.setdefault(key, set())
        if wanted == ALL:
            return
        for obj in (*session.new, *session.dirty, *session.deleted):
            found = touched(session, obj)
            if found == ALL:
                session.info[key] = ALL
                return
            wanted.update(found)

    @event.listens_for(Session, "after_flush_postexec")
    def _refresh(session: Session, _context) -> None:
        wanted = session.info.pop(key, None)
        if not wanted:
            return
        ids = ALL if wanted == ALL else {item.id if isinstance(item, Contract) else item for item in wanted} - {None}
        refresh(session.connection(), ids)
        for obj in list(session.identity_map.values()):
            if isinstance(obj, Contract) and (ids == ALL or obj.id in ids):
                session.expire(obj, [column])
