"""Pickers that scale (issue 20, core.pickers): the JSON lists behind the
comboboxes (authorised like the lists they mirror, limited, folded), the
server's check of the id submitted, and the form without JavaScript (a
search box whose 検索 button shows the form again with the matches)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cloud.models import CloudService
from contracts.models import Contract
from core.db import db
from core.models import User
from tests import factories
from tests.conftest import login_as
from tests.contracts.test_contract_register import contract_data


@pytest.fixture
def vendor_ids(app, users):
    with app.app_context():
        dohoku = factories.vendor("株式会社道央情報システム", kana="ドウオウジョウホウシステム",
                                  corporate_number="3430001012345")
        sorachi = factories.vendor("空知ネットワーク株式会社", kana="ソラチネットワーク")
        db.session.commit()
        return {"dohoku": dohoku.id, "sorachi": sorachi.id}


def client_as(app, role: str):
    client = app.test_client()
    login_as(client, role)
    return client


@pytest.mark.parametrize("query", ["㈱道央", "どうおう", "ﾄﾞｳｵｳ", "3430001012345"])
def test_the_vendor_list_answers_a_query_folded(app, vendor_ids, query):
    response = client_as(app, "procurement").get("/pick/vendors", query_string={"q": query})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["id"] for r in results] == [vendor_ids["dohoku"]]
    assert results[0]["label"] == "株式会社道央情報システム"
    assert "ドウオウジョウホウシステム" in results[0]["hint"] and "3430001012345" in results[0]["hint"]


def test_the_lists_are_limited_and_an_empty_query_finds_nothing(app, users):
    with app.app_context():
        for n in range(25):
            factories.vendor(f"株式会社まとめて{n:02d}", kana=f"マトメテ{n:02d}")
        db.session.commit()
    client = client_as(app, "procurement")
    assert len(client.get("/pick/vendors?q=まとめて").get_json()["results"]) == 20
    assert client.get("/pick/vendors?q=").get_json()["results"] == []
    assert client.get("/pick/vendors?q=%20%E3%80%80").get_json()["results"] == []


@pytest.mark.parametrize("path, role, allowed", [
    ("/pick/vendors?q=a", "social", False),  # the vendor list is not theirs
    ("/pick/contracts?q=a", "approver", False),
    ("/pick/vendors?q=a", "auditor", True),
    ("/pick/users?q=a", "social", True),
    ("/pick/units?q=a", "verifier", True),
])
def test_a_list_is_read_by_those_who_read_its_register(app, users, path, role, allowed):
    assert client_as(app, role).get(path).status_code == (200 if allowed else 403)


def test_a_list_needs_a_signed_in_user(app, users):
    response = app.test_client().get("/pick/vendors?q=a")
    assert response.status_code in (302, 401)
    assert b"results" not in response.data


def test_the_user_list_offers_active_users_only(app, users):
    with app.app_context():
        factories.user("retired-clerk", display_name="退職 太郎").active = False
        factories.user("new-clerk", display_name="新任 太郎")
        db.session.commit()
    labels = [r["label"] for r in client_as(app, "procurement").get("/pick/users?q=太郎").get_json()["results"]]
    assert labels == ["新任 太郎"]


def test_the_contract_list_finds_a_contract_by_its_vendor(app, vendor_ids):
    with app.app_context():
        factories.contract("R8-321", title="ネットワーク保守", vendor_=db.session.get(factories.Vendor, vendor_ids["sorachi"]))
        db.session.commit()
    results = client_as(app, "procurement").get("/pick/contracts?q=そらち").get_json()["results"]
    assert [r["label"] for r in results] == ["R8-321 ネットワーク保守"]


def test_the_contract_form_lists_no_vendors_in_full(app, users):
    """Without JavaScript the select offers the first vendors (in kana order), the search box the others."""
    with app.app_context():
        for n in range(25):
            factories.vendor(f"株式会社まとめて{n:02d}", kana=f"マトメテ{n:02d}")
        db.session.commit()
    page = client_as(app, "procurement").get("/contracts/new").get_data(as_text=True)
    assert "株式会社まとめて19" in page and "株式会社まとめて20" not in page
    assert 'data-picker-url="/pick/vendors"' in page
    assert '<label class="form-label" for="vendor_id">' in page and 'id="vendor_id"' in page


def test_a_vendor_given_by_its_id_is_saved_and_a_missing_one_refused(app, vendor_ids):
    client = client_as(app, "procurement")
    for bad in ("999999", "abc", "-3"):
        response = client.post("/contracts/new", data=contract_data(app, bad))
        assert response.status_code == 400
        assert "選択肢が正しくありません" in response.get_data(as_text=True)
    response = client.post("/contracts/new", data=contract_data(app, vendor_ids["sorachi"]))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Contract.vendor_id)) == vendor_ids["sorachi"]


def test_without_javascript_the_search_button_shows_the_matches_and_keeps_the_input(app, vendor_ids):
    """検索 sends the form back: nothing is saved, what was typed stays, and
    the vendors found become the select's options (one found: chosen)."""
    client = client_as(app, "procurement")
    data = contract_data(app, "", title="無JSの契約", **{"_pick": "vendor_id", "vendor_id-q": "ｿﾗﾁ"})
    response = client.post("/contracts/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "無JSの契約" in page
    assert f'<option value="{vendor_ids["sorachi"]}" data-label="空知ネットワーク株式会社" selected>' in page
    assert "「ｿﾗﾁ」の検索結果: 1件" in page
    assert "入力内容に誤りがあります" not in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Contract)) == 0
    # then 保存 (the choice now in the select) saves it
    saved = client.post("/contracts/new", data=contract_data(app, vendor_ids["sorachi"], title="無JSの契約"))
    assert saved.status_code == 302


