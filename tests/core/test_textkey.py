"""Japanese order and search (issue 20): the folded search key
(core.textkey) and the lists that use it — width, kana and 株式会社 forms
all match, and names sort by their reading."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from cloud.models import CloudService
from core.db import db
from core.textkey import fold, katakana_reading, search_key
from social.models import SocialAccount
from tests import factories
from tests.conftest import login_as
from vendors.models import Vendor


@pytest.mark.parametrize("variants", [
    ("カブシキガイシャ", "かぶしきがいしゃ", "ｶﾌﾞｼｷｶﾞｲｼｬ"),
    ("株式会社イタク", "㈱イタク", "（株）イタク", "(株)ｲﾀｸ", "株式会社 いたく", "株式会社　イタク"),
    ("有限会社ABC", "(有)ＡＢＣ", "㈲abc"),
    ("ＡＢＣ１２３", "abc123", "ABC 123"),
])
def test_width_kana_case_and_company_forms_fold_alike(variants):
    assert len({fold(text) for text in variants}) == 1


def test_a_search_key_keeps_its_parts_apart():
    key = search_key("株式会社テスト", "テスト", None, "", "1234567890123")
    assert key == "株式会社てすと てすと 1234567890123"
    assert fold("すと1234") not in key  # a query holds no space, so it never spans two parts


def test_a_reading_is_stored_in_katakana():
    assert katakana_reading(" しょうぼう ") == "ショウボウ"
    assert katakana_reading("ｼｮｳﾎﾞｳ") == "ショウボウ"
    assert katakana_reading("でんしめーる（くみあい）") == "デンシメール（クミアイ）"  # the rest as typed


@pytest.fixture
def reader(app, users):
    with app.app_context():
        factories.vendor("株式会社道央情報システム", kana="ドウオウジョウホウシステム", corporate_number="3430001012345")
        factories.vendor("空知ネットワーク株式会社", kana="ソラチネットワーク")
        db.session.commit()
    client = app.test_client()
    login_as(client, "admin")
    return client


def rows(html: str) -> str:
    return html.split("<tbody>")[1].split("</tbody>")[0]


@pytest.mark.parametrize("query", ["㈱道央", "(株)道央", "株式会社 道央", "どうおう", "ﾄﾞｳｵｳ", "ドウオウ",
                                   "３４３０００１０１２３４５"])
def test_the_vendor_list_finds_every_written_form(reader, query):
    body = rows(reader.get("/vendors/", query_string={"q": query}).get_data(as_text=True))
    assert "道央情報システム" in body
    assert "空知ネットワーク" not in body


def test_the_contract_list_finds_a_title_in_other_kana_and_width(app, reader):
    with app.app_context():
        factories.contract("R8-777", title="ホームページ保守業務", vendor_=db.session.scalar(
            select(Vendor).where(Vendor.kana == "ソラチネットワーク")))
        db.session.commit()
    for query in ("ほーむぺーじ", "ﾎｰﾑﾍﾟｰｼﾞ", "r8-777", "そらち"):
        assert "R8-777" in rows(reader.get("/contracts/", query_string={"q": query}).get_data(as_text=True)), query


def test_the_key_follows_every_save(app, users):
    with app.app_context():
        vendor = factories.vendor("株式会社旧名", kana="キュウメイ")
        db.session.commit()
        assert vendor.search_key.startswith("株式会社旧名 きゅうめい")
        vendor.name, vendor.kana = "新名株式会社", "シンメイ"
        db.session.commit()
        assert db.session.scalar(select(Vendor.search_key).where(Vendor.id == vendor.id)).startswith("新名株式会社 しんめい")


def test_cloud_services_sort_by_reading_and_are_found_by_it(app, reader):
    """Code-point order puts 旧 ‹ 無 ‹ 防 ‹ 電; the reading puts them as people look them up."""
    with app.app_context():
        for name, reading in [("電子申請サービス", "デンシシンセイサービス"), ("旧庁内メール", "キュウチョウナイメール"),
                              ("無線LAN管理", "ムセンランカンリ"), ("防災情報配信", "ボウサイジョウホウハイシン"),
                              ("Zoom", None)]:
            factories.cloud_service(name, reading=reading)
        db.session.commit()
    body = rows(reader.get("/cloud/?sort=name&dir=asc").get_data(as_text=True))
    names = ["旧庁内メール", "電子申請サービス", "防災情報配信", "無線LAN管理", "Zoom"]  # き ‹ で ‹ ぼ ‹ む, then none
    assert sorted(names, key=body.index) == names
    descending = rows(reader.get("/cloud/?sort=name&dir=desc").get_data(as_text=True))
    assert sorted(names, key=descending.index) == [*reversed(names[:4]), "Zoom"]  # without a reading: still last
    found = rows(reader.get("/cloud/", query_string={"q": "でんししんせい"}).get_data(as_text=True))
    assert "電子申請サービス" in found and "防災情報配信" not in found


def test_social_accounts_sort_by_reading(app, reader):
    with app.app_context():
        for name, reading in [("消防本部公式", "ショウボウホンブコウシキ"), ("救急安心センター", "キュウキュウアンシンセンター")]:
            factories.social_account(name, reading=reading)
        db.session.commit()
    body = rows(reader.get("/social/?sort=name&dir=asc").get_data(as_text=True))
    assert body.index("救急安心センター") < body.index("消防本部公式")
    found = rows(reader.get("/social/", query_string={"q": "ｼｮｳﾎﾞｳ"}).get_data(as_text=True))
    assert "消防本部公式" in found and "救急安心センター" not in found


def test_the_keys_of_cloud_services_and_accounts_hold_their_readings(app, users):
    with app.app_context():
        service = factories.cloud_service("電子申請", reading="デンシシンセイ", provider_name="㈱テスト")
        account = factories.social_account("消防本部", reading="ショウボウホンブ", handle="@Itaku_Fire")
        db.session.commit()
        assert db.session.get(CloudService, service.id).search_key == "電子申請 でんししんせい 株式会社てすと"
        assert db.session.get(SocialAccount, account.id).search_key == "消防本部 しょうぼうほんぶ @itaku_fire"
