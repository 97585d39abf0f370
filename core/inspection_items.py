"""The self-inspection item catalogue as data (issue 18; DOMAIN.md §5.2).

How the catalogue is made:

* **Built-in items come from the registry.**  Each domain adds the items of
  its area in its ``init_app`` (``Registry.add_inspection_items``): contracts
  OUT-01…06 (業務委託), cloud CLD-01…06 (外部サービス), social SNS-01…06
  (ソーシャルメディア), core itself CLS-01 (情報資産の分類, :func:`init_app`).
  Their texts, frequency and source (根拠) live in the code, beside the rules
  they inspect; an administrator does not edit them.
* **The table holds what the body decides**, one row per code
  (:class:`InspectionItem`): the body's own items (``builtin`` false), and a
  retirement row for each built-in it retired (``builtin`` true, with a copy
  of the item's texts so it stays readable should the code drop it later).
* An item with ``retired_at`` set is no longer in :func:`active_items` — a
  new inspection does not ask it, a new printed sheet does not list it — but
  stays in :func:`all_items` (past inspections snapshot the texts they asked).
  Restoring clears ``retired_at``; the row stays, so a code is never reused:
  a code once in the table, or built in, cannot be added as a new item.

Reading never writes: the catalogue is the registry's items merged with the
table's rows on every read.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Optional

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import audit, plugins
from core.db import TimestampMixin, VersionMixin, db, savepoint
from core.models import Audited
from core.refusals import Refusal
from core.timeutil import local_date, utcnow
from core.validators import fold

# What an item's source (根拠) is: the body's policy, the MIC guideline or
# notice, another public text (MEXT's, another body's rules), or the body's
# own standards (情報セキュリティ対策基準, policy §9).
POLICY, MIC, OTHER, BODY = "policy", "mic", "other", "body"
SOURCE_KINDS = {
    POLICY: _l("基本方針"),
    MIC: _l("総務省ガイドライン・通知"),
    OTHER: _l("その他の資料"),
    BODY: _l("本団体の対策基準"),
}
DEFAULT_SOURCE = "本団体の対策基準"

CODE = re.compile(r"[A-Z][A-Z0-9]*(-[A-Z0-9]+)+")
AREA_CODE = re.compile(r"[A-Z][A-Z0-9]{1,9}")


@dataclass(frozen=True)
class Item:
    """One self-inspection item as the catalogue holds it (issue 18: the
    catalogue becomes data; this is the shape every reader relies on)."""
    code: str
    text_ja: str
    text_en: str
    area: str  # "OUT", "CLD", "SNS", "CLS" or an area the body adds
    frequency: str  # Japanese; frequency_text(language) for the user's language
    source: str = ""  # 根拠: the policy clause, the MIC guideline or 本団体の対策基準
    general_practice: bool = False  # DOMAIN.md marks it GP: common practice, not a requirement
    frequency_en: str = ""
    source_kind: str = ""  # POLICY, MIC, OTHER or BODY
    builtin: bool = True  # from the registry (a domain's code), not the body's own
    retired_at: Optional[dt.datetime] = None
    id: Optional[int] = None  # the table's row, when there is one

    def text(self, language: str = "ja") -> str:
        return self.text_en if language == "en" and self.text_en else self.text_ja

    def frequency_text(self, language: str = "ja") -> str:
        return self.frequency_en if language == "en" and self.frequency_en else self.frequency

    @property
    def retired(self) -> bool:
        return self.retired_at is not None

    @property
    def retired_on(self) -> dt.date | None:
        """The day it was retired, in Japan."""
        return local_date(self.retired_at)

    @property
    def source_kind_label(self) -> str:
        return str(SOURCE_KINDS.get(self.source_kind, ""))


@dataclass(frozen=True)
class Area:
    """An area of the catalogue: a built-in one (the registry) or the body's own."""
    code: str
    name_ja: str
    name_en: str = ""
    builtin: bool = True

    def name(self, language: str = "ja") -> str:
        return self.name_en if language == "en" and self.name_en else self.name_ja


