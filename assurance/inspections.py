"""Recording and signing off self-inspections (自己点検, policy §7; issue 18).

The rules, each kept here and nowhere else:
- one inspection not yet approved per (年度, unit | whole body): the partial
  unique index ``uq_inspections_one_open`` holds it under parallel requests;
- 点検者 (who answers and submits): the responsible person or staff (admin,
  procurement, verifier, social, lead), never the auditor role (an auditor
  writes only audits, and stays independent of what is audited);
- submit needs every item answered, and a 一部不適合/不適合 answer names its
  measure, owner and due date;
- four eyes, through core.approvals: 確認者 (approver, lead or admin) is not the
  inspector and recorded no answer; 承認者 (lead or approver) is neither the
  inspector, the checker, nor one who recorded an answer — a user holding two
  roles is still one person, never two sides;
- an approved inspection is frozen; a correction is a new version naming the
  one it corrects, and approving it marks the old one superseded;
- approval opens an improvement measure (core.measures) for each
  一部不適合/不適合 answer, once.

Services check, change and flush; they never commit.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from assurance.inspection_models import (
    OPEN_STATUSES,
    AnswerResult,
    Inspection,
    InspectionAnswer,
    InspectionEvidence,
    InspectionStatus,
)
from core import approvals, audit, files, handover, inbox, plugins
from core import inspection as catalogue
from core.approvals import Approval, Decision
from core.db import db, savepoint
from core.measures import Measure, measures_for, open_measure
from core.models import Role, User
from core.refusals import Refusal
from core.timeutil import today, utcnow
from core.validators import fold

STAFF = frozenset({Role.ADMIN, Role.PROCUREMENT, Role.VERIFIER, Role.SOCIAL, Role.LEAD})
CHECKERS = frozenset({Role.APPROVER, Role.LEAD, Role.ADMIN})
APPROVERS = frozenset({Role.LEAD, Role.APPROVER})
CHECK, APPROVAL = "inspection_check", "inspection_approval"
SOURCE = "inspection_answer"  # core.measures source_type
MEASURE_DAYS = 90  # a measure's default due date, from approval, when the answer named none


class InspectionError(Refusal):
    """A self-inspection rule refused the change; the message is for the user."""


FROZEN = _l("承認済みの自己点検は変更できません。訂正する場合は「訂正版を作成」してください。")


# --- who ------------------------------------------------------------------------------

def may_inspect(user, inspection: Inspection | None = None) -> bool:
    """点検者: staff, or the inspection's responsible person; never an auditor."""
    if user.has_role(Role.AUDITOR):
        return False
    return user.has_role(*STAFF) or (inspection is not None and inspection.responsible_id == user.id)


def may_start(user) -> bool:
    return not user.has_role(Role.AUDITOR) and user.has_role(*STAFF)


def check_refusal(user, inspection: Inspection):
    """Why ``user`` may not check ``inspection`` now (None: they may)."""
    if inspection.status is not InspectionStatus.SUBMITTED:
        return _l("この自己点検は確認待ちではありません。")
    if not user.has_role(*CHECKERS):
        return _l("確認は承認者・統括情報セキュリティ責任者・管理者が行います。")
    if user.id == inspection.inspector_id:
        return _l("点検者本人は確認できません。別の担当者が確認してください。")
    if user.id in inspection.editors:
        return _l("回答を記録した人は確認できません。別の担当者が確認してください。")
    return None


def approval_refusal(user, inspection: Inspection):
    """Why ``user`` may not approve ``inspection`` now (None: they may)."""
    if inspection.status is not InspectionStatus.CHECKED:
        return _l("この自己点検は承認待ちではありません。")
    if not user.has_role(*APPROVERS):
        return _l("承認は承認者・統括情報セキュリティ責任者が行います。")
    if user.id == inspection.inspector_id:
        return _l("点検者本人は承認できません。別の担当者が承認してください。")
    if user.id == inspection.checker_id:
        return _l("確認者本人は承認できません。点検者・確認者以外の担当者が承認してください。")
    if user.id in inspection.editors:
        return _l("回答を記録した人は承認できません。別の担当者が承認してください。")
    return None


