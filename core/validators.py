"""WTForms validators shared by the registers (messages in Japanese first)."""
from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

_KANA = re.compile(r"^[\u30A0-\u30FF\u3000 ・ー（）()0-9０-９A-Za-zＡ-Ｚａ-ｚ&＆.．,、-]+$")
_PHONE = re.compile(r"^\+?[0-9()\- ]+$")


def katakana(form, field):
    if field.data and not _KANA.match(field.data.strip()):
        raise ValidationError(_l("フリガナは全角カタカナで入力してください。"))


def phone_number(form, field):
    if not field.data:
        return
    digits = re.sub(r"\D", "", field.data)
    if not _PHONE.match(field.data.strip()) or not 10 <= len(digits) <= 15:
        raise ValidationError(_l("電話番号は数字とハイフンで入力してください（例: 0125-22-1234）。"))


def date_not_before(other: str, message=None):
    """The field's date is on or after the date in field ``other``."""
    def check(form, field):
        start = form[other].data
        if field.data and start and field.data < start:
            raise ValidationError(message or _l("終了日は開始日以降の日付にしてください。"))
    return check


def digits(field, message, length: int | None = None) -> str:
    """The field's text NFKC-folded (full-width ２ and superscript ² become 2;
    the field keeps the folded text) and checked to be ASCII digits only (of
    ``length`` if given), else ValidationError(``message``).  ``str.isdigit()``
    alone also takes ² and ٣, which ``int()`` refuses or misreads."""
    value = unicodedata.normalize("NFKC", field.data or "").strip()
    field.data = value
    if not re.fullmatch(r"[0-9]+", value) or (length is not None and len(value) != length):
        raise ValidationError(message)
    return value

