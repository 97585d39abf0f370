"""Rules of the official-account register (DOMAIN.md §4, policy §6(8)).

- exactly one responsible person per account (a required column), who is
  neither the deputy nor missing;
- operating procedures are versioned, never edited, and approved by someone
  other than their author; an account without an approved one is flagged;
- no password is ever stored: free-text fields refuse what looks like one;
- flags: review overdue, no approved procedure, MFA off, dormant for longer
  than ``SOCIAL_DORMANT_DAYS`` since the last post, an open impersonation or
  takeover incident.  Each flag exists in Python (one account) and in SQL
  (lists and counts); the tests check they agree.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Iterator

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import selectinload

from core import approvals, audit
from core import flags as core_flags
from core.approvals import Approval
from core.db import db
from core.due import DueItem
from core.models import User
from core.refusals import Refusal
from core.timeutil import add_months, today, utcnow
from social.models import (
    OPEN,
    SEVERE,
    AccountMember,
    AccountStatus,
    Incident,
    IncidentAction,
    MemberRole,
    OperatingProcedure,
    SocialAccount,
)

PROCEDURE = "social_procedure"


class SocialRuleError(Refusal):
    """A change the rules refuse; the message is for the user."""


# --- no passwords -----------------------------------------------------------------

_SECRET_LABEL = re.compile(r"(?i)(?:password|passwd|passcode|pwd|pw|パスワード|パスコード|暗証番号)\s*[:：=＝は]\s*\S+")


def looks_like_password(text: str | None) -> bool:
    """A labelled secret ("パスワード: …"), or a token that mixes letters,
    digits and a symbol the way a password does.  Product names and versions
    (Microsoft365, ISO/IEC27001, Windows-11), handles (@…), URLs and email
    addresses are not tokens of that kind."""
    if not text:
        return False
    if _SECRET_LABEL.search(text):
        return True
    for token in re.split(r"[\s、,，。（）()「」]+", text):
        if len(token) < 8 or token.startswith("@") or "://" in token or re.fullmatch(r"\S+@\S+\.\S+", token):
            continue
        if re.search(r"[A-Za-z]", token) and re.search(r"\d", token) and re.search(r"[!#$%&*+=?^~|@;:]", token):
            return True
    return False


# --- flags of one account ---------------------------------------------------------------

def dormant_days() -> int:
    return int(current_app.config.get("SOCIAL_DORMANT_DAYS", 180))


@dataclass
class Flags:
    review_overdue: bool = False
    no_procedure: bool = False
    mfa_off: bool = False
    dormant: bool = False
    open_incident: bool = False

    def names(self) -> set[str]:
        return {name for name, on in vars(self).items() if on}

    def __bool__(self) -> bool:
        return bool(self.names())


def flags(account: SocialAccount, on: dt.date | None = None) -> Flags:
    on = on or today()
    if account.status not in OPEN:
        return Flags()
    return Flags(
        review_overdue=account.next_review_on is not None and account.next_review_on < on,
        no_procedure=account.approved_procedure is None,
        mfa_off=not account.mfa_enabled,
        dormant=account.last_post_on is not None and account.last_post_on < on - dt.timedelta(days=dormant_days()),
        open_incident=any(i.is_open and i.kind in SEVERE for i in account.incidents),
    )


# --- the same flags in SQL ---------------------------------------------------------------

def _approved_procedure_exists():
    return exists(select(OperatingProcedure.id).where(
        OperatingProcedure.account_id == SocialAccount.id, OperatingProcedure.approved_at.is_not(None))
        .correlate(SocialAccount))


def _open_severe_incident():
    return exists(select(Incident.id).where(
        Incident.account_id == SocialAccount.id, Incident.closed_on.is_(None), Incident.kind.in_(SEVERE))
        .correlate(SocialAccount))


FLAG_EXPRESSIONS = {
    "review_overdue": lambda on: SocialAccount.next_review_on < on,
    "no_procedure": lambda on: ~_approved_procedure_exists(),
    "mfa_off": lambda on: SocialAccount.mfa_enabled.is_(False),
    "dormant": lambda on: SocialAccount.last_post_on < on - dt.timedelta(days=dormant_days()),
    "open_incident": lambda on: _open_severe_incident(),
}


def flag_expr(name: str, on: dt.date | None = None):
    return and_(SocialAccount.status.in_(OPEN), FLAG_EXPRESSIONS[name](on or today()))


def flags_of(ids: list[int], on: dt.date | None = None) -> dict[int, set[str]]:
    """The flags of many records in one query: id → names."""
    return core_flags.flags_of(SocialAccount.id, {name: flag_expr(name, on) for name in FLAG_EXPRESSIONS}, ids)


def count_flag_query(name: str, unit_id: int | None = None, on: dt.date | None = None) -> Select:
    """SELECT count of the live records carrying a flag (of one unit when given)."""
    stmt = select(func.count()).select_from(SocialAccount).where(flag_expr(name, on))
    if unit_id is not None:
        stmt = stmt.where(SocialAccount.unit_id == unit_id)
    return stmt


def count_flag(name: str, unit_id: int | None = None, on: dt.date | None = None) -> int:
    return db.session.scalar(count_flag_query(name, unit_id, on)) or 0


# --- people ------------------------------------------------------------------------------

def set_people(account: SocialAccount, *, responsible_id: int, deputy_id: int | None, operator_ids: set[int],
               holder_ids: set[int]) -> None:
    """The one responsible person, an optional deputy (someone else), the
    operators and the credential holders."""
    if not responsible_id:
        raise SocialRuleError(_l("責任者を一人選んでください。"))
    if deputy_id and deputy_id == responsible_id:
        raise SocialRuleError(_l("代理者には責任者と別の人を選んでください。"))
    account.responsible_id, account.deputy_id = responsible_id, deputy_id or None
    wanted = {(uid, MemberRole.OPERATOR) for uid in operator_ids} | {(uid, MemberRole.HOLDER) for uid in holder_ids}
    current = {(m.user_id, m.role): m for m in account.members}
    for key, member in current.items():
        if key not in wanted:
            account.members.remove(member)
    for user_id, role in sorted(wanted - set(current), key=lambda key: (key[1].value, key[0])):
        account.members.append(AccountMember(user_id=user_id, role=role))


# --- operating procedures ----------------------------------------------------------------

PROCEDURE_FIELDS = ("purpose", "opening", "supervision", "posting", "impersonation", "credentials", "incidents")

# The first version starts from this outline of DOMAIN.md §4.2.
DEFAULT_PROCEDURE = {
    "purpose": _l("目的: \n対象: \n発信内容: \n投稿者: 運用担当として登録した職員\n時間帯: 平日8時30分〜17時15分（災害時は随時）"),
    "opening": _l("アカウントの開設と運用手順の重要な変更は、広報担当課長と情報セキュリティ責任者の承認を受ける。"),
    "supervision": _l("責任者は運用を監督し、投稿内容と運用状況を少なくとも年1回見直す。"),
    "posting": _l("発信できるのは自治体機密性1の情報に限る。個人情報、未公表の内部情報は発信しない。著作権・肖像権を尊重する。"),
    "impersonation": _l("プロフィールに公式アカウントであることと運用者を明記し、組合の公式サイトに掲載する。"
                        "なりすましアカウントを毎月点検し、発見した場合はサービス事業者に報告し、公式サイトで注意を呼びかける。"),
    "credentials": _l("二要素認証を有効にする。認証情報の保持者を限定し、異動・退職時は速やかにパスワードを変更する。"
                      "パスワードは推測されにくいものとし、他のサービスと使い回さない。"),
    "incidents": _l("乗っ取り・なりすましは情報セキュリティインシデントとして責任者と情報セキュリティ担当に報告する。"
                    "サービス停止時は公式サイトで情報を発信する。"),
}


def add_procedure(account: SocialAccount, user: User, **texts: str) -> OperatingProcedure:
    """A new version, waiting for approval; earlier versions stay."""
    if account.status is AccountStatus.CLOSED:
        raise SocialRuleError(_l("廃止したアカウントは変更できません。"))
    number = (db.session.scalar(select(func.max(OperatingProcedure.number))
                                .where(OperatingProcedure.account_id == account.id)) or 0) + 1
    procedure = OperatingProcedure(account=account, number=number, author_id=user.id,
                                   **{name: texts[name].strip() for name in PROCEDURE_FIELDS})
    db.session.add(procedure)
    db.session.flush()
    account.procedures.sort(key=lambda p: p.number, reverse=True)
    approval = approvals.request(PROCEDURE, procedure, reason=_("運用手順 第%(number)s版の承認", number=number),
                                 requester=user)
    procedure.approval_id = approval.id
    return procedure


def procedure_approval(procedure: OperatingProcedure) -> Approval | None:
    return db.session.get(Approval, procedure.approval_id) if procedure.approval_id else None


def decide_procedure(procedure: OperatingProcedure, user: User, *, approve: bool, comment: str | None) -> None:
    approval = procedure_approval(procedure)
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


# --- reviews, incidents ---------------------------------------------------------------------

def record_review(account: SocialAccount, *, on: dt.date) -> None:
    if account.status is AccountStatus.CLOSED:
        raise SocialRuleError(_l("廃止したアカウントは変更できません。"))
    if on > today():
        raise SocialRuleError(_l("見直し日に未来の日付は指定できません。"))
    account.last_reviewed_on = on
    account.next_review_on = add_months(on, account.review_cycle_months)
    audit.label(account, "review")
    db.session.flush()


INCIDENT_ITEMS = (
    ("INC-01", _l("責任者と情報セキュリティの担当に報告した")),
    ("INC-02", _l("サービス事業者に報告し、回復・削除を依頼した")),
    ("INC-03", _l("パスワード等を再設定し、すべてのセッションを終了した")),
    ("INC-04", _l("連携アプリの許可を見直し、不審なものを解除した")),
    ("INC-05", _l("公式サイトや他の公式アカウントで住民に周知した")),
    ("INC-06", _l("緊急の情報（災害・避難など）を公式サイトにも掲載した")),
    ("INC-07", _l("再発防止策（二要素認証・保持者の見直しなど）を決めた")),
)


def open_incident(account: SocialAccount, user: User, *, kind, occurred_on: dt.date, summary: str,
                  notified: str | None) -> Incident:
    if occurred_on > today():
        raise SocialRuleError(_l("発生日に未来の日付は指定できません。"))
    incident = Incident(account=account, kind=kind, occurred_on=occurred_on, summary=summary.strip(),
                        notified=(notified or "").strip() or None, reported_by_id=user.id,
                        checklist={code: False for code, _label in INCIDENT_ITEMS})
    db.session.add(incident)
    db.session.flush()
    return incident


def add_action(incident: Incident, user: User, text: str) -> IncidentAction:
    if not incident.is_open:
        raise SocialRuleError(_l("終了した事案には記録を追加できません。"))
    action = IncidentAction(incident=incident, user_id=user.id, text=text.strip(), at=utcnow())
    db.session.add(action)
    incident.updated_at = utcnow()  # a second form opened earlier is now stale
    db.session.flush()
    return action


def update_response(incident: Incident, *, done: set[str], notified: str | None) -> None:
    if not incident.is_open:
        raise SocialRuleError(_l("終了した事案は変更できません。"))
    incident.checklist = {code: code in done for code, _label in INCIDENT_ITEMS}
    incident.notified = (notified or "").strip() or None
    db.session.flush()


def close_incident(incident: Incident, *, closed_on: dt.date, note: str) -> None:
    if not incident.is_open:
        raise SocialRuleError(_l("この事案は既に終了しています。"))
    if closed_on < incident.occurred_on or closed_on > today():
        raise SocialRuleError(_l("終了日は発生日から今日までの日付にしてください。"))
    incident.closed_on, incident.closing_note = closed_on, note.strip()
    audit.label(incident, "close")
    db.session.flush()


# --- due items (reminders, calendar) --------------------------------------------------------

SCAN_INTERVAL_DAYS = 30  # SNS-04: look for impersonators monthly


def due_items() -> Iterator[DueItem]:
    accounts = db.session.scalars(select(SocialAccount).where(SocialAccount.status.in_(OPEN))
                                  .options(selectinload(SocialAccount.responsible))).all()
    for account in accounts:
        if account.next_review_on is not None:
            yield DueItem(key=f"social_review:{account.id}:{account.next_review_on.isoformat()}", kind="social_review",
                          title=f"SNSアカウントの見直し {account.name}", due_on=account.next_review_on,
                          owner_id=account.responsible_id, endpoint="social.detail",
                          params={"account_id": account.id})
        if account.last_lookalike_scan_on is not None:
            due = account.last_lookalike_scan_on + dt.timedelta(days=SCAN_INTERVAL_DAYS)
            yield DueItem(key=f"social_scan:{account.id}:{due.isoformat()}", kind="social_scan",
                          title=f"なりすましアカウントの点検 {account.name}", due_on=due,
                          owner_id=account.responsible_id, endpoint="social.detail",
                          params={"account_id": account.id})

