"""Named flags of a register ("review overdue", "MFA off"…), declared once
per domain and read by its list (filter menu and badges), its dashboard
tiles, its printed register and its facts.

A flag has a name (the ``?flag=`` value of the list), a label (a lazy,
static text: no user data), a Python predicate for one record (its page)
and a SQL condition (lists, counts, and the flags of a page of records in
one query); the domain's tests check that the two agree.  Only live records
carry flags: the set knows the status column and the statuses that are live.

    FLAGS = FlagSet(Account.status, OPEN, [
        Flag("mfa_off", _l("二要素認証なし"), lambda a, on: not a.mfa_enabled,
             lambda on: Account.mfa_enabled.is_(False)),
    ], unit=lambda unit_id: Account.unit_id == unit_id)
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

from sqlalchemy import Select, and_, func, select

from core.db import db
from core.timeutil import today


@dataclass(frozen=True)
class Flag:
    name: str
    label: Any  # a lazy string (_l) of static text
    holds: Callable[[Any, dt.date], bool]  # (record, on) → does the flag hold for this live record?
    condition: Callable[[dt.date], Any]  # on → the same as a SQL condition on the register's table
    sign: str = "⚠"  # the badge's sign: a word and a sign, never colour alone


class FlagSet:
    """The flags of one register, in the order the list's badges and the
    dashboard show them."""

    def __init__(self, status, live: Iterable, flags: Sequence[Flag], *,
                 unit: Callable[[int], Any] | None = None) -> None:
        self.status = status  # the register's status column (its table is the register's)
        self.live = frozenset(live)
        self.flags = tuple(flags)
        self.unit = unit  # unit_id → the condition "belongs to that unit"
        self._by_name = {flag.name: flag for flag in self.flags}

    def __iter__(self) -> Iterator[Flag]:
        return iter(self.flags)

    def __contains__(self, name) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Flag:
        return self._by_name[name]

    @property
    def names(self) -> list[str]:
        return [flag.name for flag in self.flags]

    def ordered(self, order: Sequence[str] | None = None) -> list[Flag]:
        """The flags in ``order`` (names), or in their declared order."""
        return [self[name] for name in order] if order is not None else list(self.flags)

    def choices(self, order: Sequence[str] | None = None) -> list[tuple[str, Any]]:
        """(name, label) pairs: the list's filter menu."""
        return [(flag.name, flag.label) for flag in self.ordered(order)]

    # --- one record --------------------------------------------------------------------
    def of(self, record, on: dt.date | None = None) -> set[str]:
        """The names of the flags that hold for ``record`` (none when it is not live)."""
        if getattr(record, self.status.key) not in self.live:
            return set()
        on = on or today()
        return {flag.name for flag in self.flags if flag.holds(record, on)}

    # --- SQL -------------------------------------------------------------------------
    def condition(self, name: str, on: dt.date | None = None):
        """A flag as a SQL condition; records that are not live carry none."""
        return and_(self.status.in_(self.live), self[name].condition(on or today()))

    def filter(self, stmt: Select, value) -> Select:
        """The list's ``flag`` filter (core.lists.ListView): an unknown name filters nothing."""
        return stmt.where(self.condition(value)) if value in self else stmt

    def of_ids(self, ids: list[int], on: dt.date | None = None) -> dict[int, set[str]]:
        """The flags of many records in one query: id → names."""
        if not ids:
            return {}
        id_column = self.status.class_.id
        names = self.names
        conditions = [self.condition(name, on) for name in names]
        rows = db.session.execute(select(id_column, *conditions).where(id_column.in_(ids))).all()
        return {row[0]: {name for name, value in zip(names, row[1:], strict=True) if value} for row in rows}

    def count_query(self, name: str, unit_id: int | None = None, on: dt.date | None = None) -> Select:
        """SELECT count of the live records carrying a flag (of one unit when given)."""
        stmt = select(func.count()).select_from(self.status.class_).where(self.condition(name, on))
        if unit_id is not None:
            stmt = stmt.where(self.unit(unit_id))
        return stmt

    def count(self, name: str, unit_id: int | None = None, on: dt.date | None = None) -> int:
        return db.session.scalar(self.count_query(name, unit_id, on)) or 0
