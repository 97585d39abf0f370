"""Japanese text as a search key and a reading (issue 20).

One function, :func:`search_key`, turns a record's names and a query into
the same folded form, so that half- and full-width, hiragana and katakana,
upper and lower case, spaces and the 株式会社 / ㈱ / （株） forms all match:
the list search (core.lists) folds the query, and the records keep the
folded text of their names in one plain ``search_key`` column, refreshed
before every flush (:func:`keep_search_keys`) — the pages, the spreadsheet
import and the API all write through the session, so none is missed.

The key is indexed (issue 21, migration 0030): on SQLite a full-text table
``<table>_fts`` with the trigram tokenizer, kept by triggers on the table
(so the bulk inserts of ``gen-data`` and every other write keep it too),
and a B-tree index whose covering scan serves keys of one or two
characters, too short for a trigram; on PostgreSQL a ``pg_trgm`` GIN index
that ``ILIKE`` uses by itself.  :func:`key_contains` is the one search
predicate; it finds exactly the rows a ``LIKE '%…%'`` on the key finds."""
from __future__ import annotations

import functools
import re
import unicodedata

from sqlalchemy import Index, String, column, event, func, literal_column, select, table, union
from sqlalchemy import text as text_clause
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


def _no_reading(reading):
    return func.coalesce(reading, literal_column("''")) == literal_column("''")


def _reading(reading):
    return func.nullif(reading, literal_column("''"))


def reading_order(reading, name, descending: bool = False) -> tuple:
    """ORDER BY a register's name by its reading (よみ): the records with a
    reading first in the order of the reading, those without after them (in
    either direction), then by name.  Code point order sorts 旧 ‹ 無 ‹ 防 ‹ 電;
    the reading sorts them as people look them up.

    Written as ``coalesce(reading, '') = ''`` first (false before true)
    rather than ``NULLS LAST``, with the '' as literals: an index on these
    expressions (:class:`Searchable` ``__reading_order__``) then gives the
    order, and a page of 10,000 vendors needs no sort (issue 21)."""
    if descending:
        return _no_reading(reading).asc(), _reading(reading).desc(), name.desc()
    return _no_reading(reading).asc(), _reading(reading).asc(), name.asc()


class Searchable:
    """A model with a ``search_key`` column: the folded text of the columns
    named in ``__search_parts__``, written before every flush.  The
    column is one plain text column, so an index (trigram) can be added
    later without touching the code."""

    __search_parts__: tuple[str, ...] = ()
    __reading_order__: tuple[str, str] | None = None  # (reading, name): indexed in reading_order's order

    search_key: Mapped[str | None] = mapped_column(String(1000))

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)  # maps the class: its table exists from here on
        # One index of one name on both databases (migration 0030): a trigram GIN
        # index on PostgreSQL, a B-tree on SQLite (which ignores the postgresql_ options).
        Index(f"ix_{cls.__tablename__}_search_key", cls.__table__.c.search_key,
              postgresql_using="gin", postgresql_ops={"search_key": "gin_trgm_ops"})
        if cls.__reading_order__:
            reading, name = (cls.__table__.c[column] for column in cls.__reading_order__)
            Index(f"ix_{cls.__tablename__}_reading_order", _no_reading(reading).self_group(), _reading(reading), name,
                  cls.__table__.c.id)

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


# --- The indexed search (issue 21) ----------------------------------------

TRIGRAM = 3  # the shortest text a trigram index can find
_SEARCH_INDEX_NAME = re.compile(r"^(vendors|contracts|cloud_services|social_accounts)_fts(_[a-z]+)?$")


def fts_table(tablename: str) -> str:
    """The SQLite full-text table of a register's search key (migration 0030)."""
    return f"{tablename}_fts"


def include_in_migrations(name: str | None, type_: str, _parent_names=None) -> bool:
    """Alembic's ``include_name``: the full-text tables (and the shadow tables
    SQLite keeps for them) are made by migration 0030, not by the models."""
    return not (type_ == "table" and name is not None and _SEARCH_INDEX_NAME.match(name))


