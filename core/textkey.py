"""Japanese text as a search key and a reading (issue 20).

One function, :func:`search_key`, turns a record's names and a query into
the same folded form, so that half- and full-width, hiragana and katakana,
upper and lower case, spaces and the 株式会社 / ㈱ / （株） forms all match:
the list search (core.lists) folds the query, and the records keep the
folded text of their names in one plain ``search_key`` column, refreshed
before every flush (:func:`keep_search_keys`) — the pages, the spreadsheet
import and the API all write through the session, so none is missed."""
from __future__ import annotations

import functools
import re
import unicodedata

from sqlalchemy import String, event, func, nulls_last
from sqlalchemy.orm import Mapped, Session, mapped_column

# Company-form abbreviations as NFKC leaves them: ㈱ and （株） both become (株).
_ABBREVIATIONS = {
    "(株)": "株式会社",
    "(有)": "有限会社",
    "(合)": "合同会社",
    "(同)": "合同会社",
    "(資)": "合資会社",
    "(名)": "合名会社",
    "(社)": "社団法人",
    "(財)": "財団法人",
    "(一社)": "一般社団法人",
    "(一財)": "一般財団法人",
    "(公社)": "公益社団法人",
    "(公財)": "公益財団法人",
    "(特非)": "特定非営利活動法人",
}
_ABBREVIATION = re.compile("|".join(re.escape(short) for short in _ABBREVIATIONS))
_SPACE = re.compile(r"\s+")
# Katakana ァ (U+30A1) … ヶ (U+30F6) and their hiragana, 0x60 below; ヽヾ → ゝゞ.
_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)} | {0x30FD: 0x309D, 0x30FE: 0x309E}
_TO_KATAKANA = {hira: kata for kata, hira in _TO_HIRAGANA.items()}
SEPARATOR = " "  # between the parts of a key; a folded query holds no space, so it never spans two parts


def fold(text: str | None) -> str:
    """One text folded for comparison: NFKC (full-width ＡＢＣ１ and half-width
    ｶﾅ to their usual forms, ㈱ to (株)), the company-form abbreviations
    spelt out, katakana as hiragana, case folded, spaces removed."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _ABBREVIATION.sub(lambda match: _ABBREVIATIONS[match.group(0)], text)
    return _SPACE.sub("", text.translate(_TO_HIRAGANA).casefold())


def search_key(*parts: str | None) -> str:
    """The search key of a record's ``parts`` (its name, reading, number…),
    each folded, joined by one space; the empty parts left out.  A query is
    folded with the same function (one part)."""
    return SEPARATOR.join(key for key in (fold(part) for part in parts) if key)


_HALF_WIDTH_KANA = re.compile(r"[\uFF61-\uFF9F]+")


def katakana_reading(text: str | None) -> str:
    """A reading as stored: half-width ｶﾅ as full-width kana, hiragana
    written as katakana, outer spaces removed; typed in either script, it
    sorts as one.  Nothing else is folded (a full-width （ stays as typed)."""
    text = _HALF_WIDTH_KANA.sub(lambda match: unicodedata.normalize("NFKC", match.group(0)), text or "")
    return text.translate(_TO_KATAKANA).strip()


def reading_order(reading, name, descending: bool = False) -> tuple:
    """ORDER BY a register's name by its reading (よみ): the records with a
    reading first in the order of the reading, those without after them (in
    either direction), then by name.  Code point order sorts 旧 ‹ 無 ‹ 防 ‹ 電;
    the reading sorts them as people look them up."""
    keyed = func.nullif(reading, "")
    if descending:
        return nulls_last(keyed.desc()), name.desc()
    return nulls_last(keyed.asc()), name.asc()


class Searchable:
    """A model with a ``search_key`` column: the folded text of the columns
    named in ``__search_parts__``, written before every flush.  The
    column is one plain text column, so an index (trigram) can be added
    later without touching the code."""

    __search_parts__: tuple[str, ...] = ()

    search_key: Mapped[str | None] = mapped_column(String(1000))

    def refresh_search_key(self) -> None:
        key = search_key(*(getattr(self, part) for part in self.__search_parts__))[:1000]
        if self.search_key != key:
            self.search_key = key


@functools.cache  # the listener is on the Session class, shared by every app: once per process
def keep_search_keys() -> None:
    """Before every flush, refresh the search key of each new or changed
    :class:`Searchable` record (called by core.db's setup; a second call
    changes nothing)."""

    @event.listens_for(Session, "before_flush")
    def _refresh(session: Session, _context, _instances) -> None:
        for obj in (*session.new, *session.dirty):
            if isinstance(obj, Searchable):
                obj.refresh_search_key()
