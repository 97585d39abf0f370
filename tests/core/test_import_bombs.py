"""Hostile spreadsheets (issue 15, section 6): a file that would cost a
worker gigabytes or minutes is refused with a clear message, and reading
it stays within a small, flat amount of memory and time.

Each file is built here, small, in memory.  The reading is measured in a
forked child (its peak resident size above where it started, with a hard
limit on its address space and an alarm), so a regression fails the test
instead of taking the machine down."""
from __future__ import annotations

import io
import json
import os
import resource
import signal
import time
import zipfile

import pytest
from openpyxl import Workbook

from core import tabular
from tests.conftest import login_as

MEMORY_BOUND_MB = 60
SECONDS_BOUND = 10


def _vm_size() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def measure(app, data: bytes, **kwargs) -> dict:
    """Read ``data`` with tabular.read in a forked child: what it said, how
    much its resident memory grew (MB) and how long it took."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(reader)
        outcome: dict = {}
        try:
            limit = _vm_size() + 1536 * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            signal.alarm(60)
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            started = time.monotonic()
            with app.test_request_context(headers={"Accept-Language": "ja"}):
                try:
                    sheet = tabular.read(data, **kwargs)
                    outcome["rows"] = len(sheet.rows)
                except tabular.FileProblem as error:
                    outcome["problem"] = str(error)
            outcome["seconds"] = time.monotonic() - started
            outcome["grew_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        except MemoryError:
            outcome = {"crash": "MemoryError"}
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            outcome = {"crash": repr(error)[:300]}
        os.write(writer, json.dumps(outcome).encode())
        os._exit(0)
    os.close(writer)
    chunks = []
    while chunk := os.read(reader, 65536):
        chunks.append(chunk)
    os.close(reader)
    _pid, status = os.waitpid(pid, 0)
    if not chunks:
        return {"crash": f"child ended with status {status} (killed by its alarm or the memory limit?)"}
    return json.loads(b"".join(chunks))


def xlsx_with_sheet(write_sheet) -> bytes:
    """A real workbook whose first sheet's XML is written by
    ``write_sheet(file)`` (streamed into the archive, never whole in memory)."""
    book = Workbook()
    book.active["A1"] = "x"
    template = io.BytesIO()
    book.save(template)
    out = io.BytesIO()
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            if entry.filename == "xl/worksheets/sheet1.xml":
                with target.open(entry.filename, "w", force_zip64=True) as part:
                    write_sheet(part)
            else:
                target.writestr(entry, source.read(entry.filename))
    return out.getvalue()


SHEET_START = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
HEADER_ROW = ('<row r="1"><c r="A1" t="inlineStr"><is><t>名称</t></is></c>'
              '<c r="B1" t="inlineStr"><is><t>担当組織</t></is></c></row>').encode()


def wide_csv() -> bytes:
    """A header of 200,000 columns and 5,000 short rows (1.5 MB)."""
    header = ",".join(f"c{i}" for i in range(200_000))
    return (header + "\n" + "x,y\n" * 5000).encode()


def declared_dimension_xlsx() -> bytes:
    """4.7 KB: the sheet says it spans A1:XFD1048576 and holds one cell at
    row 1048576."""
    def write(part):
        part.write(SHEET_START + b'<dimension ref="A1:XFD1048576"/><sheetData>' + HEADER_ROW
                   + b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>')
    return xlsx_with_sheet(write)


def million_rows_xlsx() -> bytes:
    """A million tiny rows."""
    def write(part):
        part.write(SHEET_START + b"<sheetData>" + HEADER_ROW)
        row = b"<row><c><v>1</v></c></row>"
        for _ in range(100):
            part.write(row * 10_000)
        part.write(b"</sheetData></worksheet>")
    return xlsx_with_sheet(write)


def zeros_xlsx() -> bytes:
    """About 100 KB that unpacks to 100 MB of ``0``."""
    def write(part):
        part.write(SHEET_START + b"<sheetData>" + HEADER_ROW + b'<row r="2"><c r="A2"><v>')
        zeros = b"0" * (1024 * 1024)
        for _ in range(100):
            part.write(zeros)
        part.write(b"</v></c></row></sheetData></worksheet>")
    return xlsx_with_sheet(write)


BOMBS = {
    "wide_csv": (wide_csv, "vendors.csv", "列が多すぎます"),
    "declared_dimension": (declared_dimension_xlsx, "vendors.xlsx", "行が多すぎます"),
    "million_rows": (million_rows_xlsx, "vendors.xlsx", None),
    "zeros": (zeros_xlsx, "vendors.xlsx", "展開すると大きすぎる"),
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_a_hostile_spreadsheet_is_refused_with_flat_memory(app, users, name):
    build, filename, message = BOMBS[name]
    data = build()
    assert len(data) < 2 * 1024 * 1024

    outcome = measure(app, data)
    assert "crash" not in outcome, outcome
    assert "problem" in outcome, outcome
    assert outcome["grew_mb"] < MEMORY_BOUND_MB, outcome
    assert outcome["seconds"] < SECONDS_BOUND, outcome

    client = app.test_client()
    login_as(client, "procurement")
    response = client.post("/vendors/import", data={"file": (io.BytesIO(data), filename)},
                           content_type="multipart/form-data", headers={"Accept-Language": "ja"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    expected = message or "行が多すぎます|展開すると大きすぎる"
    assert any(part in html for part in expected.split("|")), html[-2000:]


def test_rows_past_the_limit_are_not_read(app, users):
    """A CSV of 200,000 rows is refused as soon as row 5,001 is reached."""
    data = ("名称,担当組織\n" + "事業者,総務課\n" * 200_000).encode()
    outcome = measure(app, data)
    assert outcome.get("problem", "").startswith("行が多すぎます"), outcome
    assert outcome["grew_mb"] < MEMORY_BOUND_MB and outcome["seconds"] < 2, outcome
    exactly = ("名称,担当組織\n" + "事業者,総務課\n" * tabular.MAX_IMPORT_ROWS).encode()
    assert measure(app, exactly).get("rows") == tabular.MAX_IMPORT_ROWS


def test_reading_stops_at_its_time_budget(app, users):
    data = ("名称,担当組織\n" + "事業者,総務課\n" * 3000).encode()
    outcome = measure(app, data, seconds=0)
    assert "時間がかかりすぎました" in outcome.get("problem", ""), outcome


def test_an_ordinary_xlsx_still_reads(app, users):
    book = Workbook()
    sheet = book.active
    sheet.append(["名称", "担当組織", None, None])
    sheet.append(["株式会社テスト", "総務課"])
    sheet.append([None, None])
    sheet.append(["=1+1", 3.0])
    buffer = io.BytesIO()
    book.save(buffer)
    with app.test_request_context():
        read = tabular.read(buffer.getvalue(), max_columns=5)
    assert read.headers == ["名称", "担当組織"]
    assert read.rows == [["株式会社テスト", "総務課"], ["=1+1", "3"]]