class InspectionItem(Audited, TimestampMixin, VersionMixin, db.Model):
    """What the body decided about one item code: its own item, or the
    retirement of a built-in one (see the module's docstring)."""

    __tablename__ = "inspection_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    area: Mapped[str] = mapped_column(String(10))
    area_name_ja: Mapped[Optional[str]] = mapped_column(String(100))
    area_name_en: Mapped[Optional[str]] = mapped_column(String(100))
    text_ja: Mapped[str] = mapped_column(String(300))
    text_en: Mapped[Optional[str]] = mapped_column(String(300))
    frequency_ja: Mapped[str] = mapped_column(String(50))
    frequency_en: Mapped[Optional[str]] = mapped_column(String(50))
    source: Mapped[str] = mapped_column(String(200))
    source_kind: Mapped[str] = mapped_column(String(20), default=BODY)
    general_practice: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    retired_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    retired_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    retired_by = relationship("User", foreign_keys=[retired_by_id])
    created_by = relationship("User", foreign_keys=[created_by_id])

    def as_item(self) -> Item:
        return Item(self.code, self.text_ja, self.text_en or "", self.area, self.frequency_ja, self.source,
                    self.general_practice, frequency_en=self.frequency_en or "", source_kind=self.source_kind,
                    builtin=self.builtin, retired_at=self.retired_at, id=self.id)


class CatalogueRefusal(Refusal):
    """A change of the item catalogue the rules refuse."""


# --- reading ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Catalogue:
    areas: list[Area]  # in order: the registry's, then the body's own by first appearance
    items: list[Item]  # every item, retired ones too, grouped by area in catalogue order


def catalogue() -> Catalogue:
    """The registry's built-in items merged with the table's rows (one query)."""
    rows = db.session.scalars(select(InspectionItem).order_by(InspectionItem.sort_order, InspectionItem.id)).all()
    by_code = {row.code: row for row in rows}
    registered = plugins.registry().inspection_areas
    builtin_codes = {item.code for area in registered for item in area.items}
    areas = [Area(area.code, area.name_ja, area.name_en) for area in registered]
    known = {area.code for area in areas}
    for row in rows:
        if row.area not in known:
            areas.append(Area(row.area, row.area_name_ja or row.area, row.area_name_en or "", builtin=False))
            known.add(row.area)
    grouped: dict[str, list[Item]] = {area.code: [] for area in areas}
    for area in registered:
        for item in area.items:
            row = by_code.get(item.code)
            grouped[area.code].append(replace(item, builtin=True, retired_at=row.retired_at if row else None,
                                              id=row.id if row else None))
    for row in rows:
        # The body's own items; and a retirement row whose built-in the code no
        # longer adds, read from the row's copy.  A built-in code comes first.
        if row.code not in builtin_codes:
            grouped[row.area].append(row.as_item())
    return Catalogue(areas, [item for area in areas for item in grouped[area.code]])


def all_items() -> list[Item]:
    """Every item, retired ones too (their retirement date in ``retired_at``)."""
    return catalogue().items


def active_items() -> list[Item]:
    """The items a new inspection asks, in catalogue order."""
    return [item for item in all_items() if not item.retired]


def all_areas() -> list[Area]:
    return catalogue().areas


def areas() -> list[tuple[str, str]]:
    """(area code, Japanese name), in order: the built-in areas and the
    body's own areas that hold an item still in use."""
    found = catalogue()
    used = {item.area for item in found.items if not item.retired}
    return [(area.code, area.name_ja) for area in found.areas if area.builtin or area.code in used]


def item(code: str) -> Item | None:
    return next((found for found in all_items() if found.code == code), None)


# --- changing (admins) -----------------------------------------------------------------

def _text(value: str | None) -> str:
    return fold(value)


def normalise_code(value: str | None) -> str:
    """NFKC-folded, without spaces, upper-case: ｓｎｓ－０７ → SNS-07."""
    return re.sub(r"\s+", "", fold(value)).upper()


