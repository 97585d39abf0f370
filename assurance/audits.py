"""情報セキュリティ監査 (policy §7, issue 18): the rules of audit plans and
findings.  Each function checks its rule, changes, flushes and never commits.

Who writes what:
- the auditor role (and administrators) write plans and findings, and open
  the findings' improvement measures (core.measures);
- the audited party — a person responsible for the audited record
  (core.plugins.Auditable.responsible) or, for a finding that names a unit,
  staff of that unit, whatever their role — writes the response;
- only an auditor of the plan closes a finding, and never one who is also
  responsible for the audited record (not the audited party);
- a measure an audit finding opened is confirmed closed by an auditor of its
  plan (may_accept).

Independence (policy §7): an auditor who is responsible for a record the plan
names, or who works in a unit the plan audits, is not independent of it.
That is shown as a warning naming the record or unit — on the plan's page and
when it is saved, and recorded on the plan — and the plan is still saved.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from assurance.audit_models import (
    AuditFinding,
    AuditPlan,
    AuditPlanAuditor,
    AuditPlanUnit,
    AuditTarget,
    FindingStatus,
    PlanStatus,
    Severity,
)
from core import audit, plugins
from core.db import db
from core.measures import Measure, measures_for, open_measure
from core.models import OrgUnit, Role, User
from core.refusals import Refusal
from core.timeutil import utcnow

SOURCE = "audit_finding"  # core.measures.Measure.source_type of the measures a finding opens
WRITERS = frozenset({Role.ADMIN, Role.AUDITOR})  # plans and findings
NEXT_STATUS = {PlanStatus.PLANNED: PlanStatus.IN_PROGRESS, PlanStatus.IN_PROGRESS: PlanStatus.REPORTED}


class AuditRefusal(Refusal):
    """An audit rule refused the change; the message is for the user."""


@dataclass(frozen=True)
class IndependenceWarning:
    """An auditor not independent of what the plan audits (policy §7)."""
    auditor: str
    what: str  # the record or unit, named

    def __str__(self) -> str:
        return _("%(auditor)s は監査対象「%(what)s」の責任者・所属職員です（独立性）。", auditor=self.auditor,
                 what=self.what)


# --- reading ---------------------------------------------------------------------------

def describe_targets(targets) -> dict[tuple[str, int], str]:
    """(kind, id) → 「契約: K-2026-001 …」 for records of any kind, in one query per kind."""
    house = plugins.registry()
    by_kind: dict[str, set[int]] = {}
    for kind, record_id in targets:
        by_kind.setdefault(kind, set()).add(record_id)
    found = {}
    for kind, ids in by_kind.items():
        source = house.auditable(kind)
        names = source.describe(ids) if source else {}
        for record_id in ids:
            found[(kind, record_id)] = f"{source.label if source else kind}: {names.get(record_id, f'#{record_id}')}"
    return found


def responsible_for(targets) -> dict[tuple[str, int], set[int]]:
    """(kind, id) → the ids of the users responsible for the record."""
    house = plugins.registry()
    by_kind: dict[str, set[int]] = {}
    for kind, record_id in targets:
        by_kind.setdefault(kind, set()).add(record_id)
    found: dict[tuple[str, int], set[int]] = {}
    for kind, ids in by_kind.items():
        source = house.auditable(kind)
        people = source.responsible(ids) if source else {}
        for record_id in ids:
            found[(kind, record_id)] = set(people.get(record_id, ()))
    return found


def independence_warnings(plan: AuditPlan) -> list[IndependenceWarning]:
    """Each auditor of ``plan`` who is responsible for one of its records or
    belongs to one of its units, naming that record or unit."""
    targets = [(t.kind, t.record_id) for t in plan.targets]
    people = responsible_for(targets)
    names = describe_targets(targets)
    unit_ids = {link.unit_id for link in plan.unit_links}
    warnings = []
    for auditor in sorted(plan.auditors, key=lambda user: user.id):
        for target in targets:
            if auditor.id in people.get(target, ()):
                warnings.append(IndependenceWarning(auditor.display_name, names[target]))
        if auditor.unit_id in unit_ids:
            warnings.append(IndependenceWarning(auditor.display_name, auditor.unit.path if auditor.unit else ""))
    return warnings


def auditor_choices() -> list[tuple[int, str]]:
    """Active users holding the auditor role."""
    users = db.session.scalars(select(User).where(User.active).order_by(User.display_name)).all()
    return [(u.id, u.display_name) for u in users if u.has_role(Role.AUDITOR)]


def findings_of_year(fiscal_year: int, unit_id: int | None = None) -> list[AuditFinding]:
    stmt = (select(AuditFinding).join(AuditPlan).where(AuditPlan.fiscal_year == fiscal_year)
            .order_by(AuditPlan.id, AuditFinding.number))
    if unit_id:
        stmt = stmt.where(AuditFinding.unit_id == unit_id)
    return list(db.session.scalars(stmt))


# --- plans -----------------------------------------------------------------------------

def save_plan(plan: AuditPlan | None, *, user: User, fiscal_year: int, title: str, method: str,
              period_start: dt.date, period_end: dt.date, registers: list[str], unit_ids: list[int],
              auditor_ids: list[int], targets: list[tuple[str, int]]) -> tuple[AuditPlan, list[IndependenceWarning]]:
    """Create or change a plan; the auditors must hold the auditor role, the
    chosen records be of registers that exist.  Returns the plan and its
    independence warnings (policy §7), which are also recorded on the plan."""
    if period_end < period_start:
        raise AuditRefusal(_l("監査期間の終了日は開始日以降にしてください。"), field="period_end")
    if plan is not None and plan.status is PlanStatus.REPORTED:
        raise AuditRefusal(_l("報告済みの監査計画は変更できません。"))
    house = plugins.registry()
    kinds = {source.kind for source in house.auditables}
    if set(registers) - kinds or {kind for kind, _id in targets} - kinds:
        raise AuditRefusal(_l("監査対象の台帳が正しくありません。"), field="registers")
    auditors = db.session.scalars(select(User).where(User.id.in_(auditor_ids))).all() if auditor_ids else []
    if not auditors:
        raise AuditRefusal(_l("監査人を一人以上選んでください。"), field="auditor_ids")
    if any(not u.active or not u.has_role(Role.AUDITOR) for u in auditors):
        raise AuditRefusal(_l("監査人は監査担当の役割を持つ利用者から選んでください。"), field="auditor_ids")
    units = db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(unit_ids))).all() if unit_ids else []
    if plan is None:
        plan = AuditPlan(created_by_id=user.id, status=PlanStatus.PLANNED)
        db.session.add(plan)
    plan.fiscal_year, plan.title, plan.method = fiscal_year, title.strip(), method.strip()
    plan.period_start, plan.period_end = period_start, period_end
    plan.registers = sorted(set(registers) | {kind for kind, _id in targets})
    _sync(plan.unit_links, {u.id for u in units}, lambda link: link.unit_id,
          lambda unit_id: AuditPlanUnit(unit_id=unit_id, unit=db.session.get(OrgUnit, unit_id)))
    _sync(plan.auditor_links, {u.id for u in auditors}, lambda link: link.user_id,
          lambda user_id: AuditPlanAuditor(user_id=user_id, user=db.session.get(User, user_id)))
    _sync(plan.targets, set(targets), lambda t: (t.kind, t.record_id),
          lambda key: AuditTarget(kind=key[0], record_id=key[1]))
    db.session.flush()
    warnings = independence_warnings(plan)
    plan.independence_note = "\n".join(str(w) for w in warnings) or None
    db.session.flush()
    return plan, warnings


def _sync(links: list, wanted: set, key, make) -> None:
    """Keep exactly ``wanted`` in a plan's ``links`` (removed ones are deleted)."""
    for link in list(links):
        if key(link) not in wanted:
            links.remove(link)
    have = {key(link) for link in links}
    for value in sorted(wanted - have):
        links.append(make(value))


