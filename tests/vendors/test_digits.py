"""Digit fields (issue 17, "Input"): the corporate number and a contact's
phone number are NFKC-folded and then must be ASCII digits, in the forms,
the spreadsheet import, the API and the rules themselves; searches and
import keys are folded too; migration 0012 folds the rows already stored."""
from __future__ import annotations

import importlib.util
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from contracts.exchange import vendor_by_name_or_number
from core.db import db
from tests import factories
from vendors import services
from vendors.models import Vendor, VendorContact, VendorStatus

HALF = "7000012050002"
WIDE = {ord("0") + i: ord("０") + i for i in range(10)}
FULL = HALF.translate(WIDE)  # ７００００１２０５０００２
FORM = {"name": "株式会社全角数字", "kana": "ゼンカクスウジ", "corporate_number": "", "address": "", "representative": "",
        "website": "", "unit_id": "1", "status": "candidate", "notes": ""}


def _values(**overrides) -> dict:
    return {"name": "株式会社全角数字", "kana": None, "corporate_number": None, "address": None,
            "representative": None, "website": None, "unit_id": 1, "status": "candidate", "notes": None,
            **overrides}


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Vendor))


# --- the rules (service layer) ---------------------------------------------------------

def test_the_rules_store_a_full_width_number_in_half_width(app, users):
    with app.app_context():
        vendor = services.save_vendor(Vendor(), _values(corporate_number=FULL))
        db.session.commit()
        assert vendor.corporate_number == HALF


def test_the_rules_refuse_a_second_vendor_whatever_the_width(app, users):
    with app.app_context():
        factories.vendor("株式会社先に登録", corporate_number=HALF)
        db.session.commit()
        with pytest.raises(services.VendorRuleError, match="この法人番号の事業者は既に登録されています"):
            services.save_vendor(Vendor(), _values(corporate_number=FULL))
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Vendor)) == 1


@pytest.mark.parametrize("number", ["²000012050002", "٧٠٠٠٠١٢٠٥٠٠٠٢", "700001205000A", "7000012050003"])
def test_the_rules_refuse_a_number_that_is_not_13_ascii_digits_with_its_check_digit(app, users, number):
    with app.app_context():
        with pytest.raises(services.VendorRuleError, match="法人番号"):
            services.save_vendor(Vendor(), _values(corporate_number=number))
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Vendor)) == 0


def test_a_contact_phone_is_stored_folded_by_the_rules(app, users):
    with app.app_context():
        vendor = factories.vendor()
        contact = services.add_contact(vendor, name="担当", department=None, phone="０１２５－２２－１２３４", email=None)
        assert contact.phone == "0125-22-1234"


def test_the_contract_import_finds_a_vendor_by_a_full_width_number(app, users):
    with app.app_context():
        vendor = factories.vendor(corporate_number=HALF)
        assert vendor_by_name_or_number(FULL) == vendor.id


# --- through the app -------------------------------------------------------------------

def test_a_half_width_duplicate_of_a_full_width_number_is_refused(buyer, app):
    assert buyer.post("/vendors/new", data={**FORM, "corporate_number": FULL}).status_code == 302
    response = buyer.post("/vendors/new", data={**FORM, "name": "株式会社半角数字", "corporate_number": HALF})
    assert response.status_code == 400
    assert "この法人番号の事業者は既に登録されています" in response.get_data(as_text=True)
    assert count(app) == 1


def test_a_superscript_digit_gets_a_message_not_a_500(buyer, app):
    response = buyer.post("/vendors/new", data={**FORM, "corporate_number": "7000012050002²"})
    assert response.status_code == 400
    assert "法人番号は13桁の数字で入力してください" in response.get_data(as_text=True)
    assert count(app) == 0


def test_a_search_in_full_width_digits_finds_the_half_width_record(buyer, app):
    with app.app_context():
        factories.vendor("株式会社検索対象", corporate_number=HALF)
        db.session.commit()
    page = buyer.get(f"/vendors/?q={FULL}").get_data(as_text=True)
    assert "株式会社検索対象" in page.split("<tbody>")[1]
    page = buyer.get("/vendors/?q=１２０５").get_data(as_text=True)
    assert "株式会社検索対象" in page.split("<tbody>")[1]


def test_a_search_for_other_text_is_unchanged(buyer, app):
    with app.app_context():
        factories.vendor("株式会社ＡＢＣ", corporate_number=HALF)
        db.session.commit()
    assert "株式会社ＡＢＣ" in buyer.get("/vendors/?q=ＡＢＣ").get_data(as_text=True).split("<tbody>")[1]
    assert "株式会社ＡＢＣ" not in buyer.get("/vendors/?q=XYZ").get_data(as_text=True).split("<tbody>")[1]


