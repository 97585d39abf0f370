"""Classification follows the data (MIC guideline R6.10, DOMAIN.md §1.1):
the lowest confidentiality level each kind of data may be classified at.
The minimums are data (core.models.DataMinimum), seeded by migration 0013 —
personal information → 自治体機密性3C (MIC R6.10), My Number / 特定個人情報 →
3B (general practice) — and edited by administrators with their source.
Domains ask ``below_minimum`` and refuse with their own Refusal."""
from __future__ import annotations

import unicodedata

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.db import db
from core.models import ClassificationLevel, DataMinimum
from core.refusals import Refusal

PERSONAL = "personal"
MY_NUMBER = "my_number"
KIND_LABELS = {PERSONAL: _l("個人情報"), MY_NUMBER: _l("個人番号（特定個人情報）")}


class ClassificationRefusal(Refusal):
    """A change of the minimums the rules refuse."""


def minimums() -> list[DataMinimum]:
    return db.session.scalars(select(DataMinimum).options(selectinload(DataMinimum.level))
                              .order_by(DataMinimum.id)).all()


def minimum(*, personal: bool, my_number: bool) -> DataMinimum | None:
    """The strictest minimum that applies to data with these kinds (None: none does)."""
    kinds = {PERSONAL} if personal else set()
    if my_number:
        kinds |= {PERSONAL, MY_NUMBER}
    rows = [row for row in minimums() if row.kind in kinds]
    return max(rows, key=lambda row: row.level.rank, default=None)


def below_minimum(level: ClassificationLevel | None, *, personal: bool, my_number: bool) -> str | None:
    """The reason, for the user, why ``level`` is too low for the data; None when it is not."""
    row = minimum(personal=personal, my_number=my_number)
    if row is None or (level is not None and level.rank >= row.level.rank):
        return None
    source = row.source + (_("（一般的な運用。ガイドラインの要求ではありません）") if row.general_practice else "")
    return _("%(kind)sを取り扱う場合、機密性は%(level)s以上に分類してください（出典: %(source)s）。",
             kind=KIND_LABELS.get(row.kind, row.kind), level=row.level.label_ja, source=source)


def set_minimum(row: DataMinimum, *, level: ClassificationLevel | None, source: str | None,
                general_practice: bool) -> DataMinimum:
    """An administrator's change of one minimum: a confidentiality level and
    a source (shown to the users the rule refuses) are required."""
    source = unicodedata.normalize("NFKC", source or "").strip()
    if level is None or level.axis != "confidentiality":
        raise ClassificationRefusal(_("機密性の区分を選択してください。"), field="level")
    if not source:
        raise ClassificationRefusal(_("出典を入力してください。"), field="source")
    if len(source) > 200:
        raise ClassificationRefusal(_("出典は200文字以内で入力してください。"), field="source")
    row.level, row.source, row.general_practice = level, source, general_practice
    db.session.flush()
    return row
