"""One way to search, filter, sort and page a register, shared by every
list page (templates/_macros/lists.html draws the controls)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlencode

from flask import request, url_for
from sqlalchemy import Select, func, inspect, or_, select, text

from core import textkey
from core.db import db
from core.textkey import like_pattern

PER_PAGE_CHOICES = (20, 50, 100)
ESTIMATE_ABOVE = 100_000  # rows: an unfiltered list of a larger table shows an estimated count (ListView.estimate_table)
IN_ORDER_ABOVE = 500  # matches: more, and a searched list is read in its sort order (ListView.apply)
MAX_INT = 2**31 - 1  # a database integer: no id (or page) lies beyond it


def int_arg(text: str | None, minimum: int = 0, maximum: int = MAX_INT) -> int | None:
    """The one reading of an integer from a query string or form: ASCII
    digits within [minimum, maximum], else None.  ``str.isdigit()`` also
    takes ² and ٣ (which ``int()`` refuses or reads), and a number beyond a
    database integer overflows the query: both were 500s."""
    if text is None or not re.fullmatch(r"[0-9]{1,10}", text):
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def _contains(column, pattern: str):
    """Case-insensitive LIKE.  SQLite's LIKE already ignores the case of
    ASCII letters, and its lower() folds nothing more, so ilike's
    ``lower(column) LIKE lower(?)`` finds the same rows there at three times
    the cost of a plain LIKE (a search scans every vendor)."""
    if db.engine.dialect.name == "sqlite":
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")


def _matches(searched, text: str):
    """``searched`` contains ``text``: a search key through its index
    (core.textkey.key_contains: the same rows as the LIKE), any other
    column with a LIKE."""
    if isinstance(searched, textkey.SearchKey):
        return searched.contains(text, db.session)
    model = getattr(searched, "class_", None)
    if getattr(searched, "key", None) == "search_key" and isinstance(model, type) and issubclass(model, textkey.Searchable):
        return textkey.key_contains(model, text, session=db.session)
    return _contains(searched, like_pattern(text))


@dataclass
class ListView:
    """A register's list: ``search`` columns (a register's ``search_key``
    column, or a core.textkey.SearchKey for another register's key, is
    searched through its index), named ``filters`` (a name →
    function taking the statement and the value), ``sorts`` (a name → column,
    or a (reading, name) pair: core.textkey.reading_order)."""

    search: list[Any] = field(default_factory=list)
    filters: dict[str, Callable[[Select, str], Select]] = field(default_factory=dict)
    sorts: dict[str, Any] = field(default_factory=dict)
    default_sort: str = ""
    default_desc: bool = False
    estimate_table: str | None = None  # unfiltered, on PostgreSQL: an estimated count (_estimate)

    def statement(self, stmt: Select, args, in_order: bool = False) -> tuple[Select, dict[str, Any]]:
        """``stmt`` searched, filtered and sorted as ``args`` (a query
        string) asks, and the state read from it; no paging.  ``in_order``:
        the search is a check on each row, not an index to start from, so
        SQLite reads the rows in the sort order and stops after the page
        (ListView.apply, for a common word)."""
        state: dict[str, Any] = {"q": _arg(args, "q")}
        if state["q"] and self.search:
            # The text as typed, and NFKC-folded: full-width ７０００ finds the
            # half-width digits stored, and ＡＢＣ still finds ＡＢＣ stored.
            # The register's search_key columns (core.textkey) hold their names
            # folded; the query folded the same way finds ㈱ＡＢＣ as 株式会社abc
            # and ｶﾌﾞｼｷ as かぶしき (issue 20).
            texts = dict.fromkeys([state["q"], unicodedata.normalize("NFKC", state["q"]),
                                   *([textkey.fold(state["q"])] if textkey.fold(state["q"]) else [])])
            found = or_(*[_matches(col, text) for col in self.search for text in texts])
            # "(… OR …) IS 1" is the same test, but SQLite can use no index for it
            stmt = stmt.where(found.is_(True) if in_order else found)
        for name, apply_filter in self.filters.items():
            value = _arg(args, name)
            state[name] = value
            if value:
                stmt = apply_filter(stmt, value)
        sort = args.get("sort", self.default_sort)
        if sort not in self.sorts:
            sort = self.default_sort
        desc = args.get("dir", "desc" if self.default_desc else "asc") == "desc"
        if sort:
            column = self.sorts[sort]
            if isinstance(column, tuple):  # (reading, name): by reading, the records without one after
                stmt = stmt.order_by(*textkey.reading_order(*column, descending=desc))
            else:
                stmt = stmt.order_by(column.desc() if desc else column.asc())
            # Rows that tie on the sort (a status, a date) keep one order, so
            # paging neither repeats nor skips one and an export lists them as
            # the pages did: the key last (in SQLite's indexes it already is).
            entity = stmt.column_descriptions[0].get("entity")
            if entity is not None:
                stmt = stmt.order_by(*[key.desc() if desc else key.asc() for key in inspect(entity).primary_key])
        state.update(sort=sort, dir="desc" if desc else "asc")
        return stmt, state

    def apply(self, stmt: Select):
        """Read q, filters, sort, dir, page, per_page from the query string
        and return (pagination, state) for the template."""
        args = request.args
        stmt_in = stmt
        stmt, state = self.statement(stmt, args)
        per_page = int_arg(args.get("per_page"))
        if per_page not in PER_PAGE_CHOICES:
            per_page = PER_PAGE_CHOICES[0]
        page = int_arg(args.get("page"), minimum=1) or 1
        estimate = self._estimate(state, page * per_page)
        if estimate is None and self._common_word(stmt, state):
            # Counted first: a word found in many rows (株式会社: 5,032 vendors) is
            # then looked up for each row read in the sort order, and SQLite stops
            # after the page instead of reading and sorting every match (issue 21).
            estimate = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
            if estimate >= IN_ORDER_ABOVE:
                stmt = self.statement(stmt_in, args, in_order=True)[0]
            pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=False)
            pagination.total = estimate
        else:
            pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=estimate is None)
            if estimate is not None:
                pagination.total, pagination.estimated = estimate, True
        state["per_page"] = per_page
        return pagination, ListState(state)

    def _common_word(self, stmt: Select, state: dict[str, Any]) -> bool:
        """A search on SQLite with a sort: worth counting first (see apply)."""
        return bool(state["q"] and self.search and state.get("sort") and db.engine.dialect.name == "sqlite")

    def _estimate(self, state: dict[str, Any], reached: int) -> int | None:
        """The number of rows of an unfiltered list as PostgreSQL estimates
        it (``pg_class.reltuples``, kept by autovacuum and ANALYZE), for a
        table with more than ESTIMATE_ABOVE rows: counting them reads them
        all (the audit trail's 260,000 entries: 35 ms of each page).  A
        filtered list, SQLite (which counts from an index), and the last
        pages (where the exact end matters) keep the exact count."""
        if self.estimate_table is None or db.engine.dialect.name != "postgresql":
            return None
        if state["q"] or any(state.get(name) for name in self.filters):
            return None
        rows = db.session.execute(text("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:name)"),
                                  {"name": self.estimate_table}).scalar()
        if rows is None or rows < ESTIMATE_ABOVE or reached > rows * 0.9:
            return None
        return int(rows)


def _arg(args, name: str) -> str:
    """A query-string value as the list uses it: at most 100 characters,
    without NUL (no text column can hold one; PostgreSQL refuses the query)."""
    return args.get(name, "").replace("\x00", "").strip()[:100]


def id_url(endpoint: str, name: str) -> Callable[[int], str]:
    """``url_for(endpoint, name=record_id)`` for each row of a page, the
    URL built once: ``{% set detail = id_url('vendors.detail', 'vendor_id') %}``
    then ``detail(vendor.id)`` (building twenty URLs was a tenth of a list
    page, issue 21)."""
    head, _, tail = url_for(endpoint, **{name: MAX_INT}).rpartition(str(MAX_INT))
    return lambda record_id: f"{head}{int(record_id)}{tail}"


class ListState(dict):
    """The list's current query, able to build links that change one part."""

    def url(self, **changes) -> str:
        params = {k: v for k, v in {**self, **changes}.items() if v not in ("", None)}
        return self.base_url + "?" + urlencode(params)

    @property
    def base_url(self) -> str:
        """The list's own address, built once for its sort and page links."""
        base = self.__dict__.get("_base_url")
        if base is None:
            base = self.__dict__["_base_url"] = url_for(request.endpoint, **(request.view_args or {}))
        return base

    def sort_url(self, name: str) -> str:
        direction = "desc" if self.get("sort") == name and self.get("dir") == "asc" else "asc"
        return self.url(sort=name, dir=direction, page=None)


def enum_filter(column, enum_cls) -> Callable[[Select, str], Select]:
    """Filter on an enum column; an unknown value filters nothing."""
    def apply(stmt: Select, value: str) -> Select:
        member = enum_cls.parse(value)
        return stmt.where(column == member) if member is not None else stmt
    return apply


def id_filter(column) -> Callable[[Select, str], Select]:
    """Filter on a foreign key (see int_arg); anything else filters nothing."""
    def apply(stmt: Select, value: str) -> Select:
        number = int_arg(value)
        return stmt.where(column == number) if number is not None else stmt
    return apply
