"""Issue 20: the contract fields offices keep — amount (契約金額, tax
included), contracting method, signing date, the contractor's responsible
person and the budget item — in the spreadsheet export and import, in the
JSON API and in its OpenAPI description."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from contracts.models import Contract, ContractingMethod, ContractStatus
from core.db import db
from core.models import User
from tests import factories
from tests.conftest import api_token
from tests.core.test_exchange import csv_rows, import_file, signed_in

HEADERS = ["契約方法", "契約金額", "締結日", "締結の記録日時", "受託者側責任者", "受託者側責任者の連絡先", "予算科目"]


@pytest.fixture
def contracts(app, users):
    """A signed contract with every field, and a draft without them, of the procurement user."""
    with app.app_context():
        officer = db.session.get(User, users["procurement"])
        vendor = factories.vendor("株式会社道央情報システム", kana="ドウオウジョウホウシステム", unit=officer.unit)
        signed = factories.contract("R8-001", vendor_=vendor, status=ContractStatus.SIGNED, unit=officer.unit,
                                    officer=officer)
        signed.amount, signed.method = 12_345_678_900, ContractingMethod.GENERAL_TENDER
        signed.signed_on, signed.signed_at = dt.date(2026, 4, 1), dt.datetime(2026, 4, 1, 1, 30)
        signed.contractor_manager, signed.contractor_manager_contact = "道央 太郎", "0125-22-1234"
        signed.budget_item = "総務費 委託料"
        draft = factories.contract("R8-002", vendor_=vendor, unit=officer.unit, officer=officer)
        db.session.commit()
        return {"signed": signed.id, "draft": draft.id}


def load(app, contract_id: int) -> Contract:
    with app.app_context():
        found = db.session.get(Contract, contract_id)
        db.session.expunge(found)
        return found


# --- spreadsheets ------------------------------------------------------------------------

def test_the_csv_export_has_the_fields(app, contracts):
    rows = csv_rows(signed_in(app, "auditor").get("/contracts/export.csv").data)
    header = rows[0]
    assert set(HEADERS) <= set(header)
    row = next(row for row in rows[1:] if row[header.index("契約番号")] == "R8-001")
    values = {name: row[header.index(name)] for name in HEADERS}
    assert values == {"契約方法": "一般競争入札", "契約金額": "12345678900", "締結日": "2026-04-01",
                      "締結の記録日時": values["締結の記録日時"], "受託者側責任者": "道央 太郎",
                      "受託者側責任者の連絡先": "0125-22-1234", "予算科目": "総務費 委託料"}
    assert values["締結の記録日時"].startswith("2026-04-01")
    draft = next(row for row in rows[1:] if row[header.index("契約番号")] == "R8-002")
    assert draft[header.index("契約金額")] == "" and draft[header.index("契約方法")] == ""


def test_the_xlsx_export_has_the_amount_as_a_number(app, contracts):
    book = load_workbook(io.BytesIO(signed_in(app, "auditor").get("/contracts/export.xlsx").data))
    sheet = book.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert set(HEADERS) <= set(header)
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[header.index("契約番号")] == "R8-001")
    assert row[header.index("契約金額")] == 12_345_678_900 and row[header.index("契約方法")] == "一般競争入札"


def _import_row(app, client, number: str, changes: dict[str, str], *, confirm: bool = True):
    rows = csv_rows(client.get("/contracts/export.csv").data)
    header = rows[0]
    row = next(row for row in rows[1:] if row[header.index("契約番号")] == number)
    for name, value in changes.items():
        row[header.index(name)] = value
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, row])
    data = buffer.getvalue().encode("cp932")
    if confirm:
        return import_file(client, "contracts", data, "contracts.csv")
    return client.post("/contracts/import", data={"file": (io.BytesIO(data), "contracts.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)


def test_an_import_sets_the_fields_of_a_draft(app, contracts):
    client = signed_in(app, "procurement")
    html = _import_row(app, client, "R8-002", {"契約金額": "1,234,000", "契約方法": "随意契約",
                                               "受託者側責任者": "空知 花子", "予算科目": "消防費 委託料"})
    assert "変更</span> 1" in html
    draft = load(app, contracts["draft"])
    assert draft.amount == 1_234_000 and draft.method is ContractingMethod.NEGOTIATED
    assert draft.contractor_manager == "空知 花子" and draft.budget_item == "消防費 委託料"


def test_an_import_refuses_a_bad_amount(app, contracts):
    html = _import_row(app, signed_in(app, "procurement"), "R8-002", {"契約金額": "百万円"}, confirm=False)
    assert "契約金額: 契約金額は0以上の整数（円、税込）で入力してください" in html
    assert load(app, contracts["draft"]).amount is None


def test_an_import_does_not_change_the_amount_of_a_signed_contract(app, contracts):
    html = _import_row(app, signed_in(app, "procurement"), "R8-001", {"契約金額": "1"}, confirm=False)
    assert "契約金額は直接変更できません" in html
    assert load(app, contracts["signed"]).amount == 12_345_678_900


# --- the JSON API ------------------------------------------------------------------------

@pytest.fixture
def token(app, users):
    return {"Authorization": f"Bearer {api_token(app, 'procurement')}"}


def test_the_api_reads_the_fields(app, contracts, token):
    record = app.test_client().get(f"/api/v1/contracts/{contracts['signed']}", headers=token).get_json()
    assert record["amount"] == 12_345_678_900 and record["method"] == "general_tender"
    assert record["signed_on"] == "2026-04-01" and record["signed_at"].startswith("2026-04-01T01:30")
    assert record["contractor_manager"] == "道央 太郎" and record["contractor_manager_contact"] == "0125-22-1234"
    assert record["budget_item"] == "総務費 委託料"


def test_the_api_writes_the_fields(app, contracts, token):
    client = app.test_client()
    changed = client.patch(f"/api/v1/contracts/{contracts['draft']}", headers=token,
                           json={"amount": 880000, "method": "proposal", "budget_item": "消防費"})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["amount"] == 880000 and changed.get_json()["method"] == "proposal"
    draft = load(app, contracts["draft"])
    assert draft.amount == 880000 and draft.method is ContractingMethod.PROPOSAL and draft.budget_item == "消防費"


@pytest.mark.parametrize("changes, field", [({"amount": -1}, "amount"), ({"method": "auction"}, "method"),
                                            ({"signed_on": "2026-04-01"}, "signed_on")])
def test_the_api_refuses_bad_values(app, contracts, token, changes, field):
    response = app.test_client().patch(f"/api/v1/contracts/{contracts['draft']}", headers=token, json=changes)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in str(response.get_json())
    assert load(app, contracts["draft"]).amount is None


def test_the_api_does_not_change_the_amount_of_a_signed_contract(app, contracts, token):
    response = app.test_client().patch(f"/api/v1/contracts/{contracts['signed']}", headers=token,
                                       json={"amount": 1})
    assert response.status_code == 422 and "直接変更できません" in str(response.get_json())
    assert load(app, contracts["signed"]).amount == 12_345_678_900


def test_the_openapi_document_describes_the_fields(app):
    schemas = app.test_client().get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    contract, create = schemas["Contract"], schemas["ContractCreate"]
    amount = contract["properties"]["amount"]
    assert amount["type"] == ["integer", "null"] and amount["minimum"] == 0 and "契約金額" in amount["description"]
    assert contract["properties"]["method"]["enum"] == [m.value for m in ContractingMethod] + [None]
    assert contract["properties"]["signed_on"]["format"] == "date"
    assert "signed_on" not in create["properties"] and "signed_at" not in create["properties"]
    assert {"amount", "method", "contractor_manager", "contractor_manager_contact", "budget_item"} <= set(
        create["properties"])
    with app.app_context():
        assert db.session.scalar(select(Contract.id)) is None
