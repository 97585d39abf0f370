"""A register described once for everything that moves its records in and
out: the spreadsheet export of its list, the spreadsheet import and the
JSON API.  Each domain describes its registers (``<domain>/exchange.py``)
with :class:`Field` objects; the same form and the same save rule as its
pages validate and write, so a spreadsheet row or an API call is held to
exactly what a person typing into the form is held to.

A field's value has three faces: ``cell`` (what a spreadsheet shows: an
enum's Japanese label, a unit's name, はい/いいえ), ``json`` (what the API
returns: an enum's code, true/false, ISO dates) and ``form_value`` (what
either gives back, turned into what the form field takes: an id, a code).
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from werkzeug.datastructures import MultiDict

from core import plugins
from core.db import db
from core.models import ClassificationLevel, OrgUnit, User
from core.tabular import Column, csv_text

TRUE_WORDS = {"はい", "true", "yes", "y", "1", "○", "有", "あり", "on"}
FALSE_WORDS = {"いいえ", "false", "no", "n", "0", "×", "無", "なし", "off", ""}


class ValueProblem(ValueError):
    """A value that cannot be taken; the message is for the user."""


@dataclass(frozen=True)
class Field(Column):
    """A register field.  ``kind``: text, date, datetime, integer, boolean,
    enum (``enum`` is its LabelledEnum) or ref (``ref`` finds the id for a
    name; ``get`` returns the name); ``many`` for a list of refs."""

    enum: Any = None
    ref: Callable[[str], int | None] | None = None
    many: bool = False
    read_only: bool = False

    # --- the three faces -------------------------------------------------
    def cell(self, record) -> Any:
        return self.show(self.get(record))

    def show(self, value) -> Any:  # what the spreadsheet shows for what get returned
        if self.kind == "enum" and value is not None:
            return _japanese(value)
        if self.kind == "boolean":
            return "はい" if value else "いいえ"
        if self.many:  # a list, or (an export's source column) the list already joined
            return value if isinstance(value, str) else "、".join(value or [])
        return value

    def _shown_as_read(self) -> bool:
        """Whether :meth:`show` gives back what it is given (this class's
        show, for a kind it leaves alone)."""
        return type(self).show is Field.show and self.kind not in ("enum", "boolean") and not self.many

    def csv_converter(self) -> Callable[[Any], str] | None:
        if not self._shown_as_read():
            return super().csv_converter()
        if self.kind in ("integer", "date") and self.source is not None:
            return None  # an int, a date or None from SQL: csv writes them as csv_text would
        return csv_text  # shown as read: no step between

    def shower(self) -> Callable[[Any], Any] | None:
        return None if self._shown_as_read() else super().shower()

    def json(self, record) -> Any:
        value = self.get(record)
        if self.kind == "enum":
            return None if value is None else value.value
        if self.kind == "boolean":
            return bool(value)
        if self.many:
            return list(value or [])
        if isinstance(value, dt.datetime):  # stored as naive UTC: said so, as RFC 3339 wants
            return value.replace(tzinfo=dt.UTC).isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        return value

    def form_value(self, raw) -> str | list[str]:
        """A spreadsheet cell or JSON value as the form field's input."""
        if self.many:
            items = raw if isinstance(raw, list) else re.split(r"[、,，\n]", _text(raw))
            return [self._one_ref(_text(item)) for item in items if _text(item)]
        if self.kind == "boolean":
            if isinstance(raw, bool):
                return "y" if raw else ""
            word = _text(raw).lower()
            if word in TRUE_WORDS:
                return "y"
            if word in FALSE_WORDS:
                return ""
            raise ValueProblem(_l("「はい」か「いいえ」で入力してください。"))
        text = _text(raw)
        if not text:
            return ""
        if self.kind == "enum":
            return _enum_value(self.enum, text)
        if self.kind == "ref":
            return self._one_ref(text)
        if self.kind == "date":
            return _date_text(text)
        if self.kind == "integer":
            if not re.fullmatch(r"-?\d{1,9}", text):
                raise ValueProblem(_l("整数で入力してください。"))
            return text
        return text

    def _one_ref(self, text: str) -> str:
        found = self.ref(text)
        if found is None:
            raise ValueProblem(_("「%(value)s」は登録されていません。", value=text))
        return str(found)

    def schema(self) -> dict:
        """The JSON Schema of the API's value."""
        base: dict[str, Any]
        if self.kind == "enum":
            base = {"type": "string", "enum": [m.value for m in self.enum]}
        elif self.kind == "boolean":
            base = {"type": "boolean"}
        elif self.kind == "integer":
            base = {"type": "integer"}
        elif self.kind == "date":
            base = {"type": "string", "format": "date"}
        elif self.kind == "datetime":
            base = {"type": "string", "format": "date-time"}
        else:
            base = {"type": "string"}
        if self.many:
            base = {"type": "array", "items": {"type": "string"}}
        nullable = not (self.required or self.kind == "boolean" or self.many or self.key == "id")
        if nullable:
            base = {**base, "type": [base["type"], "null"]}
            if "enum" in base:
                base["enum"] = [*base["enum"], None]
        if self.description or self.ja:
            base["description"] = f"{self.ja}" + (f" — {self.description}" if self.description else "")
        return base


