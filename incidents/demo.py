"""The incident register's demo records (a core.demo seeder, after the
domains'): the impersonation of the fire department's X account, still
open, and last month's wrong post, closed — the SNS incidents of before, so
the dashboard's red notice has something to show (the impersonation first:
incident 1 of a fresh demo, which the access sweep opens as every role);
then a contractor's lost USB stick holding residents' personal data,
reported to the body two days after it was noticed (C10 asks for 24 hours),
and an outage of the e-mail cloud service, contained."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.db import db
from core.incidents import CLOUD_SERVICE, CONTRACT, SOCIAL_ACCOUNT, Incident, IncidentKind, Severity
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
    _lost_usb_stick(demo)
    _cloud_outage(demo)
    db.session.flush()


def _lost_usb_stick(demo) -> None:
    """R8-001's contractor lost a USB stick with residents' data and told the
    body two days after noticing it: late under C10 (24 hours)."""
    contract = _subject(CONTRACT, "R8-001 ")
    if contract is None:
        return
    occurred = _at(demo.today - dt.timedelta(days=5), 14)
    reported = occurred + dt.timedelta(days=2, hours=3)
    incident = services.record(
        by=demo.users.get("procurement", demo.users["admin"]), kind=IncidentKind.LEAK, severity=Severity.SEVERE,
        title="受託者従業員によるUSBメモリの紛失", subject_type=CONTRACT, subject_id=contract,
        summary="保守作業のため持ち出した119番通報記録の抽出データ（氏名・住所・電話番号）を保存したUSBメモリを、"
                "受託者の従業員が帰宅途中に紛失した。暗号化されていなかった。",
        occurred_at=occurred, detected_at=occurred + dt.timedelta(hours=3), contractor_reported_at=reported,
        learned_at=reported, reporter="株式会社道央情報システム 保守責任者（電話）",
        information="119番通報記録の抽出データ（通報者の氏名・住所・電話番号）",
        classification_id=demo.levels["C3B"].id if "C3B" in demo.levels else None,
        personal_data=True, people_affected=120)
    services.add_action(incident, demo.users.get("procurement", demo.users["admin"]),
                        "受託者に経緯書の提出と、記憶媒体の持出し記録の提出を求めた。所轄警察署に遺失届が出されたことを確認した。")


def _cloud_outage(demo) -> None:
    """The e-mail service was down for half a day; the provider restored it."""
    service = _subject(CLOUD_SERVICE, "電子メールサービス")
    if service is None:
        return
    occurred = _at(demo.today - dt.timedelta(days=12), 8)
    incident = services.record(
        by=demo.users["admin"], kind=IncidentKind.OUTAGE, severity=Severity.MODERATE,
        title="電子メールサービスの停止（約5時間）", subject_type=CLOUD_SERVICE, subject_id=service,
        summary="提供事業者の認証基盤の障害により、職員の電子メールが送受信できなくなった。",
        occurred_at=occurred, detected_at=occurred + dt.timedelta(minutes=20),
        learned_at=occurred + dt.timedelta(minutes=20), reporter="総務課 職員（送信エラーの報告）")
    services.add_action(incident, demo.users["admin"],
                        "提供事業者の障害情報を確認し、全職員に電話・FAXでの代替連絡を周知した。")
    services.add_action(incident, demo.users["admin"], "13時10分に復旧し、未送信メールの再送を確認した。")
    services.contain(incident, contained_at=occurred + dt.timedelta(hours=5, minutes=10))  # restored