def test_a_search_that_finds_nothing_says_so(app, vendor_ids):
    client = client_as(app, "procurement")
    data = contract_data(app, "", **{"_pick": "vendor_id", "vendor_id-q": "存在しない事業者"})
    page = client.post("/contracts/new", data=data).get_data(as_text=True)
    assert "「存在しない事業者」に一致するものはありません。" in page
    hostile = "<script>alert(1)</script>"
    page = client.post("/contracts/new", data={**data, "vendor_id-q": hostile}).get_data(as_text=True)
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_enter_in_another_field_still_saves(app, vendor_ids):
    """The Enter key presses the form's first button, 検索: with its box
    empty, that is a plain submission."""
    client = client_as(app, "procurement")
    data = contract_data(app, vendor_ids["dohoku"], **{"_pick": "vendor_id", "vendor_id-q": ""})
    assert client.post("/contracts/new", data=data).status_code == 302


def test_a_search_on_the_cloud_form_marks_no_error(app, vendor_ids):
    """The form's checks across fields (a contract for 個別契約…) wait for the real submission."""
    client = client_as(app, "procurement")
    page = client.post("/cloud/new", data={"agreement": "contract", "_pick": "vendor_id", "vendor_id-q": "どうおう"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "入力内容に誤りがあります" not in html and "個別契約の場合は契約を選択してください。" not in html
    assert f'<option value="{vendor_ids["dohoku"]}" data-label="株式会社道央情報システム" selected>' in html


def test_the_cloud_form_checks_its_vendor_contract_and_administrator(app, vendor_ids):
    with app.app_context():
        gone = factories.user("gone-admin")
        gone.active = False
        gone_id = gone.id
        admin_id = db.session.scalar(select(User.id).where(User.username == "procurement"))
        level = factories.level("C2").id
        db.session.commit()
    client = client_as(app, "procurement")
    base = {"name": "テストSaaS", "reading": "テストサース", "vendor_id": str(vendor_ids["dohoku"]),
            "service_model": "saas", "agreement": "terms", "ceiling_id": str(level), "purpose": "業務",
            "ismap_listing": "none", "data_location": "japan", "review_cycle_months": "12"}
    refused = client.post("/cloud/new", data={**base, "administrator_id": str(gone_id), "contract_id": "424242"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and page.count("選択肢が正しくありません") == 2
    saved = client.post("/cloud/new", data={**base, "administrator_id": str(admin_id)})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    with app.app_context():
        service = db.session.scalar(select(CloudService))
        assert (service.vendor_id, service.administrator_id, service.reading) == (vendor_ids["dohoku"], admin_id,
                                                                                   "テストサース")


def test_the_subcontractor_request_searches_its_vendor_without_javascript(app, vendor_ids):
    from contracts.models import Subcontracting
    with app.app_context():
        contract = factories.contract("R8-555", vendor_=db.session.get(factories.Vendor, vendor_ids["dohoku"]),
                                      subcontracting=Subcontracting.APPROVAL)
        db.session.commit()
        contract_id = contract.id
    client = client_as(app, "procurement")
    response = client.post(f"/contracts/{contract_id}/subcontractors",
                           data={"name": "再委託先の名称", "_pick": "vendor_id", "vendor_id-q": "ソラチ"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<option value="{vendor_ids["sorachi"]}" data-label="空知ネットワーク株式会社" selected>' in page
    assert 'value="再委託先の名称"' in page
