"""Rules of the official-account register (DOMAIN.md §4, policy §6(8)).

- exactly one responsible person per account (a required column), who is
  neither the deputy nor missing;
- operating procedures are versioned, never edited, and approved by someone
  other than their author; an account without an approved one is flagged;
- no password is ever stored: free-text fields refuse what looks like one;
- flags: review overdue, no approved procedure, MFA off, dormant for longer
  than ``SOCIAL_DORMANT_DAYS`` since the last post, an open impersonation or
  takeover incident.  Each flag (FLAGS, core.flags) exists in Python (one
  account) and in SQL (lists and counts); the tests check they agree.

This module says what the rules find; social.services makes the changes
they govern.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from core import due
from core import flags as core_flags
from core.approvals import Approval, Decision
from core.db import db
from core.due import EVERYONE, DueItem, DueScope
from core.incidents import ALARMING, OPEN_STATUSES, SOCIAL_ACCOUNT, Incident, Severity
from core.models import Role
from core.refusals import Refusal
from social.models import OPEN, AccountStatus, OperatingProcedure, SocialAccount

PROCEDURE = "social_procedure"
OPENING = "social_opening"

# Who decides procedures and openings (DOMAIN.md §4.2 item 2: opening and
# material changes are approved by the PR/IT head): never the requester.
DECIDERS = frozenset({Role.ADMIN, Role.APPROVER})


class SocialRuleError(Refusal):
    """A change the rules refuse; the message is for the user."""


# --- no passwords -----------------------------------------------------------------

# A label, a separator (":", "=", "は", or straight into quotes) and a value
# the way a secret is written: four or more ASCII characters without spaces,
# ending where the text does, at a space, punctuation or hiragana
# ("…Abc12345です").  "パスワードを変更する", "パスワードは推測されにくい…",
# "パスワード: 8文字以上" or "パスワード：2026年4月に変更" are ordinary text.
# The text is NFKC-folded first (ＰＷ：ｘｘｘｘ is PW:xxxx).
_SECRET_LABEL = re.compile(
    r"(?:(?<![A-Za-z])(?i:password|passwd|passcode|pwd|pw)(?![A-Za-z])|パスワード|パスコード|暗証番号)"
    r"\s*(?:[:=]|は|(?=[「『\"']))\s*[「『\"']?"
    r"[!-~]{4,}(?=$|[\s、。,.)」』\"'!?]|[\u3041-\u309f])")


PASSWORD_MESSAGE = _l("パスワードのような文字列が含まれています。パスワードそのものは登録できません。"
                      "保管場所や保持者だけを記録してください。")


def looks_like_password(text: str | None) -> bool:
    """A labelled secret ("パスワード: Abc12345", "password=hunter2",
    "PW：xxxx"), or a token that mixes letters, digits and a symbol the way a
    password does.  The word パスワード followed by ordinary text is not one
    (the default procedure's 「…パスワードを変更する」), nor are product
    names and versions (Microsoft365, ISO/IEC27001, Windows-11), handles
    (@…), URLs and email addresses."""
    if not text:
        return False
    text = unicodedata.normalize("NFKC", text)
    if _SECRET_LABEL.search(text):
        return True
    for token in re.split(r"[\s、,，。（）()「」]+", text):
        if len(token) < 8 or token.startswith("@") or "://" in token or re.fullmatch(r"\S+@\S+\.\S+", token):
            continue
        if re.search(r"[A-Za-z]", token) and re.search(r"\d", token) and re.search(r"[!#$%&*+=?^~|@;:]", token):
            return True
    return False


# --- the posting ceiling ---------------------------------------------------------------

# Policy (DOMAIN.md §4): an official account posts published information only,
# that is 自治体機密性1; the ceiling is stored per account (posting_ceiling_id).
CEILING_CODE = "C1"
CEILING_MESSAGE = _l("SNSで発信できるのは自治体機密性1の情報（公表済みの情報）だけです。"
                     "「発信できる情報の機密性」には自治体機密性1を選んでください。")


def check_posting_ceiling(level) -> None:
    """The account's posting ceiling is 自治体機密性1 and nothing higher."""
    if level is None or level.code != CEILING_CODE:
        raise SocialRuleError(CEILING_MESSAGE, field="posting_ceiling_id")


# --- flags ---------------------------------------------------------------------------------

def dormant_days() -> int:
    return int(current_app.config.get("SOCIAL_DORMANT_DAYS", 180))


def _approved_procedure_exists():
    return exists(select(OperatingProcedure.id).where(
        OperatingProcedure.account_id == SocialAccount.id, OperatingProcedure.approved_at.is_not(None))
        .correlate(SocialAccount))


def _open_severe_incident():
    """An open incident of the account that the dashboards show in red
    (core.incidents.Incident.alarming): 重大, or a takeover or impersonation."""
    return exists(select(Incident.id).where(
        Incident.subject_type == SOCIAL_ACCOUNT, Incident.subject_id == SocialAccount.id,
        Incident.status.in_(OPEN_STATUSES), (Incident.severity == Severity.SEVERE) | Incident.kind.in_(ALARMING))
        .correlate(SocialAccount))


def _dormant(account: SocialAccount, on: dt.date) -> bool:
    return account.last_post_on is not None and account.last_post_on < on - dt.timedelta(days=dormant_days())


# In the order the badges and the dashboard show them: the most urgent first.
FLAGS = core_flags.FlagSet(SocialAccount.status, OPEN, [
    core_flags.Flag("open_incident", _l("なりすまし・乗っ取り対応中"),
                    lambda account, on: any(i.alarming for i in account.incidents),
                    lambda on: _open_severe_incident()),
    core_flags.Flag("no_procedure", _l("承認済みの運用手順なし"), lambda account, on: account.approved_procedure is None,
                    lambda on: ~_approved_procedure_exists()),
    core_flags.Flag("mfa_off", _l("二要素認証なし"), lambda account, on: not account.mfa_enabled,
                    lambda on: SocialAccount.mfa_enabled.is_(False)),
    core_flags.Flag("dormant", _l("長期間投稿なし"), _dormant,
                    lambda on: SocialAccount.last_post_on < on - dt.timedelta(days=dormant_days())),
    core_flags.Flag("review_overdue", _l("見直し期限超過"),
                    lambda account, on: account.next_review_on is not None and account.next_review_on < on,
                    lambda on: SocialAccount.next_review_on < on),
], unit=lambda unit_id: SocialAccount.unit_id == unit_id)


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


def procedure_approval(procedure: OperatingProcedure) -> Approval | None:
    return db.session.get(Approval, procedure.approval_id) if procedure.approval_id else None


# --- opening: a request (issue 17) ---------------------------------------------------------

def opening_requests(account: SocialAccount) -> list[Approval]:
    """The account's opening requests, the latest first."""
    if account.id is None:
        return []
    return db.session.scalars(select(Approval).where(
        Approval.kind == OPENING, Approval.subject_type == SocialAccount.__tablename__,
        Approval.subject_id == account.id).options(selectinload(Approval.requested_by), selectinload(Approval.approver))
        .order_by(Approval.requested_at.desc(), Approval.id.desc())).all()


def pending_opening(account: SocialAccount) -> Approval | None:
    return next((a for a in opening_requests(account) if a.decision is Decision.PENDING), None)


NOT_OPEN_MESSAGE = _l("このアカウントは開設の承認前です。承認者が開設を承認するまで投稿できません。")


def check_can_post(account: SocialAccount) -> None:
    """Only an account that is the body's (運用中 or 休止) is posted from: a
    request not yet approved, or a closed account, is refused."""
    if account.status in (AccountStatus.REQUESTED, AccountStatus.REJECTED):
        raise SocialRuleError(NOT_OPEN_MESSAGE, field="account_id")
    if account.status not in OPEN:
        raise SocialRuleError(_l("廃止したアカウントからは投稿できません。"), field="account_id")


# --- due items (reminders, calendar) --------------------------------------------------------

SCAN_INTERVAL_DAYS = 30  # SNS-04: look for impersonators monthly


def _due_statements(scope: DueScope) -> list:
    """(statement, its date column, kind, title, days from the column's date
    to the due date) per kind of the open accounts and per owner asked for
    (the account's responsible person): the impersonation scan is due
    SCAN_INTERVAL_DAYS after the last, whose stored date is compared."""
    owners = scope.owners()
    parts = []
    for column, kind, title, shift in (
            (SocialAccount.next_review_on, "social_review", "SNSアカウントの見直し", dt.timedelta()),
            (SocialAccount.last_lookalike_scan_on, "social_scan", "なりすましアカウントの点検",
             dt.timedelta(days=SCAN_INTERVAL_DAYS))):
        stmt = (select(SocialAccount.id, SocialAccount.name, column, SocialAccount.responsible_id)
                .where(SocialAccount.status.in_(OPEN), column.is_not(None)))
        parts += [(stmt, column, kind, title, shift)] if owners is None else [
            (stmt.where(due.owned(SocialAccount.responsible_id, owner)), column, kind, title, shift)
            for owner in owners]
    return parts


def due_items(scope: DueScope = EVERYONE) -> list[DueItem]:
    """Each open account: its review and its monthly impersonation scan (SNS-04)."""
    found = []
    for stmt, column, kind, title, shift in _due_statements(scope):
        for account_id, name, on, responsible_id in db.session.execute(
                due.window(scope, stmt, column, SocialAccount.id, shift)):
            due_on = on + shift
            found.append(DueItem(key=f"{kind}:{account_id}:{due_on.isoformat()}", kind=kind, title=f"{title} {name}",
                                 due_on=due_on, owner_id=responsible_id, endpoint="social.detail",
                                 params={"account_id": account_id}))
    return found


def due_count(scope: DueScope = EVERYONE) -> int:
    return due.tally_all(scope, [(stmt, column, shift) for stmt, column, _kind, _title, shift in _due_statements(scope)])
