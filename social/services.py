"""Changes to the official-account register (DOMAIN.md §4, policy §6(8)):
the pages, the spreadsheet import, the API and the demo change accounts,
procedures and incidents here.

Each function keeps a rule of social.rules (it refuses with SocialRuleError,
the message for the user), changes the records, writes what the audit trail
needs and flushes; the caller commits once, or rolls back.
"""
from __future__ import annotations

import datetime as dt
import unicodedata

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core import approvals, audit, handover, inbox, plugins, review
from core.approvals import Approval
from core.db import db, savepoint
from core.models import ClassificationLevel, Role, User
from core.timeutil import today, utcnow
from social import prepost, rules
from social.forms import AccountForm
from social.models import (
    OPEN,
    AccountMember,
    AccountStatus,
    ClosureRecord,
    ClosureStep,
    MemberRole,
    OperatingProcedure,
    Platform,
    SocialAccount,
)
from social.rules import SocialRuleError

# --- the account ----------------------------------------------------------------------------

ACCOUNT_FIELDS = ("platform", "name", "reading", "handle", "url", "purpose", "audience", "unit_id", "hours", "status",
                  "last_post_on", "review_cycle_months", "next_review_on", "posting_ceiling_id", "allowed_content",
                  "forbidden_content", "approval_before_posting", "forbidden_words", "public_phrases",
                  "profile_states_official", "website_listing_url", "verified_badge", "last_lookalike_scan_on",
                  "mfa_enabled", "mfa_method", "recovery_owned", "last_password_change_on", "connected_apps")


def _url_taken(url: str, exclude_id: int | None) -> bool:
    stmt = select(SocialAccount.id).where(SocialAccount.url == url)
    if exclude_id:
        stmt = stmt.where(SocialAccount.id != exclude_id)
    return db.session.scalar(stmt) is not None


REQUEST_STATES = (AccountStatus.REQUESTED, AccountStatus.REJECTED)


def _check_status_change(account: SocialAccount, wanted: AccountStatus) -> None:
    """The form moves an account only between 運用中 and 休止: opening is the
    approver's decision (decide_opening), closing follows the checklist
    (close)."""
    old = account.status
    if wanted is old:
        return
    if wanted is AccountStatus.CLOSED:
        raise SocialRuleError(_l("廃止は「廃止の手続き」の4項目を記録してから、アカウントの画面の「廃止する」で行います。"),
                              field="status")
    if old is AccountStatus.CLOSED:
        raise SocialRuleError(_l("廃止したアカウントは再開できません。"), field="status")
    if wanted in REQUEST_STATES or old in REQUEST_STATES:
        raise SocialRuleError(_l("開設の申請中・却下のアカウントは、承認者の承認で運用中になります。状態は変更できません。"),
                              field="status")


def save(form: AccountForm, account: SocialAccount, user: User) -> SocialAccount | None:
    """Apply the form and flush: one account per URL, a posting ceiling of
    自治体機密性1 (rules.check_posting_ceiling), one responsible person who
    is not the deputy.  A new account is a request for opening (申請中,
    whatever status the form or row gives); the form moves an existing one
    only between 運用中 and 休止 (_check_status_change).  None, with the
    message in the form, when a rule refuses."""
    url = form.url.data.strip()
    if _url_taken(url, account.id):
        form.url.errors.append(_("このURLのアカウントは既に登録されています。"))
        return None
    new = account.id is None
    try:
        with savepoint():
            rules.check_posting_ceiling(db.session.get(ClassificationLevel, form.posting_ceiling_id.data)
                                        if form.posting_ceiling_id.data else None)
            wanted = AccountStatus.REQUESTED if new else AccountStatus(form.status.data)
            if not new:
                _check_status_change(account, wanted)
            for name in ACCOUNT_FIELDS:
                value = getattr(form, name).data
                if isinstance(value, str):
                    value = value.strip() or None
                setattr(account, name, value)
            account.platform, account.status = Platform(form.platform.data), wanted
            account.url = url
            set_people(account, responsible_id=form.responsible_id.data, deputy_id=form.deputy_id.data,
                       operator_ids=set(form.operator_ids.data or []), holder_ids=set(form.holder_ids.data or []))
            db.session.add(account)
            db.session.flush()
            if new:
                request_opening(account, user)
            else:
                _note_editor(account, user)
    except SocialRuleError as error:
        form[error.field or "responsible_id"].errors.append(str(error))
        return None
    except IntegrityError:
        form.url.errors.append(_("このURLのアカウントは既に登録されています。"))
        return None
    return account


# --- opening: a request decided by someone else (issue 17; DOMAIN.md §4.2 item 2) ------------