def advance(plan: AuditPlan, user: User) -> AuditPlan:
    """計画 → 実施中 → 報告済."""
    following = NEXT_STATUS.get(plan.status)
    if following is None:
        raise AuditRefusal(_l("この監査計画はすでに報告済みです。"))
    plan.status = following
    audit.label(plan, "status")
    db.session.flush()
    return plan


# --- findings --------------------------------------------------------------------------

def _next_number(plan: AuditPlan) -> int:
    return (db.session.scalar(select(func.max(AuditFinding.number)).where(AuditFinding.plan_id == plan.id)) or 0) + 1


def add_finding(plan: AuditPlan, *, user: User, severity: Severity, condition: str, recommendation: str | None,
                criterion_code: str | None, criterion_text: str | None, target: tuple[str, int] | None,
                unit_id: int | None) -> AuditFinding:
    """A finding numbered next within its plan.  Findings saved at the same
    moment take their numbers in turn: the plan's row is locked first
    (SELECT … FOR UPDATE on PostgreSQL; SQLite's writers already take turns,
    core.db), and should a number be taken meanwhile all the same, the unique
    (plan, number) index refuses it and the finding takes the next one (in a
    savepoint: the rest of the request stays)."""
    if plan.status is PlanStatus.REPORTED:
        raise AuditRefusal(_l("報告済みの監査計画には指摘を追加できません。"))
    if not (criterion_code or (criterion_text or "").strip()):
        raise AuditRefusal(_l("判断基準（点検項目・条項または記述）を入力してください。"), field="criterion_text")
    if target is not None and target not in {(t.kind, t.record_id) for t in plan.targets}:
        raise AuditRefusal(_l("対象の記録は監査計画で選んだものから選んでください。"), field="target")
    db.session.execute(select(AuditPlan.id).where(AuditPlan.id == plan.id).with_for_update())
    for _attempt in range(5):
        finding = AuditFinding(plan_id=plan.id, number=_next_number(plan), severity=severity,
                               condition=condition.strip(), recommendation=(recommendation or "").strip() or None,
                               criterion_code=criterion_code or None,
                               criterion_text=(criterion_text or "").strip() or None,
                               record_kind=target[0] if target else None, record_id=target[1] if target else None,
                               unit_id=unit_id, status=FindingStatus.OPEN, created_by_id=user.id)
        try:
            with db.session.begin_nested():
                db.session.add(finding)
                db.session.flush()
        except IntegrityError:
            continue
        return finding
    raise AuditRefusal(_l("指摘番号を割り当てられませんでした。もう一度保存してください。"))


