"""The annual report to the CISO and the security committee
(最高情報セキュリティ責任者・情報セキュリティ委員会, issue 18, policy §7–§8).

Assembled from what the domains and the yearly loop contributed through the
registry (core/report.py): the key figures of the 年度 beside the previous
year's, with the change and whether it reads better or worse; every
contributed table (self-inspection results per area, audit findings by
severity…); and the decisions the committee is asked to take.  The same
:class:`Report` feeds the page and the PDF.

At most about ten pages whatever the body's size: figures are counts, and
every list is capped (:data:`MAX_ROWS` rows of a table, :data:`MAX_DECISIONS`
decisions of a kind, then 「他 N 件」).

Core's own figure — overdue improvement measures (core.measures) — is
added here, the module that reads core's records for the report.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from reportlab.lib.units import mm
from reportlab.platypus import Spacer
from sqlalchemy import and_, func, not_, or_, select

from core import pdf, plugins, snapshot
from core.db import db
from core.i18n import locale_code
from core.measures import Measure, MeasureStatus
from core.report import Decision, Figure, Table, as_of, end_of
from core.timeutil import fiscal_year_label

MAX_ROWS = 30  # rows of a contributed table
MAX_DECISIONS = 20  # decisions of one kind
SIGNERS = ("作成者", "確認（統括責任者）", "報告先（CISO）")  # each fits its 40 mm box


# --- core's figure ---------------------------------------------------------------------

def overdue_measures_condition(day: dt.date):
    """An improvement measure overdue on ``day``: opened by then, due before
    it and not accepted on it (accepted at an unknown time: accepted)."""
    accepted = and_(Measure.status == MeasureStatus.ACCEPTED,
                    or_(Measure.accepted_at.is_(None), Measure.accepted_at < end_of(day)))
    return and_(Measure.created_at < end_of(day), Measure.due_on < day, not_(accepted))


def measure_figures(fiscal_year: int) -> list[Figure]:
    count = db.session.scalar(select(func.count()).select_from(Measure)
                              .where(overdue_measures_condition(as_of(fiscal_year)))) or 0
    return [Figure("core.overdue_measures", _l("改善措置"), _l("期限を過ぎた改善措置（自己点検・監査）"), count,
                   better="lower")]


# --- the report -------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """A figure of the year beside the previous year's."""
    key: str
    label: Any
    value: float | int | None
    previous: float | int | None
    unit: str = "件"
    better: str | None = None

    @property
    def change(self) -> float | int | None:
        if self.value is None or self.previous is None:
            return None
        change = self.value - self.previous
        return round(change, 1) if isinstance(change, float) else change

    @property
    def arrow(self) -> str:
        change = self.change
        if change is None:
            return "—"
        if change == 0:
            return "±0"
        sign = "▲" if change > 0 else "▼"
        # a share changes by points, not by per cent of itself
        return f"{sign}{abs(change):.1f}pt" if self.unit == "%" else f"{sign}{number(abs(change), self.unit)}"

    @property
    def reading(self) -> str | None:
        """"better", "worse" or None (no change, not known, or neutral)."""
        change = self.change
        if not change or self.better not in ("lower", "higher"):
            return None
        return "better" if (change < 0) == (self.better == "lower") else "worse"


@dataclass
class Group:
    label: Any
    rows: list[Row] = field(default_factory=list)


@dataclass
class Capped:
    """A contributed table with at most MAX_ROWS rows, and how many were left off."""
    table: Table
    rows: list[list]
    more: int


@dataclass
class Topic:
    label: Any
    decisions: list[Decision]
    more: int


@dataclass
class Report:
    fiscal_year: int
    day: dt.date  # the day the figures are taken
    groups: list[Group]
    tables: list[Capped]
    topics: list[Topic]

    @property
    def previous_year(self) -> int:
        return self.fiscal_year - 1


def number(value, unit: str = "件") -> str:
    """A figure as printed: "—" when not known, "85.0%", "1,234"."""
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.1f}%"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _figures(fiscal_year: int) -> list[Figure]:
    return [figure for build in plugins.registry().report_figures for figure in build(fiscal_year)]


def build(fiscal_year: int) -> Report:
    """The report of ``fiscal_year``: the registry's contributions, capped.
    It counts whole registers (50,000 contracts: about a second): kept until
    a record changes or the day does (core.snapshot), per language."""
    house = plugins.registry()
    builders = (*house.report_figures, *house.report_parts, *house.decisions)
    return snapshot.kept(("report", fiscal_year, locale_code(), tuple(map(id, builders))),
                         lambda: _build(fiscal_year))


