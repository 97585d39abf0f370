"""Self-inspection (自己点検表) and the annual audit pack (年度監査資料).

Domains add what they know to the app's registry (core/plugins.py), so core
never imports a domain: ``add_facts`` (checklist code → what the app knows,
e.g. "41件中3件の契約に必須条項の不足") and ``add_pack_part`` (a function of
the fiscal-year scope returning document sections).  The items themselves
are data (core.inspection_items: the domains' built-in items from the
registry, the body's own and the retirements in the database)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app, url_for
from reportlab.lib.units import mm
from sqlalchemy import func, select

from core import plugins, snapshot
from core.db import db
from core.inspection_items import Item, active_items, all_items, areas
from core.models import AuditEntry, AuditHead
from core.pdf import BODY, CENTER, H2, SMALL, TITLE, Section, day, p, pairs, render, sign_off, table
from core.timeutil import fiscal_year_label, fiscal_year_range

# The catalogue (issue 18) is data: core.inspection_items; its names are
# read from here too.
__all__ = ["Fact", "FactLink", "Item", "Scope", "active_items", "all_items", "areas", "facts", "pack",
           "self_inspection_section"]


@dataclass(frozen=True)
class FactLink:
    """A link beside a fact, to the records it counts: an endpoint and its
    query (resolved when shown, so a fact built outside a request still
    works), or a path."""
    label: Any  # a lazy string or a text the app wrote (never a user's)
    endpoint: str
    params: tuple = ()

    @classmethod
    def of(cls, link) -> FactLink:
        if isinstance(link, FactLink):
            return link
        label, target, *rest = link
        return cls(label, target, tuple(sorted((rest[0] if rest else {}).items())))

    @property
    def url(self) -> str:
        return self.endpoint if self.endpoint.startswith("/") else url_for(self.endpoint, **dict(self.params))


class Fact(str):
    """What the app knows about an item, e.g. 「有効な契約 4件中 2件に必須条項の
    不足」, with links to the records: ``Fact(text, links=[(label, endpoint,
    {params}), (label, "/path")])``.  It is its text (a str: compared,
    searched and printed as the text), and carries ``links``."""

    links: tuple[FactLink, ...]

    def __new__(cls, text: str, links=()):
        fact = super().__new__(cls, text)
        fact.links = tuple(FactLink.of(link) for link in links)
        return fact

    @property
    def text(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        return str.__str__(self)


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


def facts(scope: Scope) -> dict[str, Fact]:
    """{item code: Fact} from every builder the domains added (a builder may
    answer plain texts: they become facts without links).  They count whole
    registers: kept until a record changes or the day does (core.snapshot)."""
    builders = plugins.registry().facts

    def build() -> dict[str, Fact]:
        known: dict[str, Fact] = {}
        for build_facts in builders:
            known.update({code: fact if isinstance(fact, Fact) else Fact(str(fact))
                          for code, fact in build_facts(scope).items()})
        return known

    return dict(snapshot.kept(("inspection.facts", scope, tuple(map(id, builders))), build))


def source_line(item: Item) -> str:
    """The item's 根拠 as the sheet prints it (Japanese)."""
    return item.source + ("（一般的な実務）" if item.general_practice else "")


def self_inspection_section(scope: Scope, *, level: int = 0) -> Section:
    """One table per area of the items in use (core.inspection_items): item,
    frequency, source (根拠), what the app knows (at printing time), and
    blank columns for the inspector."""
    known = facts(scope)
    items = active_items()
    flow = [p("「アプリの記録」は出力時点の登録内容です。点検者は結果と備考を記入してください。"
              "「一般的な実務」は規程・ガイドラインの要求ではなく、一般的な運用による項目・頻度です。", SMALL)]
    for code, area in areas():
        rows = [[item.code, item.text_ja, item.frequency, source_line(item),
                 known.get(item.code, "（台帳からは判断できません）"), "□適　□否\n□該当なし", ""]
                for item in items if item.area == code]
        if rows:
            flow += [p(area, H2), table(["コード", "点検項目", "頻度", "根拠", "アプリの記録", "結果", "備考"], rows,
                                        [16 * mm, 62 * mm, 20 * mm, 40 * mm, 70 * mm, 22 * mm, 36 * mm])]
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
