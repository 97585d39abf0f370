"""Printable documents (reportlab): A4, Japanese in an embedded TrueType font
(IPAex Gothic, shipped in core/fonts with its licence), the body's name and
the title on every page, "generated at / by", page n / N and the
classification marking in the footer, table headers repeated on every page,
CJK line wrapping, sign-off boxes, PDF bookmarks and a table of contents.

Domains describe a document as :class:`Section` objects (a title, an
orientation and reportlab flowables); :func:`render` lays one or many
sections out, so the annual audit pack is the same sections bound together.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import re
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from flask import Response, current_app
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.tables import CellStyle

from core import audit
from core.files import content_disposition
from core.timeutil import JST, utcnow, wareki

FONT = "IPAexGothic"
FONT_FILE = Path(__file__).parent / "fonts" / "ipaexg.ttf"
MARGIN = 15 * mm


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        font = TTFont(FONT, str(FONT_FILE))
        _remember_splits(font)
        pdfmetrics.registerFont(font)
        # IPAex has no bold face: bold maps to the same file.
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT, italic=FONT, boldItalic=FONT)


def _remember_splits(font: TTFont) -> None:
    """Drawing a string maps each character to its place in the embedded
    subsets (TTFont.splitString).  Within one document a character keeps
    its place once given, so the same string always maps the same way: the
    result is remembered per document, which matters when a 1,000-page
    pack repeats the same clause names and labels on every page."""
    split = font.splitString
    cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def remembered(text, doc, encoding="utf-8"):
        known = cache.get(doc)
        if known is None:
            known = cache[doc] = {}
        result = known.get(text)
        if result is None:
            result = known[text] = split(text, doc, encoding)
        return result

    font.splitString = remembered


_register_font()

# Every table cell defaults to the Japanese font, small type and tight
# padding.  Setting the defaults once (rather than a FONT/PADDING/VALIGN
# command per table, applied cell by cell) makes a 1,000-page pack markedly
# faster to build.  Itaku is the only user of reportlab in its processes.
CellStyle.fontname, CellStyle.fontsize, CellStyle.leading = FONT, 8, 10.5
CellStyle.leftPadding = CellStyle.rightPadding = 3
CellStyle.topPadding, CellStyle.bottomPadding = 1.5, 2
CellStyle.valign = "TOP"

BODY = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12.5, wordWrap="CJK")
SMALL = ParagraphStyle("small", parent=BODY, fontSize=7.5, leading=10)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=8, leading=10.5)
H1 = ParagraphStyle("h1", parent=BODY, fontSize=15, leading=20, spaceAfter=6, keepWithNext=1)
H2 = ParagraphStyle("h2", parent=BODY, fontSize=11.5, leading=16, spaceBefore=8, spaceAfter=4,
                    keepWithNext=1)  # a heading never ends a page alone
TITLE = ParagraphStyle("title", parent=BODY, fontSize=22, leading=30, alignment=1, spaceAfter=12)
CENTER = ParagraphStyle("center", parent=BODY, fontSize=11, leading=16, alignment=1)

HEADER_BG = colors.HexColor("#dde4ee")
ALERT_BG = colors.HexColor("#fde8e8")
GRID = colors.HexColor("#7a8699")


# Signs IPAex does not have, as ones it has (text typed into the app may hold them).
_GLYPHS = str.maketrans({"⚠": "▲", "☐": "□", "☑": "■", "☒": "■", "✖": "×", "✔": "○", "✓": "○"})


def day(value, *, empty: str = "—") -> str:
    """A date as every document prints it: 和暦 as the interface shows it
    (令和8年4月1日) or ISO (2026-04-01), as the DOCUMENT_DATES setting says.
    A moment (stored in UTC) prints as its date in Japan."""
    if value is None:
        return empty
    if isinstance(value, dt.datetime):
        value = value.replace(tzinfo=dt.UTC).astimezone(JST).date() if value.tzinfo is None else value.astimezone(JST).date()
    if current_app.config.get("DOCUMENT_DATES", "wareki") == "iso":
        return value.isoformat()
    return wareki(value)


def p(text, style: ParagraphStyle = CELL) -> Flowable:
    """A wrapped paragraph of plain text (escaped; newlines kept)."""
    text = "" if text is None else str(text).translate(_GLYPHS)
    if "\n" not in text:
        return _Line(text, style)
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


class _Line(Flowable):
    """One line of plain text in a paragraph style, drawn as a string: a
    pack prints thousands of headings and labels, and a Paragraph parses
    its markup and breaks its lines each time.  Text wider than the frame
    becomes a Paragraph after all, so it wraps as any other."""

    def __init__(self, text: str, style: ParagraphStyle):
        super().__init__()
        self.text, self.style, self._paragraph = text, style, None

    def wrap(self, availWidth, availHeight):
        style = self.style
        if pdfmetrics.stringWidth(self.text, style.fontName, style.fontSize) > availWidth - style.leftIndent:
            self._paragraph = self._paragraph or Paragraph(escape(self.text), style)
            self.width, self.height = self._paragraph.wrap(availWidth, availHeight)
            return self.width, self.height
        self._paragraph = None
        self.width, self.height = availWidth, style.leading
        return self.width, self.height

    def split(self, availWidth, availHeight):
        self.wrap(availWidth, availHeight)
        return self._paragraph.split(availWidth, availHeight) if self._paragraph is not None else []

    def getSpaceBefore(self):
        return self.style.spaceBefore

    def getSpaceAfter(self):
        return self.style.spaceAfter

    def draw(self):
        if self._paragraph is not None:
            self._paragraph.drawOn(self.canv, 0, 0)
            return
        style, canvas = self.style, self.canv
        canvas.setFont(style.fontName, style.fontSize)
        canvas.setFillColor(style.textColor)
        y = self.height - style.fontSize  # where a Paragraph puts its first baseline
        if style.alignment == 1:
            canvas.drawCentredString(self.width / 2, y, self.text)
        elif style.alignment == 2:
            canvas.drawRightString(self.width, y, self.text)
        else:
            canvas.drawString(style.leftIndent, y, self.text)


_pass = threading.local()  # per thread: a threaded server may build two documents at once


class _Table(Table):
    """A Table that draws its plain-text cells through one text object
    (reportlab's default starts one per line of every cell: most of the time
    of a long document), and skips drawing in a layout-only pass (see
    render: the first pass of a document with contents only needs page
    numbers)."""

    _text = None

    def draw(self):
        if getattr(_pass, "layout_only", False):
            return
        self._text, self._text_font, self._text_color = self.canv.beginText(), None, None
        try:
            super().draw()
            self.canv.drawText(self._text)
        finally:
            self._text = None

    def _calc_height(self, availHeight, availWidth, H=None, W=None):
        # Row heights do not change once measured (the widths are fixed):
        # a table is measured again in each pass and whenever a page fills.
        known = self.__dict__.get("_known_heights")
        if known is None:
            super()._calc_height(availHeight, availWidth, H, W)
            if None in self._argH and None not in self._rowHeights:
                self._known_heights = list(self._rowHeights)
            return
        wanted, self._argH = self._argH, known
        try:
            super()._calc_height(availHeight, availWidth, H, W)
        finally:
            self._argH = wanted
        self._rowHeights = list(known)

    def _drawCell(self, cellval, cellstyle, pos, size):
        text = self._text
        if (text is None or isinstance(cellval, (tuple, list, Flowable)) or cellstyle.href or cellstyle.destination
                or cellstyle.alignment not in ("LEFT", "CENTRE", "CENTER") or cellstyle.valign not in ("TOP", "MIDDLE")):
            return super()._drawCell(cellval, cellstyle, pos, size)
        colpos, rowpos = pos
        colwidth, rowheight = size
        font = (cellstyle.fontname, cellstyle.fontsize, cellstyle.leading)
        if font != self._text_font:
            text.setFont(*font)
            self._text_font = font
        if cellstyle.color != self._text_color:
            text.setFillColor(cellstyle.color)
            self._text_color = cellstyle.color
        formatted = self.canv.__dict__.setdefault("_itaku_formatted", {})
        lines = str(cellval).split("\n")
        leading, fontsize = cellstyle.leading, cellstyle.fontsize
        if cellstyle.valign == "TOP":
            y = rowpos + rowheight - cellstyle.topPadding - fontsize
        else:
            y = rowpos + (cellstyle.bottomPadding + rowheight - cellstyle.topPadding + len(lines) * leading) / 2.0 - fontsize
        for line in lines:
            if cellstyle.alignment == "LEFT":
                x = colpos + cellstyle.leftPadding
            else:
                x = (colpos + (colwidth + cellstyle.leftPadding - cellstyle.rightPadding) * 0.5
                     - pdfmetrics.stringWidth(line, cellstyle.fontname, fontsize) / 2)
            text.setTextOrigin(x, y)
            # textOut without measuring (the origin is set per line), and the
            # operators of a line drawn before in this font are reused: a pack
            # prints the same clause names and labels on a thousand pages.
            key = (font, text._curSubset, line)
            known = formatted.get(key)
            if known is None:
                known = formatted[key] = (text._formatText(line), text._curSubset)
            text._code.append(known[0])
            text._curSubset = known[1]
            y -= leading


_char_widths: dict[str, float] = {}
# Characters that may not begin a line (kinsoku): they stay with the one before.
_NO_LINE_START = set("、。，．,.)）」』】〕〉》・ー！？!?：:；;ぁぃぅぇぉっゃゅょァィゥェォッャュョ")


def _width(ch: str) -> float:
    width = _char_widths.get(ch)
    if width is None:
        width = _char_widths[ch] = pdfmetrics.stringWidth(ch, FONT, 1000) / 1000
    return width


# Runs of text a line never breaks inside: dates (2027-03-31, 2027-03,
# 令和8年11月26日, 令和8年度) and the numbers they begin with.
_WHOLE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{4}-\d{2}|\d{4}/\d{1,2}/\d{1,2}"
                    r"|(?:令和|平成|昭和|大正|明治)(?:元|\d{1,2})年(?:度|\d{1,2}月(?:\d{1,2}日)?)?"
                    r"|\d{1,2}月\d{1,2}日|\d+(?:[.,]\d+)*")


def _units(paragraph: str) -> list[str]:
    """The paragraph as the pieces a line may break between: single
    characters, except that a date (or a number) is one piece."""
    units, at = [], 0
    for match in _WHOLE.finditer(paragraph):
        units += paragraph[at:match.start()]
        units.append(match.group())
        at = match.end()
    units += paragraph[at:]
    return units


def wrap_lines(text: str, width: float, size: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` points, between any
    two characters (as Japanese text breaks), keeping closing punctuation off
    the start of a line and a date whole (a date wider than the line itself
    breaks as other text)."""
    lines = []
    for paragraph in text.split("\n"):
        line: list[str] = []
        used = 0.0
        for unit in _units(paragraph):
            w = sum(_width(ch) for ch in unit) * size
            if len(unit) > 1 and w > width:  # wider than a whole line: as single characters
                pieces = list(unit)
            else:
                pieces = [unit]
            for piece in pieces:
                w = sum(_width(ch) for ch in piece) * size
                if line and used + w > width:
                    carry = [line.pop()] if piece[0] in _NO_LINE_START and len(line) > 1 else []
                    lines.append("".join(line))
                    line, used = carry, sum(_width(c) for u in carry for c in u) * size
                line.append(piece)
                used += w
        lines.append("".join(line))
    return lines


