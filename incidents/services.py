"""Recording and handling incidents (緊急時対応, policy §6(7); issue 19).

Each function checks its rule, changes, flushes and never commits; a rule
refused raises :class:`IncidentRefusal` with a message for the user.

- Anyone signed in records an incident: the person who hears of it first
  must be able to write it down.
- An incident concerns a record a module registered as an incident subject
  (core.plugins.IncidentSubject) — a contract, a cloud service, an SNS
  account — or the body itself; its unit is the record's unless named.
- Numbers (事案番号, ``INC-2026-001``) run per 年度 of the day the body learned
  of it and are never reused: two incidents recorded at the same moment take
  their numbers in turn (the unique index refuses a taken one, and the
  incident takes the next, in a savepoint).
- A closed incident changes no more.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core import audit, files, plugins
from core.db import db
from core.incidents import (
    MEASURE_SOURCE,
    SOCIAL_ACCOUNT,
    SOCIAL_KINDS,
    Incident,
    IncidentAction,
    IncidentChecklistItem,
    IncidentEvidence,
    IncidentKind,
    IncidentNotification,
    IncidentStatus,
    Severity,
)
from core.measures import open_measure
from core.models import User
from core.refusals import Refusal
from core.timeutil import fiscal_year, local_date, today, utcnow
from incidents import rules


class IncidentRefusal(Refusal):
    """An incident rule refused; the message is for the user."""


def subject(kind: str | None):
    """The registered subject of ``kind`` (None: the body itself)."""
    if kind is None:
        return None
    found = plugins.registry().incident_subject(kind)
    if found is None:
        raise IncidentRefusal(_l("対象の種類を選んでください。"), field="subject")
    return found


def describe(incidents) -> dict[int, str]:
    """{incident id: what it concerns, as text}, loaded per subject kind in bulk."""
    by_kind: dict[str, set[int]] = {}
    for incident in incidents:
        if incident.subject_type:
            by_kind.setdefault(incident.subject_type, set()).add(incident.subject_id)
    names = {kind: (found.describe(ids) if (found := plugins.registry().incident_subject(kind)) else {})
             for kind, ids in by_kind.items()}
    return {incident.id: (names.get(incident.subject_type, {}).get(incident.subject_id, "—")
                          if incident.subject_type else str(_l("本団体"))) for incident in incidents}


def checklist_items(kind: IncidentKind, *, with_retired: bool = False) -> list[IncidentChecklistItem]:
    query = select(IncidentChecklistItem).where(IncidentChecklistItem.kind == kind)
    if not with_retired:
        query = query.where(IncidentChecklistItem.retired.is_(False))
    return list(db.session.scalars(query.order_by(IncidentChecklistItem.position, IncidentChecklistItem.id)))


def _next_number(year: int) -> str:
    prefix = f"INC-{year}-"
    taken = db.session.scalars(select(Incident.number).where(Incident.number.like(prefix + "%"))).all()
    last = max((int(number[len(prefix):]) for number in taken if number[len(prefix):].isdigit()), default=0)
    return f"{prefix}{last + 1:03d}"


def record(*, by: User, kind: IncidentKind, severity: Severity, title: str, summary: str,
           subject_type: str | None, subject_id: int | None, occurred_at: dt.datetime, learned_at: dt.datetime,
           detected_at: dt.datetime | None = None, contractor_reported_at: dt.datetime | None = None,
           reporter: str | None = None, information: str | None = None, classification_id: int | None = None,
           personal_data: bool = False, my_number: bool = False, people_affected: int | None = None,
           wrongful_intent: bool = False, handler_id: int | None = None, unit_id: int | None = None) -> Incident:
    """Record a new incident (times in UTC, naive, as every time here)."""
    check_times(occurred_at=occurred_at, detected_at=detected_at, learned_at=learned_at,
                contractor_reported_at=contractor_reported_at)
    found = subject(subject_type)
    if found is not None:
        if subject_id is None or subject_id not in found.describe([subject_id]):
            raise IncidentRefusal(_l("対象の記録を選んでください。"), field="subject")
        if unit_id is None:
            unit_id = found.units([subject_id]).get(subject_id)
    else:
        subject_id = None
    if kind in SOCIAL_KINDS and subject_type != SOCIAL_ACCOUNT:
        raise IncidentRefusal(_l("なりすまし・乗っ取り・誤投稿は、SNSアカウントの事案として記録してください。"),
                              field="kind")
    if my_number and not personal_data:
        personal_data = True  # My Number is personal data
    if people_affected is not None and people_affected < 0:
        raise IncidentRefusal(_l("人数は0以上の数を入力してください。"), field="people_affected")
    year = fiscal_year(local_date(learned_at))
    items = checklist_items(kind)
    for _attempt in range(5):
        incident = Incident(
            number=_next_number(year), kind=kind, severity=severity, status=IncidentStatus.RECEIVED,
            title=title.strip(), summary=summary.strip(), subject_type=subject_type, subject_id=subject_id,
            unit_id=unit_id, handler_id=handler_id, occurred_at=occurred_at, detected_at=detected_at,
            contractor_reported_at=contractor_reported_at, learned_at=learned_at,
            reporter=(reporter or "").strip() or None, recorded_by_id=by.id,
            information=(information or "").strip() or None, classification_id=classification_id,
            personal_data=personal_data, my_number=my_number, people_affected=people_affected,
            wrongful_intent=wrongful_intent, checklist={item.code: False for item in items})
        try:
            with db.session.begin_nested():
                db.session.add(incident)
                db.session.flush()
        except IntegrityError:
            continue
        check_late_report(incident)
        return incident
    raise IncidentRefusal(_l("事案番号を割り当てられませんでした。もう一度保存してください。"))


def check_times(*, occurred_at, detected_at, learned_at, contractor_reported_at=None) -> None:
    now = utcnow() + dt.timedelta(minutes=5)  # a clock a little ahead is not the future
    for field, moment in (("occurred_at", occurred_at), ("detected_at", detected_at), ("learned_at", learned_at),
                          ("contractor_reported_at", contractor_reported_at)):
        if moment is not None and moment > now:
            raise IncidentRefusal(_l("未来の日時は指定できません。"), field=field)
    for field, moment in (("detected_at", detected_at), ("learned_at", learned_at),
                          ("contractor_reported_at", contractor_reported_at)):
        if moment is not None and moment < occurred_at:
            raise IncidentRefusal(_l("発生より前の日時は指定できません。"), field=field)


def _open(incident: Incident) -> None:
    if not incident.is_open:
        raise IncidentRefusal(_l("終結した事案は変更できません。"))


def add_action(incident: Incident, user: User, text: str) -> IncidentAction:
    """A step of the timeline; the first one moves a received incident to 対応中."""
    _open(incident)
    action = IncidentAction(incident=incident, user_id=user.id, text=text.strip(), at=utcnow())
    db.session.add(action)
    if incident.status is IncidentStatus.RECEIVED:
        incident.status = IncidentStatus.RESPONDING
    incident.updated_at = utcnow()  # a form opened earlier is now stale
    db.session.flush()
    return action


def update_checklist(incident: Incident, *, done: set[str]) -> None:
    """Tick the response checklist: the kind's items in use, and any retired
    item the incident already carries."""
    _open(incident)
    known = {item.code for item in checklist_items(incident.kind)} | set(incident.checklist or {})
    incident.checklist = {code: code in done for code in sorted(known)}
    if incident.status is IncidentStatus.RECEIVED and done:
        incident.status = IncidentStatus.RESPONDING
    db.session.flush()


def close(incident: Incident, user: User, *, closed_at: dt.datetime, cause: str, prevention: str,
          measures: list | None = None) -> list:
    """Close with the cause, the prevention and its measures (each opened
    through core.measures: what, owner, due date).  Refused while the
    reporting chain misses someone it must reach, or a PPC report that is
    required has no date.  A contract incident leaves a note for the
    contract's next verification (its subject's ``closed`` hook)."""
    _open(incident)
    if not (cause or "").strip():
        raise IncidentRefusal(_l("原因を入力してください。"), field="cause")
    if not (prevention or "").strip():
        raise IncidentRefusal(_l("再発防止策を入力してください。"), field="prevention")
    if closed_at < incident.occurred_at or closed_at > utcnow() + dt.timedelta(minutes=5):
        raise IncidentRefusal(_l("終結日は発生日から今日までの日付にしてください。"), field="closed_at")
    wanted = [entry for entry in (measures or []) if (entry.measure or "").strip()]
    if not wanted:
        raise IncidentRefusal(_l("再発防止の措置を1件以上、担当者と期限を付けて入力してください。"), field="measures")
    for entry in wanted:
        if entry.owner_id is None or entry.due_on is None:
            raise IncidentRefusal(_l("各措置に担当者と期限を入力してください。"), field="measures")
        if entry.due_on < local_date(closed_at):
            raise IncidentRefusal(_l("措置の期限は終結日以降にしてください。"), field="measures")
    if rules.missing_notifications(incident):
        raise IncidentRefusal(_l("必要な報告（統括情報セキュリティ責任者・CISO）が記録されていないため終結できません。"),
                              field="notifications")
    if rules.missing_reports(incident):
        raise IncidentRefusal(_l("個人情報保護委員会への報告が必要です。速報・確報の日付を記録してから終結してください。"),
                              field="ppc")
    incident.cause, incident.prevention = cause.strip(), prevention.strip()
    incident.status, incident.closed_at, incident.closed_by_id = IncidentStatus.CLOSED, closed_at, user.id
    audit.label(incident, "close")
    opened = [open_measure(source_type=MEASURE_SOURCE, source_id=incident.id,
                           title=_("事案 %(number)s の再発防止", number=incident.number), measure=entry.measure,
                           due_on=entry.due_on, owner_id=entry.owner_id, unit_id=incident.unit_id, opened_by=user)
              for entry in wanted]
    found = plugins.registry().incident_subject(incident.subject_type) if incident.subject_type else None
    if found is not None and found.closed is not None:
        found.closed(incident)
    db.session.flush()
    return opened


def count_open(**where) -> int:
    query = select(func.count(Incident.id)).where(Incident.status != IncidentStatus.CLOSED)
    for name, value in where.items():
        query = query.where(getattr(Incident, name) == value)
    return db.session.scalar(query) or 0


EDITABLE = ("kind", "severity", "title", "summary", "occurred_at", "detected_at", "contractor_reported_at",
            "learned_at", "reporter", "information", "classification_id", "personal_data", "my_number",
            "people_affected", "wrongful_intent", "handler_id", "unit_id")


def update(incident: Incident, *, kind: IncidentKind, severity: Severity, title: str, summary: str,
           occurred_at: dt.datetime, learned_at: dt.datetime, detected_at: dt.datetime | None = None,
           contractor_reported_at: dt.datetime | None = None, reporter: str | None = None,
           information: str | None = None, classification_id: int | None = None, personal_data: bool = False,
           my_number: bool = False, people_affected: int | None = None, wrongful_intent: bool = False,
           handler_id: int | None = None, unit_id: int | None = None) -> Incident:
    """Correct what an open incident records, with record()'s checks (the
    subject and the number stay); a closed incident changes no more."""
    _open(incident)
    check_times(occurred_at=occurred_at, detected_at=detected_at, learned_at=learned_at,
                contractor_reported_at=contractor_reported_at)
    if kind in SOCIAL_KINDS and incident.subject_type != SOCIAL_ACCOUNT:
        raise IncidentRefusal(_l("なりすまし・乗っ取り・誤投稿は、SNSアカウントの事案として記録してください。"),
                              field="kind")
    if people_affected is not None and people_affected < 0:
        raise IncidentRefusal(_l("人数は0以上の数を入力してください。"), field="people_affected")
    if not (title or "").strip():
        raise IncidentRefusal(_l("件名を入力してください。"), field="title")
    if not (summary or "").strip():
        raise IncidentRefusal(_l("何が起きたかを入力してください。"), field="summary")
    if kind is not incident.kind:
        # the new kind's items join the checklist; what was ticked stays
        ticked = dict(incident.checklist or {})
        for item in checklist_items(kind):
            ticked.setdefault(item.code, False)
        incident.checklist = ticked
    incident.kind, incident.severity = kind, severity
    incident.title, incident.summary = title.strip(), summary.strip()
    incident.occurred_at, incident.detected_at = occurred_at, detected_at
    incident.contractor_reported_at, incident.learned_at = contractor_reported_at, learned_at
    incident.reporter = (reporter or "").strip() or None
    incident.information = (information or "").strip() or None
    incident.classification_id = classification_id
    incident.personal_data = personal_data or my_number  # My Number is personal data
    incident.my_number, incident.people_affected = my_number, people_affected
    incident.wrongful_intent, incident.handler_id = wrongful_intent, handler_id
    incident.unit_id = unit_id
    incident.updated_at = utcnow()
    db.session.flush()
    return incident


def add_evidence(incident: Incident, user: User, upload, *, note: str | None = None) -> IncidentEvidence:
    """Keep an evidence file (PDF, image, Office document) of an open incident;
    files.FileRejected for a file of another type, empty or too large."""
    _open(incident)
    stored = files.store(upload, allowed=files.EVIDENCE_TYPES, max_bytes=files.MAX_EVIDENCE_BYTES, user=user)
    item = IncidentEvidence(incident=incident, file=stored, note=(note or "").strip() or None, added_by_id=user.id)
    db.session.add(item)
    incident.updated_at = utcnow()
    db.session.flush()
    return item


# --- the response checklists (administrators) ---------------------------------------------------

def _code(code: str) -> str:
    return unicodedata.normalize("NFKC", code or "").strip().upper()


def add_checklist_item(*, kind: IncidentKind, code: str, text_ja: str, text_en: str) -> IncidentChecklistItem:
    """A new step of ``kind``'s checklist, last; new incidents of the kind
    carry it (those recorded before do not).  Codes are NFKC and unique per kind."""
    code = _code(code)
    if not code:
        raise IncidentRefusal(_l("コードを入力してください。"), field="code")
    if db.session.scalar(select(IncidentChecklistItem.id).where(
            IncidentChecklistItem.kind == kind, IncidentChecklistItem.code == code)) is not None:
        raise IncidentRefusal(_l("このコードはこの種類のチェックリストで使われています。"), field="code")
    _texts(text_ja, text_en)
    last = db.session.scalar(select(func.max(IncidentChecklistItem.position)).where(
        IncidentChecklistItem.kind == kind)) or 0
    item = IncidentChecklistItem(kind=kind, code=code, text_ja=text_ja.strip(), text_en=text_en.strip(),
                                 position=last + 1, retired=False)
    db.session.add(item)
    db.session.flush()
    return item


def _texts(text_ja: str, text_en: str) -> None:
    if not (text_ja or "").strip():
        raise IncidentRefusal(_l("日本語の文を入力してください。"), field="text_ja")
    if not (text_en or "").strip():
        raise IncidentRefusal(_l("英語の文を入力してください。"), field="text_en")


def edit_checklist_item(item: IncidentChecklistItem, *, text_ja: str, text_en: str) -> None:
    """Its texts (the code stays: past incidents' checklists refer to it)."""
    _texts(text_ja, text_en)
    item.text_ja, item.text_en = text_ja.strip(), text_en.strip()
    db.session.flush()


def retire_checklist_item(item: IncidentChecklistItem, *, retired: bool) -> None:
    """Retire (new incidents no longer carry it; past ones keep it) or restore."""
    item.retired = retired
    audit.label(item, "retire" if retired else "restore")
    db.session.flush()
# --- the rules of an incident (incidents.rules): the reporting chain, the PPC, containment ---

@dataclass(frozen=True)
class MeasureEntry:
    """A prevention measure the handler lists when closing."""
    measure: str
    owner_id: int | None
    due_on: dt.date | None


def _not_future(moment: dt.datetime, field: str) -> None:
    if moment > utcnow() + dt.timedelta(minutes=5):
        raise IncidentRefusal(_l("未来の日時は指定できません。"), field=field)


def notify(incident: Incident, by: User, *, recipient_role: str, recipient: str, notified_at: dt.datetime,
           means: str) -> IncidentNotification:
    """Record that someone of the reporting chain was told (who, when, by what means)."""
    _open(incident)
    if recipient_role not in rules.ROLE_LABELS:
        raise IncidentRefusal(_l("報告先の区分を選んでください。"), field="recipient_role")
    if not (recipient or "").strip():
        raise IncidentRefusal(_l("報告した相手の氏名を入力してください。"), field="recipient")
    if not (means or "").strip():
        raise IncidentRefusal(_l("報告の手段を入力してください。"), field="means")
    _not_future(notified_at, "notified_at")
    if notified_at < incident.occurred_at:
        raise IncidentRefusal(_l("発生より前の日時は指定できません。"), field="notified_at")
    row = IncidentNotification(incident=incident, recipient_role=recipient_role, recipient=recipient.strip()[:200],
                               notified_at=notified_at, means=means.strip()[:100], recorded_by_id=by.id)
    db.session.add(row)
    if incident.status is IncidentStatus.RECEIVED:
        incident.status = IncidentStatus.RESPONDING
    incident.updated_at = utcnow()
    db.session.flush()
    return row


def record_ppc(incident: Incident, *, required: bool | None, preliminary_on: dt.date | None,
               final_on: dt.date | None) -> None:
    """The handler's decision on the PPC report and the dates of the reports made."""
    _open(incident)
    if not (incident.personal_data or incident.my_number):
        raise IncidentRefusal(_l("個人情報を含まない事案は、個人情報保護委員会への報告の対象外です。"), field="required")
    if required is False and rules.ppc_facts(incident):
        raise IncidentRefusal(_l("マイナンバー、100人を超える本人、または不正の目的が関わる事案は報告が必要です。"),
                              field="required")
    learned = local_date(incident.learned_at)
    for field, day in (("preliminary_on", preliminary_on), ("final_on", final_on)):
        if day is None:
            continue
        if day > today():
            raise IncidentRefusal(_l("未来の日付は指定できません。"), field=field)
        if day < learned:
            raise IncidentRefusal(_l("報告日は事案を把握した日以降にしてください。"), field=field)
    if (preliminary_on or final_on) and required is False:
        raise IncidentRefusal(_l("報告不要と判断した事案に報告日は記録できません。"), field="required")
    if final_on is not None and preliminary_on is not None and final_on < preliminary_on:
        raise IncidentRefusal(_l("確報の日付は速報の日付以降にしてください。"), field="final_on")
    incident.ppc_required = True if (preliminary_on or final_on) and required is None else required
    incident.ppc_preliminary_on, incident.ppc_final_on = preliminary_on, final_on
    db.session.flush()


def contain(incident: Incident, *, contained_at: dt.datetime) -> None:
    """The spread stopped (time to contain); the work moves on to prevention (再発防止)."""
    _open(incident)
    _not_future(contained_at, "contained_at")
    if contained_at < incident.occurred_at:
        raise IncidentRefusal(_l("発生より前の日時は指定できません。"), field="contained_at")
    incident.contained_at = contained_at
    if incident.status in (IncidentStatus.RECEIVED, IncidentStatus.RESPONDING):
        incident.status = IncidentStatus.PREVENTING
    db.session.flush()


def contractor_reported(incident: Incident, *, reported_at: dt.datetime) -> None:
    """When the contractor reported it (C10); a late report is recorded against the contract."""
    _open(incident)
    check_times(occurred_at=incident.occurred_at, detected_at=None, learned_at=None,
                contractor_reported_at=reported_at)
    incident.contractor_reported_at = reported_at
    db.session.flush()
    check_late_report(incident)


def check_late_report(incident: Incident) -> bool:
    """A late contractor report calls its subject's ``late_report`` hook, once per incident."""
    if incident.late_report_at is not None:
        return False
    deadline = rules.contractor_deadline(incident)
    if deadline is None or deadline.state != rules.DONE_LATE:
        return False
    found = plugins.registry().incident_subject(incident.subject_type)
    if found is None or found.late_report is None:
        return False
    found.late_report(incident)
    incident.late_report_at = utcnow()
    db.session.flush()
    return True
