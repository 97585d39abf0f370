"""事故報告書: one incident as a document for the committee (core.pdf) —
the record, what it concerns, the times, the information and personal data,
the reporting chain, the timeline, the response checklist, the cause and the
prevention, and boxes for the sign-off.  Printed in Japanese (the
committee's language), as the other documents."""
from __future__ import annotations

import datetime as dt

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from core.incidents import Incident
from core.pdf import SMALL, Section, day, p, pairs, sign_off, table
from core.timeutil import JST
from incidents import services

RECIPIENTS = {"lead": "統括情報セキュリティ責任者", "ciso": "最高情報セキュリティ責任者", "other": "その他"}


def moment(value: dt.datetime | None) -> str:
    """A stored (UTC) moment as its date and time in Japan, the date whole."""
    if value is None:
        return "—"
    return f"{day(value)} {value.replace(tzinfo=dt.UTC).astimezone(JST):%H:%M}"


def report_section(incident: Incident) -> Section:
    subject = services.describe([incident])[incident.id]
    personal = "含まない"
    if incident.personal_data:
        personal = "含む" + ("（マイナンバーを含む）" if incident.my_number else "")
        if incident.people_affected is not None:
            personal += f"　{incident.people_affected:,}人"
    ppc = {None: "未判断", True: "要", False: "不要"}[incident.ppc_required]
    if incident.ppc_required:
        ppc += f"　速報 {day(incident.ppc_preliminary_on, empty='未報告')}　確報 {day(incident.ppc_final_on, empty='未報告')}"
    flow = [
        pairs([("事案番号", incident.number), ("件名", incident.title), ("種類", str(incident.kind.label)),
               ("重大度", str(incident.severity.label)), ("状態", str(incident.status.label)),
               ("対象", subject), ("担当組織", incident.unit.path if incident.unit else None),
               ("対応担当者", incident.handler.display_name if incident.handler else "（未定）"),
               ("報告者", incident.reporter), ("記録した人", incident.recorded_by.display_name),
               ("何が起きたか", incident.summary)]),
        *_heading("日時"),
        pairs([("発生", moment(incident.occurred_at)), ("発見", moment(incident.detected_at)),
               ("受託者からの報告", moment(incident.contractor_reported_at)),
               ("本団体が把握", moment(incident.learned_at)), ("封じ込め", moment(incident.contained_at)),
               ("終結", moment(incident.closed_at))]),
        *_heading("影響を受けた情報"),
        pairs([("情報", incident.information),
               ("機密性", incident.classification.label("ja") if incident.classification else "不明・該当なし"),
               ("個人情報", personal), ("不正の目的", "おそれあり" if incident.wrongful_intent else "なし"),
               ("個人情報保護委員会への報告", ppc)]),
        *_heading("報告・連絡"),
        table(["区分", "相手", "日時", "手段", "記録者"],
              [[RECIPIENTS.get(n.recipient_role, n.recipient_role), n.recipient, moment(n.notified_at), n.means,
                n.recorded_by.display_name] for n in incident.notifications] or [["—", "記録なし", "", "", ""]],
              [40 * mm, 40 * mm, 40 * mm, 30 * mm, 30 * mm]),
        *_heading("対応の経過"),
        table(["日時", "担当", "対応"],
              [[moment(a.at), a.user.display_name, a.text] for a in incident.actions] or [["—", "", "記録なし"]],
              [36 * mm, 30 * mm, 114 * mm]),
        *_heading("対応チェックリスト"),
        table(["", "項目", "内容"], _checklist(incident), [10 * mm, 20 * mm, 150 * mm]),
        *_heading("原因と再発防止策"),
        pairs([("原因", incident.cause), ("再発防止策", incident.prevention)]),
        *_heading("証拠ファイル"),
        table(["ファイル", "説明", "追加した人"],
              [[e.file.original_name, e.note or "", e.added_by.display_name] for e in incident.evidence]
              or [["なし", "", ""]], [80 * mm, 70 * mm, 30 * mm]),
        p("確認・報告（統括情報セキュリティ責任者、最高情報セキュリティ責任者（CISO））", SMALL),
        sign_off(("対応担当者", "統括責任者", "CISO")),
    ]
    return Section(f"事故報告書 {incident.number}", flow, kind="事故報告書")


def _heading(text: str) -> list:
    return [Spacer(1, 3 * mm), p(text, SMALL)]


def _checklist(incident: Incident) -> list[list[str]]:
    ticked = incident.checklist or {}
    items = [item for item in services.checklist_items(incident.kind, with_retired=True)
             if not item.retired or item.code in ticked]
    return [["■" if ticked.get(item.code) else "□", item.code, item.text_ja] for item in items] or [["", "", "なし"]]
