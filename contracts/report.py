"""What contracts contribute to the annual report to the CISO and the
committee (issue 18, core/report.py): the key figures of a 年度 and the
clause exceptions the committee is asked to decide on.

A figure is the register as it stood at the year's end (or today, for the
current year), counted in SQL.  What the app cannot know of a past day — the
stored next-verification date and gap flag are today's — is None ("—").

Verification coverage reads the yearly cycle (policy §6(8): one check in each
年度, due by 31 March or the contract's end if earlier): of the contracts
whose check for the year fell due by the day the figure is taken, the share
checked (a submitted verification dated within the year) by that due date.
A shorter cycle is counted as yearly here; the schedule page has the rest.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, not_, or_, select

from contracts.due import UNDER_VERIFICATION
from contracts.models import Contract, ContractStatus, Finding, MeasureStatus, Verification, VerificationStatus
from contracts.rules import EXCEPTION
from core.approvals import Approval
from core.approvals import Decision as ApprovalDecision
from core.db import db
from core.i18n import date_filter, locale_code
from core.models import ClassificationLevel
from core.report import Decision, Figure, as_of, end_of, is_current
from core.timeutil import fiscal_year_range, today

GROUP = _l("業務委託")
EXPIRY_DAYS = 90  # an exception expiring within this many days is put to the committee
# Past the draft: the statuses a contract in force at a past day has now (a terminated
# one is left out: the day it was terminated is not recorded).
WAS_LIVE = (ContractStatus.SIGNED, ContractStatus.IN_FORCE, ContractStatus.ENDED)


def _count(*conditions, model=Contract) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def in_force_condition(fiscal_year: int):
    """In force when the figure is taken: today, as the register says
    (signed or in force); at a past year's end, signed and running on that day."""
    if is_current(fiscal_year):
        return Contract.status.in_(UNDER_VERIFICATION)
    day = as_of(fiscal_year)
    return and_(Contract.status.in_(WAS_LIVE), Contract.start_on <= day,
                or_(Contract.end_on.is_(None), Contract.end_on >= day))


def _in_force_by_level(fiscal_year: int) -> list[Figure]:
    levels = db.session.scalars(select(ClassificationLevel).where(ClassificationLevel.axis == "confidentiality")
                                .order_by(ClassificationLevel.rank, ClassificationLevel.code)).all()
    counts = dict(db.session.execute(select(Contract.classification_id, func.count())
                                     .where(in_force_condition(fiscal_year))
                                     .group_by(Contract.classification_id)).all())
    locale = locale_code()
    figures = [Figure(f"contracts.in_force.{level.code}", GROUP,
                      _("履行中の契約（%(level)s）", level=level.label(locale)), counts.get(level.id, 0))
               for level in levels if level.active or counts.get(level.id)]
    if counts.get(None):
        figures.append(Figure("contracts.in_force.none", GROUP, _("履行中の契約（分類未設定）"), counts[None],
                              better="lower"))
    return figures


def coverage_counts(fiscal_year: int) -> tuple[int, int]:
    """(checks due, checks done on time) for the year, by the day the figure is taken."""
    start, end = fiscal_year_range(fiscal_year)
    due = case((Contract.end_on < end, Contract.end_on), else_=end)
    eligible = [Contract.status.in_(WAS_LIVE), Contract.start_on.is_not(None), Contract.end_on.is_not(None),
                Contract.start_on <= due, Contract.end_on >= start, due <= as_of(fiscal_year)]
    checked = exists().where(Verification.contract_id == Contract.id,
                             Verification.status == VerificationStatus.SUBMITTED,
                             Verification.performed_on >= start, Verification.performed_on <= due)
    return _count(*eligible), _count(*eligible, checked)


def overdue_findings_condition(day: dt.date):
    """A contract finding's measure overdue on ``day``: recorded by then, due
    before it and not yet accepted on it (accepted at an unknown time: accepted)."""
    accepted = and_(Finding.status == MeasureStatus.ACCEPTED,
                    or_(Finding.accepted_at.is_(None), Finding.accepted_at < end_of(day)))
    return and_(Finding.created_at < end_of(day), Finding.due_on < day, not_(accepted))


def exception_holds_condition(day: dt.date):
    """A clause exception approved by ``day`` and not expired on it."""
    return and_(Approval.kind == EXCEPTION, Approval.subject_type == Contract.__tablename__,
                Approval.decision == ApprovalDecision.APPROVED, Approval.decided_at < end_of(day),
                or_(Approval.expires_on.is_(None), Approval.expires_on >= day))


def figures(fiscal_year: int) -> list[Figure]:
    """The contract register's key figures of ``fiscal_year`` (a few counts)."""
    day, current = as_of(fiscal_year), is_current(fiscal_year)
    due, done = coverage_counts(fiscal_year)
    return [
        *_in_force_by_level(fiscal_year),
        Figure("contracts.coverage", GROUP, _l("期限内に実施した確認の割合"),
               round(100 * done / due, 1) if due else None, unit="%", better="higher"),
        Figure("contracts.overdue_verifications", GROUP, _l("期限を過ぎた確認"),
               _count(Contract.verification_due_on < today()) if current else None, better="lower"),
        Figure("contracts.overdue_measures", GROUP, _l("期限を過ぎた措置（契約の確認）"),
               _count(overdue_findings_condition(day), model=Finding), better="lower"),
        Figure("contracts.gaps", GROUP, _l("必須条項が不足している契約"),
               _count(Contract.has_gap, Contract.status.in_(UNDER_VERIFICATION)) if current else None,
               better="lower"),
        Figure("contracts.exceptions", GROUP, _l("有効な条項の例外"),
               _count(exception_holds_condition(day), model=Approval), better="lower"),
    ]


def decisions(fiscal_year: int) -> list[Decision]:
    """Clause exceptions expiring within 90 days of today (or of the year's
    end): renew, or have the clause added, before they lapse."""
    day = as_of(fiscal_year)
    rows = db.session.execute(
        select(Approval.details, Approval.expires_on, Contract.id, Contract.number, Contract.title)
        .join(Contract, Contract.id == Approval.subject_id)
        .where(exception_holds_condition(day), Approval.expires_on.is_not(None),
               Approval.expires_on <= day + dt.timedelta(days=EXPIRY_DAYS))
        .order_by(Approval.expires_on, Contract.number, Approval.id)).all()
    topic = _l("期限が近い条項の例外")
    return [Decision(topic, _("%(contract)s：条項 %(clauses)s の例外が %(date)s に期限を迎えます",
                              contract=f"{number} {title}", clauses="、".join((details or {}).get("clauses", [])),
                              date=date_filter(expires_on, era=True)),
                     "contracts.detail", {"contract_id": contract_id})
            for details, expires_on, contract_id, number, title in rows]
