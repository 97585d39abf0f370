"""Enumerations with a translatable label, stored as their value."""
from __future__ import annotations

import enum

from sqlalchemy import Enum as SAEnum
from wtforms import SelectChoice


class LabelledEnum(str, enum.Enum):
    """``CANDIDATE = "candidate", _l("候補")`` — value stored, label shown."""

    def __new__(cls, value: str, label):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def choices(cls) -> list[tuple[str, object]]:
        """(value, lazy label) pairs, for list filters."""
        return [(m.value, m.label) for m in cls]

    @classmethod
    def select_choices(cls, blank=None) -> list:
        """Options for a WTForms SelectField; labels stay lazy so they are
        translated when the form is drawn, not when the class is defined."""
        options = [SelectChoice(m.value, m.label) for m in cls]
        return ([SelectChoice("", blank)] if blank is not None else []) + options

    @classmethod
    def parse(cls, value: str):
        try:
            return cls(value)
        except ValueError:
            return None

    def __str__(self) -> str:
        return str(self.label)


def enum_column(enum_cls: type[LabelledEnum]) -> SAEnum:
    """A portable VARCHAR column holding the enum's value."""
    return SAEnum(enum_cls, native_enum=False, length=20, validate_strings=True,
                  values_callable=lambda members: [m.value for m in members])
