"""Pickers that scale (issue 20): a reference to a vendor, a contract, a user
or a unit chosen by searching, not from a drop-down of every record.

A register offers its records through a :class:`Source` (``add_source``;
the domains add theirs in their init_app, core adds users and units): a
session-authenticated JSON list ``/pick/<key>?q=`` (at most :data:`LIMIT`
results, each an id, a label and a hint), readable by the roles that read
the register's list, and a check that an id may be chosen.

A form takes a picker by declaring one :class:`PickerField`.  Without
JavaScript the field is a short select (the current choice and the results
of the last search) and a search box with its own 検索 button: the button
sends the form back, which is shown again with the matching records as the
select's options and everything else the user typed kept (the form does not
save: see :func:`searching`).  With JavaScript (static/itaku.js) the two
become one search-as-you-type combobox, GOV.UK's accessible-autocomplete
(static/vendor/accessible-autocomplete): keyboard-operable, its results
announced in a live region, the field's label kept on its input.  Either
way the server checks the id submitted (exists, active, allowed)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask, abort, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import or_, select
from wtforms.fields import Field
from wtforms.validators import ValidationError
from wtforms.widgets import html_params

from core import textkey
from core.auth import access
from core.db import db
from core.i18n import locale_code
from core.lists import _contains, int_arg, like_pattern
from core.models import OrgUnit, User

KEY = "itaku_pickers"
LIMIT = 20
PICK = "_pick"  # the name of a 検索 button; its value names the field searched
QUERY_SUFFIX = "-q"


@dataclass(frozen=True)
class Choice:
    id: int
    label: str
    hint: str = ""


@dataclass(frozen=True)
class Source:
    """A register's records as a picker offers them.  ``search(query,
    limit)`` → [Choice] matching the query (folded as core.textkey does),
    in the register's order (an empty query: the first ones); ``get(id)`` → the Choice of a record that may
    be chosen (it exists and is active), else None; ``roles``: who may read
    the list (as its list page; empty: any signed-in user)."""
    key: str
    roles: frozenset
    search: Callable[[str, int], list[Choice]]
    get: Callable[[int], Choice | None]


def add_source(app: Flask, source: Source) -> None:
    """Offer ``source`` to the forms and at ``/pick/<key>`` (endpoint ``pick_<key>``)."""
    app.extensions.setdefault(KEY, {})[source.key] = source

    def pick():
        if source.roles and not current_user.has_role(*source.roles):
            abort(403)
        query = request.args.get("q", "").replace("\x00", "").strip()[:100]
        found = source.search(query, LIMIT) if textkey.fold(query) else []
        return jsonify(results=[{"id": c.id, "label": c.label, "hint": c.hint} for c in found])

    access(source.roles)(pick) if source.roles else access(any_user=True)(pick)
    app.add_url_rule(f"/pick/{source.key}", endpoint=f"pick_{source.key}", view_func=pick)


def source(key: str) -> Source:
    return current_app.extensions[KEY][key]


def key_matches(column, query: str):
    """``column`` (a search_key column or a plain one) contains ``query``
    folded; the query as typed also matches a plain column."""
    patterns = dict.fromkeys([like_pattern(textkey.fold(query)), like_pattern(query)])
    return or_(*[_contains(column, pattern) for pattern in patterns])


def searching(form) -> bool:
    """True when ``form`` was sent by a picker's 検索 button with a query
    (no JavaScript): the view shows the form again with the results instead
    of saving it.  An empty query is a plain submission (the Enter key in
    another field presses the first button of the form, which may be 検索)."""
    return any(isinstance(field, PickerField) and field.query for field in form)


class PickerSearchMixin:
    """A form with pickers: a picker search (:func:`searching`) is not a
    submission to validate and save; the form is shown again, unvalidated
    (no field, and no check across fields, marks an error), with the results."""

    def validate_on_submit(self, extra_validators=None) -> bool:
        if searching(self):
            return False
        return super().validate_on_submit(extra_validators)


class PickerWidget:
    """The field without JavaScript: a select of the current choice and the
    latest search's results (before a search: the first records), then a
    search box and its 検索 button.  The
    ``.picker`` wrapper tells itaku.js to make them one combobox."""

    def __call__(self, field: PickerField, **kwargs) -> Markup:
        g.itaku_pickers = True  # base.html then loads the combobox script
        kwargs.setdefault("id", field.id)
        kwargs["class"] = "form-select " + " ".join(c for c in str(kwargs.pop("class", "")).split()
                                                      if c not in ("form-control", "form-select"))
        attributes = html_params(**kwargs)
        options = [Markup('<option value="">{}</option>').format(field.blank_label())]
        for choice in field.shown():
            options.append(Markup('<option value="{}" data-label="{}"{}>{}</option>').format(
                choice.id, choice.label, Markup(" selected") if choice.id == field.data else "",
                f"{choice.label}（{choice.hint}）" if choice.hint else choice.label))
        query_id = f"{field.id}{QUERY_SUFFIX}"
        found = ""
        if field.query:
            found = Markup('<p class="form-text picker-found" role="status">{}</p>').format(
                _("「%(query)s」の検索結果: %(count)s件。上の一覧から選んでください。", query=field.query,
                  count=len(field.results)) if field.results
                else _("「%(query)s」に一致するものはありません。", query=field.query))
        return Markup(
            '<div class="picker" data-picker-url="{url}" data-picker-blank="{blank}" '
            'data-picker-none="{none}" data-picker-hint="{hint}" data-picker-results="{results}" '
            'data-picker-selected="{selected}">'
            '<select name="{name}" {attributes}>{options}</select>'
            '<div class="input-group input-group-sm mt-1 picker-search">'
            '<label class="input-group-text" for="{query_id}">{search_label}</label>'
            '<input type="search" class="form-control" id="{query_id}" name="{query_name}" maxlength="100">'
            '<button type="submit" class="btn btn-outline-secondary" name="{pick}" value="{name}" '
            'formnovalidate>{search}</button></div>{found}</div>').format(
            url=url_for(f"pick_{field.source_key}"), blank=field.blank_label(), none=_("一致するものはありません"),
            hint=_("候補が表示されたら上下の矢印キーで選び、Enterキーで決定します。"),
            results=_("候補が{n}件あります。"), selected=_("{option}（{n}件中{i}件目）を選択中"),
            name=field.name, attributes=attributes, options=Markup("").join(options),  # html_params: escaped Markup
            query_id=query_id, query_name=f"{field.name}{QUERY_SUFFIX}", search_label=_("名前で検索"),
            pick=PICK, search=_("検索"), found=found)


class PickerField(Field):
    """A reference (an id) chosen with a picker from the :class:`Source`
    named ``source``; ``blank`` labels the empty choice.  Its data is the
    id or None.  Without its own validators it is checked to name a record
    the source offers; add DataRequired (with a message) when it must be
    given, Optional when it may be left empty."""

    widget = PickerWidget()

    def __init__(self, label=None, validators=None, source: str = "", blank: Any = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.source_key = source
        self.blank = blank
        self.query = ""
        self.results: list[Choice] = []

    def blank_label(self) -> str:
        return str(self.blank) if self.blank is not None else _("（選択してください）")

    def process(self, formdata, data=None, extra_filters=None):
        super().process(formdata, data, extra_filters)
        if formdata is not None and formdata.get(PICK) == self.name:
            query = (formdata.get(self.name + QUERY_SUFFIX) or "").replace("\x00", "").strip()[:100]
            if textkey.fold(query):
                self.query = query
                self.results = source(self.source_key).search(query, LIMIT)
                if len(self.results) == 1:
                    self.data = self.results[0].id

    def process_data(self, value):
        self.data = value if isinstance(value, int) else int_arg(str(value)) if value not in (None, "") else None

    def process_formdata(self, valuelist):
        if valuelist:
            text = (valuelist[0] or "").strip()
            self.data = int_arg(text) if text else None
            if text and self.data is None:
                self.data = -1  # not an id: refused by pre_validate as a choice that does not exist

    def pre_validate(self, form):
        if self.data is not None and source(self.source_key).get(self.data) is None:
            raise ValidationError(_("選択肢が正しくありません。検索して一覧から選んでください。"))

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)

    def shown(self) -> list[Choice]:
        """The options shown: the current choice, then the search results —
        before any search, the first records in the register's order (a
        short list: the search box finds the others)."""
        shown = []
        if self.data is not None and self.data > 0:
            current = source(self.source_key).get(self.data)
            if current is not None:
                shown.append(current)
        offered = self.results if self.query else source(self.source_key).search("", LIMIT)
        shown += [choice for choice in offered if choice.id != self.data]
        return shown

    def iter_choices(self):  # for the stale-input note beside the field (core.forms.stale_input)
        yield "", self.blank_label(), self.data is None, {}
        for choice in self.shown():
            yield str(choice.id), choice.label, choice.id == self.data, {}


# --- users and units: core's own sources ------------------------------------------------------

def _user_choice(user: User) -> Choice:
    return Choice(user.id, user.display_name, user.username)


def _search_users(query: str, limit: int) -> list[Choice]:
    users = db.session.scalars(select(User).where(
        User.active, or_(key_matches(User.display_name, query), key_matches(User.username, query)))
        .order_by(User.display_name, User.id).limit(limit)).all()
    return [_user_choice(user) for user in users]


def _get_user(user_id: int) -> Choice | None:
    user = db.session.get(User, user_id)
    return _user_choice(user) if user is not None and user.active else None


def _unit_choice(unit: OrgUnit) -> Choice:
    return Choice(unit.id, unit.path_in(locale_code()))


def _search_units(query: str, limit: int) -> list[Choice]:
    units = db.session.scalars(select(OrgUnit).where(
        OrgUnit.active, or_(key_matches(OrgUnit.name, query), key_matches(OrgUnit.name_en, query)))
        .order_by(OrgUnit.sort_order, OrgUnit.id).limit(limit)).all()
    return [_unit_choice(unit) for unit in units]


def _get_unit(unit_id: int) -> Choice | None:
    unit = db.session.get(OrgUnit, unit_id)
    return _unit_choice(unit) if unit is not None and unit.active else None


def init_app(app: Flask) -> None:
    """Keep the search keys current, and offer the users and units."""
    textkey.keep_search_keys()
    # Every form that names a person or a unit offered them all to its user; the lists say no more.
    add_source(app, Source("users", frozenset(), _search_users, _get_user))
    add_source(app, Source("units", frozenset(), _search_units, _get_unit))
