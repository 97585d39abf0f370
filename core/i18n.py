"""Japanese first, English complete: locale choice and date filters.

How a message is built (the one pattern; tests/core/test_messages.py checks it):

- ``_l("…")`` (flask_babel.lazy_gettext) only for *static* text: labels,
  validator messages, module-level constants.  Never with parameters:
  a LazyString has ``__html__``, so Jinja trusts it as markup and would insert
  any value formatted into it unescaped (stored XSS).
- A message that carries values is built when it is needed, inside the
  request or command, with ``_("… %(name)s", name=value)``
  (flask_babel.gettext).  That returns a plain ``str``, which Jinja escapes
  as a whole, values included; flash(), form errors and exceptions carry it
  as it is.
- In templates, ``{{ _("… %(name)s", name=value) }}`` is safe: Jinja's
  new-style gettext escapes the values.
- A message that must itself contain markup is formatted with
  ``markupsafe.Markup("<b>%(name)s</b>") % {"name": value}``, which escapes
  the values.  Nothing else may produce ``Markup`` or use ``|safe``.
"""
from __future__ import annotations

import datetime as dt

from flask import Flask, g, has_request_context, session
from flask_babel import Babel, Domain, format_date, format_datetime, get_locale, get_timezone
from flask_login import current_user

from core.timeutil import fiscal_year, fiscal_year_label, today, wareki

LOCALES = {"ja": "日本語", "en": "English"}

class RequestDomain(Domain):
    """Flask-Babel's message domain, with the translations looked up once
    per request and locale.  Flask-Babel finds them afresh for every message
    (four context lookups and the locale's name each time: about 1,200
    lookups on a contract's page, issue 21).  They are kept on Flask-Babel's
    own per-request state beside the locale they are for, so ``force_locale``
    (which replaces that locale for a while) still gets its own language."""

    def get_translations(self):
        try:
            state = g._flask_babel
            locale = state.babel_locale
        except (AttributeError, RuntimeError):  # no locale chosen yet, or outside the app
            return super().get_translations()
        kept = getattr(state, "itaku_translations", None)
        if kept is None or kept[0] is not locale:
            kept = state.itaku_translations = (locale, super().get_translations())
        return kept[1]


babel = Babel()
babel.__dict__["domain_instance"] = RequestDomain()  # "messages"; Babel.domain_instance is a cached property


def select_locale() -> str:
    """The signed-in user's choice, else the visitor's (kept in the session
    cookie), else Japanese — also outside a request (CLI commands)."""
    if not has_request_context():
        return "ja"
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    lang = session.get("lang")
    return lang if lang in LOCALES else "ja"


def locale_code() -> str:
    """"ja" or "en".  Asked for about eighty times on a list page (each
    date, label and path): the name is kept beside the locale it was made
    from (``str(Locale)`` builds it afresh each time), as RequestDomain does."""
    try:
        state = g._flask_babel
        locale = state.babel_locale  # chosen once per request (flask_babel.get_locale)
    except (AttributeError, RuntimeError):
        return str(get_locale() or "ja")
    kept = getattr(state, "itaku_code", None)
    if kept is None or kept[0] is not locale:
        kept = state.itaku_code = (locale, str(locale or "ja"))
    return kept[1]


def label_text(member) -> str:
    """A labelled enum member's label (a lazy string) as text, translated
    once per request and language: a list page shows the same few statuses
    on every row (``{{ status|label }}``, issue 21)."""
    if not has_request_context():
        return str(member.label)
    kept = g.setdefault("itaku_labels", {})
    key = (type(member), member.value, locale_code())
    text = kept.get(key)
    if text is None:
        text = kept[key] = str(member.label)
    return text


def date_filter(value: dt.date | dt.datetime | None, era: bool = False) -> str:
    """2026年11月26日 (ja), 26 Nov 2026 (en); ``era=True`` gives 令和8年11月26日."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        value = value.date()
    if locale_code().startswith("ja"):
        return wareki(value) if era else f"{value.year}年{value.month}月{value.day}日"
    return format_date(value, "d MMM y")


def datetime_filter(value: dt.datetime | None) -> str:
    """Stored UTC, shown in Japan time."""
    if value is None:
        return "—"
    if locale_code().startswith("ja"):  # as format_datetime(value, "y年M月d日 HH:mm"), without its lookups
        try:
            zone = g._flask_babel.babel_tzinfo  # chosen once per request (flask_babel.get_timezone)
        except (AttributeError, RuntimeError):
            zone = get_timezone()
        if zone is not None:
            local = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(zone)
            return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
        return format_datetime(value, "y年M月d日 HH:mm")
    return format_datetime(value, "d MMM y HH:mm")


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["date"] = date_filter
    app.jinja_env.filters["datetime"] = datetime_filter
    app.jinja_env.filters["label"] = label_text
    app.jinja_env.filters["fiscal_year"] = lambda day: fiscal_year_label(fiscal_year(day), locale_code())
    app.jinja_env.globals["LOCALES"] = LOCALES
    app.jinja_env.globals["locale_code"] = locale_code
    app.jinja_env.globals["today"] = today
    app.jinja_env.filters["unit_path"] = lambda unit: unit.path_in(locale_code()) if unit is not None else "—"
