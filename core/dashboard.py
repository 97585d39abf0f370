"""The dashboard.  Domains add their panels through :func:`panel`, so core
never imports a domain."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import func, select

from core.auth import access, can_view
from core.db import db

bp = Blueprint("dashboard", __name__)


@dataclass
class Tile:
    label: str
    count: int
    endpoint: str
    params: dict = field(default_factory=dict)
    alert: bool = False  # needs attention: shown with a word and an icon, not colour alone


@dataclass
class Panel:
    title: str
    endpoint: str  # the register the panel summarises; hidden from those who may not read it
    tiles: list[Tile]


_panels: list[tuple[int, Callable[[object], Panel]]] = []


def status_panel(title, column, statuses, endpoint: str) -> Panel:
    """A panel counting a register's records by status, each count linking
    to the list filtered on that status."""
    counts = dict(db.session.execute(select(column, func.count()).group_by(column)).all())
    return Panel(title, endpoint, [
        Tile(status.label, counts.get(status, 0), endpoint, {"status": status.value}) for status in statuses])


def panel(order: int):
    """Register a function (user → Panel) that builds one dashboard panel."""
    def decorate(build: Callable[[object], Panel]):
        _panels.append((order, build))
        _panels.sort(key=lambda item: item[0])
        return build
    return decorate


@bp.route("/")
@access(any_user=True)
def index():
    user = current_user._get_current_object()
    panels = []
    for _order, build in _panels:
        built = build(user)
        if built is not None and can_view(built.endpoint):
            panels.append(built)
    return render_template("dashboard/index.html", panels=panels)
