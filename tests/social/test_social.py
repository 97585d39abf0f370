from __future__ import annotations

from tests.conftest import DEMO_PASSWORD, login_as


def test_social_register_list_and_detail(demo):
    client = demo.test_client()
    login_as(client, "social", DEMO_PASSWORD)
    body = client.get("/social/?status=dormant").get_data(as_text=True).split("<tbody>")[1]
    assert "Facebook" in body and "YouTube" not in body
    detail = client.get("/social/1").get_data(as_text=True)
    assert "広報 さくら" in detail  # the one responsible person


def test_dashboard_counts_link_to_filtered_lists(demo):
    client = demo.test_client()
    login_as(client, "admin", DEMO_PASSWORD)
    html = client.get("/").get_data(as_text=True)
    assert 'href="/social/?status=dormant"' in html
    assert 'href="/contracts/?status=in_force"' in html
    social = demo.test_client()
    login_as(social, "social", DEMO_PASSWORD)
    html = social.get("/").get_data(as_text=True)
    assert "/social/?status=" in html and "/contracts/?status=" not in html  # panels follow the roles
