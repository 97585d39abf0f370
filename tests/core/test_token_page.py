"""The API token page leads to the API's description (issue 20)."""
from __future__ import annotations

from tests.conftest import login_as


def test_the_token_page_links_the_openapi_document(client, users):
    login_as(client, "auditor")
    page = client.get("/account").get_data(as_text=True)
    assert 'href="/api/v1/openapi.json"' in page
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200 and document.get_json()["openapi"].startswith("3.")