def _check_texts(values: dict) -> dict:
    clean = {name: _text(values.get(name)) for name in
             ("text_ja", "text_en", "frequency_ja", "frequency_en", "source")}
    if not clean["text_ja"]:
        raise CatalogueRefusal(_("点検項目（日本語）を入力してください。"), field="text_ja")
    if not clean["frequency_ja"]:
        raise CatalogueRefusal(_("頻度を入力してください。"), field="frequency_ja")
    for name, limit in (("text_ja", 300), ("text_en", 300), ("frequency_ja", 50), ("frequency_en", 50),
                        ("source", 200)):
        if len(clean[name]) > limit:
            raise CatalogueRefusal(_("%(n)s文字以内で入力してください。", n=limit), field=name)
    clean["source"] = clean["source"] or DEFAULT_SOURCE
    kind = values.get("source_kind") or BODY
    if kind not in SOURCE_KINDS:
        raise CatalogueRefusal(_("根拠の種類を選択してください。"), field="source_kind")
    clean["source_kind"] = kind
    clean["general_practice"] = bool(values.get("general_practice"))
    return clean


def _area(values: dict) -> tuple[str, str | None, str | None]:
    """The area chosen, or the new one named: (code, name ja, name en)."""
    existing = {area.code: area for area in all_areas()}
    chosen = values.get("area") or ""
    if chosen and chosen in existing:
        area = existing[chosen]
        return area.code, area.name_ja, area.name_en or None
    code = normalise_code(values.get("new_area_code"))
    name_ja, name_en = _text(values.get("new_area_name_ja")), _text(values.get("new_area_name_en"))
    if not AREA_CODE.fullmatch(code):
        raise CatalogueRefusal(_("区分のコードは英大文字で始まる2〜10文字の英数字で入力してください（例: PHY）。"),
                               field="new_area_code")
    if code in existing:
        return code, existing[code].name_ja, existing[code].name_en or None
    if not name_ja:
        raise CatalogueRefusal(_("新しい区分の名称を入力してください。"), field="new_area_name_ja")
    if len(name_ja) > 100 or len(name_en) > 100:
        raise CatalogueRefusal(_("%(n)s文字以内で入力してください。", n=100), field="new_area_name_ja")
    return code, name_ja, name_en or None


def add_item(values: dict, *, user=None) -> InspectionItem:
    """Add one of the body's own items (admins).  The code is NFKC-folded and
    upper-cased, and unique for ever: not a built-in code, not a code the
    table holds — retired items included, so an answer recorded against a
    code always means the same item.  The source defaults to 本団体の対策基準."""
    code = normalise_code(values.get("code"))
    if not CODE.fullmatch(code) or len(code) > 20:
        raise CatalogueRefusal(_("コードは英大文字・数字をハイフンでつないで20文字以内で入力してください（例: PHY-01）。"),
                               field="code")
    if _taken(code):
        raise CatalogueRefusal(_("このコードの点検項目は既にあります（廃止した項目のコードも再利用できません）。"),
                               field="code")
    texts = _check_texts(values)
    area, name_ja, name_en = _area(values)
    row = InspectionItem(code=code, builtin=False, area=area, area_name_ja=name_ja, area_name_en=name_en,
                         sort_order=values.get("sort_order") or 0, created_by_id=getattr(user, "id", None),
                         **{name: value or None if name in ("text_en", "frequency_en") else value
                            for name, value in texts.items()})
    try:
        with savepoint():  # begin_nested() flushes what is pending: add inside it
            db.session.add(row)
            db.session.flush()
    except IntegrityError as error:  # another administrator added the code meanwhile
        raise CatalogueRefusal(_("このコードの点検項目は既にあります（廃止した項目のコードも再利用できません）。"),
                               field="code") from error
    return row


def _taken(code: str) -> bool:
    builtin = {found.code for area in plugins.registry().inspection_areas for found in area.items}
    return code in builtin or db.session.scalar(select(InspectionItem.id).where(InspectionItem.code == code)) is not None


