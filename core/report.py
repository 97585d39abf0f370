"""What the domains and the yearly loop contribute to the annual report to the
CISO and the security committee (issue 18; assembled by assurance/report.py).

Through the registry (core/plugins.py):
- ``add_report_figures(order, build)``: ``build(fiscal_year)`` → [:class:`Figure`],
  the figure's value for that 年度 (as it stood at the year's end, or today
  for the current year).  The report asks for the year and the one before, and
  shows the change.
- ``add_report_part(order, build)``: ``build(fiscal_year)`` → [:class:`Table`],
  a table of its own (self-inspection results per area, audit findings by
  severity…).
- ``add_decisions(order, build)``: ``build(fiscal_year)`` → [:class:`Decision`],
  what the committee is asked to decide (exceptions nearing expiry, overdue
  serious findings, services awaiting approval for long).

Labels are plain strings or lazy strings without user data; a value that
carries user data (a record's name) is plain text, escaped where shown.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from core.timeutil import fiscal_year_range, today


@dataclass(frozen=True)
class Figure:
    key: str  # stable, e.g. "contracts.in_force.3" (compared across years)
    group: Any  # the heading it is shown under, e.g. _l("業務委託")
    label: Any  # e.g. _l("履行中の契約（機密性3）")
    value: float | int | None  # None: not known for that year
    unit: str = "件"  # "件", "%"
    better: str | None = None  # "lower" / "higher": how a change reads; None: neutral


@dataclass(frozen=True)
class Table:
    title: Any
    headers: list
    rows: list[list]  # cells are plain text
    note: Any = ""


@dataclass(frozen=True)
class Decision:
    topic: Any  # e.g. _l("期限が近い条項の例外")
    text: str  # what is to be decided, with the record's name (plain text)
    endpoint: str | None = None
    params: dict = field(default_factory=dict)


def as_of(fiscal_year: int) -> dt.date:
    """The day a figure of ``fiscal_year`` is taken on: the year's last day
    (31 March), or today while the year is not over."""
    return min(fiscal_year_range(fiscal_year)[1], today())


def is_current(fiscal_year: int) -> bool:
    """The year is not over: its figures are the registers as they stand today."""
    return fiscal_year_range(fiscal_year)[1] >= today()


def end_of(day: dt.date) -> dt.datetime:
    """The stored (naive UTC) moment a day in Japan ends: a record stamped
    before it existed, or was decided, by that day."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time()) - dt.timedelta(hours=9)