# --- starting -------------------------------------------------------------------------

def _snapshot(inspection: Inspection) -> None:
    names = dict(catalogue.areas())
    for position, item in enumerate(catalogue.active_items()):
        inspection.answers.append(InspectionAnswer(
            position=position, code=item.code, text_ja=item.text_ja, text_en=item.text_en or None, area=item.area,
            area_name=names.get(item.area, item.area), frequency=str(item.frequency or "") or None,
            source=str(getattr(item, "source", "") or "") or None,
            general_practice=bool(getattr(item, "general_practice", False))))


def _store(inspection: Inspection) -> Inspection:
    db.session.add(inspection)
    try:
        with savepoint():
            db.session.flush()
    except IntegrityError as error:
        raise InspectionError(_l("この年度・組織には、承認前の自己点検が既にあります。その点検を続けてください。")) from error
    return inspection


def start(*, fiscal_year: int, unit_id: int | None, responsible: User, user: User,
          summary: str | None = None) -> Inspection:
    """A new inspection of the active catalogue items, for a 年度 and a unit
    (None: the whole body), naming its responsible person."""
    if not may_start(user):
        raise InspectionError(_l("自己点検を作成できるのは職員（管理者・調達・確認・広報・統括）です。"))
    if responsible is None or not responsible.active:
        raise InspectionError(_l("責任者には有効な利用者を選んでください。"), field="responsible_id")
    if responsible.has_role(Role.AUDITOR):
        raise InspectionError(_l("監査担当は自己点検の責任者になれません（監査の独立性）。"), field="responsible_id")
    inspection = Inspection(fiscal_year=fiscal_year, unit_id=unit_id, scope_key=unit_id or 0, edition=1,
                            responsible_id=responsible.id, status=InspectionStatus.DRAFT,
                            summary=fold(summary) or None, created_by_id=user.id, editor_ids=[])
    _snapshot(inspection)
    return _store(inspection)


# --- answering ------------------------------------------------------------------------

def _writable(inspection: Inspection, user) -> None:
    if inspection.is_final:
        raise InspectionError(FROZEN)
    if inspection.status is not InspectionStatus.DRAFT:
        raise InspectionError(_l("提出済みの自己点検は変更できません。差し戻されると再び回答できます。"))
    if not may_inspect(user, inspection):
        raise InspectionError(_l("この自己点検に回答できるのは責任者または職員です（監査担当は回答しません）。"))


def _note_editor(inspection: Inspection, user) -> None:
    if user.id not in inspection.editors:
        inspection.editor_ids = [*inspection.editors, user.id]


@dataclass
class AnswerInput:
    result: AnswerResult | None
    comment: str | None = None
    measure: str | None = None
    owner_id: int | None = None
    due_on: dt.date | None = None


def record_answer(answer: InspectionAnswer, values: AnswerInput, *, user, uploads=()) -> InspectionAnswer:
    """Record one item's result, comment and evidence.  A 一部不適合/不適合
    names what will be done, by whom and by when (the measure opened at
    approval)."""
    inspection = answer.inspection
    _writable(inspection, user)
    if values.result is None:
        raise InspectionError(_l("結果を選んでください。"), field="result")
    measure = fold(values.measure) or None
    if values.result.needs_measure:
        if not measure:
            raise InspectionError(_l("一部不適合・不適合には改善措置の内容を入力してください。"), field="measure")
        if values.owner_id is None:
            raise InspectionError(_l("改善措置の担当者を選んでください。"), field="owner_id")
        owner = db.session.get(User, values.owner_id)
        if owner is None or not owner.active:
            raise InspectionError(_l("改善措置の担当者には有効な利用者を選んでください。"), field="owner_id")
        if values.due_on is None:
            raise InspectionError(_l("改善措置の期限を入力してください。"), field="due_on")
    else:
        measure, values.owner_id, values.due_on = None, None, None
    answer.result = values.result
    answer.comment = fold(values.comment) or None
    answer.measure, answer.measure_owner_id, answer.measure_due_on = measure, values.owner_id, values.due_on
    answer.answered_by_id, answer.answered_at = user.id, utcnow()
    for upload in uploads:
        if upload and upload.filename:
            stored = files.store(upload, allowed=files.EVIDENCE_TYPES, max_bytes=files.MAX_EVIDENCE_BYTES, user=user)
            answer.evidence.append(InspectionEvidence(file=stored))
    _note_editor(inspection, user)
    db.session.flush()
    return answer


