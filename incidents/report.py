"""What the incident register contributes to the annual report to the CISO
and the committee (core/report.py): the incidents that occurred in the 年度,
the severe ones, those involving personal data, and how long containing
them took (their times are recorded: known for every year) — figures and
tables; and the incidents of the year in the annual audit pack."""
from __future__ import annotations

import datetime as dt
import statistics

from flask import has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from reportlab.lib.units import mm
from sqlalchemy import func, select

from core.db import db
from core.incidents import Incident, IncidentKind, Severity
from core.pdf import SMALL, Section, day, p, table
from core.report import Figure, Table, as_of
from core.timeutil import JST, fiscal_year_label, fiscal_year_range
from incidents import access, services

GROUP = _l("事故・インシデント")


def _utc(day: dt.date, end: bool = False) -> dt.datetime:
    moment = dt.datetime.combine(day + dt.timedelta(days=1) if end else day, dt.time(), JST)
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _in_year(fiscal_year: int) -> tuple:
    start, day = fiscal_year_range(fiscal_year)[0], as_of(fiscal_year)
    return Incident.occurred_at >= _utc(start), Incident.occurred_at < _utc(day, end=True)


def figures(fiscal_year: int) -> list[Figure]:
    in_year = _in_year(fiscal_year)

    def count(*conditions) -> int:
        return db.session.scalar(select(func.count(Incident.id)).where(*in_year, *conditions)) or 0

    return [
        Figure("incidents.count", GROUP, _l("年度内に発生した事故"), count(), better="lower"),
        Figure("incidents.severe", GROUP, _l("うち、重大"), count(Incident.severity == Severity.SEVERE),
               better="lower"),
        Figure("incidents.personal", GROUP, _l("うち、個人情報を含む"), count(Incident.personal_data.is_(True)),
               better="lower"),
    ]


def _duration(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days >= 2:
        return _("%(days)s日%(hours)s時間", days=days, hours=hours)
    return _("%(hours)s時間%(minutes)s分", hours=days * 24 + hours, minutes=minutes)


def _to_contain(incident: Incident) -> dt.timedelta | None:
    """Occurred → contained (or closed, when no containment time was recorded)."""
    end = incident.contained_at or incident.closed_at
    return end - incident.occurred_at if end is not None and end >= incident.occurred_at else None


def tables(fiscal_year: int) -> list[Table]:
    """The incidents of the 年度 by kind and severity, and how long containing
    them took by severity: the median and the longest (a part of the annual
    report, core/report.py; counts only: no incident is named)."""
    incidents = db.session.scalars(select(Incident).where(*_in_year(fiscal_year))).all()
    severities = list(Severity)
    rows = []
    for kind in IncidentKind:
        of = [i for i in incidents if i.kind is kind]
        if of:
            rows.append([str(kind.label), *(str(sum(1 for i in of if i.severity is s)) for s in severities),
                         str(len(of))])
    rows.append([_("計"), *(str(sum(1 for i in incidents if i.severity is s)) for s in severities),
                 str(len(incidents))])
    by_kind = Table(_l("事故（種類別・重大度別）"), [_l("種類"), *(s.label for s in severities), _l("計")], rows)

    times = {i.id: _to_contain(i) for i in incidents}
    rows = []
    for label, of in [*((str(s.label), [i for i in incidents if i.severity is s]) for s in severities),
                      (_("計"), incidents)]:
        known = sorted(times[i.id] for i in of if times[i.id] is not None)
        if known:
            median = dt.timedelta(seconds=statistics.median(t.total_seconds() for t in known))
            rows.append([label, str(len(known)), _duration(median), _duration(known[-1])])
        else:
            rows.append([label, "0", "—", "—"])
    open_count = sum(1 for t in times.values() if t is None)
    note = _("発生から封じ込め（記録がなければ終結）までの時間。まだ封じ込めていない事故 %(count)s 件は含みません。",
             count=open_count)
    return [by_kind, Table(_l("封じ込めまでの時間"), [_l("重大度"), _l("件数"), _l("中央値"), _l("最大")], rows, note)]


# --- the annual audit pack (core.inspection.pack) -------------------------------------------

def ja(member) -> str:
    """An enum member's Japanese label (documents are in Japanese)."""
    with force_locale("ja"):
        return str(member.label)


def _when(moment: dt.datetime | None) -> str:
    """A stored moment as documents print it: its date (as DOCUMENT_DATES
    says) and the time in Japan."""
    if moment is None:
        return "—"
    return f"{day(moment)} {moment.replace(tzinfo=dt.UTC).astimezone(JST):%H:%M}"


def _times(incident: Incident) -> str:
    return "\n".join(f"{label} {_when(moment)}" for label, moment in (
        ("発生", incident.occurred_at), ("受託者の報告", incident.contractor_reported_at),
        ("把握", incident.learned_at), ("封じ込め", incident.contained_at), ("終結", incident.closed_at))
        if moment is not None)


def pack_sections(scope) -> list[Section]:
    """「事故・インシデント」: the incidents that occurred in the 年度 (of the
    scope's unit when it names one), open and closed — kind, severity,
    subject, times, status, cause and prevention; open severe ones and open
    leaks, takeovers and impersonations shaded.  The pack's readers read
    every incident (the lead, administrators, auditors); anyone else would
    see only the incidents they may read."""
    query = select(Incident).where(*_in_year(scope.fiscal_year))
    if scope.unit_id is not None:
        query = query.where(Incident.unit_id == scope.unit_id)
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        query = access.visible(query, current_user)
    incidents = db.session.scalars(query.order_by(Incident.occurred_at, Incident.id)).all()
    subjects = services.describe(incidents)
    flow: list = [p(f"{fiscal_year_label(scope.fiscal_year)}に発生した事故・インシデント {len(incidents)} 件"
                    "（対応中・終結を含む）。網掛けの行は対応中の重大な事故、情報漏えい・乗っ取り・なりすましです。", SMALL)]
    if incidents:
        flow.append(table(
            ["事案番号", "件名", "種類・重大度", "対象", "日時", "状態", "原因・再発防止策"],
            [[i.number, i.title, f"{ja(i.kind)}・{ja(i.severity)}"
              + ("・個人情報" + (f"{i.people_affected}人" if i.people_affected else "") if i.personal_data else ""),
              subjects[i.id], _times(i), ja(i.status),
              f"原因: {i.cause}\n再発防止策: {i.prevention}" if i.cause or i.prevention else "—"]
             for i in incidents],
            [24 * mm, 30 * mm, 24 * mm, 34 * mm, 54 * mm, 12 * mm, 89 * mm],
            alerts={n for n, i in enumerate(incidents) if i.alarming}))
    else:
        flow.append(p("この年度に発生した事故・インシデントはありません。"))
    return [Section("事故・インシデント", flow, landscape=True, kind="事故・インシデント")]
