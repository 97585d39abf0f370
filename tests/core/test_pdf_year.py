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
