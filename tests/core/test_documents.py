"""Printed documents: the embedded Japanese font, header and footer on every
page, the self-inspection sheet, the annual audit pack (contents,
bookmarks, closing counts, audit head hash), access and the print record."""
from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from core.db import db
from core.models import AuditEntry, AuditHead, OrgUnit
from core.timeutil import fiscal_year, today
from tests.conftest import DEMO_PASSWORD, login_as, read_pdf


@pytest.fixture
def auditor(demo):
    client = demo.test_client()
    login_as(client, "auditor", DEMO_PASSWORD)
    return client


def fonts(data: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(data))
    found = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font.get("/FontDescriptor") or {}
            embedded = any(key in descendant for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            found.add((str(font["/BaseFont"]), embedded))
    return found


def test_the_japanese_font_is_embedded_and_every_page_has_header_and_footer(app, auditor):
    response = auditor.get("/checklists/self-inspection.pdf")
    pages, text = read_pdf(response)
    japanese = {(name, embedded) for name, embedded in fonts(response.data) if "IPAexGothic" in name}
    assert japanese and all(embedded for _name, embedded in japanese)
    reader = PdfReader(io.BytesIO(response.data))
    for number, page in enumerate(reader.pages, start=1):
        page_text = page.extract_text()
        assert "滝川地区広域消防事務組合" in page_text and "自己点検表" in page_text
        assert f"{number} / {pages}" in page_text and "取扱注意" in page_text and "監査 健一" in page_text


@pytest.mark.config(DOCUMENT_MARKING="自治体機密性2", ORG_NAME="テスト消防組合")
def test_the_marking_and_the_body_name_are_settings(app, auditor):
    _pages, text = read_pdf(auditor.get("/cloud/register.pdf"))
    assert "自治体機密性2" in text and "テスト消防組合" in text


def test_the_self_inspection_sheet_is_prefilled_with_what_the_app_knows(app, auditor):
    pages, text = read_pdf(auditor.get("/checklists/self-inspection.pdf"))
    assert pages >= 1
    compact = re.sub(r"\s+", "", text)
    for code in ("OUT-02", "CLD-02", "SNS-03", "CLS-01"):
        assert code in text
    assert "有効な契約" in compact and "必須条項の不足" in compact
    assert "取扱上限超過1件" in compact  # the demo's online storage
    assert "二要素認証なし1件" in compact  # the demo's LINE account
    for label in ("点検者", "確認者", "承認者"):
        assert label in text


def test_the_annual_pack_has_a_cover_contents_bookmarks_every_part_and_the_audit_head(app, auditor):
    fy = fiscal_year(today())
    response = auditor.get(f"/checklists/pack.pdf?fy={fy}")
    pages, text = read_pdf(response)
    reader = PdfReader(io.BytesIO(response.data))
    cover = reader.pages[0].extract_text()
    assert "情報セキュリティ監査資料" in cover and "全組織" in cover
    assert "目次" in reader.pages[1].extract_text()
    outline = [item for item in reader.outline if not isinstance(item, list)]
    titles = [item.title for item in outline]
    assert any(t.startswith("契約点検表（") for t in titles) and any(t.startswith("委託事業者の概要（") for t in titles)
    assert "外部サービス台帳" in titles and "SNS公式アカウント台帳" in titles and any("自己点検表" in t for t in titles)
    for data in ("R8-001", "株式会社道央情報システム", "オンラインストレージ", "○○消防 防災LINE", "OUT-01"):
        assert data in text, data
    last = reader.pages[-1].extract_text()
    assert pages > 10
    with app.app_context():
        # The print is recorded after the document was made: the head the
        # pack shows is the one this entry chains onto.
        entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()))
        assert db.session.get(AuditHead, 1).hash == entry.hash
        assert entry.prev_hash in re.sub(r"\s+", "", last) and "監査証跡" in last and str(entry.seq - 1) in last
        assert entry.action == "print" and entry.changes["document"] == "audit_pack"
        assert entry.changes["fiscal_year"] == fy and entry.changes["pages"] == pages
        assert entry.changes["sha256"] == __import__("hashlib").sha256(response.data).hexdigest()


def test_the_pack_for_one_unit_and_a_past_year(app, auditor):
    with app.app_context():
        unit = db.session.scalar(select(OrgUnit.id).where(OrgUnit.name == "通信指令課"))
    fy = fiscal_year(today())
    _pages, text = read_pdf(auditor.get(f"/checklists/pack.pdf?fy={fy}&unit={unit}"))
    assert "通信指令課" in text
    _pages, old = read_pdf(auditor.get(f"/checklists/pack.pdf?fy={fy - 5}"))
    assert "契約点検表（" not in old  # no contract ran then; the registers and the sheet are still there
    for query in ("fy=abc", "fy=1999", f"fy={fy + 5}", "unit=x", "unit=99999"):
        assert auditor.get(f"/checklists/pack.pdf?{query}").status_code == 404


