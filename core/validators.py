"""WTForms validators shared by the registers (messages in Japanese first)."""
from __future__ import annotations

import re

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