def _text(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    return str(raw).strip()


def _japanese(member) -> str:
    """An enum member's Japanese label (asked once: an export of 50,000
    rows would otherwise switch the locale for every cell).  Keyed by the
    class too: members are strings, and VendorStatus.ACTIVE equals
    AccountStatus.ACTIVE as a string."""
    return _japanese_of(type(member), member.value)


@functools.lru_cache(maxsize=None)
def _japanese_of(enum_cls, value: str) -> str:
    with force_locale("ja"):
        return str(enum_cls(value).label)


@functools.lru_cache(maxsize=None)
def _enum_names(enum_cls) -> dict[str, str]:
    """Every way a spreadsheet may name a member (its code, Japanese and
    English labels, any case) → its code."""
    names = {}
    for member in enum_cls:
        for locale in ("en", "ja"):
            with force_locale(locale):
                names[str(member.label).lower()] = member.value
        names[member.value.lower()] = member.value
    return names


def _enum_value(enum_cls, text: str) -> str:
    found = _enum_names(enum_cls).get(text.strip().lower())
    if found is not None:
        return found
    allowed = "、".join(_japanese(m) for m in enum_cls)
    raise ValueProblem(_("「%(value)s」は選べません（%(allowed)s）。", value=text, allowed=allowed))


def _date_text(text: str) -> str:
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]00:00(?::00)?)?", text)
    if match:
        try:
            return dt.date(*map(int, match.groups())).isoformat()
        except ValueError:
            pass
    raise ValueProblem(_l("日付はYYYY-MM-DDの形で正しい日付を入力してください。"))


# --- reference lookups ----------------------------------------------------------------

def unit_by_name(text: str) -> int | None:
    return db.session.scalar(select(OrgUnit.id).where((OrgUnit.name == text) | (OrgUnit.name_en == text)))


def user_by_name(text: str) -> int | None:
    """A user by user name, or by full name when only one person has it."""
    found = db.session.scalar(select(User.id).where(User.username == text))
    if found is None:
        ids = db.session.scalars(select(User.id).where(User.display_name == text).limit(2)).all()
        found = ids[0] if len(ids) == 1 else None
    return found


def level_by_code(text: str) -> int | None:
    return db.session.scalar(select(ClassificationLevel.id).where(
        (ClassificationLevel.code == text) | (ClassificationLevel.label_ja == text)
        | (ClassificationLevel.label_en == text)))


# --- registers ------------------------------------------------------------------------

@dataclass
class Register:
    """``form(record, formdata)`` builds the page's form (choices filled,
    no CSRF: the caller has authenticated otherwise); ``save(form,
    record)`` applies the page's rules and flushes (errors go into the form,
    None comes back); the caller commits.  ``match(values)`` finds the
    record a spreadsheet row means (the natural key), ``retire(record,
    user)`` ends one without deleting it.  When every field names its
    ``source`` column, an export reads rows of those columns (``query()``
    with ``row_joins`` added: the tables the sources come from) instead of
    building a record, and its relations, per row."""

    name: str
    title: Any
    model: type
    fields: list[Field]
    query: Callable[[], Select]
    list_view: Any
    readers: frozenset
    writers: frozenset = frozenset()
    form: Callable | None = None
    save: Callable | None = None
    match: Callable[[dict[str, str]], Any] | None = None
    key_label: Any = ""
    retire: Callable | None = None
    endpoint: str = ""  # the record's page, for links
    list_endpoint: str = ""  # the list page
    url_prefix: str = ""  # where its export and import live (default /<name>)
    summary: Callable[[Any], str] = str
    extra: dict = field(default_factory=dict)
    row_joins: Callable[[Select], Select] = lambda stmt: stmt
    updatable: bool = True  # False: the API creates, never changes (an incident is handled on its page)

    @property
    def importable(self) -> bool:
        return self.save is not None and self.match is not None

    def writable_fields(self) -> list[Field]:
        return [f for f in self.fields if f.field and not f.read_only]

    def formdata(self, values: dict[str, Any], record=None) -> tuple[MultiDict, list[tuple[Field, str]]]:
        """The form input for ``values`` (spreadsheet cells or JSON values
        keyed by Field.key): a writable field not among them keeps
        ``record``'s value (blank for a new record).  Values that cannot be
        taken come back as (field, message) instead."""
        formdata: MultiDict = MultiDict()
        problems = []
        for f in self.writable_fields():
            raw = values[f.key] if f.key in values else (f.cell(record) if record is not None else "")
            try:
                value = f.form_value(raw)
            except ValueProblem as error:
                problems.append((f, str(error)))
                continue
            for item in value if isinstance(value, list) else [value]:
                formdata.add(f.field, item)
        return formdata, problems

    def filtered(self, args) -> Select:
        """The list page's query for ``args`` (its search, filters and
        sort), without paging: what an export writes."""
        return self.list_view.statement(self.query(), args)[0]

    def rows(self, args) -> Callable[[], Iterable[Sequence]]:
        """What an export of the list for ``args`` writes: started when
        called (inside the streamed response), read 500 at a time, a row
        per record of what each field's ``get`` returns."""
        stmt = self.filtered(args).execution_options(yield_per=500)
        if all(f.source is not None for f in self.fields):
            columns = self.row_joins(stmt.with_only_columns(*(f.source for f in self.fields)))
            return lambda: db.session.execute(columns)
        getters = [f.get for f in self.fields]
        return lambda: _rows_of(db.session.scalars(stmt), getters)


def _rows_of(records, getters) -> Iterator[tuple]:
    try:
        for record in records:
            yield tuple(get(record) for get in getters)
    finally:
        records.close()  # also when the client stops reading


def all_registers(app=None) -> list[Register]:
    """Every register, as the domains (and core, for the audit trail) added
    them to the registry of ``app`` (default: the current app)."""
    return plugins.registry(app).registers()
