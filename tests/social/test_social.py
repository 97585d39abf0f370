"""Official social-media accounts: one responsible person, versioned operating
procedures approved by someone else, the pre-post check on Japanese text,
the public list, incidents, the flags, no passwords, bad input."""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core import accounts
from core.db import db
from core.due import all_items
from core.models import AuditEntry, ClassificationLevel, OrgUnit, Role, User
from core.timeutil import today
from social import prepost, rules, services
from social.models import AccountStatus, OperatingProcedure, Platform, SocialAccount
from tests import factories
from tests.conftest import DEMO_PASSWORD, PASSWORD, followed, login_as


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def account_data(app, **overrides) -> dict:
    with app.app_context():
        c1 = db.session.scalar(select(ClassificationLevel.id).where(ClassificationLevel.code == "C1"))
        unit = db.session.scalar(select(OrgUnit.id))
    data = {"platform": "x", "name": "防災情報", "handle": "@bousai_119", "url": "https://x.com/bousai_119",
            "purpose": "防災情報の発信", "unit_id": str(unit), "responsible_id": str(user_id(app, "social")),
            "deputy_id": "", "status": "active", "review_cycle_months": "12", "posting_ceiling_id": str(c1),
            "mfa_enabled": "y", "mfa_method": "認証アプリ", "connected_apps": "予約投稿ツール（Hootsuite）"}
    return {**data, **overrides}


def account_id(app, url: str = "https://x.com/bousai_119") -> int:
    with app.app_context():
        return db.session.scalar(select(SocialAccount.id).where(SocialAccount.url == url))


def register(client, app, *, opened: bool = True, **overrides) -> int:
    """Register an account through the page; ``opened``: its opening request
    is then approved by the user ``approver`` (tests/social/test_lifecycle.py
    tests the request itself)."""
    response = client.post("/social/new", data=account_data(app, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    aid = account_id(app, overrides.get("url", "https://x.com/bousai_119"))
    if opened:
        with app.app_context():
            approver = db.session.scalar(select(User).where(User.username == "approver"))
            services.decide_opening(db.session.get(SocialAccount, aid), approver, approve=True, comment=None)
            db.session.commit()
    return aid


PROCEDURE = {"purpose": "防災情報を住民に届ける", "opening": "広報担当課長の承認", "supervision": "責任者が年1回見直す",
             "posting": "機密性1の情報に限る", "impersonation": "公式サイトに掲載し毎月点検",
             "credentials": "二要素認証、保持者を限定", "incidents": "インシデントとして報告"}


def post_procedure(client, app, aid: int, **overrides):
    with app.app_context():
        version = db.session.get(SocialAccount, aid).version
    return client.post(f"/social/{aid}/procedures/new", data={"version": str(version), **PROCEDURE, **overrides})


def procedure_ids(app, aid: int) -> list[int]:
    with app.app_context():
        return db.session.scalars(select(OperatingProcedure.id).where(OperatingProcedure.account_id == aid)
                                  .order_by(OperatingProcedure.number)).all()


@pytest.fixture
def official(app, users):
    """Five accounts of 広報 さくら (deputy 管理 太郎), ids by platform: X (with
    an open impersonation incident), YouTube and LINE active, Facebook
    dormant, Instagram closed; their last posts 1, 12, 3, 240 and 400 days
    ago.  Each carries internal details the public must not see."""
    with app.app_context():
        responsible = db.session.get(User, users["social"])
        responsible.display_name = "広報 さくら"
        deputy = db.session.get(User, users["admin"])
        deputy.display_name = "管理 太郎"
        made = {}
        for platform, name, url, status, days in (
                (Platform.X, "○○消防本部 公式", "https://x.com/example_119", AccountStatus.ACTIVE, 1),
                (Platform.YOUTUBE, "○○消防チャンネル", "https://www.youtube.com/@example119ch", AccountStatus.ACTIVE, 12),
                (Platform.LINE, "○○消防 防災LINE", "https://page.line.me/example119", AccountStatus.ACTIVE, 3),
                (Platform.FACEBOOK, "○○消防本部", "https://www.facebook.com/example119", AccountStatus.DORMANT, 240),
                (Platform.INSTAGRAM, "○○消防 予防広報", "https://www.instagram.com/example119_yobou",
                 AccountStatus.CLOSED, 400)):
            made[platform.value] = factories.social_account(
                name, platform=platform, url=url, status=status, responsible=responsible, deputy_id=deputy.id,
                last_post_on=today() - dt.timedelta(days=days), mfa_enabled=True, mfa_method="認証アプリ",
                connected_apps="予約投稿ツール", public_phrases="0125-22-1234")
        factories.incident(made["x"], summary="当本部を名乗り、募金を呼びかけている。")
        db.session.commit()
        return {key: account.id for key, account in made.items()}


@pytest.fixture
def social(app, users):
    client = app.test_client()
    login_as(client, "social")
    return client


@pytest.fixture
def approver(app, users):
    client = app.test_client()
    login_as(client, "approver")
    return client


# --- the responsible person ----------------------------------------------------------

def test_every_account_has_exactly_one_responsible_person(app, social):
    response = social.post("/social/new", data=account_data(app, responsible_id=""))
    assert response.status_code == 400 and "責任者を一人選んでください。" in response.get_data(as_text=True)
    same = account_data(app, deputy_id=str(user_id(app, "social")))
    response = social.post("/social/new", data=same)
    assert response.status_code == 400 and "代理者には責任者と別の人を選んでください。" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SocialAccount)) == 0

    aid = register(social, app, deputy_id=str(user_id(app, "admin")))
    detail = social.get(f"/social/{aid}").get_data(as_text=True)
    assert "social user" in detail.split("責任者")[1][:200]
    with app.app_context():
        account = db.session.get(SocialAccount, aid)
        with pytest.raises(rules.SocialRuleError):
            services.set_people(account, responsible_id=None, deputy_id=None, operator_ids=set(), holder_ids=set())
        db.session.rollback()
        # The database holds exactly one: a required column, not a list.
        account.responsible_id = None
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