def request_opening(account: SocialAccount, user: User):
    """Ask for the account's opening: it is 申請中 until an administrator or
    approver other than ``user`` approves it (decide_opening); until then it
    is not on the public list, not counted as in operation, and not posted
    from (rules.check_can_post)."""
    if account.id is None:
        db.session.add(account)
        db.session.flush()
    if rules.pending_opening(account) is not None:
        raise SocialRuleError(_l("この開設の申請は既に承認待ちです。"))
    account.status = AccountStatus.REQUESTED
    db.session.flush()
    return approvals.request(rules.OPENING, account, reason=_("SNSアカウント「%(name)s」の開設", name=account.name),
                             requester=user)


def resubmit_opening(account: SocialAccount, user: User):
    """Ask again after a rejection (the account edited as the comment asked)."""
    if account.status is not AccountStatus.REJECTED:
        raise SocialRuleError(_l("再申請できるのは開設が却下されたアカウントだけです。"))
    return request_opening(account, user)


def _note_editor(account: SocialAccount, user: User) -> None:
    """Four eyes: a user who may decide and edits the request while it is
    申請中 is named in it, and cannot decide it (decide_opening)."""
    if account.status is AccountStatus.REQUESTED:
        approvals.note_editor(rules.pending_opening(account), user, rules.DECIDERS)


def decide_opening(account: SocialAccount, user: User, *, approve: bool, comment: str | None):
    """Approve the opening (→ 運用中) or reject it with a reason (→ 却下);
    never by the requester, nor by an approver who edited the request."""
    comment = (comment or "").strip()
    request = rules.pending_opening(account) if account.status is AccountStatus.REQUESTED else None
    if request is None:
        raise SocialRuleError(_l("このアカウントには承認待ちの開設の申請がありません。"))
    if not approve and not unicodedata.normalize("NFKC", comment).strip():
        raise SocialRuleError(_l("却下の理由をコメントに記載してください。"))
    if approvals.edited_by(request, user):
        raise SocialRuleError(_l("申請中に内容を変更した人は、この申請を決定できません。別の承認者が決定してください。"))
    try:
        approvals.decide(request, approver=user, approve=approve, comment=comment)
    except approvals.ApprovalError as error:
        raise SocialRuleError(str(error)) from error
    account.status = AccountStatus.ACTIVE if approve else AccountStatus.REJECTED
    audit.label(account, "approve" if approve else "reject")
    db.session.flush()
    return request


def set_people(account: SocialAccount, *, responsible_id: int, deputy_id: int | None, operator_ids: set[int],
               holder_ids: set[int]) -> None:
    """The one responsible person, an optional deputy (someone else), the
    operators and the credential holders."""
    if not responsible_id:
        raise SocialRuleError(_l("責任者を一人選んでください。"))
    if deputy_id and deputy_id == responsible_id:
        raise SocialRuleError(_l("代理者には責任者と別の人を選んでください。"))
    wanted_users = {responsible_id, deputy_id, *operator_ids, *holder_ids}
    kept = {account.responsible_id, account.deputy_id, *(m.user_id for m in account.members)}
    if handover.inactive_among(wanted_users - kept):  # 人事異動: never a responsibility for a leaver
        raise SocialRuleError(_l("無効な利用者はアカウントの担当者にできません。"))
    account.responsible_id, account.deputy_id = responsible_id, deputy_id or None
    wanted = {(uid, MemberRole.OPERATOR) for uid in operator_ids} | {(uid, MemberRole.HOLDER) for uid in holder_ids}
    current = {(m.user_id, m.role): m for m in account.members}
    for key, member in current.items():
        if key not in wanted:
            account.members.remove(member)
    for user_id, role in sorted(wanted - set(current), key=lambda key: (key[1].value, key[0])):
        account.members.append(AccountMember(user_id=user_id, role=role))

# --- closing: a checklist (issue 17; DOMAIN.md §4.3, §4.6) --------------------------------

def record_closure_step(account: SocialAccount, user: User, *, step: ClosureStep, done_on: dt.date | None,
                        note: str | None) -> ClosureRecord:
    """Record one item of the closing checklist done on ``done_on`` (not in
    the future), with a note; recorded again, it is corrected.  Only an
    account in operation or dormant is being closed."""
    if account.status is AccountStatus.CLOSED:
        raise SocialRuleError(_l("廃止したアカウントは変更できません。"))
    if account.status not in OPEN:
        raise SocialRuleError(_l("廃止の手続きは運用中・休止のアカウントについて記録します。"))
    if done_on is None:
        raise SocialRuleError(_l("実施日を入力してください。"), field="done_on")
    if done_on > today():
        raise SocialRuleError(_l("実施日に未来の日付は指定できません。"), field="done_on")
    note = (note or "").strip() or None
    if rules.looks_like_password(note):
        raise SocialRuleError(rules.PASSWORD_MESSAGE, field="note")
    record = account.closure.get(step)
    if record is None:
        record = ClosureRecord(step=step, done_on=done_on, note=note, recorded_by_id=user.id)
        account.closure_records.append(record)
    else:
        record.done_on, record.note, record.recorded_by_id = done_on, note, user.id
    account.updated_at = utcnow()  # a form opened earlier is now stale
    db.session.flush()
    return record


