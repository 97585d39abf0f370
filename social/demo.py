"""The demo's official social-media accounts (core/demo.py runs this
seeder), with their procedures, reviews and closures through the social rules."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.db import db
from core.demo import Demo
from social import rules, services
from social.models import AccountStatus, ClosureStep, Platform, SocialAccount

# The closed account's checklist (issue 17): step, days ago, note.
CLOSURE = (
    (ClosureStep.ANNOUNCE, 40, "固定投稿で廃止日と後継のXアカウントを告知"),
    (ClosureStep.DELETE_OR_LOCK, 30, "非公開（ロック）に設定"),
    (ClosureStep.REVOKE, 30, "予約投稿ツールの連携を解除、全端末からログアウト"),
    (ClosureStep.WEBSITE, 29, "公式サイトのSNS一覧から削除"),
)


# the accounts' readings (よみ): the list sorts by them (issue 20)
READINGS = {
    "○○消防本部 公式": "マルマルショウボウホンブ コウシキ",
    "○○消防チャンネル": "マルマルショウボウチャンネル",
    "○○消防 防災LINE": "マルマルショウボウ ボウサイライン",
    "○○消防本部": "マルマルショウボウホンブ",
    "○○消防 予防広報": "マルマルショウボウ ヨボウコウホウ",
    "○○消防 防災ショート動画": "マルマルショウボウ ボウサイショートドウガ",
}


def seed(demo: Demo) -> None:
    """Official accounts on several platforms: procedures approved by someone
    other than their author (one still waiting), one account without MFA,
    one dormant, one closed after its four-item closing checklist, one
    whose opening was approved by someone other than its requester and one
    whose opening is still requested (issue 17).  Their incidents are the
    incident register's (incidents.demo)."""
    units, users, levels, today = demo.units, demo.users, demo.levels, demo.today
    procedure = {name: str(text).replace("目的: \n対象: \n発信内容: \n", "目的: 火災予防・防災情報の発信\n対象: 管内の住民\n"
                                                                      "発信内容: 火災予防の啓発、災害情報、イベント\n")
                 for name, text in rules.DEFAULT_PROCEDURE.items()}
    # platform, name, handle, url, status, days since the last post, MFA, procedure approved?
    rows = (
        (Platform.X, "○○消防本部 公式", "@example_119", "https://x.com/example_119", AccountStatus.ACTIVE, 1, True, True),
        (Platform.YOUTUBE, "○○消防チャンネル", "@example119ch", "https://www.youtube.com/@example119ch",
         AccountStatus.ACTIVE, 12, True, True),
        (Platform.LINE, "○○消防 防災LINE", None, "https://page.line.me/example119", AccountStatus.ACTIVE, 3, False, False),
        (Platform.FACEBOOK, "○○消防本部", None, "https://www.facebook.com/example119", AccountStatus.DORMANT, 240, True,
         True),
        (Platform.INSTAGRAM, "○○消防 予防広報", "@example119_yobou", "https://www.instagram.com/example119_yobou",
         AccountStatus.CLOSED, 400, True, True),
        (Platform.TIKTOK, "○○消防 防災ショート動画", "@example119_short", "https://www.tiktok.com/@example119_short",
         AccountStatus.REQUESTED, 0, True, False),
    )
    author, approver = users["social"], users["approver"]
    for platform, name, handle, url, status, days, mfa, approved in rows:
        if db.session.scalar(select(SocialAccount.id).where(SocialAccount.url == url)) is not None:
            continue
        account = SocialAccount(
            platform=platform, name=name, reading=READINGS.get(name), handle=handle, url=url, status=AccountStatus.ACTIVE, unit=units["予防課"],
            purpose="火災予防・防災情報の発信", audience="管内の住民・事業者", hours="平日8時30分〜17時15分（災害時は随時）",
            last_post_on=today - dt.timedelta(days=days), posting_ceiling=levels["C1"],
            allowed_content="公表済みの情報、火災予防・防災の啓発、イベントの案内",
            forbidden_content="個人情報、未公表の内部情報、著作権・肖像権を侵害するもの",
            forbidden_words="出動中の隊員の氏名\n/救急.{0,4}搬送先/", public_phrases="0125-22-1234\n滝川市栄町3丁目5番12号",
            profile_states_official=True, website_listing_url="https://www.example.lg.jp/sns/",
            verified_badge=platform is Platform.X, last_lookalike_scan_on=today - dt.timedelta(days=20),
            mfa_enabled=mfa, mfa_method="認証アプリ" if mfa else None, recovery_owned=True,
            last_password_change_on=today - dt.timedelta(days=90), connected_apps="予約投稿ツール",
            review_cycle_months=12, last_reviewed_on=today - dt.timedelta(days=200),
            next_review_on=today + dt.timedelta(days=165))
        db.session.add(account)
        services.set_people(account, responsible_id=author.id, deputy_id=users["admin"].id,
                         operator_ids={author.id}, holder_ids={author.id})
        db.session.flush()
        version = services.add_procedure(account, author, **procedure)
        if approved:
            services.decide_procedure(version, approver, approve=True, comment="")
        if platform is Platform.X:  # opened through the request rule: approved by someone else
            services.request_opening(account, author)
            services.decide_opening(account, approver, approve=True, comment="公式サイトへの掲載を確認した。")
        if status is AccountStatus.REQUESTED:
            account.last_post_on = None  # nothing posted before the opening is approved
            services.request_opening(account, author)
        elif status is AccountStatus.CLOSED:
            for step, days_ago, note in CLOSURE:
                services.record_closure_step(account, author, step=step, done_on=today - dt.timedelta(days=days_ago),
                                             note=note)
            services.close(account, author)
        else:
            account.status = status
    db.session.flush()