def save_summary(inspection: Inspection, *, summary: str | None, remarks: str | None, user) -> Inspection:
    _writable(inspection, user)
    inspection.summary, inspection.remarks = fold(summary) or None, fold(remarks) or None
    db.session.flush()
    return inspection


def unanswered(inspection: Inspection) -> list[InspectionAnswer]:
    return [answer for answer in inspection.answers if answer.result is None]


# --- sign-off -------------------------------------------------------------------------

def pending_request(inspection: Inspection, kind: str) -> Approval | None:
    return db.session.scalar(select(Approval).where(
        Approval.kind == kind, Approval.subject_type == Inspection.__tablename__,
        Approval.subject_id == inspection.id, Approval.decision == Decision.PENDING))


def submit(inspection: Inspection, *, user) -> Inspection:
    """点検者 submits: every item answered; a check is requested (four eyes)."""
    _writable(inspection, user)
    missing = unanswered(inspection)
    if missing:
        raise InspectionError(_("未回答の項目があります（%(codes)s）。すべての項目に回答してから提出してください。",
                                codes="、".join(answer.code for answer in missing[:10])
                                + ("…" if len(missing) > 10 else "")))
    inspection.status = InspectionStatus.SUBMITTED
    inspection.inspector_id, inspection.submitted_at = user.id, utcnow()
    inspection.checker_id = inspection.checked_at = None
    approvals.request(CHECK, inspection, reason=_("%(year)s年度の自己点検の確認", year=inspection.fiscal_year),
                      requester=user, topic="check")
    db.session.flush()
    return inspection


def _decide(inspection: Inspection, kind: str, *, user, approve: bool, comment: str | None) -> Approval:
    request = pending_request(inspection, kind)
    if request is None:
        raise InspectionError(_l("この自己点検への申請が見つかりません。画面を更新してください。"))
    comment = fold(comment) or None
    if not approve and not comment:
        raise InspectionError(_l("差し戻す理由をコメントに入力してください。"), field="comment")
    return approvals.decide(request, approver=user, approve=approve, comment=comment)


def check(inspection: Inspection, *, user, approve: bool, comment: str | None = None) -> Inspection:
    """確認者 confirms (then the approval is requested) or returns it (差戻し) to draft."""
    if inspection.is_final:
        raise InspectionError(FROZEN)
    refusal = check_refusal(user, inspection)
    if refusal is not None:
        raise InspectionError(refusal)
    _decide(inspection, CHECK, user=user, approve=approve, comment=comment)
    if approve:
        inspection.status = InspectionStatus.CHECKED
        inspection.checker_id, inspection.checked_at = user.id, utcnow()
        approvals.request(APPROVAL, inspection, reason=_("%(year)s年度の自己点検の承認", year=inspection.fiscal_year),
                          requester=user, topic="approval")
    else:
        inspection.status = InspectionStatus.DRAFT
    db.session.flush()
    return inspection


