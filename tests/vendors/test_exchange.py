"""Vendors in spreadsheets: export what the list shows (CSV with BOM, XLSX),
import with a preview and all-or-nothing confirmation, matched on the
corporate number; Shift_JIS files, formula cells, bad files."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from core.db import db
from core.models import AuditEntry
from tests import factories
from tests.conftest import login_as
from vendors.models import Vendor, VendorStatus


@pytest.fixture
def vendors(app, users):
    """Four vendors of 警防課 with every field the spreadsheet carries:
    two active (selected), a candidate and an ended one."""
    with app.app_context():
        unit = factories.unit("警防課")
        for name, kana, status in (("株式会社道央情報システム", "ドウオウジョウホウシステム", VendorStatus.ACTIVE),
                                   ("空知ネットワーク株式会社", "ソラチネットワーク", VendorStatus.ACTIVE),
                                   ("合同会社そらちAI研究所", "ソラチエーアイケンキュウジョ", VendorStatus.CANDIDATE),
                                   ("有限会社いしかりデータ消去", "イシカリデータショウキョ", VendorStatus.ENDED)):
            factories.vendor(name, kana=kana, status=status, unit=unit, selected=status is not VendorStatus.CANDIDATE,
                             address="札幌市中央区北一条西2丁目1番地", representative="代表 一郎",
                             website="https://example.co.jp", notes="備考")
        db.session.commit()


@pytest.fixture
def procurement(app, vendors):
    client = app.test_client()
    login_as(client, "procurement")
    return client


def rows_of(response) -> list[list[str]]:
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")  # the BOM Excel needs for Japanese
    return list(csv.reader(io.StringIO(text[1:])))


def upload(client, data: bytes, name: str = "vendors.csv"):
    return client.post("/vendors/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def confirm(client, preview):
    html = preview.get_data(as_text=True)
    token = re.search(r'name="token" value="([0-9a-f]+)"', html).group(1)
    return client.post("/vendors/import/confirm", data={"token": token, "filename": "vendors.csv"})


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Vendor))


def test_the_export_is_what_the_list_shows(app, procurement):
    everything = rows_of(procurement.get("/vendors/export.csv"))
    assert everything[0][:3] == ["ID", "名称", "フリガナ"]
    assert len(everything) - 1 == count(app)
    active = rows_of(procurement.get("/vendors/export.csv?status=active&sort=name&page=2"))
    status_column = everything[0].index("状態")
    assert 1 < len(active) < len(everything)
    assert {row[status_column] for row in active[1:]} == {"取引中"}
    listed = procurement.get("/vendors/?status=active&per_page=100").get_data(as_text=True)
    assert all(row[1] in listed for row in active[1:])
    assert "/vendors/export.xlsx?status=active" in listed


def test_the_xlsx_has_a_frozen_header_widths_and_real_dates(app, procurement):
    response = procurement.get("/vendors/export.xlsx")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width == 30
    header = [cell.value for cell in sheet[1]]
    updated = header.index("更新日時")
    assert isinstance(sheet.cell(row=2, column=updated + 1).value, dt.datetime)
    assert sheet.max_row - 1 == count(app)


def test_export_then_import_changes_nothing(app, procurement):
    exported = procurement.get("/vendors/export.csv").data
    before = count(app)
    preview = upload(procurement, exported)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "エラー" in html
    assert f"この内容で取り込む（{before}行）" in html
    done = confirm(procurement, preview)
    assert done.status_code == 302
    assert count(app) == before
    page = procurement.get("/vendors/").get_data(as_text=True)
    assert f"新規 0件、変更 0件、変更なし {before}件" in page
    xlsx = procurement.get("/vendors/export.xlsx").data
    preview = upload(procurement, xlsx, "vendors.xlsx")
    assert f"この内容で取り込む（{before}行）" in preview.get_data(as_text=True)
    assert "変更なし</span> " + str(before) in preview.get_data(as_text=True)


def test_new_and_changed_rows_are_previewed_then_written_together(app, procurement):
    before = count(app)
    with app.app_context():
        known = db.session.scalar(select(Vendor).where(Vendor.corporate_number.is_not(None)).limit(1))
        number, name = known.corporate_number, known.name
    data = ("名称,法人番号,担当組織,状態,備考\n"
            f"{name},{number},警防課,取引中,取り込みで更新\n"
            "株式会社取込テスト,,警防課,候補,\n").encode()
    preview = upload(procurement, data)
    html = preview.get_data(as_text=True)
    assert "新規</span> 1" in html and "変更</span> 1" in html
    assert count(app) == before  # the preview wrote nothing
    assert confirm(procurement, preview).status_code == 302
    assert count(app) == before + 1
    with app.app_context():
        assert db.session.scalar(select(Vendor.notes).where(Vendor.corporate_number == number)) == "取り込みで更新"
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "import")).one()
        assert entry.changes["new"] == 1 and entry.changes["changed"] == 1 and entry.username == "procurement"
    again = upload(procurement, data)  # re-importing the same file updates, never duplicates
    assert "新規</span> 0" in again.get_data(as_text=True)
    confirm(procurement, again)
    assert count(app) == before + 1


def test_row_errors_name_the_row_and_column_and_nothing_is_written(app, procurement):
    before = count(app)
    data = ("名称,法人番号,担当組織,状態\n"
            "株式会社正しい,,警防課,候補\n"
            "株式会社番号違い,1234567890123,警防課,候補\n"
            ",,存在しない課,よくわからない\n"
            "株式会社選定前,,警防課,取引中\n").encode()
    preview = upload(procurement, data)
    html = preview.get_data(as_text=True)
    assert "エラーのある行があるため、取り込めません" in html and "この内容で取り込む" not in html
    assert "法人番号: 法人番号のチェックデジットが正しくありません" in html
    assert "担当組織: 「存在しない課」は登録されていません。" in html
    assert "状態: 「よくわからない」は選べません" in html
    assert "選定済・取引中にするには" in html  # the same rule as the form
    assert re.search(r"<td>3</td><td>エラー</td>", html) and re.search(r"<td>2</td><td>新規</td>", html)
    assert count(app) == before


def test_shift_jis_files_and_english_headers_are_accepted(app, procurement):
    data = "name,unit,status,notes\n株式会社シフトJIS,警防課,候補,ｶﾀｶﾅと髙﨑\n".encode("cp932")
    preview = upload(procurement, data)
    html = preview.get_data(as_text=True)
    assert "Shift_JIS" in html and "新規</span> 1" in html
    confirm(procurement, preview)
    with app.app_context():
        assert db.session.scalar(select(Vendor.notes).where(Vendor.name == "株式会社シフトJIS")) == "ｶﾀｶﾅと髙﨑"


def test_formulas_are_text_going_in_and_escaped_going_out(app, procurement):
    data = ('名称,担当組織,状態,備考\n"=HYPERLINK(""http://x"")",警防課,候補,+81-3\n'
            '株式会社アット,警防課,候補,@SUM(A1)\n').encode()
    confirm(procurement, upload(procurement, data))
    with app.app_context():
        assert db.session.scalar(select(Vendor.id).where(Vendor.name == '=HYPERLINK("http://x")'))
        assert db.session.scalar(select(Vendor.notes).where(Vendor.name == "株式会社アット")) == "@SUM(A1)"
    text = procurement.get("/vendors/export.csv?q=HYPERLINK").data.decode("utf-8")
    assert "'=HYPERLINK" in text and "'+81-3" in text
    sheet = load_workbook(io.BytesIO(procurement.get("/vendors/export.xlsx?q=HYPERLINK").data)).worksheets[0]
    cell = sheet.cell(row=2, column=2)
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"  # a string, never a formula
    # a formula typed into an XLSX is imported as its text
    book = Workbook()
    book.active.append(["名称", "担当組織", "状態"])
    book.active.append(["=1+1", "警防課", "候補"])
    buffer = io.BytesIO()
    book.save(buffer)
    confirm(procurement, upload(procurement, buffer.getvalue(), "f.xlsx"))
    with app.app_context():
        assert db.session.scalar(select(Vendor.status).where(Vendor.name == "=1+1")) is VendorStatus.CANDIDATE


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"", "empty.csv", "ファイルが空です。"),
    ("名称,状態\n".encode(), "head.csv", "データの行がありません"),
    ("名前,住所\nA,B\n".encode(), "cols.csv", "必要な列がありません: 名称、担当組織、状態"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "x.png", "CSV または XLSX"),
    (b"PK\x03\x04broken", "bad.xlsx", "XLSX ファイルを読めません"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls", "古い Excel 形式"),
    (b"a" * (10 * 1024 * 1024 + 1), "big.csv", "ファイルが大きすぎます（10MBまで）"),
])
def test_bad_files_get_a_clear_message(app, procurement, data, name, message):
    before = count(app)
    response = upload(procurement, data, name)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(app) == before


def test_templates_and_who_may_import(app, users):
    auditor = app.test_client()
    login_as(auditor, "auditor")
    assert auditor.get("/vendors/export.csv").status_code == 200
    assert auditor.get("/vendors/import").status_code == 403
    assert auditor.post("/vendors/import").status_code == 403
    procurement = app.test_client()
    login_as(procurement, "procurement")
    header = rows_of(procurement.get("/vendors/import/template.csv"))
    assert header == [["名称", "フリガナ", "法人番号", "所在地", "代表者", "ウェブサイト", "担当組織", "状態", "備考"]]
    page = procurement.get("/vendors/import").get_data(as_text=True)
    assert "/vendors/import/template.xlsx" in page
