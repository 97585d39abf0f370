"""Characters no stored text may hold, refused where text to be stored
comes in: one check of every request's form fields and upload names
(before any view runs), and one of every JSON body (core.api).

A NUL byte cannot be stored in a PostgreSQL text column (the driver raises),
and a lone UTF-16 surrogate (``"\\ud800"`` in JSON) cannot be encoded as
UTF-8 by either database's driver: both were 500s.  URL-encoded and
multipart bodies cannot carry a surrogate (Werkzeug decodes them with
replacement), JSON can.

Query strings only choose what a page shows: there a bad value is ignored
as every odd filter value is (core.lists strips NUL from list filters,
int_arg reads numbers, the sign-in's ``next`` refuses control characters).
"""
from __future__ import annotations

import re
from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l

from core import errors
from core.auth import is_api

BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
MESSAGE = _l("使えない文字（NUL文字など）が含まれています。入力内容を確認して、もう一度お試しください。")


def is_bad(text: str) -> bool:
    return BAD_CHARACTERS.search(text) is not None


def in_json(value: Any) -> bool:
    """Whether a JSON value holds a bad character in any string (keys too)."""
    if isinstance(value, str):
        return is_bad(value)
    if isinstance(value, list):
        return any(in_json(item) for item in value)
    if isinstance(value, dict):
        return any(is_bad(key) or in_json(item) for key, item in value.items())
    return False


def shown(key: str) -> str:
    """A JSON member's name as an error may quote it (U+FFFD for a bad character)."""
    return BAD_CHARACTERS.sub("\ufffd", key)


def _form_texts():
    yield from request.form.items(multi=True)
    yield from ((name, upload.filename or "") for name, upload in request.files.items(multi=True))


def refuse_bad_characters():
    """before_request: a 400 with a clear message when a form field (its
    name or value) or an upload's name holds a NUL or a lone surrogate.
    Nothing is read or written.  The API reads JSON only, under its own
    body limit: its form is never parsed here."""
    if request.method in ("GET", "HEAD", "OPTIONS") or is_api(request.path):
        return None
    for key, value in _form_texts():
        if is_bad(key) or is_bad(value):
            return errors.render_error(400, MESSAGE)
    return None