def fit(text, width: float, style: ParagraphStyle = CELL):
    """A table cell: the text as plain lines, wrapped to the column (fast to
    lay out and draw, and nothing is cut off)."""
    if isinstance(text, Flowable):
        return text
    return _fit("" if text is None else str(text), width, style.fontSize)


@functools.lru_cache(maxsize=4096)
def _fit(text: str, width: float, size: float) -> str:
    # The same labels come back on every page of a pack: remembered.
    text = text.translate(_GLYPHS)
    room = width - 6  # the cell's left and right padding
    if "\n" not in text and pdfmetrics.stringWidth(text, FONT, size) <= room:
        return text
    return "\n".join(wrap_lines(text, room, size))


def table(header: list[str], rows: list[list], widths: list[float], *, alerts: set[int] = frozenset(),
          style: ParagraphStyle = CELL) -> Table:
    """A grid whose header row repeats on every page; long cells wrap (CJK);
    rows listed in ``alerts`` (0-based) are shaded and should say why."""
    data = [[fit(text, width, style) for text, width in zip(header, widths, strict=True)]]
    data += [[fit(cell, width, style) for cell, width in zip(row, widths, strict=True)] for row in rows]
    commands = [("GRID", (0, 0), (-1, -1), 0.4, GRID), ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG)]
    if style.fontSize != CellStyle.fontsize:
        commands.append(("FONT", (0, 0), (-1, -1), FONT, style.fontSize, style.leading))
    commands += [("BACKGROUND", (0, i + 1), (-1, i + 1), ALERT_BG) for i in alerts]
    result = _Table(data, colWidths=widths, repeatRows=1)
    result.setStyle(TableStyle(commands))
    return result


