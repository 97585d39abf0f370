"""The rules of an incident (issue 19): the reporting need to the Personal
Information Protection Commission (APPI art. 68), the deadlines, and the
reporting chain inside the body.  Pure functions of an incident and the
registry: they read, never change.

- **PPC** (個人情報保護委員会への報告): an incident without personal data
  needs none.  With personal data it is required when My Number is involved,
  when more than 100 people are affected, when wrongful intent (不正の目的)
  caused it, or when the handler decided so; otherwise the handler decides
  (要判断).  The preliminary report is due ``PPC_PRELIMINARY_DAYS`` after the
  day the body learned of it ("promptly", about 3–5 days), the final one
  ``PPC_FINAL_DAYS`` after (30), or ``PPC_FINAL_DAYS_WRONGFUL`` (60) with
  wrongful intent.
- **C10** (the contractor's report): when what the incident concerns binds a
  contractor to report within some hours (``IncidentSubject.report_hours``;
  contracts: ``CONTRACTOR_REPORT_HOURS`` when the contract says nothing
  else), the report is due that many hours after detection (or, not known,
  occurrence); a later one is late.
- **The reporting chain**: the security lead (統括情報セキュリティ責任者) is
  always told; the CISO (最高情報セキュリティ責任者) too when the incident is
  severe (重大) or class-3 information (自治体機密性3A–3C) is involved — the
  incident's classification, or the highest class its subject may hold.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import due, plugins
from core.db import db
from core.due import EVERYONE, DueItem, DueScope
from core.incidents import OPEN_STATUSES, Incident, Severity
from core.models import ClassificationLevel, Role, User
from core.timeutil import local_date, today, utcnow

# The PPC reporting need.
NOT_APPLICABLE, DECIDE, REQUIRED, NOT_REQUIRED = "not_applicable", "decide", "required", "not_required"
NEED_LABELS = {NOT_APPLICABLE: _l("対象外（個人情報なし）"), DECIDE: _l("要判断"), REQUIRED: _l("報告が必要"),
               NOT_REQUIRED: _l("報告不要（判断済み）")}
PEOPLE_THRESHOLD = 100  # more than this many people: the report is required

# The deadlines.
PPC_PRELIMINARY, PPC_FINAL, CONTRACTOR_REPORT = "ppc_preliminary", "ppc_final", "contractor_report"
DEADLINE_LABELS = {PPC_PRELIMINARY: _l("個人情報保護委員会への速報"), PPC_FINAL: _l("個人情報保護委員会への確報"),
                   CONTRACTOR_REPORT: _l("受託者からの報告（C10）")}
# A deadline's state.
PENDING, OVERDUE, DONE, DONE_LATE = "pending", "overdue", "done", "done_late"
STATE_LABELS = {PENDING: _l("期限前"), OVERDUE: _l("期限超過"), DONE: _l("済"), DONE_LATE: _l("期限後に済")}

# The reporting chain (IncidentNotification.recipient_role).
LEAD, CISO, OTHER = "lead", "ciso", "other"
ROLE_LABELS = {LEAD: _l("統括情報セキュリティ責任者"), CISO: _l("最高情報セキュリティ責任者"), OTHER: _l("その他")}
CLASS_3 = ("C3A", "C3B", "C3C")


@dataclass(frozen=True)
class Deadline:
    kind: str
    label: Any
    due_on: dt.date  # the day it is due (local)
    state: str
    due_at: dt.datetime | None = None  # an hour deadline (UTC), None for a day one
    done_on: dt.date | None = None  # when it was done (local day)
    done_at: dt.datetime | None = None

    @property
    def overdue(self) -> bool:
        return self.state == OVERDUE

    @property
    def late(self) -> bool:
        return self.state in (OVERDUE, DONE_LATE)

    @property
    def done(self) -> bool:
        return self.state in (DONE, DONE_LATE)

    @property
    def state_label(self):
        return STATE_LABELS[self.state]


@dataclass(frozen=True)
class Notification:
    """One link of the reporting chain the incident needs."""
    role: str
    label: Any
    reason: Any
    done: list = field(default_factory=list)  # the IncidentNotification rows that told them

    @property
    def missing(self) -> bool:
        return not self.done


def ppc_facts(incident: Incident) -> bool:
    """Do the facts alone make the report required?"""
    return bool(incident.my_number or (incident.people_affected or 0) > PEOPLE_THRESHOLD or incident.wrongful_intent)


def ppc_need(incident: Incident) -> str:
    if not (incident.personal_data or incident.my_number):
        return NOT_APPLICABLE
    if incident.ppc_required or ppc_facts(incident):
        return REQUIRED
    return NOT_REQUIRED if incident.ppc_required is False else DECIDE


def _day_deadline(kind: str, due_on: dt.date, done_on: dt.date | None, on: dt.date) -> Deadline:
    if done_on is not None:
        state = DONE if done_on <= due_on else DONE_LATE
    else:
        state = OVERDUE if on > due_on else PENDING
    return Deadline(kind, DEADLINE_LABELS[kind], due_on, state, done_on=done_on)


def report_hours(incident: Incident) -> int | None:
    """Within how many hours the contractor must report it (C10); None: no such duty."""
    if not incident.subject_type or incident.subject_id is None:
        return None
    found = plugins.registry().incident_subject(incident.subject_type)
    if found is None or found.report_hours is None:
        return None
    return found.report_hours([incident.subject_id]).get(incident.subject_id)


def contractor_deadline(incident: Incident, now: dt.datetime | None = None) -> Deadline | None:
    hours = report_hours(incident)
    if hours is None:
        return None
    due_at = (incident.detected_at or incident.occurred_at) + dt.timedelta(hours=hours)
    done_at = incident.contractor_reported_at
    if done_at is not None:
        state = DONE if done_at <= due_at else DONE_LATE
    else:
        state = OVERDUE if (now or utcnow()) > due_at else PENDING
    return Deadline(CONTRACTOR_REPORT, DEADLINE_LABELS[CONTRACTOR_REPORT], local_date(due_at), state,
                    due_at=due_at, done_on=local_date(done_at), done_at=done_at)


def deadlines(incident: Incident, now: dt.datetime | None = None) -> list[Deadline]:
    """Each deadline of the incident, computed and flagged, in order."""
    found = []
    contractor = contractor_deadline(incident, now)
    if contractor is not None:
        found.append(contractor)
    if ppc_need(incident) in (REQUIRED, DECIDE):
        config = current_app.config
        learned = local_date(incident.learned_at)
        on = local_date(now) if now else today()
        final_days = config["PPC_FINAL_DAYS_WRONGFUL"] if incident.wrongful_intent else config["PPC_FINAL_DAYS"]
        found.append(_day_deadline(PPC_PRELIMINARY, learned + dt.timedelta(days=config["PPC_PRELIMINARY_DAYS"]),
                                   incident.ppc_preliminary_on, on))
        found.append(_day_deadline(PPC_FINAL, learned + dt.timedelta(days=final_days), incident.ppc_final_on, on))
    return found


def class_3_rank() -> int | None:
    """The lowest rank of class-3 information (自治体機密性3C)."""
    return db.session.scalar(select(ClassificationLevel.rank).where(ClassificationLevel.code.in_(CLASS_3))
                             .order_by(ClassificationLevel.rank).limit(1))


def class_3(incident: Incident) -> bool:
    """Is class-3 information involved: the incident's own classification, or what its subject may hold?"""
    threshold = class_3_rank()
    if threshold is None:
        return False
    if incident.classification is not None and incident.classification.rank >= threshold:
        return True
    if incident.subject_type and incident.subject_id is not None:
        found = plugins.registry().incident_subject(incident.subject_type)
        if found is not None and found.classification is not None:
            rank = found.classification([incident.subject_id]).get(incident.subject_id)
            return rank is not None and rank >= threshold
    return False


