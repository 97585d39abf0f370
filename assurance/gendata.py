"""The generated data set's yearly loop (core/gendata.py runs this generator
last): a self-inspection of every unit and of the whole body for the
current 年度 and the two before, with its answers (a snapshot of the items in
use, as assurance.inspections.start takes); audit plans of those years with
their units, auditors, chosen records and findings; and the improvement
measures (core.measures) the non-conforming answers and the findings opened.

Every status occurs: past years' inspections approved (a few corrected: the
first version superseded by a second), this year's in every step of the
sign-off; past plans reported, this year's planned or in progress; findings
open, responded and closed.  A (年度, unit) that already has an inspection
(the demo's) gets none, so the one-open-per-scope rule holds.  The records
audited are drawn through the registry (core.plugins.Auditable).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from assurance import audits, inspections
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
from assurance.inspection_models import AnswerResult, Inspection, InspectionAnswer, InspectionStatus
from core import inspection as catalogue
from core import plugins
from core.db import db
from core.gendata import Plan, insert, measure_row, next_id
from core.measures import Measure
from core.models import Role, User
from core.timeutil import fiscal_year, fiscal_year_range

YEARS = 3  # the current 年度 and the two before
PLANS_PER_YEAR = 12
OPEN_STEPS = (InspectionStatus.DRAFT, InspectionStatus.SUBMITTED, InspectionStatus.CHECKED,
              InspectionStatus.APPROVED)
RESULTS = [AnswerResult.CONFORMING] * 16 + [AnswerResult.PARTIAL, AnswerResult.NONCONFORMING,
                                            AnswerResult.NOT_APPLICABLE]
METHODS = ("書面監査", "実地監査", "書面監査・ヒアリング")
CONDITIONS = ("委託契約書に再委託の承認手続が記載されていない", "確認の記録に証跡が添付されていない",
              "外部サービスの利用申請が更新されていない", "SNSアカウントの運用手順が改訂されていない")


def _moment(day: dt.date, hour: int = 1) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour))


def generate(plan: Plan) -> None:
    _inspections(plan)
    _audits(plan)


def _inspections(plan: Plan) -> None:
    rng, people, current = plan.rng, plan.people, fiscal_year(plan.on)
    items = catalogue.active_items()
    names = dict(catalogue.areas())
    taken = {(year, key) for year, key in db.session.execute(select(Inspection.fiscal_year, Inspection.scope_key))}
    staff = _holders(Role.ADMIN, Role.PROCUREMENT, Role.VERIFIER, Role.SOCIAL, Role.LEAD) or people
    approvers = _holders(Role.LEAD, Role.APPROVER) or people

    # (年度, unit or None, status, edition, corrects: index in ``wanted`` or None)
    # every status occurs: one past inspection in ten corrected, this year's in each step in turn
    wanted: list[tuple] = []
    for year in range(current - YEARS + 1, current + 1):
        for n, unit in enumerate(scope for scope in [None, *plan.units] if (year, scope or 0) not in taken):
            if year < current:
                if n % 10 == 1:  # corrected: the first version superseded by the second
                    wanted.append((year, unit, InspectionStatus.SUPERSEDED, 1, None))
                    wanted.append((year, unit, InspectionStatus.APPROVED, 2, len(wanted) - 1))
                else:
                    wanted.append((year, unit, InspectionStatus.APPROVED, 1, None))
            else:
                wanted.append((year, unit, OPEN_STEPS[n % len(OPEN_STEPS)], 1, None))
    first = next_id(Inspection)
    rows = []
    for year, unit, status, edition, corrects in wanted:
        start, end = fiscal_year_range(year)
        done = min(end, plan.on)
        inspector, responsible = rng.choice(staff), rng.choice(staff)
        checker = rng.choice([p for p in approvers if p != inspector] or approvers)
        approver = rng.choice([p for p in approvers if p not in (inspector, checker)] or approvers)
        submitted = status is not InspectionStatus.DRAFT
        checked = status in (InspectionStatus.CHECKED, InspectionStatus.APPROVED, InspectionStatus.SUPERSEDED)
        approved = status in (InspectionStatus.APPROVED, InspectionStatus.SUPERSEDED)
        rows.append({
            "fiscal_year": year, "unit_id": unit, "scope_key": unit or 0, "edition": edition,
            "corrects_id": None if corrects is None else first + corrects, "responsible_id": responsible,
            "status": status, "summary": "年次の自己点検（生成データ）", "remarks": None, "editor_ids": [inspector],
            "created_by_id": inspector, "inspector_id": inspector if submitted else None,
            "submitted_at": _moment(done - dt.timedelta(days=20)) if submitted else None,
            "checker_id": checker if checked else None,
            "checked_at": _moment(done - dt.timedelta(days=10)) if checked else None,
            "approver_id": approver if approved else None,
            "approved_at": _moment(done - dt.timedelta(days=5)) if approved else None,
            "superseded_at": _moment(done) if status is InspectionStatus.SUPERSEDED else None, **plan.stamps})
    plan.tick("inspections", insert(Inspection, iter(rows)))
    ids = range(first, first + len(rows))

    first_answer = next_id(InspectionAnswer)
    answers = []  # (inspection index, answer row)
    for index, row in enumerate(rows):
        draft = row["status"] is InspectionStatus.DRAFT
        for position, item in enumerate(items):
            result = None if draft and rng.random() < 0.4 else rng.choice(RESULTS)
            needs = result is not None and result.needs_measure
            answers.append((index, {
                "inspection_id": first + index, "position": position, "code": item.code, "text_ja": item.text_ja,
                "text_en": item.text_en or None, "area": item.area, "area_name": names.get(item.area, item.area),
                "frequency": str(item.frequency or "") or None, "source": str(getattr(item, "source", "") or "") or None,
                "general_practice": bool(getattr(item, "general_practice", False)), "result": result,
                "comment": "記録の一部が確認できない" if needs else None,
                "measure": "記録の様式を定め、担当者に周知する" if needs else None,
                "measure_owner_id": rng.choice(people) if needs else None,
                "measure_due_on": fiscal_year_range(row["fiscal_year"])[1] if needs else None,
                "answered_by_id": row["created_by_id"] if result else None,
                "answered_at": row["submitted_at"] or plan.now if result else None,
                "created_at": plan.now, "updated_at": plan.now}))
    plan.tick("inspection_answers", insert(InspectionAnswer, (answer for _i, answer in answers)))

    # an approved inspection opened a measure for each 一部不適合/不適合 answer (its correction none again)
    first_measure = next_id(Measure)
    measures = []
    for offset, (index, answer) in enumerate(answers):
        row = rows[index]
        if (row["status"] is InspectionStatus.APPROVED and row["corrects_id"] is None
                and answer["result"] is not None and answer["result"].needs_measure):
            measures.append(measure_row(
                plan, inspections.SOURCE, first_answer + offset,
                f"自己点検 {row['fiscal_year']}年度 {answer['code']}（{answer['result'].label}）{answer['text_ja']}",
                row["unit_id"], row["approved_at"].date(), row["approver_id"]))
    plan.tick("measures (inspections)", insert(Measure, iter(measures)))
    plan.created("inspections", ids)
    plan.created("measures", range(first_measure, first_measure + len(measures)))


def _holders(*roles: Role) -> list[int]:
    users = db.session.scalars(select(User).where(User.active)).all()
    return [user.id for user in users if user.has_role(*roles)]


def _auditable_ids(plan: Plan) -> dict[str, list[int]]:
    """{auditable kind: ids to choose from}: this run's contracts, else what the plan form offers."""
    found: dict[str, list[int]] = {}
    for source in plugins.registry().auditables:
        if source.kind == "contracts" and plan.ids.get("contracts"):
            found[source.kind] = list(plan.ids["contracts"])
        else:
            found[source.kind] = [record_id for record_id, _text in source.choices()]
    return {kind: ids for kind, ids in found.items() if ids}


