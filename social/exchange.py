"""The official social-media account register for spreadsheets and the
API (core.registers), matched on the account's URL."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.auth import SOCIAL_READERS
from core.db import db
from core.models import Role
from core.registers import Field, Register, level_by_code, unit_by_name, user_by_name
from social import services
from social.forms import account_form
from social.lists import LIST
from social.models import AccountMember, AccountStatus, Platform, SocialAccount


def _text(name: str, ja: str, width: int = 24) -> Field:
    return Field(name, ja, lambda a: getattr(a, name), width=width, field=name)


def _date(name: str, ja: str) -> Field:
    return Field(name, ja, lambda a: getattr(a, name), kind="date", width=12, field=name)


def _flag(name: str, ja: str) -> Field:
    return Field(name, ja, lambda a: getattr(a, name), kind="boolean", width=9, field=name)


def _people(name: str, ja: str, field: str) -> Field:
    return Field(name, ja, lambda a: [u.display_name for u in getattr(a, name)], kind="ref", ref=user_by_name,
                 many=True, width=20, field=field, description="user names or full names, separated by 、")


FIELDS = [
    Field("id", "ID", lambda a: a.id, kind="integer", width=7, read_only=True),
    Field("platform", "サービス", lambda a: a.platform, kind="enum", enum=Platform, width=12, field="platform",
          required=True),
    Field("name", "アカウント名", lambda a: a.name, width=24, field="name", required=True),
    Field("reading", "よみ", lambda a: a.reading, width=24, field="reading",
          description="the name's reading in katakana (hiragana is stored as katakana); the list sorts by it"),
    _text("handle", "ハンドル", 16),
    Field("url", "URL", lambda a: a.url, width=32, field="url", required=True, description="unique; the import matches on it"),
    _text("purpose", "目的", 30),
    _text("audience", "対象"),
    Field("unit", "担当組織", lambda a: a.unit.name if a.unit else None, kind="ref", ref=unit_by_name, width=18,
          field="unit_id", required=True),
    Field("responsible", "責任者", lambda a: a.responsible.display_name if a.responsible else None, kind="ref",
          ref=user_by_name, width=14, field="responsible_id", required=True),
    Field("deputy", "代理者", lambda a: a.deputy.display_name if a.deputy else None, kind="ref", ref=user_by_name,
          width=14, field="deputy_id"),
    _people("operators", "運用担当", "operator_ids"),
    _text("hours", "監視・返信の時間帯", 18),
    Field("status", "状態", lambda a: a.status, kind="enum", enum=AccountStatus, width=9, field="status",
          required=True),
    _date("last_post_on", "最終投稿日"),
    Field("review_cycle_months", "見直しの周期（月）", lambda a: a.review_cycle_months, kind="integer", width=10,
          field="review_cycle_months", required=True),
    _date("next_review_on", "次回見直し日"),
    Field("posting_ceiling", "発信できる情報の機密性", lambda a: a.posting_ceiling.label_ja if a.posting_ceiling else None,
          kind="ref", ref=level_by_code, width=16, field="posting_ceiling_id", required=True),
    _text("allowed_content", "発信してよい内容", 30),
    _text("forbidden_content", "発信してはならない内容", 30),
    _flag("approval_before_posting", "投稿前の承認"),
    _text("forbidden_words", "禁止語・禁止表現"),
    _text("public_phrases", "公開してよい表記"),
    _flag("profile_states_official", "公式と明記"),
    _text("website_listing_url", "公式サイトの掲載ページ", 28),
    _flag("verified_badge", "認証バッジ"),
    _date("last_lookalike_scan_on", "なりすまし点検日"),
    _flag("mfa_enabled", "二要素認証"),
    _text("mfa_method", "二要素認証の方法", 16),
    _people("holders", "認証情報の保持者", "holder_ids"),
    _flag("recovery_owned", "復旧手段は組織のもの"),
    _date("last_password_change_on", "パスワード変更日"),
    _text("connected_apps", "連携アプリ"),
    Field("updated_at", "更新日時", lambda a: a.updated_at, kind="datetime", width=19, read_only=True),
]


def _query():
    return select(SocialAccount).options(
        selectinload(SocialAccount.unit), selectinload(SocialAccount.responsible),
        selectinload(SocialAccount.deputy), selectinload(SocialAccount.posting_ceiling),
        selectinload(SocialAccount.members).selectinload(AccountMember.user))


def _match(values: dict[str, str]):
    url = (values.get("url") or "").strip()
    return db.session.scalar(select(SocialAccount).where(SocialAccount.url == url)) if url else None


def _save(form, account: SocialAccount) -> SocialAccount | None:
    """A row or a request saves as the page does, as the user who sends it:
    a new account is a request for opening."""
    return services.save(form, account, current_user)


def _retire(account: SocialAccount, user) -> None:
    """Closing follows the checklist (services.close): refused with what is left."""
    services.close(account, user)


def register() -> Register:
    return Register(
        name="social", title=_l("ソーシャルメディア"), model=SocialAccount, fields=FIELDS, query=_query,
        list_view=LIST, readers=SOCIAL_READERS, writers=frozenset({Role.SOCIAL}), form=account_form,
        save=_save, match=_match, key_label=_l("アカウントのURL"), retire=_retire,
        endpoint="social.detail", list_endpoint="social.index", summary=lambda a: a.name)
