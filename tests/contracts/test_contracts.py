from __future__ import annotations

import pytest

from contracts.models import ContractStatus
from core.db import db
from tests import factories
from tests.conftest import login_as


@pytest.fixture
def contracts(app, users):
    """Six contracts of five vendors (whose readings sort イシカリ, キタニホン,
    ソラチ, ドウオウ, ミナト), ids by number: in force, signed, draft and ended."""
    with app.app_context():
        dohoku = factories.vendor("株式会社道央情報システム", kana="ドウオウジョウホウシステム")
        made = [
            factories.contract("R8-001", vendor_=dohoku, status=ContractStatus.IN_FORCE, classification="C3B"),
            factories.contract("R8-002", vendor_=factories.vendor("空知ネットワーク株式会社", kana="ソラチネットワーク"),
                               status=ContractStatus.SIGNED),
            factories.contract("R8-003", vendor_=factories.vendor("株式会社みなとウェブ制作", kana="ミナトウェブセイサク")),
            factories.contract("R8-004", vendor_=factories.vendor("北日本クラウドサービス株式会社",
                                                                  kana="キタニホンクラウドサービス"),
                               status=ContractStatus.IN_FORCE),
            factories.contract("R7-010", vendor_=dohoku, status=ContractStatus.ENDED, classification="C3B"),
            factories.contract("R7-014", vendor_=factories.vendor("有限会社いしかりデータ消去", kana="イシカリデータショウキョ"),
                               status=ContractStatus.ENDED),
        ]
        db.session.commit()
        return {contract.number: contract.id for contract in made}


def test_contract_list_filters_and_detail(app, contracts):
    client = app.test_client()
    login_as(client, "verifier")
    html = client.get("/contracts/?status=in_force").get_data(as_text=True)
    body = html.split("<tbody>")[1]
    assert "R8-001" in body and "R8-003" not in body
    assert "自治体機密性3B" in body
    detail = client.get(f"/contracts/{contracts['R8-001']}").get_data(as_text=True)
    assert "株式会社道央情報システム" in detail and "令和" in detail


def test_verification_page_lists_contracts_in_force_and_signed(app, contracts):
    client = app.test_client()
    login_as(client, "verifier")
    html = client.get("/verification/").get_data(as_text=True)
    assert "R8-001" in html and "R8-002" in html
    assert "R7-010" not in html and "R8-003" not in html


def test_contract_search_by_vendor_name(app, contracts):
    client = app.test_client()
    login_as(client, "auditor")
    body = client.get("/contracts/?q=空知").get_data(as_text=True).split("<tbody>")[1]
    assert "R8-002" in body and "R8-001" not in body


def test_contract_list_names_vendors_and_sorts_by_their_reading(app, contracts):
    client = app.test_client()
    login_as(client, "auditor")
    body = client.get("/contracts/?status=in_force").get_data(as_text=True).split("<tbody>")[1]
    assert '<td data-label="委託事業者">株式会社道央情報システム</td>' in body
    body = client.get("/contracts/?sort=vendor").get_data(as_text=True).split("<tbody>")[1]
    # イシカリ, キタニホン, ソラチ, ドウオウ, ミナト
    assert body.index("R7-014") < body.index("R8-004") < body.index("R8-002") < body.index("R8-001") \
        < body.index("R8-003")


def test_search_ignores_the_case_of_latin_letters(app, contracts):
    client = app.test_client()
    login_as(client, "auditor")
    body = client.get("/contracts/?q=r8-00").get_data(as_text=True).split("<tbody>")[1]
    assert "R8-001" in body and "R8-004" in body and "R7-010" not in body