# --- operating procedures ------------------------------------------------------------------

def test_procedures_are_versioned_and_approved_by_someone_else(app, social, approver):
    aid = register(social, app)
    assert "承認済みの運用手順がありません" in social.get(f"/social/{aid}").get_data(as_text=True)
    assert post_procedure(social, app, aid).status_code == 302
    [v1] = procedure_ids(app, aid)
    # The author may not decide (no approver right), nor may an approver who wrote it.
    assert social.post(f"/social/{aid}/procedures/{v1}/approve").status_code == 403
    with app.app_context():
        accounts.create_user(username="both", display_name="二役", password=PASSWORD,
                             roles=[Role.SOCIAL, Role.APPROVER], unit=db.session.scalar(select(OrgUnit)))
        db.session.commit()
    writer_approver = app.test_client()
    login_as(writer_approver, "both")
    assert post_procedure(writer_approver, app, aid, posting="第2版の発信ルール").status_code == 302
    v1, v2 = procedure_ids(app, aid)
    response = writer_approver.post(f"/social/{aid}/procedures/{v2}/approve")
    assert "申請者本人は承認できません" in followed(writer_approver, response).get_data(as_text=True)

    refused = approver.post(f"/social/{aid}/procedures/{v1}/reject", data={"comment": ""})
    assert "差し戻す理由をコメントに記載してください。" in followed(approver, refused).get_data(as_text=True)
    assert approver.post(f"/social/{aid}/procedures/{v1}/approve", data={"comment": "了"}).status_code == 302
    with app.app_context():
        account = db.session.get(SocialAccount, aid)
        assert account.approved_procedure.number == 1
        assert account.approved_procedure.approver_id == user_id(app, "approver")
        assert account.approved_procedure.approved_at is not None
        assert "no_procedure" not in rules.FLAGS.of(account)
    # Version 2 waits; version 1 stays the approved one until it is approved.
    page = social.get(f"/social/{aid}/procedures").get_data(as_text=True)
    assert "第2版の発信ルール" in page and "機密性1の情報に限る" in page
    assert "承認待ち" in page.split('id="v2"')[1].split('id="v1"')[0]
    assert approver.post(f"/social/{aid}/procedures/{v2}/approve").status_code == 302
    with app.app_context():
        assert db.session.get(SocialAccount, aid).approved_procedure.number == 2
        assert db.session.get(OperatingProcedure, v1).posting == "機密性1の情報に限る"  # never overwritten
        versions = [str(p.approval_id) for p in db.session.scalars(select(OperatingProcedure))]
        kinds = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "approvals",
                                                                   AuditEntry.object_id.in_(versions))).all()
        assert kinds.count("approve") == 2 and kinds.count("request") == 2


