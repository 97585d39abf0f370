"""Self-inspection (自己点検表) and the annual audit pack (年度監査資料).

Domains add what they know to the app's registry (core/plugins.py), so core
never imports a domain: ``add_facts`` (checklist code → what the app knows,
e.g. "41件中3件の契約に必須条項の不足") and ``add_pack_part`` (a function of
the fiscal-year scope returning document sections)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from reportlab.lib.units import mm
from sqlalchemy import func, select

from core import plugins
from core.db import db
from core.models import AuditEntry, AuditHead
from core.pdf import BODY, CENTER, H2, SMALL, TITLE, Section, day, p, pairs, render, sign_off, table
from core.timeutil import fiscal_year_label, fiscal_year_range

# (code, Japanese, English, frequency) — DOMAIN.md §5.2; codes are stable keys.
ITEMS = (
    ("OUT-01", "選定時に選定基準への適合を記録したか", "Selection criteria recorded", _l("契約ごと")),
    ("OUT-02", "契約にC01–C13が含まれるか", "C01–C13 present in contract", _l("契約ごと")),
    ("OUT-03", "定期報告を受領し確認したか", "Periodic reports received/reviewed", _l("期間ごと")),
    ("OUT-04", "作業者・作業場所・再委託先の変更を把握しているか", "Staff/site/subcontractor changes known", _l("毎年度")),
    ("OUT-05", "契約に基づく確認・改善要求を実施し報告したか", "Checks done, corrective action, reported", _l("毎年度")),
    ("OUT-06", "終了時の返還・消去証明を受領したか", "Return/erasure proof at end", _l("終了時")),
    ("CLD-01", "利用中の外部サービスが全て台帳にあり承認済みか", "All services registered and approved", _l("毎年度")),
    ("CLD-02", "取扱情報の分類が許可範囲内か", "Data class within allowance", _l("毎年度")),
    ("CLD-03", "約款・規約の変更を確認したか", "Terms changes checked", _l("毎年度・通知時")),
    ("CLD-04", "ISMAP等の登録・認証が有効か", "ISMAP/certifications still valid", _l("毎年度・更新時")),
    ("CLD-05", "個人アカウント・無許可サービスの利用がないか", "No personal/unapproved use", _l("毎年度")),
    ("CLD-06", "終了時のデータ返却・削除手順があるか", "Exit procedure defined", _l("毎年度")),
    ("SNS-01", "アカウントごとに責任者・運用手順があるか", "Responsible person and procedure per account", _l("毎年度")),
    ("SNS-02", "公式サイトに掲載され、プロフィールに運用者を明示しているか", "Listed on site; operator in profile", _l("毎年度")),
    ("SNS-03", "二要素認証・パスワード保持者を確認したか", "2FA on; credential holders limited", _l("四半期ごと")),
    ("SNS-04", "なりすましアカウントを点検したか", "Impersonation scan", _l("毎月")),
    ("SNS-05", "休眠アカウントを停止したか", "Dormant accounts closed", _l("毎年度")),
    ("SNS-06", "発信内容が発信可能情報の範囲内か", "Posts within allowed content", _l("抽出・毎年度")),
    ("CLS-01", "情報資産に分類が付されているか", "Assets classified", _l("毎年度")),
)

AREAS = (
    ("OUT", "業務委託"),
    ("CLD", "外部サービス"),
    ("SNS", "ソーシャルメディア"),
    ("CLS", "情報資産の分類"),
)


@dataclass(frozen=True)
class Item:
    """One self-inspection item as the catalogue holds it (issue 18: the
    catalogue becomes data; this is the shape every reader relies on)."""
    code: str
    text_ja: str
    text_en: str
    area: str  # "OUT", "CLD", "SNS", "CLS" or an area the body adds
    frequency: str
    source: str = ""  # 根拠: the policy clause, the MIC guideline or 本団体の対策基準
    general_practice: bool = False

    def text(self, language: str = "ja") -> str:
        return self.text_en if language == "en" and self.text_en else self.text_ja


def active_items() -> list[Item]:
    """The items a new inspection asks, in catalogue order."""
    return [Item(code, ja, en, code.split("-")[0], str(frequency)) for code, ja, en, frequency in ITEMS]


def areas() -> list[tuple[str, str]]:
    """(area code, Japanese name), in order."""
    return list(AREAS)


@dataclass(frozen=True)
class Scope:
    """What the pack covers: a fiscal year, optionally one unit."""
    fiscal_year: int
    unit_id: int | None = None

    @property
    def start(self) -> dt.date:
        return fiscal_year_range(self.fiscal_year)[0]

    @property
    def end(self) -> dt.date:
        return fiscal_year_range(self.fiscal_year)[1]


def facts(scope: Scope) -> dict[str, str]:
    known: dict[str, str] = {}
    for build in plugins.registry().facts:
        known.update(build(scope))
    return known


def self_inspection_section(scope: Scope, *, level: int = 0) -> Section:
    """One table per area: item, frequency, what the app knows (at printing
    time), and blank columns for the inspector."""
    known = facts(scope)
    flow = [p("「アプリの記録」は出力時点の登録内容です。点検者は結果と備考を記入してください。", SMALL)]
    for prefix, area in AREAS:
        rows = [[code, ja, str(frequency), known.get(code, "（台帳からは判断できません）"), "□適　□否\n□該当なし", ""]
                for code, ja, _en, frequency in ITEMS if code.startswith(prefix)]
        if rows:
            flow += [p(area, H2), table(["コード", "点検項目", "頻度", "アプリの記録", "結果", "備考"], rows,
                                        [16 * mm, 72 * mm, 22 * mm, 80 * mm, 22 * mm, 54 * mm])]
    flow.append(sign_off())
    return Section(f"自己点検表（{fiscal_year_label(scope.fiscal_year)}）", flow, landscape=True, level=level,
                   kind="自己点検表")


def pack(scope: Scope, *, user, unit_name: str | None = None):
    """The annual audit pack: cover, contents with bookmarks, every
    registered part (contract checklists, vendor summaries, the cloud and
    social-media registers), the self-inspection sheet, and a closing page
    with the counts and the audit trail's head hash at generation time."""
    label = fiscal_year_label(scope.fiscal_year)
    sections = []
    for build in plugins.registry().pack_parts:
        sections += build(scope)
    if not any(section.kind == "自己点検表" for section in sections):  # none recorded (assurance): the blank sheet
        sections.append(self_inspection_section(scope))
    counts: dict[str, int] = {}
    for section in sections:
        counts[section.kind or section.title] = counts.get(section.kind or section.title, 0) + 1
    head = db.session.get(AuditHead, 1)
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    title = f"{label} 情報セキュリティ監査資料"
    cover = [p(" ", BODY), p(" ", BODY), p(title, TITLE), p("業務委託・外部サービス・ソーシャルメディア", CENTER),
             p(" ", BODY),
             pairs([("対象期間", f"{day(scope.start)} 〜 {day(scope.end)}"),
                    ("対象組織", unit_name or "全組織"), ("作成者", getattr(user, "display_name", ""))],
                   widths=(40 * mm, 100 * mm))]
    closing = [p("資料の内容", H2),
               table(["文書", "件数"], [[kind, str(n)] for kind, n in counts.items()], [120 * mm, 30 * mm]),
               p("監査証跡", H2),
               pairs([("記録件数", str(entries)), ("最新の連番", str(head.seq if head else 0)),
                      ("先頭ハッシュ（SHA-256）", head.hash if head else "—")], widths=(45 * mm, 135 * mm)),
               p("先頭ハッシュは、この資料の作成時点の監査証跡を示します。証跡が改ざんされていないことは、アプリの「監査ログ」画面の"
                 f"「改ざん検査」ボタン（{current_app.config.get('BASE_URL', '').rstrip('/')}/audit/verify）で確認できます。", SMALL),
               sign_off()]
    return render(title, sections, user=user, cover=cover, toc=True, closing=closing)
