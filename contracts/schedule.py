"""When the next verification of a contract is due (issue 4, policy §6(8):
confirm periodically that the contractor keeps the measures).

Pure functions of dates, so every case is tested without a database."""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from core.enums import LabelledEnum
from core.timeutil import add_months, fiscal_year, fiscal_year_range

DUE_SOON_DAYS = 30


class Cycle(LabelledEnum):
    MONTHLY = "monthly", _l("毎月")
    QUARTERLY = "quarterly", _l("四半期ごと")
    HALF_YEARLY = "half_yearly", _l("半年ごと")
    YEARLY = "yearly", _l("毎年度")
    AT_COMPLETION = "at_completion", _l("完了時のみ")


class DueState(LabelledEnum):
    SCHEDULED = "scheduled", _l("予定")
    DUE_SOON = "due_soon", _l("期限間近")
    OVERDUE = "overdue", _l("期限超過")


MONTHS = {Cycle.MONTHLY: 1, Cycle.QUARTERLY: 3, Cycle.HALF_YEARLY: 6}


def next_due(cycle: Cycle, start_on: dt.date, end_on: dt.date, last_done: dt.date | None) -> dt.date | None:
    """The date the next verification is due, or None when none is left.

    - monthly / quarterly / half-yearly: that long after the last completed
      verification, or after the contract's start when there is none;
    - yearly: fiscal-year aware — one check within each 年度 (April–March),
      due by 31 March of the first fiscal year of the contract not yet checked;
    - at completion: the contract's end date.
    A due date past the contract's end becomes the end date (the check at
    completion); once a check on or after the end is done, nothing is due."""
    if last_done is not None and last_done >= end_on:
        return None
    if cycle is Cycle.AT_COMPLETION:
        due = end_on
    elif cycle is Cycle.YEARLY:
        year = fiscal_year(start_on) if last_done is None else fiscal_year(last_done) + 1
        due = fiscal_year_range(max(year, fiscal_year(start_on)))[1]
    else:
        due = add_months(last_done or start_on, MONTHS[cycle])
    return min(due, end_on)


def due_state(due: dt.date | None, today: dt.date) -> DueState | None:
    if due is None:
        return None
    if due < today:
        return DueState.OVERDUE
    if due <= today + dt.timedelta(days=DUE_SOON_DAYS):
        return DueState.DUE_SOON
    return DueState.SCHEDULED