def responsible_ids(finding: AuditFinding) -> set[int]:
    if finding.record_kind is None or finding.record_id is None:
        return set()
    key = (finding.record_kind, finding.record_id)
    return responsible_for([key]).get(key, set())


def is_audited_party(user: User, finding: AuditFinding, responsible: set[int] | None = None) -> bool:
    """Responsible for the finding's record, or staff of its unit."""
    responsible = responsible_ids(finding) if responsible is None else responsible
    return user.id in responsible or (finding.unit_id is not None and user.unit_id == finding.unit_id)


def may_respond(user: User, finding: AuditFinding) -> bool:
    return (finding.status is not FindingStatus.CLOSED and user.id not in finding.plan.auditor_ids
            and is_audited_party(user, finding))


def respond(finding: AuditFinding, *, user: User, text: str) -> AuditFinding:
    """回答: written by the audited party (not by the plan's auditors)."""
    if finding.status is FindingStatus.CLOSED:
        raise AuditRefusal(_l("完了した指摘には回答できません。"))
    if not may_respond(user, finding):
        raise AuditRefusal(_l("回答できるのは、監査対象の記録の責任者または対象部署の職員です。"))
    finding.response, finding.responded_by_id, finding.responded_at = text.strip(), user.id, utcnow()
    finding.status = FindingStatus.RESPONDED
    audit.label(finding, "respond")
    db.session.flush()
    return finding


def may_close(user: User, finding: AuditFinding) -> bool:
    """An auditor of the plan who is not responsible for the audited record."""
    return (user.has_role(Role.AUDITOR) and user.id in finding.plan.auditor_ids
            and user.id not in responsible_ids(finding))


def close(finding: AuditFinding, *, user: User, note: str) -> AuditFinding:
    """完了: only an auditor of the plan closes a finding — never the audited
    party — once it is answered (a 所見 needs no answer) and its measures
    are confirmed."""
    if finding.status is FindingStatus.CLOSED:
        raise AuditRefusal(_l("この指摘はすでに完了しています。"))
    if not may_close(user, finding):
        raise AuditRefusal(_l("指摘を完了できるのは、この監査の監査人（監査対象の責任者でない者）だけです。"))
    if finding.status is FindingStatus.OPEN and finding.severity.needs_measure:
        raise AuditRefusal(_l("被監査部署の回答がまだありません。"))
    if any(m.is_open for m in measures_for(SOURCE, [finding.id])[finding.id]):
        raise AuditRefusal(_l("改善措置がまだ確認されていません。"))
    finding.status, finding.closed_by_id, finding.closed_at = FindingStatus.CLOSED, user.id, utcnow()
    finding.closure_note = note.strip() or None
    audit.label(finding, "close")
    db.session.flush()
    return finding


def open_finding_measure(finding: AuditFinding, *, user: User, measure: str, due_on: dt.date,
                         owner_id: int | None) -> Measure:
    """A follow-up measure (core.measures) for a 重大・中・軽微 finding."""
    if not finding.severity.needs_measure:
        raise AuditRefusal(_l("所見には改善措置を設けません。"))
    if finding.status is FindingStatus.CLOSED:
        raise AuditRefusal(_l("完了した指摘には改善措置を追加できません。"))
    if owner_id is None or db.session.get(User, owner_id) is None:
        raise AuditRefusal(_l("措置の担当者を選んでください。"), field="owner_id")
    title = _("監査指摘 %(plan)s #%(number)s: %(condition)s", plan=finding.plan.title, number=finding.number,
              condition=finding.condition)
    return open_measure(source_type=SOURCE, source_id=finding.id, title=title, measure=measure, due_on=due_on,
                        owner_id=owner_id, unit_id=finding.unit_id, opened_by=user)


def may_accept(user: User, measure: Measure) -> bool:
    """Who confirms the closure of a measure an audit finding opened: an
    auditor of the finding's plan (not the measure's owner, nor one
    responsible for the audited record).  For core.measures' lifecycle."""
    if measure.source_type != SOURCE:
        return False
    finding = db.session.get(AuditFinding, measure.source_id)
    return finding is not None and measure.owner_id != user.id and may_close(user, finding)