def edit_item(row: InspectionItem, values: dict) -> InspectionItem:
    """Change the texts, frequency, source or area of one of the body's own
    items; its code never changes (answers are recorded against it).  A
    built-in item is changed in its domain's code, not here."""
    if row.builtin:
        raise CatalogueRefusal(_("組み込みの点検項目は変更できません。廃止して本団体の項目を追加してください。"))
    texts = _check_texts(values)
    row.area, row.area_name_ja, row.area_name_en = _area(values)
    for name, value in texts.items():
        setattr(row, name, value or None if name in ("text_en", "frequency_en") else value)
    row.sort_order = values.get("sort_order") or 0
    db.session.flush()
    return row


def retire(code: str, *, user=None) -> InspectionItem:
    """Take an item out of use: new inspections and printed sheets no
    longer list it; past inspections keep their copy.  A built-in item gets
    its retirement row here (with its texts, so it stays readable)."""
    found = item(code)
    if found is None:
        raise CatalogueRefusal(_("点検項目が見つかりません。"))
    if found.retired:
        raise CatalogueRefusal(_("この点検項目は既に廃止されています。"))
    row = db.session.scalar(select(InspectionItem).where(InspectionItem.code == code))
    if row is None:  # a built-in retired for the first time
        area = next(area for area in all_areas() if area.code == found.area)
        row = InspectionItem(code=found.code, builtin=True, area=found.area, area_name_ja=area.name_ja,
                             area_name_en=area.name_en or None, text_ja=found.text_ja, text_en=found.text_en or None,
                             frequency_ja=found.frequency, frequency_en=found.frequency_en or None,
                             source=found.source or "—", source_kind=found.source_kind or OTHER,
                             general_practice=found.general_practice, created_by_id=getattr(user, "id", None))
        db.session.add(row)
    row.retired_at, row.retired_by_id = utcnow(), getattr(user, "id", None)
    audit.label(row, "retire")
    try:
        with savepoint():
            db.session.flush()
    except IntegrityError as error:  # another administrator retired it meanwhile
        raise CatalogueRefusal(_("この点検項目は既に廃止されています。")) from error
    return row


def restore(row: InspectionItem) -> InspectionItem:
    """Put a retired item back in use (the row stays: the code is still taken)."""
    if row.retired_at is None:
        raise CatalogueRefusal(_("この点検項目は使用中です。"))
    row.retired_at, row.retired_by_id = None, None
    audit.label(row, "restore")
    db.session.flush()
    return row


# --- core's own item ---------------------------------------------------------------------

def init_app(app: Flask) -> None:
    """Core's own area of the catalogue: the classification of information
    assets (policy §6(2), the MIC guideline's classes, DOMAIN.md §1)."""
    house = plugins.registry(app)
    house.add_seeder(90, seed_demo)
    house.add_inspection_items(90, "CLS", "情報資産の分類", "Information-asset classification", [
        Item("CLS-01", "情報資産に分類が付されているか", "Assets classified", "CLS", "毎年度",
             "総務省ガイドライン（情報資産の分類、令和6年10月改定の5区分）; 基本方針 6(2)", frequency_en="Yearly",
             source_kind=MIC),
    ])


def seed_demo(demo) -> None:
    """The demo body's own item: one of its 対策基準's, in an area of its own."""
    if db.session.scalar(select(InspectionItem.id).where(InspectionItem.code == "PHY-01")) is None:
        add_item({"code": "PHY-01", "text_ja": "サーバ室・通信機器室の入退室を記録し、管理者が確認しているか",
                  "text_en": "Entry to the server and network rooms logged and reviewed",
                  "area": "", "new_area_code": "PHY", "new_area_name_ja": "物理的セキュリティ",
                  "new_area_name_en": "Physical security", "frequency_ja": "四半期ごと", "frequency_en": "Quarterly",
                  "source": "本団体の情報セキュリティ対策基準（物理的セキュリティ）", "source_kind": BODY},
                 user=demo.users.get("admin"))
