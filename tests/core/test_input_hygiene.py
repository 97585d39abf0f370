"""Hostile input: NUL bytes and lone surrogates, integers that only look
like integers, non-ASCII digits, control characters in redirect targets and
file names, and the smaller notes of issue 15 (sections 5 and 6).  Every one
answered with a clear message (or ignored), never a 500."""
from __future__ import annotations

import io
import zlib

import pytest
from itsdangerous import base64_decode
from sqlalchemy import func, select, update

from core.db import db
from core.files import StoredFile
from core.models import ApiToken, AuditEntry, OrgUnit, User
from tests.conftest import login_as
from vendors.models import Vendor

PDF = b"%PDF-1.4\n% test\n%%EOF\n"
BAD_TEXT_JA = "使えない文字"
BAD_TEXT_EN = "characters that cannot be used"
VENDOR = {"name": "株式会社テスト情報", "kana": "テストジョウホウ", "corporate_number": "",
          "address": "", "representative": "", "website": "", "unit_id": "1", "status": "candidate", "notes": ""}


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _vendor(client) -> int:
    response = client.post("/vendors/new", data=VENDOR)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


@pytest.fixture
def admin(client, users):
    login_as(client, "admin")
    return client


# --- NUL bytes and lone surrogates: one check for forms, one for JSON ------------------

def test_nul_in_the_anonymous_sign_in_is_refused_clearly(client, users):
    response = client.post("/login", data={"username": "adm\x00in", "password": "x"})
    assert response.status_code == 400
    assert BAD_TEXT_JA in response.get_data(as_text=True)


def test_the_refusal_is_in_english_for_an_english_visitor(client, users):
    client.post("/language", data={"lang": "en", "next": "/login"})
    response = client.post("/login", data={"username": "adm\x00in", "password": "x"})
    assert response.status_code == 400
    assert BAD_TEXT_EN in response.get_data(as_text=True)


def test_nul_in_the_vendor_form_saves_nothing(buyer, app):
    before = count(app, Vendor)
    response = buyer.post("/vendors/new", data={**VENDOR, "name": "株式会社\x00テスト"})
    assert response.status_code == 400
    assert BAD_TEXT_JA in response.get_data(as_text=True)
    assert count(app, Vendor) == before


def test_nul_in_a_unit_name_saves_nothing(admin, app):
    before = count(app, OrgUnit)
    response = admin.post("/admin/units/new", data={"name": "警防\x00課", "sort_order": "1", "active": "y"})
    assert response.status_code == 400
    assert BAD_TEXT_JA in response.get_data(as_text=True)
    assert count(app, OrgUnit) == before


def test_nul_in_an_uploads_file_name_saves_nothing(buyer, app):
    vendor_id = _vendor(buyer)
    before = count(app, StoredFile)
    response = buyer.post(f"/vendors/{vendor_id}/certifications/new", content_type="multipart/form-data", data={
        "kind": "isms", "number": "IS 1", "issuer": "認証機関", "valid_until": "2027-06-30",
        "file": (io.BytesIO(PDF), "a\x00b.pdf")})
    assert response.status_code == 400 and BAD_TEXT_JA in response.get_data(as_text=True)
    assert count(app, StoredFile) == before


def _import(client, data: bytes, name: str = "vendors.csv"):
    return client.post("/vendors/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_an_import_with_nul_after_its_first_8_kb_is_refused(buyer, app):
    rows = "".join(f"株式会社テスト{i},総務課,候補\n" for i in range(400))
    data = ("名称,担当組織,状態\n" + rows).encode() + "株式会社\x00ヌル,総務課,候補\n".encode()
    assert len(data) > 8192 and b"\x00" not in data[:8192]
    before = count(app, Vendor)
    response = _import(buyer, data)
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)
    assert count(app, Vendor) == before


@pytest.mark.parametrize("data", [
    "\ufeff名称\t担当組織\t状態\n株式会社A\t総務課\t候補\n".encode("utf-16-le") + b"\x00\xd8" + "x\n".encode("utf-16-le"),
    "\ufeff名称\t担当組織\t状態\n株式会社A\t総務課\t候補\n".encode("utf-16-le") + b"A",
], ids=["lone-surrogate", "odd-length"])
def test_broken_utf16_imports_get_a_clear_message(buyer, app, data):
    response = _import(buyer, data)
    assert response.status_code == 400
    assert "UTF-16" in response.get_data(as_text=True)


