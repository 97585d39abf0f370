"""What the incident register contributes to the annual report to the CISO
and the committee (core/report.py): the incidents that occurred in the 年度,
the severe ones, those involving personal data, and how long containing
them took (their times are recorded: known for every year)."""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.db import db
from core.incidents import Incident, Severity
from core.report import Figure, as_of
from core.timeutil import JST, fiscal_year_range

GROUP = _l("事故・インシデント")


def _utc(day: dt.date, end: bool = False) -> dt.datetime:
    moment = dt.datetime.combine(day + dt.timedelta(days=1) if end else day, dt.time(), JST)
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def figures(fiscal_year: int) -> list[Figure]:
    start, day = fiscal_year_range(fiscal_year)[0], as_of(fiscal_year)
    in_year = (Incident.occurred_at >= _utc(start), Incident.occurred_at < _utc(day, end=True))

    def count(*conditions) -> int:
        return db.session.scalar(select(func.count(Incident.id)).where(*in_year, *conditions)) or 0

    return [
        Figure("incidents.count", GROUP, _l("年度内に発生した事故"), count(), better="lower"),
        Figure("incidents.severe", GROUP, _l("うち、重大"), count(Incident.severity == Severity.SEVERE),
               better="lower"),
        Figure("incidents.personal", GROUP, _l("うち、個人情報を含む"), count(Incident.personal_data.is_(True)),
               better="lower"),
    ]