def required_notifications(incident: Incident) -> list[Notification]:
    """Whom the reporting chain must reach, each with the notifications that did."""
    told: dict[str, list] = {}
    for row in incident.notifications:
        told.setdefault(row.recipient_role, []).append(row)
    needed = [Notification(LEAD, ROLE_LABELS[LEAD], _l("すべての事案"), told.get(LEAD, []))]
    reasons = []
    if incident.severity is Severity.SEVERE:
        reasons.append(_l("重大な事案"))
    if class_3(incident):
        reasons.append(_l("機密性3の情報"))
    if reasons:
        needed.append(Notification(CISO, ROLE_LABELS[CISO], reasons[0], told.get(CISO, [])))
    return needed


def missing_notifications(incident: Incident) -> list[str]:
    """The roles the chain must reach and has not."""
    return [need.role for need in required_notifications(incident) if need.missing]


def missing_reports(incident: Incident) -> list[str]:
    """The PPC reports required and not yet dated."""
    if ppc_need(incident) != REQUIRED:
        return []
    return [kind for kind, on in ((PPC_PRELIMINARY, incident.ppc_preliminary_on), (PPC_FINAL, incident.ppc_final_on))
            if on is None]


# --- due items (reminders, the calendar feed: core.due) ----------------------------------------

DUE_KIND = "incident_deadline"


def _leads() -> list[int]:
    users = db.session.scalars(select(User).where(User.active, User.roles.like(f"%{Role.LEAD.value}%"))).all()
    return [user.id for user in users if user.has_role(Role.LEAD)]


def due_items(scope: DueScope = EVERYONE) -> list[DueItem]:
    """Each open incident's deadline not yet done — the PPC reports, the
    contractor's report to check — for its handler and for each security lead.
    The deadlines are reckoned in Python from few open incidents: a scope of a
    user who is no lead reads only the incidents they handle."""
    stmt = select(Incident).where(Incident.status.in_(OPEN_STATUSES)).order_by(Incident.id)
    owners = scope.owners()
    leads = None
    if owners is not None:
        leads = _leads()
        if not any(owner in leads for owner in owners):
            stmt = stmt.where(Incident.handler_id.in_([owner for owner in owners if owner is not None]))
    found = []
    for incident in db.session.scalars(stmt).all():
        pending = [d for d in deadlines(incident) if not d.done]
        if not pending:
            continue
        if leads is None:
            leads = _leads()
        owners_of = list(dict.fromkeys([*([incident.handler_id] if incident.handler_id else []), *leads]))
        for deadline in pending:
            for owner in owners_of:
                found.append(DueItem(
                    key=f"{DUE_KIND}:{incident.id}:{deadline.kind}:{owner}:{deadline.due_on.isoformat()}",
                    kind=DUE_KIND, title=f"{deadline.label} {incident.number} {incident.title}",
                    due_on=deadline.due_on, owner_id=owner, endpoint="incidents.detail",
                    params={"incident_id": incident.id}))
    return due.within(scope, found)