def _import(client, data: bytes):
    preview = client.post("/vendors/import", data={"file": (io.BytesIO(data), "vendors.csv")},
                          content_type="multipart/form-data")
    html = preview.get_data(as_text=True)
    token = re.search(r'name="token" value="([0-9a-f]+)"', html)
    return html, token.group(1) if token else None


def test_an_import_in_full_width_digits_updates_the_vendor_instead_of_adding_one(buyer, app):
    with app.app_context():
        unit = factories.unit("警防課")
        factories.vendor("株式会社取込先", corporate_number=HALF, unit=unit, status=VendorStatus.CANDIDATE,
                         selected=False)
        db.session.commit()
    html, token = _import(buyer, f"名称,法人番号,担当組織,状態,備考\n株式会社取込先,{FULL},警防課,候補,全角で更新\n".encode())
    assert "新規</span> 0" in html and "変更</span> 1" in html
    assert buyer.post("/vendors/import/confirm", data={"token": token, "filename": "vendors.csv"}).status_code == 302
    assert count(app) == 1
    with app.app_context():
        assert db.session.scalar(select(Vendor.notes).where(Vendor.corporate_number == HALF)) == "全角で更新"


def test_the_api_stores_a_full_width_number_folded(app, users):
    from tests.conftest import api_token
    token = {"Authorization": f"Bearer {api_token(app, 'procurement')}"}
    with app.app_context():
        unit = db.session.scalar(text("SELECT name FROM org_units ORDER BY id LIMIT 1"))
    response = app.test_client().post("/api/v1/vendors", headers=token, json={
        "name": "株式会社API", "unit": unit, "status": "candidate", "corporate_number": FULL})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["corporate_number"] == HALF


@pytest.mark.parametrize("phone, stored", [("０１２５－２２－１２３４", "0125-22-1234"), ("0125-22-1234", "0125-22-1234")])
def test_a_full_width_phone_number_is_stored_in_half_width(buyer, app, phone, stored):
    with app.app_context():
        vendor_id = factories.vendor().id
        db.session.commit()
    response = buyer.post(f"/vendors/{vendor_id}/contacts", data={"name": "担当 太郎", "phone": phone})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(VendorContact.phone)) == stored


@pytest.mark.parametrize("phone", ["0125-22-123⁴", "٠١٢٥-٢٢-١٢٣٤"])
def test_a_phone_number_with_other_digits_gets_a_message(buyer, app, phone):
    with app.app_context():
        vendor_id = factories.vendor().id
        db.session.commit()
    response = buyer.post(f"/vendors/{vendor_id}/contacts", data={"name": "担当 太郎", "phone": phone})
    if phone.endswith("⁴"):  # NFKC folds ⁴ to 4: a valid number then
        assert response.status_code == 302
        with app.app_context():
            assert db.session.scalar(select(VendorContact.phone)) == "0125-22-1234"
    else:
        assert response.status_code == 400
        assert "電話番号は数字とハイフンで入力してください" in response.get_data(as_text=True)


# --- migration 0012 ---------------------------------------------------------------------

def _migration():
    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0012_fold_digit_fields.py"
    spec = importlib.util.spec_from_file_location("migration_0012", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_folds_stored_numbers_and_leaves_a_colliding_one(app, users):
    with app.app_context():
        kept = factories.vendor("株式会社半角", corporate_number=HALF)
        other = factories.vendor("株式会社全角")
        alone = factories.vendor("株式会社単独")
        contact = services.add_contact(alone, name="担当", department=None, phone="0125-22-1234", email=None)
        db.session.commit()
        # Rows as an older version stored them: full-width, typed as is.
        db.session.execute(text("UPDATE vendors SET corporate_number = :n WHERE id = :id"),
                           {"n": FULL, "id": other.id})
        alone_number = alone.corporate_number
        db.session.execute(text("UPDATE vendors SET corporate_number = :n WHERE id = :id"),
                           {"n": alone_number.translate(WIDE), "id": alone.id})
        db.session.execute(text("UPDATE vendor_contacts SET phone = :p WHERE id = :id"),
                           {"p": "０１２５－２２－１２３４", "id": contact.id})
        db.session.commit()
        with db.engine.begin() as connection:
            left = _migration().fold(connection)
        numbers = dict(db.session.execute(select(Vendor.id, Vendor.corporate_number)).all())
        assert numbers[kept.id] == HALF
        assert numbers[other.id] == FULL  # it would collide: left as it was, and said so
        assert numbers[alone.id] == alone_number
        assert db.session.scalar(select(VendorContact.phone).where(VendorContact.id == contact.id)) == "0125-22-1234"
        assert left == [(other.id, FULL)]
