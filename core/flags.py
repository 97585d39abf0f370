"""Named flags of a register ("review overdue", "MFA off"…) as SQL
conditions, evaluated for a page of records in one query."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.db import db


def flags_of(id_column, conditions: dict[str, Any], ids: list[int]) -> dict[int, set[str]]:
    """id → the names of the conditions that hold for it."""
    if not ids:
        return {}
    names = list(conditions)
    rows = db.session.execute(select(id_column, *conditions.values()).where(id_column.in_(ids))).all()
    return {row[0]: {name for name, value in zip(names, row[1:], strict=True) if value} for row in rows}
