"""The dashboard.  Domains add their panels to the app's registry
(core/plugins.py: ``add_panel``), so core never imports a domain.  A tile's
count may be given as a count statement:
all of them are then run together, as scalar sub-queries of one SELECT, so
the whole dashboard is one round trip to the database.

Building those statements (some fifty, and SQLAlchemy's key for each) cost
more than running them (issue 21): a panel builds each count statement
through :func:`statement`, once per key naming what its SQL depends on (the
unit, a setting…; today's date is added), and the page's SELECT of them
all is built once per set of keys.  The cache holds SQL only, never data or
a figure: every figure is counted live."""
from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Hashable

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import Select, func, select

from core import inbox, plugins
from core.auth import access, can_view
from core.db import db
from core.models import Role
from core.timeutil import today

bp = Blueprint("dashboard", __name__)


@dataclass(eq=False)  # compared by identity: comparing labels would translate them
class Tile:
    label: str
    # a SELECT count(*) …: run with the page's others; or a function of
    # other tiles' counts, called once they are known (count_all)
    count: int | Select | Callable[[], int]
    endpoint: str
    params: dict = field(default_factory=dict)
    alert: bool = False  # needs attention: shown with a word and an icon, not colour alone
    in_chart: bool = True  # a by-status count, drawn with a bar beside its figure (alerts never are)

    @property
    def charted(self) -> bool:
        return self.in_chart and not self.alert

    @property
    def url(self) -> str:
        """The list the figure counts (built once per endpoint and filter: some fifty a page)."""
        urls = _Statements.of_app().urls
        key = (request.script_root, self.endpoint, tuple(sorted(self.params.items())))
        found = urls.get(key)
        if found is None:
            found = urls[key] = url_for(self.endpoint, **self.params)
            while len(urls) > _Statements.SIZE:
                urls.pop(next(iter(urls)), None)
        return found


@dataclass
class Panel:
    title: str
    endpoint: str  # the register the panel summarises; hidden from those who may not read it
    tiles: list[Tile]
    # Urgent items shown in red above all panels (an account taken over…).
    notices: list[Tile] = field(default_factory=list)

    @property
    def chart(self) -> list[Tile]:
        """The by-status counts, each drawn with a bar scaled to the largest."""
        return [tile for tile in self.tiles if tile.charted]

    @property
    def chart_max(self) -> int:
        return max([tile.count for tile in self.chart] + [1])


class _Statements:
    """The app's count statements by key, and the page SELECTs combining
    them by their keys (least recently used dropped beyond ``SIZE``)."""
    SIZE = 4096
    KEY = "itaku.dashboard_statements"

    def __init__(self) -> None:
        self.built: OrderedDict[tuple, Select] = OrderedDict()
        self.combined: OrderedDict[tuple, Select] = OrderedDict()
        self.keys: weakref.WeakKeyDictionary[Select, tuple] = weakref.WeakKeyDictionary()
        self.urls: dict[tuple, str] = {}  # the tiles' links

    @classmethod
    def of_app(cls) -> _Statements:
        found = current_app.extensions.get(cls.KEY)
        if found is None:
            found = current_app.extensions[cls.KEY] = cls()
        return found

    @classmethod
    def remember(cls, cache: OrderedDict, key: tuple, build: Callable[[], Select]) -> Select:
        stmt = cache.get(key)
        try:  # (another thread may have dropped the key meanwhile: nothing lost but a build)
            if stmt is None:
                stmt = cache[key] = build()
                while len(cache) > cls.SIZE:
                    cache.popitem(last=False)
            else:
                cache.move_to_end(key)
        except KeyError:
            pass
        return stmt


def statement(key: tuple[Hashable, ...], build: Callable[[], Select]) -> Select:
    """The count statement ``build()``, built once per ``key`` and day.  The
    key must name everything the SQL depends on besides the date: the unit,
    a setting, a rank read from the database…  (never data that changes
    which rows are counted: such a statement is passed as it is)."""
    cache = _Statements.of_app()
    full = (today(), *key)
    stmt = _Statements.remember(cache.built, full, build)
    cache.keys[stmt] = full
    return stmt


def _count_statement(tiles: list[Tile]) -> Select:
    """One SELECT of the tiles' count statements as scalar sub-queries; built
    once per set of keys when each has one (:func:`statement`)."""
    cache = _Statements.of_app()
    keys = tuple(cache.keys.get(tile.count) for tile in tiles)

    def build() -> Select:
        return select(*[tile.count.scalar_subquery() for tile in tiles])
    return build() if None in keys else _Statements.remember(cache.combined, keys, build)


def scope_unit(user) -> int | None:
    """Whose items the dashboard counts: the user's unit, or every unit (None)
    for administrators, auditors and approvers (who decide for every unit),
    and for users without a unit."""
    return None if user.has_role(Role.ADMIN, Role.AUDITOR, Role.APPROVER, Role.LEAD) else user.unit_id


def status_panel(title, column, statuses, endpoint: str, unit_column=None, unit_id: int | None = None,
                 unit_condition: Callable | None = None) -> Panel:
    """A panel counting a register's records by status (within one unit when
    given: ``unit_column`` equal to it, or ``unit_condition(unit_id)`` for
    a register whose records belong to several units), each count linking
    to the list filtered the same way."""
    scoped = unit_id is not None and (unit_column is not None or unit_condition is not None)

    def build(status) -> Select:
        stmt = select(func.count()).select_from(column.class_).where(column == status)
        if scoped:
            stmt = stmt.where(unit_condition(unit_id) if unit_condition else unit_column == unit_id)
        return stmt
    where = (getattr(unit_condition, "__qualname__", None), str(unit_column) if unit_column is not None else None,
             unit_id if scoped else None)
    params = {"unit": unit_id} if scoped else {}
    return Panel(title, endpoint, [
        Tile(status.label, statement(("status", str(column), status.value, *where), lambda status=status: build(status)),
             endpoint, {"status": status.value, **params})
        for status in statuses])


def count_all(tiles: list[Tile]) -> None:
    """Replace every count statement among ``tiles`` by its figure (one
    SELECT of those built through :func:`statement`, one of the others),
    then every count derived from them."""
    pending = [tile for tile in tiles if isinstance(tile.count, Select)]
    keys = _Statements.of_app().keys
    for group in ([tile for tile in pending if tile.count in keys],
                  [tile for tile in pending if tile.count not in keys]):
        if not group:
            continue
        row = db.session.execute(_count_statement(group)).one()
        for tile, count in zip(group, row, strict=True):
            tile.count = count or 0
    for tile in tiles:
        if callable(tile.count):
            tile.count = tile.count()


def visible_panels(user) -> list[Panel]:
    """The panels ``user`` may see, in order (the page and the API)."""
    panels = []
    for build in plugins.registry().panels:
        built = build(user)
        if built is not None and can_view(built.endpoint):
            panels.append(built)
    count_all([tile for built in panels for tile in (*built.tiles, *built.notices)])
    return panels


@bp.route("/")
@access(any_user=True)
def index():
    user = current_user._get_current_object()
    panels = visible_panels(user)
    notices = [notice for built in panels for notice in built.notices]
    # Approvers and the security lead see the requests waiting for their decision (core.inbox).
    queue = inbox.approval_queue(user) if user.has_role(Role.APPROVER, Role.LEAD) else None
    return render_template("dashboard/index.html", panels=panels, notices=notices, queue=queue,
                           scope=user.unit if scope_unit(user) else None)
