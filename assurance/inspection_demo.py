"""Demo self-inspections (issue 18): the previous 年度's approved, one 不適合
with its improvement measure reported done and waiting for confirmation; the current 年度's submitted and waiting
for its checker (an inbox item for the approver and the security lead)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from assurance import inspections as service
from assurance.inspection_models import AnswerResult, Inspection
from core import files, measures
from core.db import db
from core.measures import measures_for
from core.timeutil import fiscal_year

# The demo's answers that are not 適合: code → (result, comment, measure)
PREVIOUS = {
    "SNS-04": (AnswerResult.NONCONFORMING, "なりすましアカウントの点検を年度内に一度も実施していなかった。",
               "毎月第1営業日に主要SNSでなりすましを検索し、結果を記録する。"),
    "CLD-04": (AnswerResult.NOT_APPLICABLE, "ISMAP登録を要するサービスの利用なし。", None),
}
CURRENT = {
    "SNS-04": (AnswerResult.PARTIAL, "4月から点検を開始したが、記録が一部欠けている。",
               "点検記録の様式を定め、担当者の交代時にも引き継ぐ。"),
}


def _answer_all(inspection: Inspection, special: dict, user, owner, due_on: dt.date) -> None:
    for answer in inspection.answers:
        result, comment, measure = special.get(answer.code, (AnswerResult.CONFORMING, None, None))
        service.record_answer(answer, service.AnswerInput(
            result, comment, measure, owner.id if measure else None, due_on if measure else None), user=user)


def seed(demo) -> None:
    users, today = demo.users, demo.today
    inspector, checker, approver = users["procurement"], users["admin"], users["lead"]
    year = fiscal_year(today)
    exists = db.session.scalar(select(Inspection.id).where(Inspection.fiscal_year.in_((year - 1, year)),
                                                           Inspection.scope_key == 0).limit(1))
    if exists is not None:
        return
    previous = service.start(fiscal_year=year - 1, unit_id=None, responsible=inspector, user=inspector,
                             summary="全組織を対象とした年次の自己点検")
    _answer_all(previous, PREVIOUS, inspector, users["social"], today + dt.timedelta(days=30))
    service.submit(previous, user=inspector)
    service.check(previous, user=checker, approve=True, comment="回答と証拠を確認しました。")
    service.approve(previous, user=approver, approve=True)
    # its measure: begun and reported done by its owner, waiting for someone else to confirm it
    owner = users["social"]
    (opened,) = measures_for("inspection_answer", [a.id for a in previous.answers if a.code == "SNS-04"]).values()
    measure = opened[0]
    measures.begin(measure, user=owner)
    measures.report(measure, note="なりすまし点検を毎月実施し、記録様式に沿って3か月分を記録した。",
                    evidence=demo.pdf("SNS_なりすまし点検記録.pdf", user=owner, allowed=files.EVIDENCE_TYPES), user=owner)
    current = service.start(fiscal_year=year, unit_id=None, responsible=inspector, user=inspector,
                            summary="全組織を対象とした年次の自己点検")
    _answer_all(current, CURRENT, inspector, users["social"], today + dt.timedelta(days=60))
    service.submit(current, user=inspector)
