"""Spreadsheets in and out: a register's columns written as CSV (UTF-8 with
a BOM, so Excel opens Japanese text correctly) or XLSX (header
frozen, widths set, dates as dates; core.xlsx), streamed so memory stays flat however
many rows; and CSV/XLSX files read back into rows of text, whatever
encoding an office's Excel saved them in (Shift_JIS is common).

Spreadsheet injection: text that starts with = + - @ (or a tab or carriage
return) is written with a leading apostrophe, so Excel shows it as text
instead of running it; reading removes that apostrophe again, and any other
cell that starts with = is kept as text, never evaluated.
"""
from __future__ import annotations

import csv
import datetime as dt
import enum
import functools
import io
import time
import unicodedata
import zipfile
from dataclasses import dataclass
from itertools import islice
from typing import Any, Callable, Iterable, Iterator, Sequence

from flask import Response, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.files import content_disposition

MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
MAX_IMPORT_COLUMNS = 100  # a register's import passes its own: its columns and a few more
MAX_PHYSICAL_ROWS = MAX_IMPORT_ROWS + 5000  # blank rows included
MAX_READ_SECONDS = 10.0
# An XLSX is a ZIP archive: limits on what it may unpack to.
MAX_XLSX_ENTRIES = 500
MAX_XLSX_PART = 32 * 1024 * 1024
MAX_XLSX_TOTAL = 64 * 1024 * 1024
MAX_XLSX_RATIO = 100
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    """One column of a register's spreadsheet (and field of its API).

    ``key`` is the English header and the API's field name, ``ja`` the
    Japanese header; ``get`` reads the value from a record; ``kind`` is one
    of text, date, datetime, integer, boolean, enum; ``choices`` lists an
    enum's values; ``field`` names the form field an import fills (None: the
    column is only exported); ``source`` is the SQL expression holding what
    ``get`` reads, for exports that select rows instead of loading records
    (core.registers)."""

    key: str
    ja: str
    get: Callable[[Any], Any]
    kind: str = "text"
    width: int = 16
    field: str | None = None
    required: bool = False
    choices: tuple[str, ...] = ()
    description: str = ""
    source: Any = None

    def show(self, value) -> Any:
        """What ``get`` returned, as the spreadsheet shows it."""
        if isinstance(value, enum.Enum):
            return value.value
        return value

    def csv_converter(self) -> Callable[[Any], str]:
        """A function from what ``get`` returned to the CSV cell, made once
        per export: enums and booleans have a handful of values, each
        formatted once."""
        show = self.show
        if self.kind in ("enum", "boolean"):
            return functools.cache(lambda value: csv_text(show(value)))
        return lambda value: csv_text(show(value))

    def shower(self) -> Callable[[Any], Any] | None:
        """:meth:`show`, chosen once per export (None: what ``get``
        returns is the cell already); enums and booleans have a handful of
        values, each shown once."""
        if self.kind in ("enum", "boolean"):
            return functools.cache(self.show)
        return self.show