def close(account: SocialAccount, user: User) -> None:
    """Close the account (廃止; the register keeps it) once the four items of
    the checklist are recorded: announced on the account, deleted or
    locked, access and connected apps revoked, removed from the body's
    website.  Refused with what is left; closing a closed one changes
    nothing."""
    if account.status is AccountStatus.CLOSED:
        return
    if account.status not in OPEN:
        raise SocialRuleError(_l("開設の申請中・却下のアカウントは廃止できません。"))
    left = account.closure_left
    if left:
        raise SocialRuleError(_("廃止するには、次の手続きを記録してください: %(items)s",
                                items="、".join(str(step.label) for step in left)))
    audit.label(account, "retire")
    account.status = AccountStatus.CLOSED
    db.session.flush()


# --- operating procedures ------------------------------------------------------------------

def add_procedure(account: SocialAccount, user: User, **texts: str) -> OperatingProcedure:
    """A new version of the operating procedure, waiting for approval by
    someone other than its author; earlier versions stay.  The procedure is
    part of the account: the account is marked changed, so a form opened
    earlier is now stale, and the audit trail names the change."""
    if account.status is AccountStatus.CLOSED:
        raise SocialRuleError(_l("廃止したアカウントは変更できません。"))
    if any(rules.looks_like_password(texts[name]) for name in rules.PROCEDURE_FIELDS):
        raise SocialRuleError(rules.PASSWORD_MESSAGE)  # Itaku never keeps a password
    number = (db.session.scalar(select(func.max(OperatingProcedure.number))
                                .where(OperatingProcedure.account_id == account.id)) or 0) + 1
    procedure = OperatingProcedure(account=account, number=number, author_id=user.id,
                                   **{name: texts[name].strip() for name in rules.PROCEDURE_FIELDS})
    db.session.add(procedure)
    db.session.flush()
    account.procedures.sort(key=lambda p: p.number, reverse=True)
    approval = approvals.request(rules.PROCEDURE, procedure,
                                 reason=_("運用手順 第%(number)s版の承認", number=number), requester=user)
    procedure.approval_id = approval.id
    audit.label(account, "procedure")
    account.updated_at = utcnow()
    db.session.flush()
    return procedure


def decide_procedure(procedure: OperatingProcedure, user: User, *, approve: bool, comment: str | None) -> None:
    """Approve or send back (with a reason) a version of the procedure; never by its author (core.approvals)."""
    approval = rules.procedure_approval(procedure)
    if approval is None:
        raise SocialRuleError(_l("この版には承認の申請がありません。"))
    if not approve and not (comment or "").strip():
        raise SocialRuleError(_l("差し戻す理由をコメントに記載してください。"))
    try:
        approvals.decide(approval, approver=user, approve=approve, comment=(comment or "").strip())
    except approvals.ApprovalError as error:
        raise SocialRuleError(str(error)) from error
    if approve:
        procedure.approved_at, procedure.approver_id = utcnow(), user.id
    db.session.flush()


# --- reviews, incidents, the pre-post check ---------------------------------------------------

def record_review(account: SocialAccount, *, on: dt.date) -> None:
    """A periodic review of the account (core.review); a closed account is not reviewed."""
    if account.status is AccountStatus.CLOSED:
        raise SocialRuleError(_l("廃止したアカウントは変更できません。"))
    review.record(account, on=on, refusal=SocialRuleError)


def record_prepost_check(account: SocialAccount, draft: str, hits: list[prepost.Hit]) -> None:
    """Enter a pre-post check in the audit trail (SNS-06).  The draft is
    not kept: only its hash, its length and what was found."""
    counts: dict[str, int] = {}
    for hit in hits:
        counts[hit.kind] = counts.get(hit.kind, 0) + 1
    audit.log("prepost_check", account, changes={"sha256": prepost.digest(draft), "characters": len(draft),
                                                 "hits": counts})


