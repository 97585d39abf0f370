"""The self-inspection on paper (issue 18): the recorded inspection as a part
of the annual audit pack, the year-on-year comparison as a PDF, and the
results per area as a table of the report to the CISO.

Documents are in Japanese whatever the user's language (as every print of
the app); dates through core.pdf.day (和暦 by default)."""
from __future__ import annotations

from flask_babel import force_locale
from reportlab.lib.units import mm
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assurance import inspections as service
from assurance.inspection_models import AnswerResult, Inspection, InspectionStatus
from core import pdf
from core.db import db
from core.pdf import H2, SMALL, Section, day, p, pairs, table
from core.report import Table
from core.timeutil import fiscal_year_label

KIND = "自己点検表"  # the pack's blank sheet has this kind too: a recorded one takes its place


def ja(member) -> str:
    """An enum member's Japanese label (documents are in Japanese)."""
    with force_locale("ja"):
        return str(member.label)


def _scope_name(inspection: Inspection) -> str:
    return inspection.unit.name if inspection.unit is not None else "全組織"


def _result(answer) -> str:
    return ja(answer.result) if answer.result is not None else "未回答"


def _measure_text(measures) -> str:
    return "、".join(f"{ja(m.status)}（期限 {day(m.due_on)}）" for m in measures) or "—"


def _signed(user, moment) -> str:
    return f"{user.display_name}\n{day(moment)}" if user is not None else "—"


def inspection_section(inspection: Inspection, *, level: int = 0) -> Section:
    """The recorded inspection: its header, one table per area (item as it
    was asked, result, comment, measure and its status), and who signed off
    when."""
    measures = service.measures_of(inspection)
    title = f"自己点検表（{fiscal_year_label(inspection.fiscal_year)}・{_scope_name(inspection)}・第{inspection.edition}版）"
    flow = [pairs([("対象", _scope_name(inspection)), ("責任者", inspection.responsible.display_name),
                   ("状態", ja(inspection.status)),
                   ("訂正元", f"第{inspection.corrects.edition}版" if inspection.corrects else "—"),
                   ("概要", inspection.summary or "—"), ("備考", inspection.remarks or "—")],
                  widths=(40 * mm, 220 * mm))]
    areas: dict[str, list] = {}
    alerts: dict[str, set] = {}
    for answer in inspection.answers:
        rows = areas.setdefault(answer.area_name or answer.area, [])
        if answer.result is not None and answer.result.needs_measure:
            alerts.setdefault(answer.area_name or answer.area, set()).add(len(rows))
        item = answer.text_ja + ("（一般的な実務）" if answer.general_practice else "")
        rows.append([answer.code, item, answer.frequency or "—", _result(answer), answer.comment or "",
                     answer.measure or "—", _measure_text(measures.get(answer.id, []))])
    for area, rows in areas.items():
        flow += [p(area, H2), table(["コード", "点検項目", "頻度", "結果", "コメント", "改善措置", "措置の状況"], rows,
                                    [16 * mm, 70 * mm, 22 * mm, 20 * mm, 52 * mm, 48 * mm, 36 * mm],
                                    alerts=alerts.get(area, set()))]
    flow += [p("署名", H2),
             table(["点検者", "確認者", "承認者"],
                   [[_signed(inspection.inspector, inspection.submitted_at),
                     _signed(inspection.checker, inspection.checked_at),
                     _signed(inspection.approver, inspection.approved_at)]], [60 * mm] * 3)]
    if inspection.status is not InspectionStatus.APPROVED:
        flow.append(p("この自己点検は承認されていません（出力時点の状態）。", SMALL))
    return Section(title, flow, landscape=True, level=level, kind=KIND)


def year_inspections(fiscal_year: int, unit_id: int | None = None) -> list[Inspection]:
    """The inspection of the year for the unit, or (no unit) for the whole
    body and every unit that recorded one: the approved one, else the latest."""
    if unit_id is not None:
        found = service.of_year(fiscal_year, unit_id)
        return [found] if found else []
    keys = db.session.scalars(select(Inspection.scope_key).where(Inspection.fiscal_year == fiscal_year)
                              .distinct().order_by(Inspection.scope_key)).all()
    return [found for key in keys if (found := service.of_year(fiscal_year, key or None)) is not None]


def pack_sections(scope) -> list[Section]:
    """The pack's part (core.inspection.pack): the recorded inspections of
    the 年度; none recorded, none — the pack keeps its blank sheet."""
    return [inspection_section(inspection) for inspection in year_inspections(scope.fiscal_year, scope.unit_id)]


def _cell(answer) -> str:
    return _result(answer) if answer is not None else "—"


def compare_pdf(comparison: service.Comparison, *, user, unit_name: str | None):
    labels = {key: str(label) for key, label in service.CHANGES}
    year, scope = comparison.fiscal_year, unit_name or "全組織"
    title = f"自己点検の経年比較（{fiscal_year_label(year - 1)} → {fiscal_year_label(year)}・{scope}）"
    flow = [pairs([("今年度", _edition(comparison.current)), ("前年度", _edition(comparison.previous))],
                  widths=(40 * mm, 140 * mm)),
            p("集計", H2),
            table([labels[key] for key, _label in service.CHANGES],
                  [[str(comparison.counts[key]) for key, _label in service.CHANGES]], [30 * mm] * 6)]
    if comparison.rows:
        alerts = {i for i, row in enumerate(comparison.rows) if row[5] in (service.WORSE, service.STILL_OPEN)}
        flow += [p("項目ごとの比較", H2),
                 table(["コード", "点検項目", "分野", "前年度", "今年度", "変化"],
                       [[code, text, area, _cell(before), _cell(now), labels[change]]
                        for code, text, area, before, now, change in comparison.rows],
                       [16 * mm, 70 * mm, 28 * mm, 22 * mm, 22 * mm, 26 * mm], alerts=alerts)]
    else:
        flow.append(p("比較できる自己点検がありません（今年度と前年度の両方の記録が必要です）。"))
    return pdf.render(title, [Section(title, flow, kind="自己点検の経年比較")], user=user)


def _edition(inspection: Inspection | None) -> str:
    if inspection is None:
        return "記録なし"
    return f"第{inspection.edition}版 {ja(inspection.status)}（責任者 {inspection.responsible.display_name}）"


# --- the report to the CISO (core/report.py) ------------------------------------------

RESULTS = (AnswerResult.CONFORMING, AnswerResult.PARTIAL, AnswerResult.NONCONFORMING, AnswerResult.NOT_APPLICABLE)


def report_tables(fiscal_year: int) -> list[Table]:
    """「自己点検の結果（分野別）」: per area, the answers of the year's
    approved inspections by result."""
    rows = db.session.scalars(select(Inspection).where(
        Inspection.fiscal_year == fiscal_year, Inspection.status == InspectionStatus.APPROVED)
        .options(selectinload(Inspection.answers))).all()
    counts: dict[str, dict] = {}
    for inspection in rows:
        for answer in inspection.answers:
            per = counts.setdefault(answer.area_name or answer.area, {result: 0 for result in RESULTS})
            if answer.result is not None:
                per[answer.result] += 1
    table_rows = [[area, *(str(per[result]) for result in RESULTS)] for area, per in counts.items()]
    note = "" if rows else "この年度に承認された自己点検はありません。"
    return [Table("自己点検の結果（分野別）", ["分野", *(ja(result) for result in RESULTS)], table_rows,
                  note=f"承認済みの自己点検 {len(rows)}件" if rows else note)]
