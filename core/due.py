"""Due items: "what is due, for whom, by when".  Each domain adds a function
returning its open items to the app's registry (core/plugins.py:
``add_due``); the reminders and the calendar feed read this one interface."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from core import plugins
from core.models import Role


@dataclass(frozen=True)
class DueItem:
    key: str  # stable identity: kind, record and due date (a new due date is a new item)
    kind: str
    title: str
    due_on: dt.date
    owner_id: int | None  # the responsible user; None: administrators are told
    endpoint: str
    params: dict = field(default_factory=dict, hash=False, compare=False)


def all_items() -> list[DueItem]:
    items = [item for build in plugins.registry().due for item in build()]
    return sorted(items, key=lambda item: (item.due_on, item.key))


def items_for(user) -> list[DueItem]:
    """What ``user`` answers for (their calendar feed): the items they are
    responsible for and, for an administrator, the items nobody is (a vendor's
    certificate expiry…), as the reminders send those to the administrators."""
    unowned = user.has_role(Role.ADMIN)
    return [item for item in all_items() if item.owner_id == user.id or (unowned and item.owner_id is None)]
