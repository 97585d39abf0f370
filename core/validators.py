"""WTForms validators shared by the registers (messages in Japanese first)."""
from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length, Optional, ValidationError

from core.textkey import katakana_reading

_KANA = re.compile(r"^[\u30A0-\u30FF\u3000 ・ー（）()0-9０-９A-Za-zＡ-Ｚａ-ｚ&＆.．,、-]+$")
_PHONE = re.compile(r"^\+?[0-9()\- ]+$")


def fold(text: str | None) -> str:
    """``text`` NFKC-folded and stripped: full-width ７ and superscript ²
    become 7 and 2, a full-width hyphen －, -.  Digit fields are folded
    before they are checked, stored or looked up (issue 17)."""
    return unicodedata.normalize("NFKC", text or "").strip()


def katakana(form, field):
    if field.data and not _KANA.match(field.data.strip()):
        raise ValidationError(_l("フリガナは全角カタカナで入力してください。"))


def reading_field(label):
    """A reading (よみ) of a Japanese name, typed in katakana or hiragana
    (half-width too): stored in full-width katakana, so that the lists sort
    it as one (core.textkey, issue 20); checked like a vendor's kana."""
    return StringField(label, filters=[lambda value: katakana_reading(value) if value else value],
                       validators=[Optional(), Length(max=200), katakana],
                       description=_l("カタカナ又はひらがなで入力（一覧はこの読みの順に並びます）"))


def phone_number(form, field):
    """NFKC-folded first (the field keeps the folded text), then ASCII digits,
    hyphens, parentheses, spaces and a leading +, 10 to 15 digits."""
    if not field.data:
        return
    field.data = fold(field.data)
    digits = re.sub(r"[^0-9]", "", field.data)
    if not _PHONE.match(field.data) or not 10 <= len(digits) <= 15:
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
    value = fold(field.data)
    field.data = value
    if not re.fullmatch(r"[0-9]+", value) or (length is not None and len(value) != length):
        raise ValidationError(message)
    return value