@pytest.fixture
def api(client, users, app):
    from tests.conftest import api_token

    return client, {"Authorization": f"Bearer {api_token(app, 'procurement')}"}


@pytest.mark.parametrize("body, field", [
    ({"name": "a\ud800b", "unit": "総務課", "status": "candidate"}, "name"),
    ({"name": "a\x00b", "unit": "総務課", "status": "candidate"}, "name"),
    ({"name": "株式会社A", "unit": "総務課", "status": "candidate", "certifications": ["\udfff"]}, "certifications"),
    ({"name": "株式会社A", "unit": "総務課", "status": "candidate", "x\ud800": 1}, "x\ufffd"),
], ids=["surrogate", "nul", "surrogate-in-list", "surrogate-in-key"])
def test_bad_characters_in_json_are_a_422_problem(api, app, body, field):
    import json

    client, token = api
    before = count(app, Vendor)
    response = client.post("/api/v1/vendors", data=json.dumps(body), content_type="application/json", headers=token)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    errors = {e["field"]: e["message"] for e in response.get_json()["errors"]}
    assert BAD_TEXT_JA in errors[field]
    assert count(app, Vendor) == before


# --- strict integers in query strings ------------------------------------------------

HUGE = "99999999999999999999999"
PAGES = ["/vendors/", "/contracts/", "/cloud/", "/social/", "/verification/", "/audit/", "/admin/users"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("page", [HUGE, "²", "-1"])
def test_a_bad_page_number_shows_the_list(admin, path, page):
    response = admin.get(f"{path}?page={page}")
    assert response.status_code == 200


@pytest.mark.parametrize("query", [f"{name}={value}" for name in ("vendor", "ending", "unit", "classification")
                                   for value in ("²", HUGE, "2147483648")])
def test_bad_contract_filters_are_ignored(admin, query):
    assert admin.get(f"/contracts/?{query}").status_code == 200


@pytest.mark.parametrize("role, path", [
    ("admin", "/cloud/?unit=²"), ("admin", f"/cloud/?unit={HUGE}"), ("procurement", "/contracts/new?vendor=²"),
    ("procurement", f"/contracts/new?vendor={HUGE}"), ("social", "/social/check?account=²"),
    ("social", f"/social/check?account={HUGE}"), ("admin", "/checklists/?vendor=²"),
    ("admin", f"/checklists/?vendor={HUGE}")])
def test_bad_numbers_in_other_pages_are_ignored(client, users, role, path):
    login_as(client, role)
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("query", ["fy=²", f"fy={HUGE}", "unit=²", f"unit={HUGE}"])
def test_a_bad_checklist_scope_is_not_found(admin, query):
    assert admin.get(f"/checklists/?{query}").status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/contracts?vendor=²", "/api/v1/contracts?ending=²",
                                  f"/api/v1/contracts?unit={HUGE}", "/api/v1/cloud?unit=²",
                                  f"/api/v1/cloud?unit={HUGE}", f"/api/v1/contracts?ending={HUGE}"])
def test_bad_numbers_in_api_filters_are_ignored(api, path):
    client, token = api
    response = client.get(path, headers=token)
    assert response.status_code == 200 and "items" in response.get_json()


@pytest.mark.parametrize("page", [HUGE, "²"])
def test_a_bad_api_page_is_a_400_problem(api, page):
    client, token = api
    response = client.get(f"/api/v1/vendors?page={page}", headers=token)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


# --- non-ASCII digits in numeric fields ----------------------------------------------

@pytest.mark.parametrize("number", ["²000012050002", "٧٠٠٠٠١٢٠٥٠٠٠٢", "７０００\u00b9２０５０００２"])
def test_non_ascii_digits_in_a_corporate_number_get_a_clear_message(buyer, app, number):
    before = count(app, Vendor)
    response = buyer.post("/vendors/new", data={**VENDOR, "corporate_number": number})
    assert response.status_code == 400
    assert "法人番号" in response.get_data(as_text=True)
    assert count(app, Vendor) == before


def test_full_width_digits_are_folded_before_the_check(buyer, app):
    response = buyer.post("/vendors/new", data={**VENDOR, "corporate_number": "７０００\uff10１２０５０００２"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Vendor.corporate_number).where(Vendor.name == VENDOR["name"])) \
            == "7000012050002"