def approve(inspection: Inspection, *, user, approve: bool = True, comment: str | None = None) -> Inspection:
    """承認者 approves (the inspection is frozen, its measures opened, the
    version it corrects superseded) or returns it (差戻し) to draft."""
    if inspection.is_final:
        raise InspectionError(FROZEN)
    refusal = approval_refusal(user, inspection)
    if refusal is not None:
        raise InspectionError(refusal)
    _decide(inspection, APPROVAL, user=user, approve=approve, comment=comment)
    if not approve:
        inspection.status = InspectionStatus.DRAFT
        inspection.checker_id = inspection.checked_at = None
        db.session.flush()
        return inspection
    inspection.status = InspectionStatus.APPROVED
    inspection.approver_id, inspection.approved_at = user.id, utcnow()
    if inspection.corrects is not None and inspection.corrects.status is InspectionStatus.APPROVED:
        inspection.corrects.status = InspectionStatus.SUPERSEDED
        inspection.corrects.superseded_at = utcnow()
    db.session.flush()
    open_measures(inspection, user=user)
    return inspection


def _earlier_answers(inspection: Inspection) -> list[InspectionAnswer]:
    """The answers of the versions ``inspection`` corrects, newest first."""
    found, seen = [], {inspection.id}
    current = inspection.corrects
    while current is not None and current.id not in seen:
        seen.add(current.id)
        found += current.answers
        current = current.corrects
    return found


def measures_of(inspection: Inspection) -> dict[int, list[Measure]]:
    """Each answer's measures (by answer id): its own, or — for a correction
    — those the same item's answer in a corrected version opened."""
    earlier = _earlier_answers(inspection)
    found = measures_for(SOURCE, [a.id for a in inspection.answers] + [a.id for a in earlier])
    by_code: dict[str, list[Measure]] = {}
    for answer in earlier:
        if found.get(answer.id) and answer.code not in by_code:
            by_code[answer.code] = found[answer.id]
    return {answer.id: found.get(answer.id) or by_code.get(answer.code, []) for answer in inspection.answers}


def open_measures(inspection: Inspection, *, user) -> list[Measure]:
    """One improvement measure per 一部不適合/不適合 answer of an approved
    inspection (core.measures), opened once: an answer that has one — or
    whose item had one in the version this corrects — opens none."""
    if inspection.status is not InspectionStatus.APPROVED:
        return []
    existing = measures_of(inspection)
    opened = []
    for answer in inspection.answers:
        if answer.result is None or not answer.result.needs_measure or existing.get(answer.id):
            continue
        due_on = answer.measure_due_on or (today() + dt.timedelta(days=MEASURE_DAYS))
        opened.append(open_measure(
            source_type=SOURCE, source_id=answer.id,
            title=f"自己点検 {inspection.fiscal_year}年度 {answer.code}（{answer.result.label}）{answer.text_ja}",
            measure=answer.measure or answer.comment or answer.text_ja, due_on=due_on,
            owner_id=answer.measure_owner_id or inspection.responsible_id, unit_id=inspection.unit_id,
            opened_by=user))
    return opened


# --- corrections ----------------------------------------------------------------------

def correct(inspection: Inspection, *, user) -> Inspection:
    """「訂正版を作成」: a new draft version of an approved inspection, its
    answers copied, naming the one it corrects.  The original stays as it
    was until the correction is approved."""
    if inspection.status is not InspectionStatus.APPROVED:
        raise InspectionError(_l("訂正版を作成できるのは承認済みの自己点検だけです。"))
    if not may_inspect(user, inspection):
        raise InspectionError(_l("訂正版を作成できるのは責任者または職員です。"))
    copy = Inspection(fiscal_year=inspection.fiscal_year, unit_id=inspection.unit_id, scope_key=inspection.scope_key,
                      edition=inspection.edition + 1, corrects_id=inspection.id,
                      responsible_id=inspection.responsible_id, status=InspectionStatus.DRAFT,
                      summary=inspection.summary, remarks=inspection.remarks, created_by_id=user.id, editor_ids=[])
    for answer in inspection.answers:
        copy.answers.append(InspectionAnswer(
            position=answer.position, code=answer.code, text_ja=answer.text_ja, text_en=answer.text_en,
            area=answer.area, area_name=answer.area_name, frequency=answer.frequency, source=answer.source,
            general_practice=answer.general_practice, result=answer.result, comment=answer.comment,
            measure=answer.measure, measure_owner_id=answer.measure_owner_id, measure_due_on=answer.measure_due_on,
            answered_by_id=answer.answered_by_id, answered_at=answer.answered_at,
            evidence=[InspectionEvidence(file_id=item.file_id) for item in answer.evidence]))
    audit.label(copy, "correct")
    return _store(copy)


