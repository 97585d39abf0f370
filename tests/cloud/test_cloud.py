from __future__ import annotations

from tests.conftest import DEMO_PASSWORD, login_as


def test_cloud_register_list_and_detail(demo):
    client = demo.test_client()
    login_as(client, "social", DEMO_PASSWORD)  # every role reads the register of approved services
    body = client.get("/cloud/?agreement=terms").get_data(as_text=True).split("<tbody>")[1]
    assert "Web会議サービス" in body and "電子メールサービス" not in body
    detail = client.get("/cloud/1").get_data(as_text=True)
    assert "R8-004" in detail and "自治体機密性2" in detail