def test_non_ascii_digits_in_the_api_are_a_422_problem(api, app):
    client, token = api
    response = client.post("/api/v1/vendors", headers=token, json={
        "name": "株式会社A", "unit": "総務課", "status": "candidate", "corporate_number": "²000012050002"})
    assert response.status_code == 422
    assert "corporate_number" in {e["field"] for e in response.get_json()["errors"]}


# --- redirect targets ----------------------------------------------------------------

@pytest.mark.parametrize("target", ["/vendors/%0d%0aSet-Cookie:%20x=1", "/vendors/%0aX", "/\\evil.example",
                                    "/%09/evil.example", "/\\\\evil.example"])
def test_control_characters_and_backslashes_in_next_are_refused(client, users, target):
    response = client.post(f"/login?next={target}", data={"username": "admin", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Set-Cookie: x" not in str(response.headers)
    response = client.post("/language", data={"lang": "en", "next": target.replace("%0d", "\r").replace(
        "%0a", "\n").replace("%09", "\t").replace("%20", " ")})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_plain_next_still_works(client, users):
    response = client.post("/login?next=/vendors/%3Fq%3Dx", data={"username": "admin",
                                                                  "password": "correct-horse-battery"})
    assert response.headers["Location"] == "/vendors/?q=x"


# --- file names ----------------------------------------------------------------------

def _certificate(client, vendor_id: int, filename: str):
    response = client.post(f"/vendors/{vendor_id}/certifications/new", content_type="multipart/form-data", data={
        "kind": "isms", "number": "IS 1", "issuer": "認証機関", "valid_until": "2027-06-30",
        "file": (io.BytesIO(PDF), filename)})
    assert response.status_code == 302, response.get_data(as_text=True)


def _download(client, app, vendor_id: int):
    from vendors.models import Certification

    with app.app_context():
        certification = db.session.scalars(select(Certification).where(Certification.vendor_id == vendor_id)).one()
    return client.get(f"/vendors/{vendor_id}/certifications/{certification.id}/file")


def _raw_certificate(client, vendor_id: int, disposition: bytes):
    """An upload whose part header is written by hand: a browser or a test
    client never sends a CR/LF in a name, but ``filename*`` (RFC 5987) is
    percent-decoded by Werkzeug, so an attacker's client can."""
    fields = {"kind": "isms", "number": "IS 1", "issuer": "認証機関", "valid_until": "2027-06-30"}
    body = b"".join(f'--B\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                    for k, v in fields.items())
    body += (b'--B\r\nContent-Disposition: form-data; name="file"; ' + disposition
             + b"\r\nContent-Type: application/pdf\r\n\r\n" + PDF + b"\r\n--B--\r\n")
    return client.post(f"/vendors/{vendor_id}/certifications/new", data=body,
                       content_type="multipart/form-data; boundary=B")


def test_a_file_named_with_cr_lf_is_stored_and_downloads_cleanly(buyer, app):
    vendor_id = _vendor(buyer)
    response = _raw_certificate(buyer, vendor_id, b"filename*=UTF-8''evil%0D%0ASet-Cookie%3A%20a%3Db%07.pdf")
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        name = db.session.scalars(select(StoredFile.original_name)).one()
    assert name == "evilSet-Cookie: a=b.pdf"
    with _download(buyer, app, vendor_id) as response:
        assert response.status_code == 200 and response.data == PDF
        assert not any(cookie.startswith("a=") for cookie in response.headers.getlist("Set-Cookie"))
        assert response.headers["Content-Disposition"] == 'attachment; filename="evilSet-Cookie: a=b.pdf"'


def test_nul_in_an_encoded_file_name_is_refused(buyer, app):
    vendor_id = _vendor(buyer)
    before = count(app, StoredFile)
    response = _raw_certificate(buyer, vendor_id, b"filename*=UTF-8''a%00b.pdf")
    assert response.status_code == 400 and BAD_TEXT_JA in response.get_data(as_text=True)
    assert count(app, StoredFile) == before


def test_a_stored_name_with_control_characters_still_downloads(buyer, app):
    vendor_id = _vendor(buyer)
    _certificate(buyer, vendor_id, "登録証.pdf")
    with app.app_context():
        db.session.execute(update(StoredFile).values(original_name="a\r\nb\x07c.pdf"))
        db.session.commit()
    with _download(buyer, app, vendor_id) as response:
        assert response.status_code == 200 and response.data == PDF
        assert response.headers["Content-Disposition"] == "attachment; filename=abc.pdf"


def test_a_name_of_only_control_characters_gets_a_name(app):
    from core.files import display_name

    with app.app_context():
        assert display_name("\r\n") == "file"
        assert display_name("../../x\r.pdf") == "x.pdf"
        assert display_name("ｱｲｳ.pdf") == "アイウ.pdf"
        assert len(display_name("あ" * 300 + ".pdf")) <= 255 and display_name("あ" * 300 + ".pdf").endswith(".pdf")


def test_downloads_share_one_content_disposition(buyer, app):
    vendor_id = _vendor(buyer)
    with app.app_context():
        db.session.execute(update(Vendor).values(name="株式会社\r\nSet-Cookie: x=1"))
        db.session.commit()
    pdf = buyer.get(f"/vendors/{vendor_id}/summary.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["Content-Disposition"] == (
        "inline; filename=\"_Set-Cookie: x=1.pdf\"; filename*=UTF-8''%E5%A7%94%E8%A8%97%E4%BA%8B%E6%A5%AD%E8%80%85%E3%81%AE"
        "%E6%A6%82%E8%A6%81_%E6%A0%AA%E5%BC%8F%E4%BC%9A%E7%A4%BESet-Cookie%3A%20x%3D1.pdf")
    with buyer.get("/vendors/export.csv") as csv:
        assert csv.headers["Content-Disposition"] == "attachment; filename=itaku-vendors.csv"


# --- smaller notes -------------------------------------------------------------------

def test_signed_in_pages_are_not_cached(client, users):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    login_as(client, "admin")
    assert client.get("/vendors/").headers["Cache-Control"] == "no-store"
    assert client.get("/").headers["Cache-Control"] == "no-store"
    with client.get("/static/itaku.css") as static:
        assert "no-store" not in static.headers.get("Cache-Control", "")


def test_the_csv_names_its_charset_once(buyer):
    assert buyer.get("/vendors/export.csv").headers["Content-Type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize("text", ["＝1+1", "＋81", "－1", "＠SUM(A1)", "﹦1", "⁼1"])
def test_formula_look_alikes_are_escaped_and_unescaped(text):
    from core.tabular import escape_formula, unescape_formula

    assert escape_formula(text) == "'" + text
    assert unescape_formula("'" + text) == text
    assert escape_formula("株式会社") == "株式会社" and unescape_formula("'株式会社") == "'株式会社"


def test_an_administrator_revokes_a_users_api_tokens(admin, app):
    from core import api_tokens

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "social"))
        token, secret = api_tokens.issue(user, "集計スクリプト")
        db.session.commit()
        user_id, token_id = user.id, token.id
    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "集計スクリプト" in page
    assert admin.get("/api/v1/social", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    response = admin.post(f"/admin/users/{user_id}/tokens/{token_id}/revoke")
    assert response.status_code == 302
    assert admin.get("/api/v1/social", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is not None
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "revoke")
                                   .order_by(AuditEntry.seq.desc())).first()
        assert entry is not None and entry.username == "admin"
    assert f"/tokens/{token_id}/revoke" not in admin.get(f"/admin/users/{user_id}").get_data(as_text=True)


def test_only_administrators_revoke_others_tokens(client, users, app):
    from core import api_tokens

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "social"))
        token, _secret = api_tokens.issue(user, "t")
        db.session.commit()
        user_id, token_id = user.id, token.id
    login_as(client, "procurement")
    assert client.post(f"/admin/users/{user_id}/tokens/{token_id}/revoke").status_code == 403
    client.post("/logout")
    login_as(client, "admin")
    other = users["auditor"]
    assert client.post(f"/admin/users/{other}/tokens/{token_id}/revoke").status_code == 404
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None


def _session_data(client) -> bytes:
    cookie = client.get_cookie("session")
    payload = cookie.value.split(".")
    if cookie.value.startswith("."):
        return zlib.decompress(base64_decode(payload[1]))
    return base64_decode(payload[0])


def test_the_calendar_url_is_shown_on_the_page_not_kept_in_the_cookie(client, users):
    login_as(client, "auditor")
    response = client.post("/account/calendar")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    import re

    url = re.search(r'value="(http://localhost/calendar/[^"]+\.ics)"', html).group(1)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert token.encode() not in _session_data(client)
    assert client.get(url.replace("http://localhost", "")).status_code == 200
    assert token not in client.get("/account").get_data(as_text=True)  # shown once