# --- the pre-post check ----------------------------------------------------------------------

TRUE_POSITIVES = [
    ("お問い合わせは担当の携帯090-1234-5678まで", "phone", "090-1234-5678"),
    ("自宅 ０１２５－２２－９８７６ に連絡", "phone", "0125-22-9876"),
    ("詳しくは yamada.taro@example.jp へ", "email", "yamada.taro@example.jp"),
    ("被災者宅（滝川市大町1丁目2番15号）", "address", "滝川市大町1丁目2番15号"),
    ("〒073-0022 に送付", "address", "〒073-0022"),
    ("個人番号 1234 5678 9018 を確認", "my_number", "1234 5678 9018"),
    ("個人番号 １２３４ ５６７８ ９０１８ を確認", "my_number", "1234 5678 9018"),  # full-width, NFKC-folded
    ("個人番号 1234-5678-901⁸ を確認", "my_number", "1234-5678-9018"),  # a superscript digit, folded
    ("昭和50年4月1日生まれの男性", "birth", "昭和50年4月1日生まれ"),
    ("生年月日：1980/4/1", "birth", "生年月日:1980/4/1"),
    ("これは内部資料です", "internal", "内部資料"),
    ("救急車の搬送先は市立病院", "forbidden", "救急車の搬送先"),
]

FALSE_POSITIVES = [
    "火災・救急は119番へ",
    "2026年12月1日に防災訓練を実施します",
    "令和8年度の火災予防運動",
    "避難区域内の2番目の避難所を開設しました",
    "市内3か所で消火器の使い方講習",
    "代表電話 0125-22-1234 までお問い合わせください",  # the account's public number
    "番号 123456789012 は管理番号です",  # twelve digits, wrong check digit
    "@example_119 をフォローしてください",
]


@pytest.mark.parametrize("text, kind, found", TRUE_POSITIVES)
def test_the_pre_post_check_finds_personal_data_and_forbidden_words(text, kind, found):
    hits = prepost.check(text, forbidden_words="/救急.{0,4}搬送先/", public_phrases="0125-22-1234")
    assert [(hit.kind, hit.text) for hit in hits] == [(kind, found)]
    assert hits[0].reason and hits[0].label


@pytest.mark.parametrize("text", FALSE_POSITIVES)
def test_the_pre_post_check_leaves_ordinary_public_text_alone(text):
    assert prepost.check(text, forbidden_words="/救急.{0,4}搬送先/", public_phrases="0125-22-1234") == []


def test_the_pre_post_check_page_reports_hits_and_logs_only_a_hash(app, social):
    aid = register(social, app, forbidden_words="出動中の隊員の氏名")
    draft = "本日の訓練の様子です。\n参加者 山田太郎さん（090-1111-2222）\n出動中の隊員の氏名は非公開"
    response = social.post("/social/check", data={"account_id": str(aid), "draft": draft})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "3件の注意点があります" in page
    assert "090-1111-2222" in page and "出動中の隊員の氏名" in page and "非公開" in page
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "prepost_check"))
        assert entry.object_id == str(aid)
        assert entry.changes["sha256"] == prepost.digest(draft)
        assert entry.changes["hits"] == {"phone": 1, "forbidden": 1, "internal": 1}
        stored = " ".join(str(v) for v in entry.changes.values())
        assert "山田" not in stored and "090" not in stored
    clean = social.post("/social/check", data={"account_id": str(aid), "draft": "火災予防運動が始まります"})
    assert "注意点は見つかりませんでした" in clean.get_data(as_text=True)
    assert social.post("/social/check", data={"account_id": str(aid), "draft": ""}).status_code == 400
    assert social.post("/social/check", data={"account_id": "999", "draft": "x"}).status_code == 400


def test_my_number_check_digit():
    assert prepost.my_number_valid("123456789018")
    assert not prepost.my_number_valid("123456789012")
    assert not prepost.my_number_valid("12345")


# --- the public list ---------------------------------------------------------------------------

def test_the_public_list_is_off_by_default(app, official):
    assert app.test_client().get("/social/official").status_code == 404