def chain(inspection: Inspection) -> list[Inspection]:
    """Every version of the inspection, oldest first (the one it corrects,
    and the corrections of it)."""
    first, seen = inspection, set()
    while first.corrects is not None and first.id not in seen:
        seen.add(first.id)
        first = first.corrects
    versions = [first]
    while True:
        later = db.session.scalar(select(Inspection).where(Inspection.corrects_id == versions[-1].id)
                                  .order_by(Inspection.id))
        if later is None or later in versions:
            return versions
        versions.append(later)


# --- reading --------------------------------------------------------------------------

def of_year(fiscal_year: int, unit_id: int | None = None) -> Inspection | None:
    """The year's inspection for a unit (None: the whole body): the approved
    one, else the latest not superseded."""
    rows = db.session.scalars(select(Inspection).where(
        Inspection.fiscal_year == fiscal_year, Inspection.scope_key == (unit_id or 0))
        .options(selectinload(Inspection.answers)).order_by(Inspection.id.desc())).all()
    approved = [row for row in rows if row.status is InspectionStatus.APPROVED]
    if approved:
        return approved[0]
    live = [row for row in rows if row.status is not InspectionStatus.SUPERSEDED]
    return live[0] if live else None


def approved_of_year(fiscal_year: int) -> list[Inspection]:
    return list(db.session.scalars(select(Inspection).where(
        Inspection.fiscal_year == fiscal_year, Inspection.status == InspectionStatus.APPROVED)
        .options(selectinload(Inspection.answers)).order_by(Inspection.scope_key, Inspection.id)))


# --- the inbox and handover -----------------------------------------------------------

def _describe(inspection: Inspection | None) -> str:
    if inspection is None:
        return _("自己点検")
    scope = inspection.unit.name if inspection.unit is not None else _("全組織")
    return _("%(year)s年度 自己点検（%(scope)s・第%(edition)s版）", year=inspection.fiscal_year, scope=scope,
             edition=inspection.edition)


def inbox_entries(user) -> list:
    """The sign-offs waiting for ``user``: checks for a checker who is not the
    inspector nor an editor; approvals for an approver who is none of the
    inspector, the checker and the editors."""
    found = []
    for kind, roles, label, refuse in ((CHECK, CHECKERS, _l("自己点検の確認"), check_refusal),
                                       (APPROVAL, APPROVERS, _l("自己点検の承認"), approval_refusal)):
        if not user.has_role(*roles):
            continue
        for request, inspection in inbox.pending(kind, Inspection, (selectinload(Inspection.unit),)):
            if inspection is not None and inbox.may_decide(request, user) and refuse(user, inspection) is None:
                found.append(inbox.request_entry(label, request, _describe(inspection), "inspections.detail",
                                                 {"inspection_id": inspection.id}))
    return found


def _request_item(approval: Approval) -> handover.Item:
    inspection = db.session.get(Inspection, approval.subject_id)
    return handover.Item(_describe(inspection), "inspections.detail", {"inspection_id": approval.subject_id})


def add_request_kinds(house) -> None:
    house.add_request_kind(CHECK, _request_item, roles=CHECKERS)
    house.add_request_kind(APPROVAL, _request_item, roles=APPROVERS)


# --- year on year ---------------------------------------------------------------------

IMPROVED, WORSE, STILL_OPEN, SAME, NEW, RETIRED = "improved", "worse", "still_open", "same", "new", "retired"
CHANGES = ((IMPROVED, _l("改善")), (WORSE, _l("悪化")), (STILL_OPEN, _l("継続して未解決")), (SAME, _l("変化なし")),
           (NEW, _l("新規項目")), (RETIRED, _l("廃止項目")))