# --- people change (人事異動, core.handover) -------------------------------------------
# On every account not closed (運用中, 休止): the responsible person (SNS role),
# the deputy, the operators and the credential holders move to a successor.
# The responsible person and the deputy stay two people (rules: one
# responsible person who is not the deputy).

def _open_accounts(user: User) -> list[SocialAccount]:
    member = select(AccountMember.account_id).where(AccountMember.user_id == user.id)
    return list(db.session.scalars(select(SocialAccount).where(
        SocialAccount.status.in_(OPEN),
        (SocialAccount.responsible_id == user.id) | (SocialAccount.deputy_id == user.id)
        | SocialAccount.id.in_(member)).order_by(SocialAccount.name, SocialAccount.id)))


def account_items(user: User) -> list[handover.Item]:
    items = []
    for account in _open_accounts(user):
        link = ("social.detail", {"account_id": account.id})
        if account.responsible_id == user.id:
            items.append(handover.Item(_("%(name)s の責任者", name=account.name), *link,
                                       roles=frozenset({Role.SOCIAL}),
                                       excluded=frozenset({account.deputy_id} - {None})))
        if account.deputy_id == user.id:
            items.append(handover.Item(_("%(name)s の代理者", name=account.name), *link,
                                       excluded=frozenset({account.responsible_id})))
        for member in account.members:
            if member.user_id == user.id:
                items.append(handover.Item(_("%(name)s の%(role)s", name=account.name, role=member.role.label),
                                           *link))
    return items


def hand_over_accounts(leaver: User, successor: User) -> None:
    """The successor takes the leaver's place on each open account: as the
    responsible person, the deputy, an operator or a credential holder (once:
    a place the successor already holds is not doubled)."""
    for account in _open_accounts(leaver):
        if account.responsible_id == leaver.id:
            account.responsible_id = successor.id
        if account.deputy_id == leaver.id:
            account.deputy_id = successor.id
        held = {(m.user_id, m.role) for m in account.members}
        for member in [m for m in account.members if m.user_id == leaver.id]:
            account.members.remove(member)
            if (successor.id, member.role) not in held:
                account.members.append(AccountMember(user_id=successor.id, role=member.role))
        db.session.flush()


def _procedure_item(approval: Approval) -> handover.Item:
    procedure = db.session.get(OperatingProcedure, approval.subject_id)
    if procedure is None:
        return handover.Item(str(approval.reason))
    return handover.Item(_("%(name)s の運用手順 第%(number)s版の承認申請", name=procedure.account.name,
                           number=procedure.number), "social.procedures", {"account_id": procedure.account_id})


def _opening_item(approval: Approval) -> handover.Item:
    account = db.session.get(SocialAccount, approval.subject_id)
    if account is None:
        return handover.Item(str(approval.reason))
    return handover.Item(_("%(name)s の開設の申請", name=account.name), "social.detail", {"account_id": account.id})


def add_responsibilities(house) -> None:
    house.add_responsibility(plugins.Responsibility(
        key="social_account", order=40, label=_l("SNSアカウントの責任者・代理者・運用担当"), items=account_items,
        hand_over=hand_over_accounts))
    house.add_request_kind(rules.PROCEDURE, _procedure_item, roles=frozenset({Role.SOCIAL}))
    house.add_request_kind(rules.OPENING, _opening_item, roles=frozenset({Role.SOCIAL}))


# --- what waits for a user (core.inbox, issue 18) ------------------------------

def inbox_entries(user: User) -> list:
    """The SNS requests ``user`` may decide (procedures and account openings:
    an approver or an administrator, not the requester nor an editor), and the
    open accounts the user is responsible for that carry flags (rules.FLAGS)."""
    found = []
    if user.has_role(*rules.DECIDERS):
        for request, procedure in inbox.pending(rules.PROCEDURE, OperatingProcedure,
                                                (selectinload(OperatingProcedure.account),)):
            if procedure is not None and inbox.may_decide(request, user):
                found.append(inbox.request_entry(
                    _l("SNSの運用手順"), request,
                    _("%(name)s の運用手順 第%(number)s版の承認申請", name=procedure.account.name,
                      number=procedure.number), "social.procedures", {"account_id": procedure.account_id}))
        for request, account in inbox.pending(rules.OPENING, SocialAccount):
            if account is not None and account.status is AccountStatus.REQUESTED and inbox.may_decide(request, user):
                found.append(inbox.request_entry(_l("SNSアカウントの開設"), request,
                                                 _("%(name)s の開設の申請", name=account.name),
                                                 "social.detail", {"account_id": account.id}))
    return found + inbox.flag_entries(rules.FLAGS, SocialAccount.responsible_id == user.id,
                                      _l("SNSアカウント（責任者）"), "social.detail", "account_id")