@pytest.mark.config(PUBLIC_ACCOUNT_LIST=True)
def test_the_public_list_shows_open_accounts_dormant_ones_marked_and_nothing_internal(app, official):
    page = app.test_client().get("/social/official")
    assert page.status_code == 200
    staff = app.test_client()
    login_as(staff, "social")
    assert 'href="/social/official"' in staff.get("/social/").get_data(as_text=True)  # staff can find it
    html = page.get_data(as_text=True)
    for url in ("https://x.com/example_119", "https://www.youtube.com/@example119ch", "https://page.line.me/example119"):
        assert url in html
    # A dormant (休止) account stays listed, marked, so that citizens can tell it from an impersonator.
    rows = {row.split("</tr>")[0] for row in html.split("<tr>")[1:]}
    dormant = next(row for row in rows if "https://www.facebook.com/example119" in row)
    assert "休止" in dormant
    assert all("休止" not in row for row in rows if "x.com/example_119" in row or "page.line.me" in row)
    assert "instagram.com" not in html  # closed
    for internal in ("広報 さくら", "管理 太郎", "認証アプリ", "予約投稿ツール", "募金", "運用手順", "0125-22-1234",
                     f"/social/{official['x']}", "ログアウト"):
        assert internal not in html.split("<main")[1], internal


# --- flags, dashboard, reminders ----------------------------------------------------------------

def tile(html: str, query: str) -> int:
    match = re.search(r'href="/social/\?' + re.escape(query) + r'[^"]*">(?:<span[^>]*>⚠ </span>)?[^<]*</a>\s*'
                      r'<span class="fw-bold">(\d+)</span>', html)
    assert match, query
    return int(match.group(1))


def test_the_demo_flags_show_on_the_list_the_dashboard_and_in_reminders(app, demo):
    client = demo.test_client()
    login_as(client, "auditor", DEMO_PASSWORD)

    def rows(query):
        return client.get("/social/" + query).get_data(as_text=True).split("<tbody>")[1].split("</tbody>")[0]
    assert "防災LINE" in rows("?flag=no_procedure") and "公式" not in rows("?flag=no_procedure")
    assert "防災LINE" in rows("?flag=mfa_off") and "チャンネル" not in rows("?flag=mfa_off")
    assert "facebook" not in rows("?flag=dormant") and "○○消防本部" in rows("?flag=dormant")
    assert "○○消防本部 公式" in rows("?flag=open_incident")
    assert "予防広報" not in rows("?flag=mfa_off") + rows("?flag=dormant")  # closed accounts carry no flags
    dashboard = client.get("/").get_data(as_text=True)
    assert tile(dashboard, "flag=open_incident") == 1 and tile(dashboard, "flag=no_procedure") == 1
    assert tile(dashboard, "flag=dormant") == 1 and tile(dashboard, "flag=mfa_off") == 1
    assert "なりすまし: ○○消防本部 公式" in dashboard
    with app.app_context():
        accounts_ = db.session.scalars(select(SocialAccount)).all()
        sql = rules.FLAGS.of_ids([a.id for a in accounts_])
        for account in accounts_:
            assert sql[account.id] == rules.FLAGS.of(account), account.name
        line = db.session.scalar(select(SocialAccount).where(SocialAccount.url.like("%line.me%")))
        line.next_review_on = today() - dt.timedelta(days=1)
        db.session.commit()
        line_id = line.id
        assert rules.FLAGS.count("review_overdue") == 1
        keys = {item.key.split(":")[0] for item in all_items() if item.endpoint == "social.detail"}
        assert keys == {"social_review", "social_scan"}
    writer = demo.test_client()
    login_as(writer, "social", DEMO_PASSWORD)
    assert writer.post(f"/social/{line_id}/review", data={"reviewed_on": today().isoformat()}).status_code == 302
    with app.app_context():
        assert rules.FLAGS.count("review_overdue") == 0


@pytest.mark.config(SOCIAL_DORMANT_DAYS=5)
def test_the_dormant_threshold_is_a_setting(app, official):
    with app.app_context():
        names = {a.name for a in db.session.scalars(select(SocialAccount).where(rules.FLAGS.condition("dormant")))}
    assert names == {"○○消防チャンネル", "○○消防本部"}  # 12 and 240 days; 1 and 3 days are fine


