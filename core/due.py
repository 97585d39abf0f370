"""Due items: "what is due, for whom, by when".  Each domain adds a source
of its open items to the app's registry (core/plugins.py: ``add_due``); the
work inbox, the reminders and the calendar feed read this one interface.

A source answers a :class:`DueScope` — whose items, due by when, how many —
in SQL, on indexed stored dates, so a user's inbox never gathers the whole
body's items (issue 21: 13,000 items of 50,000 contracts were built, then
filtered, for one header count).  The reminders ask for everything."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Iterable

from sqlalchemy import String, case, cast, func, select

from core import plugins
from core.db import db
from core.models import Role


@dataclass(frozen=True)
class DueItem:
    key: str  # stable identity: kind, record and due date (a new due date is a new item)
    kind: str
    title: str
    due_on: dt.date
    owner_id: int | None  # the responsible user; None: administrators are told
    endpoint: str
    params: dict = field(default_factory=dict, hash=False, compare=False)


def order(item: DueItem) -> tuple:
    return item.due_on, item.key


@dataclass(frozen=True)
class DueScope:
    """Which items are asked for: those of ``owner_id`` (None: everyone's,
    as the reminders need) and, when ``unowned``, those nobody answers for
    (an administrator is told of them); due on or before ``until``; the
    first ``limit`` of them by due date (then key)."""
    owner_id: int | None = None
    unowned: bool = True
    until: dt.date | None = None
    limit: int | None = None
    split: dt.date | None = None  # a count also counts, in the same statements, the items due before this day


    def owners(self) -> list[int | None] | None:
        """The owner ids asked for (None in it: the items nobody answers
        for), or None for everyone's.  A source runs one statement per
        owner asked for, each served by an index on its owner and date."""
        if self.owner_id is None:
            return None
        return [self.owner_id, None] if self.unowned else [self.owner_id]

    def admits(self, item: DueItem) -> bool:
        owners = self.owners()
        return (owners is None or item.owner_id in owners) and (self.until is None or item.due_on <= self.until)

    def unlimited(self) -> DueScope:
        return replace(self, limit=None)


EVERYONE = DueScope()


@dataclass(frozen=True)
class Counts:
    """A count of a scope with a ``split``: all its items, and those due
    before the split (the overdue ones, for the inbox).  Counts add up, so a
    source sums its statements' counts as it would numbers."""
    total: int = 0
    early: int = 0

    def __add__(self, other):
        if isinstance(other, int) and other == 0:  # sum()'s start
            return self
        return Counts(self.total + other.total, self.early + other.early)

    __radd__ = __add__


def scope_for(user, **kwargs) -> DueScope:
    """What ``user`` answers for: their items and, for an administrator, the
    items nobody does (a vendor's certificate expiry…), as the reminders send
    those to the administrators."""
    return DueScope(owner_id=user.id, unowned=user.has_role(Role.ADMIN), **kwargs)


def within(scope: DueScope, items: Iterable[DueItem]) -> list[DueItem]:
    """The items of ``scope`` among ``items``, in order, limited: for a
    source with few records (a register's open incidents), and to make
    every source's answer exact."""
    found = sorted((item for item in items if scope.admits(item)), key=order)
    return found if scope.limit is None else found[:scope.limit]


def owned(column, owner: int | None):
    """SQL: the rows of ``owner`` (None: of nobody)."""
    return column.is_(None) if owner is None else column == owner


def window(scope: DueScope, stmt, due_on, ident, shift: dt.timedelta = dt.timedelta()):
    """``stmt`` narrowed to the scope's dates, in the items' order (due date,
    then the key, whose record id is compared as text), limited; ``shift``:
    from the stored date in ``due_on`` to the due date (a scan due 30 days
    after the last)."""
    if scope.until is not None:
        stmt = stmt.where(due_on <= scope.until - shift)
    stmt = stmt.order_by(due_on, cast(ident, String))
    return stmt if scope.limit is None else stmt.limit(scope.limit)


def tally(scope: DueScope, stmt, due_on, shift: dt.timedelta = dt.timedelta()) -> int | Counts:
    """How many rows of ``stmt`` (its columns and order are dropped) are
    due in the scope's dates — with a split, :class:`Counts`, in the same
    statement; ``shift``: from the date in ``due_on`` to the due date."""
    if scope.until is not None:
        stmt = stmt.where(due_on <= scope.until - shift)
    if scope.split is None:
        return db.session.scalar(stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)) or 0
    total, early = db.session.execute(stmt.with_only_columns(
        func.count(), func.count(case((due_on < scope.split - shift, 1))), maintain_column_froms=True)
        .order_by(None)).one()
    return Counts(total or 0, early or 0)


def tally_all(scope: DueScope, parts) -> int | Counts:
    """:func:`tally` of several statements — ``parts``: (statement, due date
    column, shift) — in one SQL statement of scalar subqueries."""
    if not parts:
        return Counts() if scope.split is not None else 0
    columns = []
    for stmt, due_on, shift in parts:
        if scope.until is not None:
            stmt = stmt.where(due_on <= scope.until - shift)
        stmt = stmt.order_by(None)
        columns.append(stmt.with_only_columns(func.count(), maintain_column_froms=True).scalar_subquery())
        if scope.split is not None:
            columns.append(stmt.where(due_on < scope.split - shift)
                           .with_only_columns(func.count(), maintain_column_froms=True).scalar_subquery())
    row = db.session.execute(select(*columns)).one()
    if scope.split is None:
        return sum(value or 0 for value in row)
    return Counts(sum(value or 0 for value in row[0::2]), sum(value or 0 for value in row[1::2]))


def items(scope: DueScope = EVERYONE) -> list[DueItem]:
    """The items of ``scope``, by due date: each source's, merged."""
    return within(scope, [item for source in plugins.registry().due for item in source.items(scope)])


def _built(scope: DueScope, source) -> int | Counts:
    found = within(scope, source.items(scope))
    if scope.split is None:
        return len(found)
    return Counts(len(found), sum(1 for item in found if item.due_on < scope.split))


def count(scope: DueScope = EVERYONE) -> int | Counts:
    """How many items ``scope`` holds (its limit aside), without building
    them; with a split, :class:`Counts`."""
    scope = scope.unlimited()
    return sum((source.count(scope) if source.count is not None else _built(scope, source)
                for source in plugins.registry().due), Counts() if scope.split is not None else 0)


def all_items() -> list[DueItem]:
    return items(EVERYONE)


def items_for(user) -> list[DueItem]:
    """What ``user`` answers for (their calendar feed): see :func:`scope_for`."""
    return items(scope_for(user))
