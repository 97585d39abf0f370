"""The incident register's demo records (a core.demo seeder, after the
domains'): the impersonation of the fire department's X account, still
open, and last month's wrong post, closed — the SNS incidents of before, so
the dashboard's red notice has something to show."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.db import db
from core.incidents import SOCIAL_ACCOUNT, Incident, IncidentKind, Severity
from core.timeutil import JST
from incidents import services


def _at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), JST).astimezone(dt.UTC).replace(tzinfo=None)


def _subject(kind: str, text: str) -> int | None:
    found = services.subject(kind)
    return next((record_id for record_id, shown in found.choices() if text in shown), None)


def seed(demo) -> None:
    if db.session.scalar(select(Incident.id).limit(1)) is not None:
        return
    author, today = demo.users["social"], demo.today
    x_account = _subject(SOCIAL_ACCOUNT, "○○消防本部 公式")
    if x_account is not None:
        incident = services.record(
            by=author, kind=IncidentKind.IMPERSONATION, severity=Severity.MODERATE,
            title="X公式アカウントのなりすまし", subject_type=SOCIAL_ACCOUNT, subject_id=x_account,
            summary="「@example_ll9」（数字の1を小文字のlに置き換えた名前）が当本部を名乗り、募金を呼びかけている。",
            occurred_at=_at(today - dt.timedelta(days=2)), learned_at=_at(today - dt.timedelta(days=2), 10),
            reporter="住民からの電話（予防課）")
        services.add_action(incident, author, "X社の報告フォームからなりすましとして報告した。")
        services.add_action(incident, author, "公式サイトと防災LINEで、なりすましアカウントへの注意を呼びかけた。")
        services.update_checklist(incident, done={"INC-01", "INC-02", "INC-05"})
    youtube = _subject(SOCIAL_ACCOUNT, "○○消防チャンネル")
    if youtube is not None:
        incident = services.record(
            by=author, kind=IncidentKind.WRONG_POST, severity=Severity.MINOR, title="訓練動画の概要欄の誤記載",
            subject_type=SOCIAL_ACCOUNT, subject_id=youtube,
            summary="訓練動画の概要欄に、公開前のイベント日程を誤って記載した。",
            occurred_at=_at(today - dt.timedelta(days=40)), learned_at=_at(today - dt.timedelta(days=40), 11))
        services.add_action(incident, author, "概要欄を修正し、訂正のお知らせを掲載した。")
        services.notify(incident, author, recipient_role="lead", recipient="統括 守",
                        notified_at=_at(today - dt.timedelta(days=40), 13), means="電子メール")
        services.close(incident, author, closed_at=_at(today - dt.timedelta(days=39), 17),
                       cause="投稿前の確認で公開日を照合しなかった。",
                       prevention="投稿前チェックを必ず行い、公開日を確認することにした。",
                       measures=[services.MeasureEntry("投稿前チェック表に公開日の照合欄を加える", author.id,
                                                       today + dt.timedelta(days=20))])
    db.session.flush()