def test_the_demo_has_several_platforms_a_dormant_account_and_an_open_impersonation(app, demo):
    with app.app_context():
        accounts_ = db.session.scalars(select(SocialAccount)).all()
        assert len({a.platform for a in accounts_}) >= 4
        assert any(a.status is AccountStatus.DORMANT for a in accounts_)
        assert any(i.is_open and i.kind.value == "impersonation" for a in accounts_ for i in a.incidents)
        for procedure in db.session.scalars(select(OperatingProcedure)):
            assert procedure.approver_id is None or procedure.approver_id != procedure.author_id


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides, message", [
    ({"connected_apps": "パスワード: Fire119!"}, "パスワードのような文字列"),
    ({"mfa_method": "Tr0ub4dor&3"}, "パスワードのような文字列"),
    ({"purpose": "password=hunter2 で共有"}, "パスワードのような文字列"),
    ({"url": "x.com/bousai"}, "URLの形式が正しくありません"),
    ({"website_listing_url": "not a url"}, "URLの形式が正しくありません"),
    ({"forbidden_words": "/[未閉じ/"}, "正規表現として正しくないか"),
    ({"forbidden_words": "/(救急)\\1/"}, "後方参照・先読み・後読み"),
    ({"mfa_method": ""}, "二要素認証の方法を入力してください"),
    ({"review_cycle_months": "0"}, "見直しの周期は1〜60か月で入力してください。"),
    ({"name": ""}, "このフィールドは必須です。"),
    ({"last_post_on": "2026-13-01"}, "日付はYYYY-MM-DD"),
    ({"platform": "myspace"}, "選択肢が正しくありません。"),
])
def test_bad_input_gets_a_message_and_saves_nothing(app, social, overrides, message):
    response = social.post("/social/new", data=account_data(app, **overrides))
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SocialAccount)) == 0


def test_handles_urls_and_ordinary_text_are_not_mistaken_for_passwords():
    for text in ("@example_119", "https://x.com/example_119?ref=Top10", "予約投稿ツール（Hootsuite）",
                 "認証アプリ（Google Authenticator）", "SMS（090-1234-5678）", "sns-admin@example.lg.jp",
                 "Microsoft365", "ISO/IEC27001", "Windows-11", "v2.3.10-beta"):
        assert not rules.looks_like_password(text), text
    for text in ("パスワード：abcd1234", "PW=Kasai2026", "Fire119!Dept", "初期PWは Aa1!aa11"):
        assert rules.looks_like_password(text), text


def test_a_duplicate_url_and_a_stale_edit_are_refused(app, social):
    aid = register(social, app)
    response = social.post("/social/new", data=account_data(app, name="別名"))
    assert response.status_code == 400 and "このURLのアカウントは既に登録されています" in response.get_data(as_text=True)
    with app.app_context():
        version = db.session.get(SocialAccount, aid).version
    data = account_data(app, version=str(version), name="新しい名前")
    assert social.post(f"/social/{aid}/edit", data=data).status_code == 302
    stale = social.post(f"/social/{aid}/edit", data={**data, "name": "古い画面から"})
    assert stale.status_code == 409
    with app.app_context():
        assert db.session.get(SocialAccount, aid).name == "新しい名前"


def test_the_register_lists_and_shows_accounts(app, official):
    client = app.test_client()
    login_as(client, "social")
    body = client.get("/social/?status=dormant").get_data(as_text=True).split("<tbody>")[1]
    assert "Facebook" in body and "YouTube" not in body
    detail = client.get(f"/social/{official['x']}").get_data(as_text=True)
    assert "広報 さくら" in detail  # the one responsible person
    for query in ("?status=x", "?platform=x", "?flag=x", "?unit=x", "?page=50", "?sort=review&dir=desc"):
        assert client.get("/social/" + query).status_code == 200


def test_dashboard_counts_link_to_filtered_lists(app, official):
    client = app.test_client()
    login_as(client, "admin")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/social/?status=dormant"' in html
    assert 'href="/contracts/?status=in_force"' in html
    social = app.test_client()
    login_as(social, "social")
    html = social.get("/").get_data(as_text=True)
    assert "/social/?status=" in html and "/contracts/?status=" not in html  # panels follow the roles


def test_the_register_prints_with_procedure_mfa_measures_and_incidents(app, demo):
    from tests.conftest import read_pdf

    client = demo.test_client()
    login_as(client, "auditor", DEMO_PASSWORD)
    pages, text = read_pdf(client.get("/social/register.pdf"))
    compact = re.sub(r"\s+", "", text)
    # 和暦 dates are longer, and the sign-off keeps the last rows with it (issue 18): two pages at most
    assert pages <= 2 and "SNS公式アカウント台帳" in compact
    for expected in ("○○消防本部公式", "広報さくら", "第1版", "有効（認証アプリ）", "▲無効", "公式サイト掲載", "認証バッジ",
                     "なりすまし（", "▲承認済みの運用手順なし", "▲長期間投稿なし"):
        assert expected in compact, expected


