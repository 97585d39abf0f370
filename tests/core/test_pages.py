"""Every page, as a user (and a screen reader) meets it: one h1, landmarks,
a label for every control, nothing from outside the site."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import text

from core.db import db
from tests.conftest import DEMO_PASSWORD, login_as
from tests.core.test_access import routes


class PageParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.h1 = 0
        self.landmarks: set[str] = set()
        self.labels_for: set[str] = set()
        self.controls: list[dict] = []
        self.label_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h1":
            self.h1 += 1
        if tag in ("main", "nav", "header", "footer"):
            self.landmarks.add(tag)
        if tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.labels_for.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit", "button"):
            self.controls.append({**a, "_in_label": self.label_depth > 0})

    def handle_endtag(self, tag):
        if tag == "label":
            self.label_depth -= 1


def check_page(html: str, where: str) -> list[str]:
    page = PageParser()
    page.feed(html)
    problems = []
    if page.h1 != 1:
        problems.append(f"{where}: {page.h1} h1 elements")
    for landmark in ("main", "header", "footer"):
        if landmark not in page.landmarks:
            problems.append(f"{where}: no <{landmark}>")
    for control in page.controls:
        labelled = control.get("id") in page.labels_for or control["_in_label"] or control.get("aria-label")
        if not labelled:
            problems.append(f"{where}: control {control.get('name')} has no label")
    return problems


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_every_page_has_one_h1_landmarks_and_labelled_controls(demo, role):
    client = demo.test_client()
    login_as(client, role, DEMO_PASSWORD)
    problems = []
    checked = 0
    for endpoint, method, url in routes(demo):
        if method != "GET" or endpoint.endswith(("_export", "_template")):
            continue
        response = client.get(url)
        response.close()
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        checked += 1
        problems += check_page(response.get_data(as_text=True), url)
    assert checked >= 12
    assert problems == [], "\n".join(problems)


def test_login_and_error_pages_too(client, users):
    assert check_page(client.get("/login").get_data(as_text=True), "/login") == []
    login_as(client, "auditor")
    assert check_page(client.get("/nowhere").get_data(as_text=True), "404") == []


def test_form_errors_are_tied_to_their_fields(client, users):
    login_as(client, "admin")
    html = client.post("/admin/units/new", data={"name": "", "sort_order": "-1"}).get_data(as_text=True)
    assert 'id="name" ' in html and 'aria-describedby="name-error"' in html and 'id="name-error"' in html
    assert 'aria-invalid="true"' in html


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return  # PostgreSQL always enforces foreign keys
    with app.app_context():
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_page_titles_are_plain_text(demo):
    """A title block must hold a title, not markup (a slipped block once put a
    whole section into <title>)."""
    import re

    client = demo.test_client()
    login_as(client, "admin", DEMO_PASSWORD)
    for _endpoint, method, url in routes(demo):
        if method != "GET":
            continue
        response = client.get(url)
        response.close()
        if response.status_code == 200 and response.mimetype == "text/html":
            title = re.search(r"<title>(.*?)</title>", response.get_data(as_text=True), re.S).group(1)
            assert "<" not in title and len(title) < 200, url


@pytest.mark.parametrize("query", ["unit=%C2%B2", "unit=99999999999999999999999", "q=a%00b", "status=%00"])
def test_odd_list_filters_filter_nothing(demo, query):
    """A superscript digit, a number too large for a database integer and a
    NUL (which PostgreSQL refuses in any text) were server errors."""
    client = demo.test_client()
    login_as(client, "auditor", DEMO_PASSWORD)
    assert client.get(f"/vendors/?{query}").status_code == 200