def pairs(items: list[tuple[str, object]], widths=(38 * mm, 142 * mm)) -> Table:
    """A two-column key/value block (a record's header)."""
    rows = [[fit(key, widths[0]), fit(value if value not in (None, "") else "—", widths[1])] for key, value in items]
    result = _Table(rows, colWidths=list(widths))
    result.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, GRID), ("BACKGROUND", (0, 0), (0, -1), HEADER_BG)]))
    return result


def sign_off(labels=("点検者", "確認者", "承認者")) -> Flowable:
    """Boxes for a name stamp and a date under each role."""
    gap = "\u3000" * 2
    box = _Table([list(labels), ["" for _ in labels], [f"日付{gap}年{gap}月{gap}日" for _ in labels]],
                 colWidths=[40 * mm] * len(labels), rowHeights=[6 * mm, 15 * mm, 6 * mm], hAlign="RIGHT")
    box.setStyle(TableStyle([("FONT", (0, 0), (-1, 0), FONT, 10), ("FONT", (0, 2), (-1, 2), FONT, 7),
                             ("ALIGN", (0, 0), (-1, 0), "CENTER"),
                             ("GRID", (0, 0), (-1, -1), 0.6, GRID), ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
                             ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    return _SignOff([Spacer(1, 4 * mm), box])


class _SignOff(KeepTogether):
    """The sign-off boxes (render keeps them with the block before)."""


class _WithSignOff(Flowable):
    """The last block of a document and its sign-off boxes: the boxes never
    sit alone at the top of a page.  When both do not fit, the block splits
    so that its last part goes on with the boxes (a table keeps some rows
    and its repeated header), or the block moves to the next page with them."""

    def __init__(self, block: Flowable, boxes: list):
        super().__init__()
        self.block, self.boxes = block, boxes
        self._content = [block, *boxes]  # render forgets the first pass's moves of these too

    def wrap(self, availWidth, availHeight):
        self.width = availWidth
        return availWidth, 0xffffff  # always split (as KeepTogether)

    def split(self, availWidth, availHeight):
        from reportlab.platypus.doctemplate import NullActionFlowable
        from reportlab.platypus.flowables import _listWrapOn

        _w, boxes = _listWrapOn(self.boxes, availWidth, self.canv)
        _w, block = _listWrapOn([self.block], availWidth, self.canv)
        if block + boxes <= availHeight:
            return [NullActionFlowable(), self.block, *self.boxes]
        frame = getattr(self, "_frame", None)
        at_top = bool(frame and getattr(frame, "_atTop", False))
        parts = self.block.splitOn(self.canv, availWidth, availHeight - boxes) if availHeight > boxes else []
        if len(parts) >= 2:
            return [parts[0], _WithSignOff(parts[1], self.boxes) if len(parts) == 2 else KeepTogether(parts[1:])]
        if not at_top:
            return []  # on to the next page, block and boxes together
        return [NullActionFlowable(), self.block, *self.boxes]  # a block higher than a page: as it comes


def _keep_sign_off(flowables: list) -> list:
    """The story of a section with its closing sign-off kept with the block before."""
    if len(flowables) >= 2 and isinstance(flowables[-1], _SignOff):
        return [*flowables[:-2], _WithSignOff(flowables[-2], list(flowables[-1]._content))]
    return list(flowables)


class Heading(_Line):
    """A section or sub-section heading: it becomes a PDF bookmark and a
    table-of-contents entry."""

    def __init__(self, text: str, level: int = 0, key: str = ""):
        super().__init__(text.translate(_GLYPHS), H1 if level == 0 else H2)
        self.toc_text, self.level, self.key = text, level, key or f"h{id(self)}"


@dataclass
class Section:
    title: str
    flowables: list = field(default_factory=list)
    landscape: bool = False
    level: int = 0  # 0: a document; 1: one of many under a part heading (the pack's contracts…)
    part: str | None = None  # a level-0 heading printed before this section (the first of a part)
    kind: str = ""  # what kind of document, for the pack's closing counts


class _Doc(BaseDocTemplate):
    def __init__(self, buffer, *, title: str, org: str, marking: str, generated: str):
        super().__init__(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN + 6 * mm,
                         bottomMargin=MARGIN + 4 * mm, title=title, author=org, creator="Itaku")
        self.doc_title, self.org, self.marking, self.generated = title, org, marking, generated
        templates = []
        for name, size in (("portrait", A4), ("landscape", landscape(A4))):
            width, height = size
            # No frame padding: a table 180 mm (portrait) or 267 mm (landscape) wide fills the page.
            frame = Frame(MARGIN, MARGIN + 4 * mm, width - 2 * MARGIN, height - 2 * MARGIN - 10 * mm, id=name,
                          leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
            templates.append(PageTemplate(id=name, frames=[frame], pagesize=size, onPage=self._decorate))
        self.addPageTemplates(templates)
        self.heading_pages: dict[str, int] = {}

    def _decorate(self, canvas, doc) -> None:
        if getattr(_pass, "layout_only", False):
            return
        width, height = canvas._pagesize
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.HexColor("#333333"))
        canvas.drawString(MARGIN, height - MARGIN, self.org)
        canvas.drawRightString(width - MARGIN, height - MARGIN, self.doc_title)
        canvas.setStrokeColor(GRID)
        canvas.line(MARGIN, height - MARGIN - 2 * mm, width - MARGIN, height - MARGIN - 2 * mm)
        canvas.line(MARGIN, MARGIN + 2 * mm, width - MARGIN, MARGIN + 2 * mm)
        canvas.drawString(MARGIN, MARGIN - 2 * mm, self.generated)
        if self.marking:
            canvas.setFont(FONT, 9)
            canvas.drawCentredString(width / 2, MARGIN - 2 * mm, self.marking)
        canvas.restoreState()

    def afterFlowable(self, flowable) -> None:
        if isinstance(flowable, Heading):
            self.heading_pages[flowable.key] = self.page
            self.canv.bookmarkPage(flowable.key)
            self.canv.addOutlineEntry(flowable.toc_text, flowable.key, level=flowable.level, closed=flowable.level > 0)


class _NumberedCanvas(pdfcanvas.Canvas):
    """Draws "n / N" once the number of pages is known."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages = []

    def bookmarkPage(self, key, **options):
        # A page is drawn only once the number of pages is known (save): the
        # bookmark is made then, on its own page, not on the first page the
        # PDF writer has when the heading is laid out.
        self.__dict__.setdefault("_itaku_marks", []).append((key, options))

    def showPage(self):
        if getattr(_pass, "layout_only", False):  # only the page count matters
            self._itaku_marks = []
            self._startPage()
            return
        self._pages.append(dict(self.__dict__))
        self._itaku_marks = []
        self._startPage()

    def save(self):
        if getattr(_pass, "layout_only", False):
            return
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            for key, options in state.get("_itaku_marks", ()):
                super().bookmarkPage(key, **options)
            width, _height = self._pagesize
            self.setFont(FONT, 8)
            self.drawRightString(width - MARGIN, MARGIN - 2 * mm, f"{self._pageNumber} / {total}")
            super().showPage()
        super().save()


@dataclass
class Rendered:
    data: bytes
    pages: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _contents(entries: list[tuple[int, str, str]], pages: dict[str, int]) -> Table:
    """The table of contents: each heading and its page.  Before the pages
    are known every number reads 9999, so the contents are as long in the
    first pass as in the second."""
    rows = [[("\u3000" * level) + title, str(pages.get(key, 9999))] for level, title, key in entries]
    result = _Table([[fit(title, 160 * mm, BODY), page] for title, page in rows], colWidths=[160 * mm, 20 * mm])
    result.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), FONT, BODY.fontSize, BODY.leading),
                                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c8cfda")),
                                ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
    return result


def render(title: str, sections: list[Section], *, user, cover: list | None = None, toc: bool = False,
           closing: list | None = None) -> Rendered:
    """Lay out ``sections`` (each starting on a new page, in its orientation)
    after an optional cover and table of contents, and return the PDF.

    With contents, the document is laid out twice: a first pass that only
    lays out (nothing is drawn) finds the page of every heading, then the
    real pass draws the contents with those numbers."""
    config = current_app.config
    local = utcnow().replace(tzinfo=dt.timezone.utc).astimezone(dt.timezone(dt.timedelta(hours=9)))
    options = dict(title=title, org=str(config["ORG_NAME"]), marking=str(config.get("DOCUMENT_MARKING") or ""),
                   generated=f"出力 {day(local)} {local:%H:%M} {getattr(user, 'display_name', '')}")
    story: list = []
    if cover:
        # The contents, or the first section, start the next page (a break here too: a blank page).
        story += [*cover, PageBreak()] if toc else cover
    entries: list[tuple[int, str, str]] = []
    contents_at = None
    if toc:
        story.append(Paragraph("目次", H1))
        contents_at = len(story)
        story.append(None)  # the contents, once their page numbers are known
    current, first = "portrait", None
    for index, section in enumerate(sections):
        wanted = "landscape" if section.landscape else "portrait"
        if story or index:
            if wanted != current:
                story.append(NextPageTemplate(wanted))
            story.append(PageBreak())
        else:
            first = wanted
        current = wanted
        if section.part:
            story.append(Heading(section.part, 0, key=f"p{index}"))
            entries.append((0, section.part, f"p{index}"))
        story.append(Heading(section.title, section.level, key=f"s{index}"))
        entries.append((section.level, section.title, f"s{index}"))
        story += _keep_sign_off(section.flowables)
    if closing:
        if current != "portrait":
            story.append(NextPageTemplate("portrait"))
        story += [PageBreak(), *_keep_sign_off(closing)]

    def build(buffer) -> _Doc:
        # The story's flowables serve both passes: forget that the first pass
        # moved one to the next page (reportlab's _postponed), or the second
        # refuses to move it again ("too large on page …").
        pending = list(story)
        while pending:
            flowable = pending.pop()
            flowable.__dict__.pop("_postponed", None)
            pending += getattr(flowable, "_content", None) or []  # inside KeepTogether
        doc = _Doc(buffer, **options)
        if first and first != "portrait":
            doc.pageTemplates.sort(key=lambda t: t.id != first)
        doc.build(story[:], canvasmaker=_NumberedCanvas)
        return doc

    pages: dict[str, int] = {}
    if toc:
        story[contents_at] = _contents(entries, pages)
        _pass.layout_only = True
        try:
            pages = build(io.BytesIO()).heading_pages
        finally:
            _pass.layout_only = False
        story[contents_at] = _contents(entries, pages)
    buffer = io.BytesIO()
    doc = build(buffer)
    return Rendered(buffer.getvalue(), doc.page)


def record_print(rendered: Rendered, *, subject=None, document: str, object_type: str | None = None,
                 extra: dict | None = None) -> None:
    """Record the print in the audit trail (who, what, when, SHA-256); the
    caller commits, then sends the PDF (:func:`send`)."""
    audit.log("print", subject, object_type=object_type if subject is None else None,
              changes={"document": document, "sha256": rendered.sha256, "pages": rendered.pages, **(extra or {})})


def send(rendered: Rendered, filename: str):
    """The PDF as a download (its print recorded and committed first: :func:`record_print`)."""
    response = Response(rendered.data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(filename, "inline")
    response.headers["Cache-Control"] = "no-store"
    return response