# --- forbidden-word patterns run in linear time (issue 15 §6) ---------------------------------

EVIL_PATTERNS = "/(a+)+$/\n/((a+))+$/\n/(a|a)*$/\n/(\\w*)*!x$/"


def test_patterns_that_backtrack_for_ever_elsewhere_are_accepted_and_checked_quickly(app, social):
    """A pattern that takes Python's engine exponential time (34 × a + ! ran
    30 s) runs on a linear-time engine: the account saves, the check answers.
    The check runs in a child process so that a regression fails on the
    timeout (far above the milliseconds it takes) instead of hanging."""
    aid = register(social, app, forbidden_words=EVIL_PATTERNS)
    with app.app_context():
        assert "/((a+))+$/" in db.session.get(SocialAccount, aid).forbidden_words
    code = ("import json, sys; from social.prepost import check\n"
            "words = sys.stdin.read()\n"
            "print(json.dumps([[h.kind, h.text] for text in ('a' * 34 + '!', 'a' * 5000 + '!', '見出し aaa')"
            " for h in check(text, forbidden_words=words)]))")
    result = subprocess.run([sys.executable, "-c", code], input=EVIL_PATTERNS, capture_output=True, text=True,
                            timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    # Only 「見出し aaa」 ends in a's: (a+)+$, ((a+))+$ and (a|a)*$ find them.
    assert json.loads(result.stdout) == [["forbidden", "aaa"]] * 3


@pytest.mark.parametrize("lang, message", [
    ("ja", "正規表現として正しくないか、この機能では使えない書き方（後方参照・先読み・後読み）の行があります"),
    ("en", "not supported here (back-references, look-ahead, look-behind)"),
])
def test_patterns_the_linear_engine_cannot_run_are_refused_with_a_clear_message(app, social, lang, message):
    social.post("/language", data={"lang": lang, "next": "/"})
    words = "出動中\n/(救急)\\1/\n/(?=救急)搬送/\n/(?<!市)病院/\n/救急.{0,4}搬送先/"
    response = social.post("/social/new", data=account_data(app, forbidden_words=words))
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html
    assert "/(救急)\\1/、/(?=救急)搬送/、/(?&lt;!市)病院/" in html  # exactly the three, and escaped
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SocialAccount)) == 0


# --- the password detector and the default procedure (issue 17) ---------------------------------

SECRETS = ["パスワード: Abc12345", "password=hunter2", "PW：xxxx", "ＰＷ：ｘｘｘｘ", "パスワードはAbc12345です",
           "暗証番号：1234", "pwd = s3cret!", "パスワード「Abc12345」"]
NOT_SECRETS = ["異動・退職時は速やかにパスワードを変更する。", "パスワードは推測されにくいものとし、他のサービスと使い回さない。",
               "パスワード: 8文字以上", "パスワード：2026年4月に変更", "パスワードは保管庫で管理する",
               "パスワードの保持者は2名", "upw: なし"]


@pytest.mark.parametrize("text", SECRETS)
def test_a_real_secret_is_recognised(text):
    assert rules.looks_like_password(text), text


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_the_word_password_followed_by_ordinary_text_is_not_a_secret(text):
    assert not rules.looks_like_password(text), text


def test_the_default_procedure_is_not_mistaken_for_a_password(app):
    with app.test_request_context():
        for name, text in rules.DEFAULT_PROCEDURE.items():
            assert not rules.looks_like_password(str(text)), name


def test_the_default_procedure_is_accepted_through_the_page(app, social):
    aid = register(social, app)
    page = social.get(f"/social/{aid}/procedures/new").get_data(as_text=True)
    assert "パスワードを変更する" in page
    with app.test_request_context():
        template = {name: str(text) for name, text in rules.DEFAULT_PROCEDURE.items()}
    response = post_procedure(social, app, aid, **template)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert len(procedure_ids(app, aid)) == 1