def _starts_formula(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` as a formula: its first
    character, NFKC-folded, is one of FORMULA_START (Excel takes a
    full-width ＝ typed in Japanese as =)."""
    if not text:
        return False
    first = text[0]
    return first in FORMULA_START or (first >= "\x80" and unicodedata.normalize("NFKC", first).startswith(FORMULA_START))


def escape_formula(text: str) -> str:
    return "'" + text if _starts_formula(text) else text


def unescape_formula(text: str) -> str:
    return text[1:] if text.startswith("'") and _starts_formula(text[1:]) else text


# The first characters of text :func:`_starts_formula` was asked about, and its answer.
_FORMULA_FIRST: dict[str, bool] = {}


def csv_text(value) -> str:
    if value.__class__ is str:  # most cells: checked first
        if not value:
            return value
        risky = _FORMULA_FIRST.get(value[0])
        if risky is None:
            risky = _FORMULA_FIRST[value[0]] = _starts_formula(value[0])
        return "'" + value if risky else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (dt.date, int, float)):
        return str(value)
    return escape_formula(str(value))


def _csv_stream(columns: list[Column], rows: Callable[[], Iterable[Sequence]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([column.ja for column in columns])
    # Only the columns whose values need a step to their cell take one
    # (csv writes numbers, dates and None as csv_text would).
    converters = [(index, text) for index, column in enumerate(columns)
                  if (text := column.csv_converter()) is not None]
    width = len(columns)
    result = rows()  # started here, inside the streamed response's context
    try:
        pending = iter(result)
        while chunk := list(islice(pending, 500)):
            cells = [list(row) for row in chunk]
            for row in cells:
                if len(row) != width:
                    raise ValueError(f"a row of {len(row)} values for {width} columns")
                for index, text in converters:
                    row[index] = text(row[index])
            writer.writerows(cells)
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
    finally:
        # A client that stops reading closes this generator: close the
        # (server-side, on PostgreSQL) cursor with it.
        getattr(result, "close", lambda: None)()


def _xlsx_stream(columns: list[Column], rows: Callable[[], Iterable[Sequence]], title: str) -> Iterator[bytes]:
    """The workbook, written as it streams (core.xlsx): each value as its
    column shows it; text always as a text cell, so Excel never takes it for
    a formula."""
    from core import xlsx

    result = rows()  # started here, inside the streamed response's context
    showers = [(index, show) for index, column in enumerate(columns) if (show := column.shower()) is not None]

    def shown():
        for raw in result:
            row = list(raw)
            for index, show in showers:
                row[index] = show(row[index])
            yield row
    try:
        yield from xlsx.stream([column.ja for column in columns], [column.kind for column in columns],
                               [column.width for column in columns], shown(), title)
    finally:
        getattr(result, "close", lambda: None)()


def export_response(columns: list[Column], rows: Callable[[], Iterable[Sequence]], *, fmt: str, filename: str,
                    title: str) -> Response:
    """What ``rows()`` yields (per row, what each column's ``get`` returns,
    in column order) as a CSV or XLSX download (``fmt``), streamed: a CSV
    in pieces of 64 KB; an XLSX as it is written (core.xlsx)."""
    disposition = content_disposition(f"{filename}.{fmt}")
    if fmt == "xlsx":
        return Response(stream_with_context(_xlsx_stream(columns, rows, title)), mimetype=XLSX_MIMETYPE,
                        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})
    return Response(stream_with_context(_csv_stream(columns, rows)), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})


# --- reading -------------------------------------------------------------------------


class FileProblem(ValueError):
    """The file cannot be read as a spreadsheet; the message is for the user."""


@dataclass
class Sheet:
    headers: list[str]
    rows: list[list[str]]  # text cells, as many as headers
    encoding: str


def _decode(data: bytes) -> tuple[str, str]:
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding), "Shift_JIS" if encoding == "cp932" else "UTF-8"
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes  # slow to import, and only for a file neither UTF-8 nor Shift_JIS

    best = from_bytes(data).best()
    if best is None or best.encoding in ("utf_8", "ascii"):
        raise FileProblem(_l("文字コードを判別できません。UTF-8 または Shift_JIS の CSV で保存してください。"))
    return str(best), best.encoding


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read(data: bytes, filename: str = "", *, max_columns: int = MAX_IMPORT_COLUMNS,
         seconds: float = MAX_READ_SECONDS) -> Sheet:
    """The first sheet of an XLSX, or a CSV, as text rows.  Blank rows are
    dropped; cells are stripped; a leading apostrophe that protects a
    formula-like text is removed (see :func:`escape_formula`).

    Hostile files are refused before they cost memory or time: rows are
    read one at a time and reading stops past MAX_IMPORT_ROWS; a header
    wider than ``max_columns`` is refused and rows are cut to the header's
    width as they are read; an XLSX is checked as an archive before it is
    parsed (:func:`_check_archive`) and its declared dimension is ignored;
    and reading stops after ``seconds``."""
    if not data:
        raise FileProblem(_l("ファイルが空です。"))
    if len(data) > MAX_IMPORT_BYTES:
        raise FileProblem(_l("ファイルが大きすぎます（10MBまで）。"))
    if data.startswith(b"PK"):
        rows, encoding = _read_xlsx(data, max_columns), "XLSX"
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(_l("古い Excel 形式（.xls）は読めません。.xlsx または CSV で保存してください。"))
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text": UTF-16, tab-separated
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as error:  # an odd byte count, a lone surrogate
            raise FileProblem(_l("UTF-16 のファイルとして読めません（途中で切れているか、壊れた文字があります）。"
                                 "UTF-8 の CSV で保存し直してください。")) from error
        rows, encoding = _read_csv(_without_nul(text)), "UTF-16"
    elif b"\x00" in data[:8192]:
        raise FileProblem(_l("CSV または XLSX ファイルを選んでください。"))
    else:
        text, encoding = _decode(data)
        rows = _read_csv(_without_nul(text))
    headers, body = _bounded(rows, max_columns, time.monotonic() + seconds)
    if headers is None:
        raise FileProblem(_l("ファイルに行がありません。"))
    if not body:
        raise FileProblem(_l("見出しの行だけで、データの行がありません。"))
    return Sheet(headers, body, encoding)


def _bounded(rows: Iterable[Sequence[Any]], max_columns: int, deadline: float) -> tuple[list[str] | None,
                                                                                          list[list[str]]]:
    """The header and the non-blank rows (text cells, as many as the
    header), read one at a time within the limits of :func:`read`."""
    headers: list[str] | None = None
    body: list[list[str]] = []
    width = 0
    try:
        for count, raw in enumerate(rows):
            if count % 256 == 0 and time.monotonic() > deadline:
                raise FileProblem(_l("ファイルの読み込みに時間がかかりすぎました。ファイルを分けてください。"))
            if count > MAX_PHYSICAL_ROWS:  # blank rows too: a stray cell far below the data
                raise FileProblem(_too_many_rows())
            if headers is None:
                cells = [_clean(cell) for cell in islice(raw, max_columns + 1)]
                while cells and not cells[-1]:
                    cells.pop()
                if not cells:
                    continue
                if len(cells) > max_columns:
                    raise FileProblem(_("列が多すぎます（%(limit)s列まで）。テンプレートの見出しを使ってください。",
                                        limit=max_columns))
                headers, width = cells, len(cells)
                continue
            row = [_clean(cell) for cell in islice(raw, width)]
            if not any(row):
                continue
            if len(body) == MAX_IMPORT_ROWS:
                raise FileProblem(_too_many_rows())
            body.append(row + [""] * (width - len(row)))
    finally:
        getattr(rows, "close", lambda: None)()
    return headers, body


def _clean(cell) -> str:
    return unescape_formula(_cell_text(cell).strip())


def _too_many_rows():
    return _("行が多すぎます（%(limit)s行まで）。ファイルを分けてください。", limit=MAX_IMPORT_ROWS)


def _without_nul(text: str) -> str:
    """The text, unless it holds a NUL anywhere (no text column can store
    one: PostgreSQL refuses it)."""
    if "\x00" in text:
        raise FileProblem(_l("ファイルに使えない文字（NUL）が含まれています。CSV または XLSX ファイルを選んでください。"))
    return text


def _read_csv(text: str) -> Iterator[list[str]]:
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as error:
        raise FileProblem(_("CSV を読めません: %(error)s", error=str(error))) from error


def _check_archive(data: bytes) -> None:
    """Refuse an XLSX whose parts would unpack to more than the limits
    (a ZIP bomb), judged from the archive's directory before anything is
    unpacked.  The sizes it declares are what zipfile then holds each part
    to (a part that unpacks to more fails its check)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise FileProblem(_l("XLSX ファイルを読めません。Excel で開けるか確かめてください。")) from error
    total = sum(entry.file_size for entry in entries)
    if (len(entries) > MAX_XLSX_ENTRIES or total > MAX_XLSX_TOTAL
            or any(entry.file_size > MAX_XLSX_PART for entry in entries)
            or any(entry.file_size > 1024 * 1024 and entry.file_size > MAX_XLSX_RATIO * max(entry.compress_size, 1)
                   for entry in entries)):
        raise FileProblem(_l("XLSX ファイルが展開すると大きすぎるか、不自然に圧縮されています。"
                             "Excel で保存し直すか、ファイルを分けてください。"))


def _read_xlsx(data: bytes, max_columns: int) -> Iterator[Sequence[Any]]:
    from openpyxl import load_workbook  # only when a workbook is read (openpyxl is slow to import)

    _check_archive(data)
    try:
        # Formulas come back as their text ("=SUM(A1:A3)"): never evaluated.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # a damaged archive: any of zipfile's or the XML parser's errors
        raise FileProblem(_l("XLSX ファイルを読めません。Excel で開けるか確かめてください。")) from error
    try:
        sheet = workbook.worksheets[0]
        # The size the sheet declares is not trusted: read rows as they come,
        # never more columns than a header may have.
        sheet.reset_dimensions()
        yield from sheet.iter_rows(values_only=True, max_col=max_columns + 1)
    except FileProblem:
        raise
    except Exception as error:  # a damaged part of the archive: any of zipfile's or the XML parser's errors
        raise FileProblem(_l("XLSX ファイルを読めません。Excel で開けるか確かめてください。")) from error
    finally:
        workbook.close()


def header_map(sheet: Sheet, columns: list[Column]) -> tuple[dict[str, int], list[str]]:
    """Which position holds each column (Japanese or English header), and
    the headers of required columns that are missing."""
    positions: dict[str, int] = {}
    names = {column.ja: column.key for column in columns} | {column.key: column.key for column in columns}
    for index, header in enumerate(sheet.headers):
        key = names.get(header.strip().lstrip("\ufeff"))
        if key and key not in positions:
            positions[key] = index
    missing = [column.ja for column in columns if column.required and column.key not in positions]
    return positions, missing