def test_only_auditors_and_administrators_print_the_pack(app, demo):
    for role, status in (("procurement", 403), ("social", 403), ("admin", 200)):
        client = demo.test_client()
        login_as(client, role, DEMO_PASSWORD)
        response = client.get("/checklists/pack.pdf")
        assert response.status_code == status, role


def test_the_checklists_page_filters_and_links_each_document(app, demo):
    client = demo.test_client()
    login_as(client, "auditor", DEMO_PASSWORD)
    html = client.get("/checklists/").get_data(as_text=True)
    for link in ("/checklists/pack.pdf", "/checklists/self-inspection.pdf", "/cloud/register.pdf",
                 "/social/register.pdf", "/contracts/1/checklist.pdf", "/contracts/1/sheet.pdf", "/summary.pdf"):
        assert link in html, link
    with app.app_context():
        from contracts.models import Contract

        contract = db.session.scalar(select(Contract).where(Contract.number == "R8-001"))
        vendor_id, unit_id = contract.vendor_id, contract.unit_id
    rows = client.get(f"/checklists/?vendor={vendor_id}").get_data(as_text=True).split("<tbody>")[1]
    assert "R8-001" in rows and "R8-004" not in rows
    assert "R8-001" in client.get(f"/checklists/?unit={unit_id}").get_data(as_text=True)
    assert client.get("/checklists/?fy=abc").status_code == 404
    social = demo.test_client()
    login_as(social, "social", DEMO_PASSWORD)
    html = social.get("/checklists/").get_data(as_text=True)
    assert "/social/register.pdf" in html and "/contracts/" not in html and "/checklists/pack.pdf" not in html


def test_long_headings_wrap_and_repeated_lines_all_print(app, demo):
    """Headings and labels are drawn as one line only when they fit;
    repeated cell lines reuse their operators, in whichever size."""
    from reportlab.lib.units import mm

    from core import pdf

    long_title = "契約点検表 " + "非常に長い件名の業務委託契約" * 8
    label = "セキュリティ条項と" + "長い説明文" * 30
    rows = [["同じ条項の名前", "規定あり"] for _ in range(40)]
    with app.test_request_context():
        rendered = pdf.render("テスト", [pdf.Section(long_title, [
            pdf.p(label, pdf.H2), pdf.table(["条項", "規定"], rows, [90 * mm, 90 * mm]),
            pdf.table(["条項"], [["同じ条項の名前"]] * 5, [180 * mm], style=pdf.SMALL)])], user=None, toc=True)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(rendered.data)).pages)
    flat = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", long_title) in flat and label in flat
    # wrapped inside the page (180 mm holds about 33 characters at 15 pt, 45 at 11.5 pt)
    assert max(len(line) for line in text.splitlines()) < 60
    assert text.count("同じ条項の名前") == 45


@pytest.mark.parametrize("path, document", [
    ("/vendors/{vendor}/summary.pdf", "vendor_summary"),
    ("/contracts/{contract}/checklist.pdf", "contract_checklist"),
    ("/contracts/{contract}/sheet.pdf", "verification_sheet"),
    ("/cloud/register.pdf", "cloud_register"),
    ("/social/register.pdf", "social_register"),
    ("/checklists/self-inspection.pdf", "self_inspection"),
    ("/checklists/pack.pdf", "audit_pack"),
])
def test_every_printed_document_is_recorded_once(app, demo, path, document):
    from contracts.models import Contract
    from vendors.models import Vendor

    client = demo.test_client()
    login_as(client, "admin", DEMO_PASSWORD)
    with app.app_context():
        ids = {"vendor": db.session.scalar(select(Vendor.id).where(Vendor.name == "株式会社道央情報システム")),
               "contract": db.session.scalar(select(Contract.id).where(Contract.number == "R8-001"))}
        before = db.session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1))
    response = client.get(path.format(**ids))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.seq > before)).all()
        assert [(e.action, e.changes["document"]) for e in entries] == [("print", document)]
        assert entries[0].changes["sha256"] == __import__("hashlib").sha256(response.data).hexdigest()


@pytest.mark.parametrize("filler", [600, 620, 640, 660, 680])
def test_a_table_moved_to_the_next_page_is_moved_again_in_the_second_pass(app, filler):
    """A document with contents is laid out twice (page numbers first). A
    table that does not fit at the foot of a page moves to the next one — in
    both passes, without the first pass's move counting against the second
    (reportlab marks a moved flowable and refuses to move it twice: the
    demo's pack for one unit failed with a 500)."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    from core import pdf

    rows = [["第1回変更\n2026-11-13", "期間延長", "契約終了日: 2027-03-31 → 2027-07-01\nC14: 該当なし → 規定あり",
             "統括 守\n2026-12-03"]]
    with app.test_request_context():
        rendered = pdf.render("テスト", [pdf.Section("変更契約", [
            Spacer(1, filler), pdf.table(["回・変更契約日", "理由", "変更内容", "承認者・承認日"], rows,
                                         [28 * mm, 42 * mm, 80 * mm, 30 * mm])])], user=None, toc=True)
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(rendered.data)).pages))
    assert "契約終了日:2027-03-31→2027-07-01" in text