def test_a_secret_in_the_procedure_is_refused_through_the_page(app, social):
    aid = register(social, app)
    response = post_procedure(social, app, aid, credentials="初期設定 パスワード: Abc12345")
    assert response.status_code == 400 and "パスワードのような文字列" in response.get_data(as_text=True)
    assert procedure_ids(app, aid) == []


def test_the_rules_take_the_default_procedure_and_refuse_a_secret(app, users):
    with app.test_request_context():
        account = factories.social_account()
        author = db.session.get(User, user_id(app, "social"))
        template = {name: str(text) for name, text in rules.DEFAULT_PROCEDURE.items()}
        assert services.add_procedure(account, author, **template).number == 1
        with pytest.raises(rules.SocialRuleError, match="パスワードのような文字列"):
            services.add_procedure(account, author, **{**template, "credentials": "PW：xxxx"})
        assert len(account.procedures) == 1



# --- approval before posting, and the posting ceiling (issue 17) ---------------------------------

REMINDER = "このアカウントは投稿前に責任者の承認が必要です"


def test_the_pre_post_check_reminds_of_approval_before_posting(app, social):
    needs = register(social, app, approval_before_posting="y")
    free = register(social, app, name="承認不要", url="https://x.com/free_119")
    assert REMINDER in social.get(f"/social/check?account={needs}").get_data(as_text=True)
    checked = social.post("/social/check", data={"account_id": str(needs), "draft": "火災予防運動が始まります"})
    assert checked.status_code == 200 and REMINDER in checked.get_data(as_text=True)
    assert REMINDER not in social.get(f"/social/check?account={free}").get_data(as_text=True)
    other = social.post("/social/check", data={"account_id": str(free), "draft": "火災予防運動が始まります"})
    assert REMINDER not in other.get_data(as_text=True)
    assert REMINDER not in social.get("/social/check").get_data(as_text=True)


def _level_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(ClassificationLevel.id).where(ClassificationLevel.code == code))


CEILING_MESSAGE = "SNSで発信できるのは自治体機密性1の情報（公表済みの情報）だけです"


@pytest.mark.parametrize("code", ["C2", "C3A"])
def test_a_posting_ceiling_above_class_1_is_refused(app, social, code):
    response = social.post("/social/new", data=account_data(app, posting_ceiling_id=str(_level_id(app, code))))
    assert response.status_code == 400 and CEILING_MESSAGE in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SocialAccount)) == 0


def test_a_posting_ceiling_of_class_1_is_accepted_and_cannot_be_raised_later(app, social):
    aid = register(social, app)
    with app.app_context():
        account = db.session.get(SocialAccount, aid)
        assert account.posting_ceiling.code == "C1"
        version = account.version
    response = social.post(f"/social/{aid}/edit", data=account_data(
        app, posting_ceiling_id=str(_level_id(app, "C2")), version=str(version)))
    assert response.status_code == 400 and CEILING_MESSAGE in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(SocialAccount, aid).posting_ceiling.code == "C1"


def test_the_rules_take_class_1_and_refuse_a_higher_ceiling(app, users):
    with app.app_context():
        rules.check_posting_ceiling(factories.level("C1"))
        for code in ("C2", "C3A", "C3B", "C3C"):
            with pytest.raises(rules.SocialRuleError, match=CEILING_MESSAGE):
                rules.check_posting_ceiling(factories.level(code))
        with pytest.raises(rules.SocialRuleError, match=CEILING_MESSAGE):
            rules.check_posting_ceiling(None)


def test_the_api_refuses_a_posting_ceiling_above_class_1(app, users):
    from tests.conftest import api_token
    token = {"Authorization": f"Bearer {api_token(app, 'social')}"}
    client = app.test_client()
    with app.app_context():
        account = factories.social_account(posting_ceiling=factories.level("C1"), purpose="防災情報の発信",
                                           unit=factories.unit(), mfa_enabled=True, mfa_method="認証アプリ")
        db.session.commit()
        aid, version = account.id, account.version
    response = client.patch(f"/api/v1/social/{aid}", headers={**token, "If-Match": f'"{version}"'},
                            json={"posting_ceiling": "C2"})
    assert response.status_code in (409, 422), response.get_data(as_text=True)
    errors = {e["field"]: e["message"] for e in response.get_json()["errors"]}
    assert any(CEILING_MESSAGE in message for message in errors.values()), errors
    with app.app_context():
        assert db.session.get(SocialAccount, aid).posting_ceiling.code == "C1"
