"""What the cloud-service register contributes to the annual report to the
CISO and the committee (issue 18, core/report.py): services in use by track
(DOMAIN.md §3.1), services with rule violations (cloud.rules.FLAGS), and the
requests waiting long for a decision.

Services' statuses and flags are today's: of a past year they are not known
(None, shown "—").  A request's dates are recorded, so the ones waiting at a
past year's end are known.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from cloud import rules
from cloud.models import IN_USE, CloudService, Track
from core.approvals import Approval
from core.approvals import Decision as ApprovalDecision
from core.db import db
from core.i18n import date_filter
from core.report import Decision, Figure, as_of, end_of, is_current
from core.timeutil import local_date

GROUP = _l("外部サービス")
WAITING_DAYS = 30  # a request waiting longer than this is put to the committee


def _count(*conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(CloudService).where(*conditions)) or 0


def figures(fiscal_year: int) -> list[Figure]:
    current = is_current(fiscal_year)
    in_use = CloudService.status.in_(IN_USE)
    violations = or_(*(rules.FLAGS.condition(name) for name in rules.FLAGS.names))
    return [
        Figure("cloud.in_use.ta", GROUP, _l("利用中のサービス（T-A：機密性2以上を扱う）"),
               _count(in_use, rules.track_expr(Track.TA)) if current else None),
        Figure("cloud.in_use.tb", GROUP, _l("利用中のサービス（T-B：機密性2以上を扱わない）"),
               _count(in_use, rules.track_expr(Track.TB)) if current else None),
        Figure("cloud.violations", GROUP, _l("規定違反の注意があるサービス"),
               _count(violations) if current else None, better="lower"),
    ]


def decisions(fiscal_year: int) -> list[Decision]:
    """Requests still waiting for a decision more than 30 days after they
    were made, today (or at the year's end)."""
    day = as_of(fiscal_year)
    waiting = or_(Approval.decision == ApprovalDecision.PENDING,
                  and_(Approval.decided_at.is_not(None), Approval.decided_at >= end_of(day)))
    rows = db.session.execute(
        select(Approval.requested_at, CloudService.id, CloudService.name)
        .join(CloudService, CloudService.id == Approval.subject_id)
        .where(Approval.kind == rules.KIND, Approval.subject_type == CloudService.__tablename__, waiting,
               Approval.requested_at < end_of(day - dt.timedelta(days=WAITING_DAYS + 1)))
        .order_by(Approval.requested_at, CloudService.id)).all()
    topic = _l("長期間承認待ちの外部サービス")
    return [Decision(topic, _("%(service)s：%(date)s の申請から %(days)s 日承認待ち", service=name,
                              date=date_filter(local_date(requested_at), era=True),
                              days=(day - local_date(requested_at)).days),
                     "cloud.detail", {"service_id": service_id})
            for requested_at, service_id, name in rows]