def like_pattern(text: str) -> str:
    """``%text%`` for ``LIKE … ESCAPE '\\'``, the text's own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _ascii_lower(text: str) -> str:
    return "".join(ch.lower() if ch.isascii() else ch for ch in text)


def key_contains(model, text: str, via=None, *, session):
    """The rows of ``model`` (a :class:`Searchable`) whose key contains
    ``text``, or, with ``via`` (a column holding a ``model`` id, e.g.
    ``Contract.vendor_id``), the rows pointing at one.

    Exactly what ``search_key LIKE '%text%'`` finds (SQLite's LIKE: ASCII
    letters in either case; PostgreSQL: ``ILIKE``), through the index:

    - SQLite, three characters or more: the trigram table (case-sensitive:
      the key holds no capital ASCII letter, the text is lowered the same
      way, so a phrase match is the substring match, no second check);
    - SQLite, two characters (旭川): no trigram is that short, but every
      place the two stand in a key is the start of a trigram (旭川く, 旭川そ…:
      the table's vocabulary lists them) or the key's last two characters
      (an index on them): :func:`_pair_contained`;
    - SQLite, one character (or a pair found in too many trigrams): the
      LIKE over the narrow B-tree index of the key instead of the table;
    - PostgreSQL: ``ILIKE``, which the ``pg_trgm`` GIN index serves (for
      one or two characters PostgreSQL scans, as before)."""
    dialect = session.get_bind().dialect.name
    ids = via if via is not None else model.__table__.c.id
    if dialect == "sqlite" and len(text) >= TRIGRAM:
        return ids.in_(_fts_rows(model, '"' + _ascii_lower(text).replace('"', '""') + '"'))
    if dialect == "sqlite" and len(text) == TRIGRAM - 1:
        found = _pair_contained(model, _ascii_lower(text), session)
        if found is not None:
            return ids.in_(found)
    # An alias: the query around may read the same table (the cloud list
    # joins the vendor), which would otherwise correlate the two.
    keyed = model.__table__.alias()
    pattern = like_pattern(text)
    if dialect == "sqlite":
        return ids.in_(select(keyed.c.id).where(keyed.c.search_key.like(pattern, escape="\\")))
    if via is None:
        return model.__table__.c.search_key.ilike(pattern, escape="\\")
    return ids.in_(select(keyed.c.id).where(keyed.c.search_key.ilike(pattern, escape="\\")))


MAX_PAIR_TRIGRAMS = 500  # more (a digit pair in thousands of numbers): the index scan is as quick


def _fts_rows(model, query: str):
    name = fts_table(model.__tablename__)
    fts = table(name, column("rowid"), column(name))
    return select(fts.c.rowid).where(fts.c[name].op("MATCH")(query))


def _pair_contained(model, pair: str, session):
    """The ids of the rows whose key holds the two characters ``pair``:
    those with a trigram starting with the pair (one statement on the
    vocabulary of the full-text table, then one phrase each, OR-ed) and
    those whose key ends with it (``ix_<table>_search_key_end``, migration
    0030).  None when the pair starts too many trigrams."""
    vocabulary = f"{fts_table(model.__tablename__)}_vocab"
    terms = session.execute(text_clause(f"SELECT term FROM {vocabulary} WHERE term >= :low AND term < :high LIMIT :most"),
                            {"low": pair, "high": pair + "\U0010ffff", "most": MAX_PAIR_TRIGRAMS + 1}).scalars().all()
    if len(terms) > MAX_PAIR_TRIGRAMS:
        return None
    keyed = model.__table__.alias()
    ending = select(keyed.c.id).where(func.substr(keyed.c.search_key, literal_column("-2")) == pair)
    if not terms:
        return ending
    phrases = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
    return union(_fts_rows(model, phrases), ending)


class SearchKey:
    """A list's search on another register's key: ``SearchKey(Vendor,
    via=Contract.vendor_id)`` finds the contracts of the vendors found.
    Without the join the search needed before (core.lists)."""

    def __init__(self, model, via=None):
        self.model, self.via = model, via

    def contains(self, text: str, session):
        return key_contains(self.model, text, self.via, session=session)
