"""The printed documents' defects of issue 18: bookmarks pointing to their
sections, dates never split across lines, sign-off boxes never alone on a
page, dates in 和暦 (or ISO, a setting), the closing note, and the annual
pack as a record of its year."""
from __future__ import annotations

import io
import re

from pypdf import PdfReader
from reportlab.lib.units import mm

from core import pdf


def outline_pages(data: bytes) -> list[tuple[str, int]]:
    reader = PdfReader(io.BytesIO(data))
    found = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                found.append((item.title, reader.get_destination_page_number(item)))

    walk(reader.outline)
    return found


def page_texts(data: bytes) -> list[str]:
    return [re.sub(r"\s+", "", page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]


def test_each_bookmark_points_to_the_page_of_its_heading(app):
    rows = [[f"行{i}", "内容"] for i in range(80)]
    sections = [pdf.Section(f"第{n}の文書", [pdf.table(["項目", "内容"], rows, [90 * mm, 90 * mm])], level=1,
                            part="文書の部" if n == 1 else None) for n in range(1, 4)]
    sections.append(pdf.Section("横の台帳", [pdf.p("本文")], landscape=True))
    with app.test_request_context():
        rendered = pdf.render("テスト", sections, user=None, cover=[pdf.p("表紙")], toc=True)
    texts = page_texts(rendered.data)
    outline = outline_pages(rendered.data)
    assert [title for title, _ in outline] == ["文書の部", "第1の文書", "第2の文書", "第3の文書", "横の台帳"]
    pages = [page for _, page in outline]
    assert len(set(pages[1:])) == 4 and pages[1] > 1
    for title, page in outline:
        assert title in texts[page], (title, page)


# --- dates are never split across lines ------------------------------------------------

ERA = "(?:令和|平成|昭和|大正|明治)"
# The first part of a date broken at a line's end (cells side by side share a
# line of ``pdftotext -layout``: each token is checked).
BROKEN_HEAD = re.compile(rf"(?<![\d-])\d{{4}}-(?:\d{{1,2}}(?:-\d?)?)?$|[~〜]\d{{1,3}}$|{ERA}(?:元|\d+)?(?:年(?:\d+月?(?:\d+)?)?)?$")
# … and the rest of it at the start of the next line.
BROKEN_TAIL = re.compile(r"^-\d|^\d{1,3}-\d{2}-\d{2}|^年\d+月")


def split_dates(layout_text: str) -> list[str]:
    broken = []
    for token in layout_text.split():
        if BROKEN_HEAD.search(token) or BROKEN_TAIL.search(token):
            broken.append(token)
    return broken


def layout(data: bytes) -> str:
    import subprocess

    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def test_the_detector_sees_the_splits_the_issue_names():
    assert split_dates("2027-03\n-31 ~202\n7-06-20 2026-12-0\n2承認 令和8年11月\n26日")
    assert not split_dates("2027-03-31 〜2027-06-20 2026-12-02承認 令和8年11月26日 令和8年度 R8-001 41件")


def test_a_date_stays_whole_in_a_narrow_cell(app):
    text = "承認済みの再委託先 株式会社テスト（保守・2026-12-02承認） 〜2027-06-20 令和8年11月26日まで"
    for width in range(64, 160, 3):  # a 23 mm column and wider
        for line in pdf.wrap_lines(text, width, 8):
            assert not split_dates(line), (width, line)
    assert "".join(pdf.wrap_lines(text, 40, 8)) == text  # nothing lost


def demo_documents(app, client) -> dict[str, bytes]:
    """Every kind of document the demo prints (the pack binds the checklists,
    the vendor summaries, both registers and the self-inspection sheet)."""
    from sqlalchemy import select

    from contracts.models import Contract
    from core.db import db
    from core.timeutil import fiscal_year, today

    with app.app_context():
        contracts = db.session.scalars(select(Contract.id)).all()
    paths = [f"/checklists/pack.pdf?fy={fiscal_year(today())}", "/cloud/register.pdf", "/social/register.pdf",
             "/checklists/self-inspection.pdf", *(f"/contracts/{c}/sheet.pdf" for c in contracts[:3])]
    documents = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        documents[path] = response.data
    return documents


def test_no_date_is_split_in_any_document_of_the_demo(app, demo):
    from tests.conftest import DEMO_PASSWORD, login_as

    client = demo.test_client()
    login_as(client, "admin", DEMO_PASSWORD)
    for path, data in demo_documents(app, client).items():
        assert split_dates(layout(data)) == [], path


# --- the sign-off boxes never sit alone on a page --------------------------------------

def test_the_sign_off_never_sits_alone_on_the_last_page(app):
    """Whatever the length of the table before, the last page holds some of
    its rows (or the block before) with the sign-off boxes."""
    from reportlab.platypus import Spacer

    with app.test_request_context():
        for count in range(40, 75, 2):  # the table ends from mid-page to the page's foot
            rows = [[f"行{i:03}", "内容"] for i in range(count)]
            rendered = pdf.render("テスト", [pdf.Section("一覧", [pdf.table(["項目", "内容"], rows, [90 * mm, 90 * mm]),
                                                               pdf.sign_off()])], user=None)
            texts = page_texts(rendered.data)
            assert "点検者" in texts[-1] and "行" in texts[-1].replace("テスト", ""), (count, texts[-1])
            assert f"行{count - 1:03}" in texts[-1]
        for filler in range(560, 700, 10):  # a block that cannot split, then the boxes
            rendered = pdf.render("テスト", [pdf.Section("一覧", [Spacer(1, filler - 200),
                                                               pdf.pairs([("項目", "最後の記載")] * 8),
                                                               pdf.sign_off()])], user=None)
            texts = page_texts(rendered.data)
            assert "点検者" in texts[-1] and "最後の記載" in texts[-1], filler


def test_a_heading_never_ends_a_page_alone(app):
    """Wherever the block before it ends, a section heading is printed on the
    page that holds the table it heads."""
    from reportlab.platypus import Spacer

    with app.test_request_context():
        for filler in range(560, 720, 8):  # the heading falls from mid-page to the page's foot
            flow = [Spacer(1, filler), pdf.p("見出しの例", pdf.H2),
                    pdf.table(["項目", "内容"], [[f"行{i:03}", "内容"] for i in range(5)], [90 * mm, 90 * mm])]
            texts = page_texts(pdf.render("テスト", [pdf.Section("一覧", flow)], user=None).data)
            page = next(text for text in texts if "見出しの例" in text)
            assert "行000" in page, filler


def test_the_demo_pack_bookmarks_its_sections_and_renders_for_every_unit(app, demo):
    from sqlalchemy import select

    from core.db import db
    from core.models import OrgUnit
    from core.timeutil import fiscal_year, today
    from tests.conftest import DEMO_PASSWORD, login_as

    client = demo.test_client()
    login_as(client, "auditor", DEMO_PASSWORD)
    fy = fiscal_year(today())
    data = client.get(f"/checklists/pack.pdf?fy={fy}").data
    texts, outline = page_texts(data), outline_pages(data)
    assert len(outline) > 10 and len({page for _, page in outline}) > 10
    for title, page in outline:
        assert re.sub(r"\s+", "", title)[:20] in texts[page], (title, page)
    with app.app_context():
        units = db.session.scalars(select(OrgUnit.id)).all()
    for unit in units:
        response = client.get(f"/checklists/pack.pdf?fy={fy}&unit={unit}")
        assert response.status_code == 200, unit
        texts = page_texts(response.data)
        for title, page in outline_pages(response.data):
            assert re.sub(r"\s+", "", title)[:20] in texts[page], (unit, title)


# --- the pack for a 年度 shows what was true in that year -------------------------------

def _year_record(app):
    """A contract in force for three years, checked once in each: the year
    before the pack's year (C01 不適合, its measure corrected then; C02 一部不適合, still open),
    the pack's year (C01 一部不適合, corrected in the year) and the year after (C01 適合)."""
    import datetime as dt

    from contracts.models import ContractStatus, MeasureStatus, Result
    from core.db import db
    from core.timeutil import fiscal_year, fiscal_year_range, today
    from tests import factories

    fy = fiscal_year(today()) - 1
    before, inside, after = fiscal_year_range(fy - 1)[0] + dt.timedelta(days=40), \
        fiscal_year_range(fy)[0] + dt.timedelta(days=50), fiscal_year_range(fy + 1)[0] + dt.timedelta(days=1)
    with app.app_context():
        contract = factories.contract("Y-001", status=ContractStatus.IN_FORCE, start_on=fiscal_year_range(fy - 1)[0],
                                      end_on=fiscal_year_range(fy + 2)[1])
        first = factories.verification(contract, performed_on=before, conclusion="前年度の確認",
                                       results={"C01": Result.DOES_NOT, "C02": Result.PARTLY})
        second = factories.verification(contract, performed_on=inside, conclusion="当年度の確認",
                                        results={"C01": Result.PARTLY})
        third = factories.verification(contract, performed_on=after, conclusion="翌年度の確認")
        old, lasting = sorted(first.findings, key=lambda f: f.clause.code)
        old.measure, lasting.measure = "前年度に是正した措置", "前年度から継続の措置"
        old.status, old.accepted_at = MeasureStatus.ACCEPTED, dt.datetime.combine(before + dt.timedelta(days=20), dt.time(3))
        (mine,) = second.findings
        mine.measure, mine.status = "当年度の措置", MeasureStatus.ACCEPTED
        mine.accepted_at = dt.datetime.combine(inside + dt.timedelta(days=30), dt.time(3))
        db.session.commit()
        return fy, {"before": before, "inside": inside, "after": after, "corrected": inside + dt.timedelta(days=30),
                    "third": third.id}


def test_the_pack_shows_the_verifications_results_and_findings_of_its_year(app, users):
    from tests.conftest import login_as

    fy, days = _year_record(app)
    client = app.test_client()
    login_as(client, "auditor")
    response = client.get(f"/checklists/pack.pdf?fy={fy}")
    assert response.status_code == 200
    text = re.sub(r"\s+", "", "".join(page_texts(response.data)))
    with app.test_request_context():
        before, inside, after, corrected = (pdf.day(days[k]) for k in ("before", "inside", "after", "corrected"))
    # the verifications performed in the year, listed
    assert "年度内に実施した確認" in text and "当年度の確認" in text
    assert "前年度の確認" not in text and "翌年度の確認" not in text
    # the results dated within the year: C01 一部不適合 of the year, corrected in it, not the next year's 適合
    assert f"一部不適合（{inside}" in text and after not in text
    assert f"是正済み（{corrected}）" in text
    # every finding of the year, open and closed, and the one still open from before
    assert "当年度の措置" in text and "前年度から継続の措置" in text and "前年度に是正した措置" not in text


def test_the_checklist_printed_alone_shows_the_latest_results_and_the_open_findings(app, users):
    """Outside the pack, a checklist shows the latest result of each clause;
    an accepted measure is no longer listed."""
    from sqlalchemy import select

    from contracts.documents import checklist_sections
    from contracts.models import Contract
    from core.db import db

    _fy, days = _year_record(app)
    with app.test_request_context():
        contract = db.session.scalar(select(Contract).where(Contract.number == "Y-001"))
        (section,) = checklist_sections([contract.id])
        rendered = pdf.render("テスト", [section], user=None)
        text = re.sub(r"\s+", "", "".join(page_texts(rendered.data)))
        assert f"適合（{pdf.day(days['after'])}" in text and "前年度から継続の措置" in text
        assert "当年度の措置" not in text  # accepted: no longer among the open findings


def test_documents_print_dates_in_wareki_or_iso_as_the_setting_says(app):
    import datetime as dt

    with app.test_request_context():
        assert pdf.day(dt.date(2026, 4, 1)) == "令和8年4月1日" and pdf.day(None) == "—"
        assert pdf.day(dt.datetime(2026, 3, 31, 16, 0)) == "令和8年4月1日"  # stored UTC, printed as the date in Japan
        app.config["DOCUMENT_DATES"] = "iso"
        try:
            assert pdf.day(dt.date(2026, 4, 1)) == "2026-04-01"
        finally:
            app.config["DOCUMENT_DATES"] = "wareki"


def test_the_registers_print_wareki_dates_whole(app, demo):
    from tests.conftest import DEMO_PASSWORD, login_as

    client = demo.test_client()
    login_as(client, "admin", DEMO_PASSWORD)
    for path in ("/cloud/register.pdf", "/social/register.pdf"):
        text = layout(client.get(path).data)
        assert re.search(r"令和\d+年\d+月\d+日", text) and not re.search(r"\d{4}-\d{2}-\d{2}", text.split("出力")[0]), path
        assert split_dates(text) == [], path


def test_the_closing_note_sends_the_auditor_to_the_check_in_the_app(app, users):
    from tests.conftest import login_as

    client = app.test_client()
    login_as(client, "auditor")
    data = client.get("/checklists/pack.pdf").data
    last = page_texts(data)[-1]
    assert "改ざん検査" in last and "/audit/verify" in last and "flask" not in last