def _nonconforming(answer: InspectionAnswer | None) -> bool:
    return answer is not None and answer.result is not None and answer.result.needs_measure


def classify(previous: InspectionAnswer | None, current: InspectionAnswer | None) -> str:
    """How one item moved between the previous 年度 and this one."""
    if previous is None:
        return NEW
    if current is None:
        return RETIRED
    before, now = _nonconforming(previous), _nonconforming(current)
    if before and now:
        return STILL_OPEN
    if before and current.result is AnswerResult.CONFORMING:
        return IMPROVED
    if now and not before:
        return WORSE
    return SAME


@dataclass
class Comparison:
    fiscal_year: int
    unit_id: int | None
    current: Inspection | None
    previous: Inspection | None
    rows: list  # (code, text, area name, previous answer | None, current answer | None, change)
    counts: dict


def compare(fiscal_year: int, unit_id: int | None = None) -> Comparison:
    """This 年度's inspection (approved, else the latest) against the
    previous 年度's, item by item, in this year's order then the items
    only last year had."""
    current, previous = of_year(fiscal_year, unit_id), of_year(fiscal_year - 1, unit_id)
    now = {a.code: a for a in current.answers} if current else {}
    before = {a.code: a for a in previous.answers} if previous else {}
    rows = []
    if current is not None and previous is not None:
        for answer in current.answers:
            old = before.get(answer.code)
            rows.append((answer.code, answer.text_ja, answer.area_name or answer.area, old, answer,
                         classify(old, answer)))
        for answer in previous.answers:
            if answer.code not in now:
                rows.append((answer.code, answer.text_ja, answer.area_name or answer.area, answer, None, RETIRED))
    counts = {key: sum(1 for row in rows if row[5] == key) for key, _label in CHANGES}
    return Comparison(fiscal_year, unit_id, current, previous, rows, counts)


# --- 人事異動 (core.handover) ---------------------------------------------------------

def _responsible_for(user) -> list[Inspection]:
    return list(db.session.scalars(select(Inspection).where(
        Inspection.responsible_id == user.id, Inspection.status.in_(OPEN_STATUSES))
        .options(selectinload(Inspection.unit)).order_by(Inspection.id)))


def responsible_items(user) -> list[handover.Item]:
    return [handover.Item(_describe(row), "inspections.detail", {"inspection_id": row.id})
            for row in _responsible_for(user)]


def hand_over_responsibility(leaver, successor) -> None:
    """The successor becomes the responsible person of the leaver's
    inspections not yet approved (an approved one stays as it was signed)."""
    if successor.has_role(Role.AUDITOR):
        raise InspectionError(_l("監査担当は自己点検の責任者になれません（監査の独立性）。"))
    for row in _responsible_for(leaver):
        row.responsible_id = successor.id
    db.session.flush()


def add_responsibilities(house) -> None:
    house.add_responsibility(plugins.Responsibility(
        key="inspection_responsible", order=80, label=_l("自己点検（承認前）の責任者"), items=responsible_items,
        hand_over=hand_over_responsibility, roles=STAFF))
    add_request_kinds(house)


# --- where a measure came from (for the measures' pages) -------------------------------

def measure_sources(source_ids) -> dict[int, handover.Item]:
    """For measures of source_type "inspection_answer": each answer id → a
    readable description and the link to the item on its inspection's page,
    loaded in one query (for the measures helper's source registration)."""
    ids = list(source_ids)
    rows = db.session.scalars(select(InspectionAnswer).where(InspectionAnswer.id.in_(ids)).options(
        selectinload(InspectionAnswer.inspection).selectinload(Inspection.unit))).all() if ids else []
    return {row.id: handover.Item(_("%(inspection)s %(code)s", inspection=_describe(row.inspection), code=row.code),
                                  "inspections.detail", {"inspection_id": row.inspection_id, "_anchor": f"item-{row.code}"})
            for row in rows}
