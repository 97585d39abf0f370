from __future__ import annotations

from tests.conftest import DEMO_PASSWORD, login_as


def test_contract_list_filters_and_detail(demo):
    client = demo.test_client()
    login_as(client, "verifier", DEMO_PASSWORD)
    html = client.get("/contracts/?status=in_force").get_data(as_text=True)
    body = html.split("<tbody>")[1]
    assert "R8-001" in body and "R8-003" not in body
    assert "自治体機密性3B" in body
    detail = client.get("/contracts/1").get_data(as_text=True)
    assert "株式会社道央情報システム" in detail and "令和" in detail


def test_verification_page_lists_contracts_in_force_and_signed(demo):
    client = demo.test_client()
    login_as(client, "verifier", DEMO_PASSWORD)
    html = client.get("/verification/").get_data(as_text=True)
    assert "R8-001" in html and "R8-002" in html
    assert "R7-010" not in html and "R8-003" not in html


def test_contract_search_by_vendor_name(demo):
    client = demo.test_client()
    login_as(client, "auditor", DEMO_PASSWORD)
    body = client.get("/contracts/?q=空知").get_data(as_text=True).split("<tbody>")[1]
    assert "R8-002" in body and "R8-001" not in body


def test_contract_list_names_vendors_and_sorts_by_their_reading(demo):
    client = demo.test_client()
    login_as(client, "auditor", DEMO_PASSWORD)
    body = client.get("/contracts/?status=in_force").get_data(as_text=True).split("<tbody>")[1]
    assert "<td>株式会社道央情報システム</td>" in body
    body = client.get("/contracts/?sort=vendor").get_data(as_text=True).split("<tbody>")[1]
    # イシカリ, キタニホン, ソラチ, ドウオウ, ミナト
    assert body.index("R7-014") < body.index("R8-004") < body.index("R8-002") < body.index("R8-001") \
        < body.index("R8-003")


def test_search_ignores_the_case_of_latin_letters(demo):
    client = demo.test_client()
    login_as(client, "auditor", DEMO_PASSWORD)
    body = client.get("/contracts/?q=r8-00").get_data(as_text=True).split("<tbody>")[1]
    assert "R8-001" in body and "R8-004" in body and "R7-010" not in body
