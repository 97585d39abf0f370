"""Periodic review: a register's record is looked at again every
``review_cycle_months`` months (cloud services, official accounts, and
later other registers).  A review records the day it was done,
moves the next one a cycle on, and enters the audit trail as 見直し.

A record under review has ``review_cycle_months``, ``last_reviewed_on`` and
``next_review_on``; its domain decides who may review it and when (an
approved service, an account not closed) and calls :func:`record`.
"""
from __future__ import annotations

import datetime as dt
from typing import Protocol

from flask_babel import lazy_gettext as _l

from core import audit
from core.db import db
from core.refusals import Refusal
from core.timeutil import add_months, today

LABEL = "review"  # the audit trail's action (core.audit_views shows 見直し)


class Reviewed(Protocol):
    review_cycle_months: int
    last_reviewed_on: dt.date | None
    next_review_on: dt.date | None


def next_due(on: dt.date, cycle_months: int) -> dt.date:
    """When the next review is due after one on ``on``."""
    return add_months(on, cycle_months)


def schedule(subject: Reviewed, on: dt.date) -> None:
    """``subject`` was found fit on ``on`` (reviewed, or approved): the next
    review is a cycle later."""
    subject.last_reviewed_on = on
    subject.next_review_on = next_due(on, subject.review_cycle_months)


def record(subject: Reviewed, *, on: dt.date, refusal: type[Refusal] = Refusal) -> None:
    """A periodic review of ``subject`` done on ``on`` (never a future day:
    refused with the domain's ``refusal``), entered in the audit trail;
    flushed, not committed."""
    if on > today():
        raise refusal(_l("見直し日に未来の日付は指定できません。"))
    schedule(subject, on)
    audit.label(subject, LABEL)
    db.session.flush()
