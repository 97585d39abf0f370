"""Japanese first, English complete; dates, eras and fiscal years."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from core.timeutil import fiscal_year, fiscal_year_label, fiscal_year_range, wareki
from tests.conftest import login_as

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["app.py", "core", "vendors", "contracts", "cloud", "social", "templates"]


def source_messages() -> set[str]:
    """Every translatable string in the code and templates, extracted now
    (not from the committed .pot, which could be stale)."""
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    found: set[str] = set()
    for source in SOURCES:
        path = ROOT / source
        if path.is_file():
            method_map, directory = [(path.name, "python")], path.parent
        else:
            method_map, directory = [("**.py", "python"), ("**.html", "jinja2"), ("**.txt", "jinja2")], path
        for filename, _lineno, message, _comments, _context in extract_from_dir(
                directory, method_map, keywords=keywords, directory_filter=lambda _d: True):
            if path.is_file() and filename != path.name:
                continue
            for text in (message if isinstance(message, tuple) else (message,)):
                if text:
                    found.add(text)
    return found


def test_every_text_has_an_english_translation():
    with open(ROOT / "translations/en/LC_MESSAGES/messages.po", "rb") as f:
        catalogue = read_po(f)
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    messages = source_messages()
    assert len(messages) > 200
    missing = sorted(messages - translated)
    assert missing == [], "run `make extract-messages` and translate:\n" + "\n".join(missing)


def test_login_page_is_japanese_by_default(client, users):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert "ログイン" in html and "ユーザー名" in html


def test_visitor_can_switch_the_login_page_to_english(client, users):
    response = client.post("/language", data={"lang": "en", "next": "/login"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "User name" in html and "Sign in" in html


def test_language_choice_persists_for_the_user_across_sessions(client, users):
    login_as(client, "auditor")
    client.post("/language", data={"lang": "en", "next": "/"})
    assert "Dashboard" in client.get("/").get_data(as_text=True)
    client.post("/logout")
    # A new browser (no cookie) signs in: the user's choice is remembered.
    other = client.application.test_client()
    login_as(other, "auditor")
    html = other.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html and "Audit trail" in html and "監査ログ" not in html
    # And back to Japanese.
    other.post("/language", data={"lang": "ja", "next": "/"})
    assert "監査ログ" in other.get("/").get_data(as_text=True)


def test_unknown_language_is_ignored(client, users):
    login_as(client, "auditor")
    client.post("/language", data={"lang": "xx", "next": "/"})
    assert '<html lang="ja">' in client.get("/").get_data(as_text=True)


def test_language_switch_never_redirects_off_site(client, users):
    response = client.post("/language", data={"lang": "en", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_error_pages_follow_the_language(client, users):
    login_as(client, "auditor")
    assert "ページが見つかりません" in client.get("/no-such-page").get_data(as_text=True)
    client.post("/language", data={"lang": "en", "next": "/"})
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


@pytest.mark.parametrize("day, expected", [
    (dt.date(2026, 11, 26), "令和8年11月26日"),
    (dt.date(2019, 5, 1), "令和元年5月1日"),
    (dt.date(2019, 4, 30), "平成31年4月30日"),
    (dt.date(1989, 1, 8), "平成元年1月8日"),
    (dt.date(1989, 1, 7), "昭和64年1月7日"),
])
def test_wareki(day, expected):
    assert wareki(day) == expected


@pytest.mark.parametrize("day, year", [
    (dt.date(2026, 4, 1), 2026), (dt.date(2027, 3, 31), 2026), (dt.date(2026, 3, 31), 2025), (dt.date(2026, 12, 31), 2026),
])
def test_fiscal_year_runs_april_to_march(day, year):
    assert fiscal_year(day) == year
    start, end = fiscal_year_range(year)
    assert start <= day <= end


@pytest.mark.parametrize("year, ja", [(2026, "令和8年度"), (2019, "令和元年度"), (2018, "平成30年度"), (1988, "昭和63年度")])
def test_fiscal_year_labels(year, ja):
    assert fiscal_year_label(year, "ja") == ja
    assert fiscal_year_label(year, "en") == f"FY{year}"


def test_dates_are_shown_in_the_users_language(app, users):
    from core.i18n import date_filter

    with app.test_request_context():
        assert date_filter(dt.date(2026, 11, 26)) == "2026年11月26日"
        assert date_filter(dt.date(2026, 11, 26), era=True) == "令和8年11月26日"
    with app.test_request_context():
        from flask import session

        session["lang"] = "en"
        assert date_filter(dt.date(2026, 11, 26)) == "26 Nov 2026"


def test_language_chosen_on_the_sign_in_page_becomes_the_users(client, users, app):
    client.post("/language", data={"lang": "en", "next": "/login"})
    login_as(client, "verifier")
    assert "Dashboard" in client.get("/").get_data(as_text=True)
    other = app.test_client()
    login_as(other, "verifier")
    assert '<html lang="en">' in other.get("/").get_data(as_text=True)