def _audits(plan: Plan) -> None:
    rng, people, current = plan.rng, plan.people, fiscal_year(plan.on)
    auditors = _holders(Role.AUDITOR) or people
    records = _auditable_ids(plan)
    plans = []
    for year in range(current - YEARS + 1, current + 1):
        start, _end = fiscal_year_range(year)
        for n in range(PLANS_PER_YEAR):
            begins = start + dt.timedelta(days=20 * n + rng.randint(0, 10))
            if year == current and n >= PLANS_PER_YEAR - 2:  # this year's last two: one under way, one to come
                begins = plan.on + dt.timedelta(days=-10 if n == PLANS_PER_YEAR - 2 else 14)
            status = (PlanStatus.REPORTED if year < current or begins + dt.timedelta(days=60) < plan.on
                      else PlanStatus.IN_PROGRESS if begins <= plan.on else PlanStatus.PLANNED)
            kinds = sorted(rng.sample(sorted(records), min(len(records), rng.randint(1, 2)))) if records else []
            plans.append({"fiscal_year": year, "title": f"{year}年度 情報セキュリティ監査 第{n + 1}回",
                          "method": rng.choice(METHODS), "period_start": begins,
                          "period_end": begins + dt.timedelta(days=30), "registers": kinds, "status": status,
                          "independence_note": None, "created_by_id": rng.choice(auditors), **plan.stamps})
    first = next_id(AuditPlan)
    plan.tick("audit_plans", insert(AuditPlan, iter(plans)))
    ids = range(first, first + len(plans))
    units, links, targets, findings = [], [], [], []
    for plan_id, row in zip(ids, plans, strict=True):
        chosen_units = rng.sample(plan.units, min(len(plan.units), rng.randint(1, 3)))
        units += [{"plan_id": plan_id, "unit_id": unit} for unit in chosen_units]
        links += [{"plan_id": plan_id, "user_id": user}
                  for user in rng.sample(auditors, min(len(auditors), rng.randint(1, 2)))]
        chosen = []
        for kind in row["registers"]:
            picked = rng.sample(records[kind], min(len(records[kind]), rng.randint(5, 20)))
            chosen += [(kind, record_id) for record_id in picked]
            targets += [{"plan_id": plan_id, "kind": kind, "record_id": record_id} for record_id in picked]
        if row["status"] is PlanStatus.PLANNED:
            continue
        for number in range(1, rng.randint(3, 10) + 1):
            severity = rng.choice([Severity.MINOR] * 3 + [Severity.MODERATE] * 2 + [Severity.SERIOUS,
                                                                                    Severity.OBSERVATION])
            status = (rng.choice([FindingStatus.CLOSED] * 6 + [FindingStatus.RESPONDED, FindingStatus.OPEN])
                      if row["status"] is PlanStatus.REPORTED else rng.choice(list(FindingStatus)))
            record = rng.choice(chosen) if chosen and rng.random() < 0.7 else (None, None)
            noted = _moment(row["period_end"])
            answered = status is not FindingStatus.OPEN
            findings.append({
                "plan_id": plan_id, "number": number, "severity": severity, "criterion_code": None,
                "criterion_text": "基本方針 6(8)", "condition": rng.choice(CONDITIONS),
                "recommendation": "手順を定め、記録を残すこと", "record_kind": record[0], "record_id": record[1],
                "unit_id": rng.choice(chosen_units), "response": "手順を改訂する" if answered else None,
                "responded_by_id": rng.choice(people) if answered else None,
                "responded_at": noted + dt.timedelta(days=14) if answered else None, "status": status,
                "closed_by_id": links[-1]["user_id"] if status is FindingStatus.CLOSED else None,
                "closed_at": noted + dt.timedelta(days=30) if status is FindingStatus.CLOSED else None,
                "closure_note": "措置を確認した" if status is FindingStatus.CLOSED else None,
                "created_by_id": links[-1]["user_id"], **plan.stamps})
    plan.tick("audit_plan_units", insert(AuditPlanUnit, iter(units)))
    plan.tick("audit_plan_auditors", insert(AuditPlanAuditor, iter(links)))
    plan.tick("audit_targets", insert(AuditTarget, iter(targets)))
    first_finding = next_id(AuditFinding)
    plan.tick("audit_findings", insert(AuditFinding, iter(findings)))
    titles = {plan_id: row["title"] for plan_id, row in zip(ids, plans, strict=True)}
    first_measure = next_id(Measure)
    measures = [measure_row(plan, audits.SOURCE, first_finding + offset,
                            f"監査指摘 {titles[finding['plan_id']]} #{finding['number']}: {finding['condition']}",
                            finding["unit_id"], finding["responded_at"].date(), finding["created_by_id"])
                for offset, finding in enumerate(findings)
                if finding["severity"].needs_measure and finding["status"] is not FindingStatus.OPEN]
    plan.tick("measures (audits)", insert(Measure, iter(measures)))
    plan.created("audit_plans", ids)
    plan.created("audit_findings", range(first_finding, first_finding + len(findings)))
    plan.created("measures", range(first_measure, first_measure + len(measures)))
