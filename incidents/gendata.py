"""The generated data set's incidents (core/gendata.py runs this generator
after the registers'): about one incident a year for every 25 contracts of
the data set (50,000 contracts: 2,000), over three 年度, every kind, severity
and status, with their timelines, reporting chains, response checklists and,
once closed, their prevention measures (core.measures).

What an incident concerns is drawn through the registry
(core.plugins.IncidentSubject), as the incident form offers it: this
package knows no domain.  Numbers continue each 年度's series (INC-2026-…).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select

from core import plugins
from core.db import db
from core.gendata import Plan, insert, measure_row, next_id
from core.incidents import (
    CONTRACT,
    MEASURE_SOURCE,
    SOCIAL_ACCOUNT,
    SOCIAL_KINDS,
    Incident,
    IncidentAction,
    IncidentChecklistItem,
    IncidentKind,
    IncidentNotification,
    IncidentStatus,
    Severity,
)
from core.measures import Measure
from core.timeutil import fiscal_year, local_date

PER_CONTRACTS = 25  # one incident for every 25 contracts
DAYS = 1095  # over three years
TITLES = {
    IncidentKind.LEAK: "受託者による記録媒体の紛失", IncidentKind.UNAUTHORISED_ACCESS: "管理画面への不正ログインの試行",
    IncidentKind.MALWARE: "受託者端末のマルウェア感染", IncidentKind.OUTAGE: "サービスの停止",
    IncidentKind.CONTRACT_BREACH: "無断での再委託", IncidentKind.IMPERSONATION: "公式アカウントのなりすまし",
    IncidentKind.TAKEOVER: "公式アカウントへの不正ログイン", IncidentKind.WRONG_POST: "誤った日程の投稿",
}
ACTIONS = ("受託者に経緯書の提出を求めた。", "影響範囲を確認し、関係課に周知した。", "提供事業者の障害情報を確認した。",
           "パスワードを変更し、二要素認証を確認した。", "再発防止策の提出を受けた。")
STATUSES = ([IncidentStatus.CLOSED] * 6 + [IncidentStatus.PREVENTING, IncidentStatus.RESPONDING,
                                           IncidentStatus.RECEIVED])


def _subjects(plan: Plan) -> dict[str, list[int]]:
    """{subject kind: ids to draw from}: the contracts this run made (else
    every one the form offers), and every cloud service and SNS account."""
    found: dict[str, list[int]] = {}
    for subject in plugins.registry().incident_subjects:
        if subject.kind == CONTRACT and plan.ids.get("contracts"):
            found[subject.kind] = list(plan.ids["contracts"])
        else:
            found[subject.kind] = [record_id for record_id, _text in subject.choices()]
    return {kind: ids for kind, ids in found.items() if ids}


def _draw(plan: Plan, subjects: dict[str, list[int]]):
    """(subject kind or None, id or None, kind of incident)."""
    rng = plan.rng
    roll = rng.random()
    kinds = [k for k in ("contract", "cloud_service", "social_account") if k in subjects]
    if roll < 0.1 or not kinds:
        return None, None, rng.choice([k for k in IncidentKind if k not in SOCIAL_KINDS])
    weights = {"contract": 0.6, "cloud_service": 0.15, "social_account": 0.15}
    subject_kind = rng.choices(kinds, [weights[k] for k in kinds])[0]
    others = [k for k in IncidentKind if k not in SOCIAL_KINDS]
    kind = rng.choice(list(IncidentKind) if subject_kind == SOCIAL_ACCOUNT else others)
    return subject_kind, rng.choice(subjects[subject_kind]), kind


def generate(plan: Plan) -> None:
    rng, now, people = plan.rng, plan.now, plan.people
    count = max(20, plan.contracts // PER_CONTRACTS)
    subjects = _subjects(plan)
    checklists: dict[IncidentKind, list[str]] = defaultdict(list)
    for code, kind in db.session.execute(select(IncidentChecklistItem.code, IncidentChecklistItem.kind).where(
            IncidentChecklistItem.retired.is_(False)).order_by(IncidentChecklistItem.position)):
        checklists[kind].append(code)
    # each 年度's series continues after the numbers already taken
    last: dict[int, int] = defaultdict(int)
    for number in db.session.scalars(select(Incident.number).where(Incident.number.like("INC-%"))):
        _inc, year, serial = (number.split("-") + ["", ""])[:3]
        if year.isdigit() and serial.isdigit():
            last[int(year)] = max(last[int(year)], int(serial))

    drawn = []
    for _i in range(count):
        subject_kind, subject_id, kind = _draw(plan, subjects)
        occurred = now - dt.timedelta(days=rng.randint(1, DAYS), minutes=rng.randint(0, 1440))
        age = (now - occurred).days
        status = rng.choice(STATUSES) if age < 120 else IncidentStatus.CLOSED
        drawn.append((subject_kind, subject_id, kind, occurred, status))
    drawn.sort(key=lambda row: row[3])  # numbered in the order the body learned of them
    units: dict[str, dict] = {kind: found.units(sorted({sid for sk, sid, *_r in drawn if sk == kind}))
                              for kind in subjects if (found := plugins.registry().incident_subject(kind))}

    first = next_id(Incident)
    rows = []
    for subject_kind, subject_id, kind, occurred, status in drawn:
        severity = rng.choice([Severity.MINOR] * 3 + [Severity.MODERATE] * 2 + [Severity.SEVERE])
        detected = occurred + dt.timedelta(hours=rng.randint(0, 12))
        reported = detected + dt.timedelta(hours=rng.randint(1, 60)) if subject_kind == CONTRACT else None
        learned = reported or detected + dt.timedelta(hours=rng.randint(0, 6))
        year = fiscal_year(local_date(learned))
        last[year] += 1
        personal = kind is IncidentKind.LEAK and rng.random() < 0.7 or rng.random() < 0.05
        closed = status is IncidentStatus.CLOSED
        codes = checklists.get(kind, [])
        rows.append({
            "number": f"INC-{year}-{last[year]:03d}", "kind": kind, "severity": severity, "status": status,
            "title": TITLES[kind], "summary": f"{TITLES[kind]}が発生した（生成データ）。",
            "subject_type": subject_kind, "subject_id": subject_id,
            "unit_id": units.get(subject_kind, {}).get(subject_id) if subject_kind else rng.choice(plan.units),
            "handler_id": rng.choice(people), "occurred_at": occurred, "detected_at": detected,
            "contractor_reported_at": reported, "learned_at": learned,
            "contained_at": learned + dt.timedelta(hours=rng.randint(1, 72))
            if closed or status is IncidentStatus.PREVENTING else None,
            "reporter": "受託者の責任者（電話）" if reported else "職員", "recorded_by_id": rng.choice(people),
            "information": "通報記録の抽出データ" if personal else None,
            "classification_id": rng.choice(plan.confidentiality) if personal else None,
            "personal_data": personal, "my_number": False,
            "people_affected": rng.randint(1, 300) if personal else None, "wrongful_intent": False,
            "ppc_required": (rng.random() < 0.5) if personal and status is not IncidentStatus.RECEIVED else None,
            "ppc_preliminary_on": local_date(learned) + dt.timedelta(days=3) if personal and closed else None,
            "ppc_final_on": local_date(learned) + dt.timedelta(days=25) if personal and closed else None,
            "checklist": {code: closed or (status is not IncidentStatus.RECEIVED and rng.random() < 0.5)
                          for code in codes},
            "cause": "手順の不備" if closed else None, "prevention": "手順を見直し、周知する" if closed else None,
            "closed_at": learned + dt.timedelta(days=rng.randint(5, 60)) if closed else None,
            "closed_by_id": rng.choice(people) if closed else None, "late_report_at": None, "legacy_object": None,
            **plan.stamps})
    plan.tick("incidents", insert(Incident, iter(rows)))
    ids = range(first, first + len(rows))

    def actions():
        for incident_id, row in zip(ids, rows, strict=True):
            if row["status"] is not IncidentStatus.RECEIVED:
                for step in range(rng.randint(1, 4)):
                    yield {"incident_id": incident_id, "at": row["learned_at"] + dt.timedelta(hours=step + 1),
                           "user_id": row["handler_id"], "text": rng.choice(ACTIONS), "legacy_object": None}

    def notifications():
        for incident_id, row in zip(ids, rows, strict=True):
            if row["status"] is IncidentStatus.RECEIVED:
                continue
            told = [("lead", "統括 守")] + ([("ciso", "最高 責任者")] if row["severity"] is Severity.SEVERE else [])
            for role, name in told:
                yield {"incident_id": incident_id, "recipient_role": role, "recipient": name,
                       "notified_at": row["learned_at"] + dt.timedelta(hours=2), "means": "電子メール",
                       "recorded_by_id": row["handler_id"]}

    plan.tick("incident_actions", insert(IncidentAction, actions()))
    plan.tick("incident_notifications", insert(IncidentNotification, notifications()))

    # the prevention measures of each closed incident, every status
    first_measure = next_id(Measure)
    measures = []
    for incident_id, row in zip(ids, rows, strict=True):
        if row["closed_at"] is None:
            continue
        for _n in range(rng.randint(1, 2)):
            measures.append(measure_row(plan, MEASURE_SOURCE, incident_id, row["title"], row["unit_id"],
                                        local_date(row["closed_at"]), row["closed_by_id"]))
    plan.tick("measures (incidents)", insert(Measure, iter(measures)))
    plan.created("incidents", ids)
    plan.created("measures", range(first_measure, first_measure + len(measures)))