def _build(fiscal_year: int) -> Report:
    previous = {figure.key: figure.value for figure in _figures(fiscal_year - 1)}
    groups: dict[str, Group] = {}
    for figure in _figures(fiscal_year):
        group = groups.setdefault(str(figure.group), Group(figure.group))
        group.rows.append(Row(figure.key, figure.label, figure.value, previous.get(figure.key), figure.unit,
                              figure.better))
    tables = [Capped(table, table.rows[:MAX_ROWS], max(0, len(table.rows) - MAX_ROWS))
              for build_part in plugins.registry().report_parts for table in build_part(fiscal_year)]
    topics: dict[str, list[Decision]] = {}
    labels: dict[str, Any] = {}
    for build_decisions in plugins.registry().decisions:
        for decision in build_decisions(fiscal_year):
            labels.setdefault(str(decision.topic), decision.topic)
            topics.setdefault(str(decision.topic), []).append(decision)
    return Report(fiscal_year, as_of(fiscal_year), list(groups.values()), tables,
                  [Topic(labels[key], found[:MAX_DECISIONS], max(0, len(found) - MAX_DECISIONS))
                   for key, found in topics.items()])


# --- the PDF ----------------------------------------------------------------------------

def _more(count: int):
    return pdf.p(_("他 %(count)s 件", count=f"{count:,}"), pdf.SMALL)


def sections(report: Report) -> list[pdf.Section]:
    """The report's sections: the key figures, the contributed tables, the
    decisions (the sign-off closes the last)."""
    year, previous = fiscal_year_label(report.fiscal_year), fiscal_year_label(report.previous_year)
    readings = {"better": _("改善"), "worse": _("悪化"), None: ""}
    header = [_("指標"), year, previous, _("増減"), _("評価")]
    widths = [84 * mm, 24 * mm, 24 * mm, 28 * mm, 20 * mm]
    figures: list = [pdf.p(_("基準日: %(day)s（前年度は年度末の値）", day=pdf.day(report.day)), pdf.BODY)]
    for group in report.groups:
        rows = [[str(row.label), number(row.value, row.unit), number(row.previous, row.unit), row.arrow,
                 readings[row.reading]] for row in group.rows]
        alerts = {i for i, row in enumerate(group.rows) if row.reading == "worse"}
        figures += [pdf.p(str(group.label), pdf.H2), pdf.table(header, rows, widths, alerts=alerts)]
    figures.append(pdf.p(_("「—」は、記録からその時点の値が分からない指標です。"), pdf.SMALL))

    results: list = []
    for capped in report.tables:
        width = 180 * mm / max(1, len(capped.table.headers))
        results += [pdf.p(str(capped.table.title), pdf.H2),
                    pdf.table([str(h) for h in capped.table.headers],
                              [[cell if cell is not None else "—" for cell in row] for row in capped.rows],
                              [width] * len(capped.table.headers))]
        if capped.more:
            results.append(_more(capped.more))
        if capped.table.note:
            results.append(pdf.p(str(capped.table.note), pdf.SMALL))
    if not results:
        results.append(pdf.p(_("この年度の自己点検・監査の結果はまだありません。"), pdf.BODY))

    decided: list = []
    for topic in report.topics:
        rows = [[str(n), decision.text] for n, decision in enumerate(topic.decisions, 1)]
        decided += [pdf.p(str(topic.label), pdf.H2), pdf.table([_("No."), _("内容")], rows, [14 * mm, 166 * mm])]
        if topic.more:
            decided.append(_more(topic.more))
    if not decided:
        decided.append(pdf.p(_("委員会に諮る事項はありません。"), pdf.BODY))
    decided.append(pdf.sign_off(SIGNERS))
    return [pdf.Section(_("主要指標と前年度からの変化"), figures),
            pdf.Section(_("自己点検・監査の結果"), results),
            pdf.Section(_("委員会に諮る事項"), decided)]


def title() -> str:
    return _("情報セキュリティに関する年次報告")


def render(report: Report, *, user, org: str) -> pdf.Rendered:
    """The PDF: a cover, the sections, the sign-off."""
    cover = [Spacer(1, 50 * mm), pdf.p(title(), pdf.TITLE),
             pdf.p(fiscal_year_label(report.fiscal_year, locale_code()), pdf.CENTER), Spacer(1, 20 * mm),
             pdf.p(_("最高情報セキュリティ責任者・情報セキュリティ委員会 宛"), pdf.CENTER),
             pdf.p(org, pdf.CENTER),
             pdf.p(_("基準日: %(day)s", day=pdf.day(report.day)), pdf.CENTER)]
    return pdf.render(title(), sections(report), user=user, cover=cover)
