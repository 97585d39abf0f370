"""People change (人事異動, issue 17): a user who is still responsible for
something is not deactivated until each responsibility is handed to someone
else.

What a user can be responsible for is contributed by the domains through the
registry (core.plugins.Registry.add_responsibility): the contract officer, the
owner of a corrective measure, the cloud service administrator, the SNS
responsible person…  Core adds one kind of its own: the four-eyes requests
(core.approvals) the user made that are still pending, each described by the
domain that asks for it (Registry.add_request_kind).

The rules, kept here and nowhere else:

- deactivating a user is refused while any responsibility remains, with the
  list (:func:`check_free`, run by core.accounts.set_active);
- an administrator hands every one of them to one successor in one step
  (:func:`hand_over`): the successor is another, active user who holds the
  roles each item needs — otherwise nothing moves and the message lists the
  items the successor cannot take; a pending request never moves to the one
  who decided it (four eyes);
- both users' rows are locked first (core.db.lock_rows), and whoever assigns a
  responsibility locks the assignee's row too (:func:`inactive_among`), so a
  responsibility given at the same moment as the deactivation is never lost:
  one of the two waits for the other and then sees what it did.

Services flush and audit; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import audit, plugins
from core.approvals import Approval, Decision
from core.db import db, lock_rows, savepoint
from core.models import Role, User
from core.refusals import Refusal

PENDING_REQUESTS = "pending_requests"


class HandoverRefusal(Refusal):
    """A deactivation or a handover the rules refuse; the message is for the user."""


@dataclass(frozen=True)
class Item:
    """One open responsibility: what it is (a readable description, in the
    user's language), where it is (an endpoint and its arguments, for a link;
    None: no page), when it asks for other roles than its kind, the roles one
    of which a successor must hold, and the users who may not take it
    because they hold the other side of it (the decider of a request, the
    other one of an account's responsible person and deputy)."""
    description: str
    endpoint: str | None = None
    params: dict = field(default_factory=dict)
    roles: frozenset | None = None
    excluded: frozenset = frozenset()


@dataclass(frozen=True)
class Group:
    """The open responsibilities of one kind."""
    kind: plugins.Responsibility
    items: list[Item]

    @property
    def label(self) -> str:
        return str(self.kind.label)


def responsibilities(user: User) -> list[Group]:
    """What ``user`` is still responsible for, grouped by kind, in the
    registry's order; kinds with nothing open are left out."""
    groups = []
    for kind in plugins.registry().responsibilities:
        items = list(kind.items(user))
        if items:
            groups.append(Group(kind, items))
    return groups


def _listing(groups: Iterable[Group]) -> str:
    return " / ".join(f"{group.label}: " + "、".join(item.description for item in group.items) for group in groups)


def check_free(user: User) -> None:
    """Refuse to deactivate ``user`` while a responsibility remains.  The
    user's row is locked first, so a responsibility assigned meanwhile is
    either seen here or refused to its assigner (inactive_among)."""
    lock_rows(User, [user.id])
    groups = responsibilities(user)
    if groups:
        raise HandoverRefusal(_("%(name)s さんにはまだ担当している事項があるため、無効にできません。"
                                "先に後任者へ引き継いでください。（%(items)s）",
                                name=user.display_name, items=_listing(groups)))


def inactive_among(user_ids: Iterable[int | None]) -> list[User]:
    """The users among ``user_ids`` who may not be given a responsibility
    (deactivated, or unknown ids are left to the foreign key).  Their rows are
    held (shared) until the commit, so a deactivation under way either
    finished first — and the user shows as inactive here — or waits for this
    assignment and then refuses (check_free)."""
    wanted = sorted({uid for uid in user_ids if uid})
    if not wanted:
        return []
    return [user for user in lock_rows(User, wanted, shared=True) if not user.active]


def _can_take(successor: User, roles: frozenset) -> bool:
    return not roles or successor.has_role(*roles)


def _role_names(roles: frozenset) -> str:
    return "・".join(Role(role).label for role in sorted(roles, key=lambda role: Role(role).value))


def hand_over(leaver: User, successor: User | None) -> dict[str, list[str]]:
    """Hand every open responsibility of ``leaver`` to ``successor`` in one
    step, all or nothing; one audit entry names from → to and what moved
    (the moved records write their own entries as usual).  Returns what
    moved, by kind."""
    if successor is None:
        raise HandoverRefusal(_l("後任者を選択してください。"), field="successor_id")
    if successor.id == leaver.id:
        raise HandoverRefusal(_l("後任者には本人以外の利用者を選んでください。"), field="successor_id")
    lock_rows(User, [leaver.id, successor.id])
    if not successor.active:
        raise HandoverRefusal(_("%(name)s さんは無効な利用者のため、後任者にできません。", name=successor.display_name),
                              field="successor_id")
    groups = responsibilities(leaver)
    if not groups:
        raise HandoverRefusal(_("%(name)s さんに引き継ぐ事項はありません。", name=leaver.display_name))
    refused = []
    for group in groups:
        for item in group.items:
            roles = item.roles if item.roles is not None else group.kind.roles
            if not _can_take(successor, roles):
                refused.append(_("%(item)s（必要な役割: %(roles)s）", item=item.description, roles=_role_names(roles)))
            elif successor.id in item.excluded:
                refused.append(_("%(item)s（同じ記録で別の役目を持っています）", item=item.description))
    if refused:
        raise HandoverRefusal(_("%(name)s さんは次の事項を引き継げません: %(items)s",
                                name=successor.display_name, items="、".join(refused)), field="successor_id")
    moved = {}
    with savepoint():  # all or nothing, even for a caller that goes on after a refusal
        for group in groups:
            group.kind.hand_over(leaver, successor)
            moved[group.kind.key] = [item.description for item in group.items]
        db.session.flush()
    audit.log("handover", leaver, changes={"from": [leaver.id, leaver.username],
                                           "to": [successor.id, successor.username], "moved": moved})
    return moved


# --- core's own kind: the pending requests the user made ---------------------------------

def pending_requests(user: User) -> list[Approval]:
    return list(db.session.scalars(select(Approval).where(
        Approval.requested_by_id == user.id, Approval.decision == Decision.PENDING).order_by(Approval.id)))


def _describe(approval: Approval) -> tuple[Item, frozenset]:
    known = plugins.registry().request_kind(approval.kind)
    if known is None:  # a kind no domain describes: still listed, never lost
        return Item(_("申請 #%(id)s（%(kind)s）: %(reason)s", id=approval.id, kind=approval.kind,
                      reason=approval.reason)), frozenset()
    describe, roles = known
    return describe(approval), roles


def _request_items(user: User) -> list[Item]:
    items = []
    for approval in pending_requests(user):
        item, roles = _describe(approval)
        excluded = item.excluded | ({approval.approver_id} if approval.approver_id else set())
        items.append(Item(item.description, item.endpoint, item.params,
                          item.roles if item.roles is not None else roles, frozenset(excluded)))
    return items


def _hand_over_requests(leaver: User, successor: User) -> None:
    """The successor becomes the requester of the leaver's pending requests —
    never of one they decided (hand_over refuses: Item.excluded).  Four eyes
    holds on: approvals.decide keeps the requester from deciding it."""
    for approval in pending_requests(leaver):
        approval.requested_by_id = successor.id
        audit.label(approval, "handover")
    db.session.flush()


def init_app(app: Any) -> None:
    plugins.registry(app).add_responsibility(plugins.Responsibility(
        key=PENDING_REQUESTS, order=90, label=_l("承認待ちの申請（申請者）"), items=_request_items,
        hand_over=_hand_over_requests))
