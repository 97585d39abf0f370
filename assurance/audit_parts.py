"""What the audits contribute to the features that span the modules, through
the registry (core/plugins.py): the work inbox, the annual audit pack, the
report to the CISO and its decisions, the API and spreadsheet register of
findings, and the demo."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from reportlab.lib.units import mm
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assurance import audits
from assurance.audit_models import AuditFinding, AuditPlan, FindingStatus, Severity
from core import inbox, plugins
from core.auth import AUDIT_READERS
from core.db import db
from core.inspection import Scope
from core.lists import ListView, enum_filter, id_filter
from core.measures import measures_for
from core.models import Role, User
from core.pdf import SMALL, Heading, Section, day, p, table
from core.registers import Field, Register
from core.report import Decision, Table
from core.timeutil import fiscal_year, fiscal_year_label, local_date, today

STALE_SERIOUS_DAYS = 90  # a 重大 finding still open this long goes to the committee (report's decisions)


# --- the work inbox --------------------------------------------------------------------

def inbox_entries(user) -> list[inbox.Entry]:
    """Findings awaiting the response of ``user`` (responsible for the audited
    record, or staff of the audited unit; not one of the plan's auditors),
    and answered findings awaiting closure by ``user`` as an auditor of the plan."""
    open_findings = list(db.session.scalars(
        select(AuditFinding).where(AuditFinding.status != FindingStatus.CLOSED)
        .options(selectinload(AuditFinding.plan).selectinload(AuditPlan.auditor_links))
        .order_by(AuditFinding.created_at, AuditFinding.id)))
    if not open_findings:
        return []
    people = audits.responsible_for({(f.record_kind, f.record_id) for f in open_findings if f.record_kind})
    found = []
    for finding in open_findings:
        responsible = people.get((finding.record_kind, finding.record_id), set())
        auditors = finding.plan.auditor_ids
        title = _("%(plan)s 指摘%(number)s（%(severity)s）: %(condition)s", plan=finding.plan.title,
                  number=finding.number, severity=finding.severity.label, condition=_short(finding.condition))
        if (finding.status is FindingStatus.OPEN and user.id not in auditors
                and audits.is_audited_party(user, finding, responsible)):
            # No date: the inbox reads a work item's date as its due date, and a response has none.
            found.append(inbox.Entry(inbox.DUE, _l("監査指摘への回答"), title, None,
                                     "audits.finding", {"finding_id": finding.id}))
        elif (finding.status is FindingStatus.RESPONDED and user.id in auditors and user.id not in responsible
              and user.has_role(Role.AUDITOR)):
            found.append(inbox.Entry(inbox.APPROVAL, _l("監査指摘の完了確認"), title, local_date(finding.responded_at),
                                     "audits.finding", {"finding_id": finding.id}))
    return found


def _short(text: str, limit: int = 40) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --- the annual audit pack -------------------------------------------------------------

def pack_sections(scope: Scope) -> list[Section]:
    """All audit findings of the 年度 (open and closed), one table per plan."""
    findings = audits.findings_of_year(scope.fiscal_year, scope.unit_id)
    flow: list = [p(f"{fiscal_year_label(scope.fiscal_year)}の監査の指摘 {len(findings)} 件（完了・未完了を含む）。"
                    "網掛けの行は未完了の重大な指摘です。", SMALL)]
    by_plan: dict[int, list[AuditFinding]] = {}
    for finding in findings:
        by_plan.setdefault(finding.plan_id, []).append(finding)
    for rows in by_plan.values():
        plan = rows[0].plan
        flow.append(Heading(f"{plan.title}（{day(plan.period_start)}〜{day(plan.period_end)}・{plan.method}）", 1))
        alerts = {i for i, f in enumerate(rows) if f.is_open and f.severity is Severity.SERIOUS}
        flow.append(table(
            ["番号", "重要度", "判断基準", "事実", "改善勧告", "回答", "状態", "完了日"],
            [[str(f.number), str(f.severity.label), f.criterion or "—", f.condition, f.recommendation or "—",
              f.response or "—", str(f.status.label), day(f.closed_at)] for f in rows],
            [9 * mm, 11 * mm, 22 * mm, 36 * mm, 32 * mm, 30 * mm, 14 * mm, 24 * mm], alerts=alerts))
    if not findings:
        flow.append(p("この年度の監査の指摘はありません。"))
    return [Section("情報セキュリティ監査の指摘", flow, kind="audit")]


# --- the report to the CISO ------------------------------------------------------------

def report_tables(year: int) -> list[Table]:
    findings = audits.findings_of_year(year)
    rows = []
    for severity in Severity:
        of = [f for f in findings if f.severity is severity]
        rows.append([str(severity.label), str(len(of)), str(sum(1 for f in of if f.is_open)),
                     str(sum(1 for f in of if not f.is_open))])
    rows.append([_("計"), str(len(findings)), str(sum(1 for f in findings if f.is_open)),
                 str(sum(1 for f in findings if not f.is_open))])
    return [Table(_l("監査の指摘（重要度別）"), [_l("重要度"), _l("件数"), _l("未完了"), _l("完了")], rows)]


def decisions(year: int) -> list[Decision]:
    """重大 findings (of the year's plans or earlier ones) still open past
    their measure's due date, or open for more than STALE_SERIOUS_DAYS."""
    on = today()
    findings = list(db.session.scalars(select(AuditFinding).join(AuditPlan).where(
        AuditPlan.fiscal_year <= year, AuditFinding.severity == Severity.SERIOUS,
        AuditFinding.status != FindingStatus.CLOSED).order_by(AuditFinding.created_at, AuditFinding.id)))
    measures = measures_for(audits.SOURCE, [f.id for f in findings])
    found = []
    for finding in findings:
        overdue = [m for m in measures[finding.id] if m.is_open and m.due_on < on]
        opened = local_date(finding.created_at) or on
        if overdue or (on - opened).days > STALE_SERIOUS_DAYS:
            why = (_("改善措置の期限 %(due)s を経過", due=min(m.due_on for m in overdue).isoformat()) if overdue
                   else _("指摘から %(days)s 日経過", days=(on - opened).days))
            found.append(Decision(_l("期限を過ぎた重大な監査指摘"),
                                  _("%(plan)s 指摘%(number)s: %(condition)s（%(why)s）", plan=finding.plan.title,
                                    number=finding.number, condition=_short(finding.condition), why=why),
                                  "audits.finding", {"finding_id": finding.id}))
    return found


# --- API and spreadsheet ---------------------------------------------------------------

FIELDS = [
    Field("id", "ID", lambda f: f.id, kind="integer", width=7, read_only=True),
    Field("plan_id", "監査計画ID", lambda f: f.plan_id, kind="integer", width=7),
    Field("plan", "監査計画", lambda f: f.plan.title, width=30),
    Field("fiscal_year", "年度", lambda f: f.plan.fiscal_year, kind="integer", width=7),
    Field("number", "番号", lambda f: f.number, kind="integer", width=6),
    Field("severity", "重要度", lambda f: f.severity, kind="enum", enum=Severity, width=8),
    Field("criterion", "判断基準", lambda f: f.criterion or None, width=24),
    Field("condition", "事実", lambda f: f.condition, width=40),
    Field("recommendation", "改善勧告", lambda f: f.recommendation, width=40),
    Field("record_kind", "対象の台帳", lambda f: f.record_kind, width=10),
    Field("record_id", "対象の記録ID", lambda f: f.record_id, kind="integer", width=7),
    Field("unit", "被監査部署", lambda f: f.unit.name if f.unit else None, width=16),
    Field("response", "回答", lambda f: f.response, width=40),
    Field("responded_at", "回答日時", lambda f: f.responded_at, kind="datetime", width=19),
    Field("status", "状態", lambda f: f.status, kind="enum", enum=FindingStatus, width=8),
    Field("closed_at", "完了日時", lambda f: f.closed_at, kind="datetime", width=19),
    Field("closure_note", "完了の所見", lambda f: f.closure_note, width=30),
    Field("updated_at", "更新日時", lambda f: f.updated_at, kind="datetime", width=19),
]

LIST = ListView(
    search=[AuditFinding.condition, AuditFinding.recommendation],
    filters={"status": enum_filter(AuditFinding.status, FindingStatus),
             "severity": enum_filter(AuditFinding.severity, Severity),
             "plan": id_filter(AuditFinding.plan_id)},
    sorts={"number": AuditFinding.number, "status": AuditFinding.status},
    default_sort="",
)


def _findings():
    return select(AuditFinding).options(selectinload(AuditFinding.plan), selectinload(AuditFinding.unit))


def registers() -> list[Register]:
    """Read-only: findings are written on their pages (the auditor's and the audited party's steps)."""
    return [Register(name="audit-findings", title=_l("監査の指摘"), model=AuditFinding, fields=FIELDS,
                     query=_findings, list_view=LIST, readers=AUDIT_READERS, url_prefix="/audits/findings",
                     endpoint="audits.finding", list_endpoint="audits.index",
                     summary=lambda f: f"{f.plan.title} #{f.number}")]


# --- the demo --------------------------------------------------------------------------

def seed(demo) -> None:
    """One audit plan of the current 年度 (an SNS account and a contract in
    scope, the auditor independent of both) with three findings: a 重大 one
    with its measure open, a 中 one answered and awaiting the auditor's
    closure, and a 所見 closed."""
    year = fiscal_year(demo.today)
    if db.session.scalar(select(AuditPlan.id).where(AuditPlan.fiscal_year == year)) is not None:
        return
    house = plugins.registry()
    auditor, unit = demo.users["auditor"], demo.units["予防課"]
    targets = []
    for kind in ("social", "contracts"):
        source = house.auditable(kind)
        choices = source.choices() if source else []
        if choices:
            targets.append((kind, choices[0][0]))
    start = max(demo.today - dt.timedelta(days=20), dt.date(year, 4, 1))
    plan, _warnings = audits.save_plan(
        None, user=auditor, fiscal_year=year, title=f"{year}年度 情報セキュリティ監査（内部監査）",
        method="書面監査・実地監査", period_start=start, period_end=start + dt.timedelta(days=60),
        registers=[kind for kind, _id in targets], unit_ids=[unit.id], auditor_ids=[auditor.id], targets=targets)
    audits.advance(plan, auditor)
    people = audits.responsible_for(targets)
    social_target = next((t for t in targets if t[0] == "social"), None)
    other_target = next((t for t in targets if t[0] == "contracts" and people.get(t)), social_target)
    serious = audits.add_finding(
        plan, user=auditor, severity=Severity.SERIOUS, criterion_code="SNS-03", criterion_text=None,
        condition="公式アカウントの管理画面に二要素認証が設定されていない。", target=social_target, unit_id=unit.id,
        recommendation="直ちに二要素認証を設定し、設定状況を台帳に記録すること。")
    owner_id = min(people.get(social_target) or {demo.users["social"].id})
    audits.open_finding_measure(serious, user=auditor, measure="二要素認証を設定し、設定画面の写しを提出する。",
                                due_on=demo.today + dt.timedelta(days=30), owner_id=owner_id)
    moderate = audits.add_finding(
        plan, user=auditor, severity=Severity.MODERATE, criterion_code=None, criterion_text="対策基準 委託先の管理",
        condition="委託先からの作業報告の受領記録が一部の月で欠けている。", target=other_target,
        unit_id=None if other_target and other_target[0] == "contracts" else unit.id,
        recommendation="毎月の作業報告の受領を記録し、欠けている月の報告を求めること。")
    responder = db.session.get(User, min(people.get(other_target) or {demo.users["social"].id}))
    audits.respond(moderate, user=responder, text="欠けていた月の報告を受領し、受領記録の様式を定めた。")
    observation = audits.add_finding(
        plan, user=auditor, severity=Severity.OBSERVATION, criterion_code=None, criterion_text="良好事例",
        condition="投稿前チェックが全投稿で記録されている。", target=None, unit_id=unit.id, recommendation=None)
    audits.close(observation, user=auditor, note="所見として記録した。")


def init_app(app) -> None:
    house = plugins.registry(app)
    house.add_inbox(inbox_entries)  # what waits for a user (core.inbox)
    # a finding's follow-up measures (core.measures): confirmed closed by an auditor of its plan only
    house.add_measure_source(audits.SOURCE, label=_l("監査の指摘"),
                             link=lambda measure: ("audits.finding", {"finding_id": measure.source_id}),
                             may_accept=audits.may_accept, acceptors=frozenset({Role.AUDITOR}))
    house.add_pack_part(60, pack_sections)
    house.add_report_part(60, report_tables)
    house.add_decisions(60, decisions)
    house.add_registers(registers, order=60)
    house.add_seeder(90, seed)
