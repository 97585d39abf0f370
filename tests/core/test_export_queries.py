"""An export's SQL statements do not grow with its rows (issue 21): the rows
come from one streamed statement read a chunk at a time, and what a row
shows beyond its own columns (a verification's results, the names the
trail's readable column gives) is selected with it or loaded once per
chunk, never once per row.  Counted on the demo data, then again after
adding a generated data set many times its size."""
from __future__ import annotations

import csv
import io
import math

import pytest
from sqlalchemy import event, func, select

from contracts.models import Verification
from core.db import db
from core.gendata import generate
from core.models import AuditEntry
from tests.conftest import DEMO_PASSWORD, login_as

EXPORTS = ["/vendors/export", "/contracts/export", "/verification/records/export", "/verification/findings/export",
           "/cloud/export", "/social/export", "/incidents/export", "/inspections/export", "/audits/findings/export"]
TRAIL = "/audit/export"
TRAIL_STATEMENTS_PER_CHUNK = 40  # the trail's readable column: a statement per table its entries name
CHUNK = 500


def statements(app, client, url: str) -> tuple[int, bytes]:
    """How many statements the export at ``url`` runs, read to its end, and what it sent."""
    with app.app_context():
        engine = db.engine
    client.get(url).get_data()  # warm: caches filled on first use (labels, levels) are not the point
    count = [0]

    def counter(*_args):
        count[0] += 1

    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.get(url)
        body = response.get_data()  # the body streams: its statements run while it is read
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    assert response.status_code == 200, url
    return count[0], body


def csv_rows(body: bytes) -> int:
    return len(list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))) - 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_runs_as_many_statements_for_many_times_the_rows(demo, fmt):
    client = demo.test_client()
    login_as(client, "auditor", DEMO_PASSWORD)
    small = {url: statements(demo, client, f"{url}.{fmt}") for url in EXPORTS}
    with demo.app_context():
        before = db.session.scalar(select(func.count()).select_from(Verification))
        generate(100, 400, 800, report=lambda _line: None)
        after = db.session.scalar(select(func.count()).select_from(Verification))
    assert after >= 5 * before and after > CHUNK  # more than one chunk of rows
    large = {url: statements(demo, client, f"{url}.{fmt}") for url in EXPORTS}
    if fmt == "csv":
        assert csv_rows(large["/verification/records/export"][1]) == after
        assert "結果" in large["/verification/records/export"][1].decode("utf-8-sig").splitlines()[0]
    assert {url: count for url, (count, _body) in large.items()} == {
        url: count for url, (count, _body) in small.items()}


def test_the_trail_export_names_records_per_chunk_not_per_entry(demo):
    client = demo.test_client()
    login_as(client, "auditor", DEMO_PASSWORD)
    with demo.app_context():
        generate(100, 400, 800, report=lambda _line: None)
        entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    count, body = statements(demo, client, f"{TRAIL}.csv")
    assert csv_rows(body) >= entries > 2 * CHUNK
    assert count <= TRAIL_STATEMENTS_PER_CHUNK * math.ceil(entries / CHUNK) < entries / 10


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_inspection_export_says_how_many_answers(app, users, fmt):
    """It wrote the answers' list (``[<InspectionAnswer 1>, …]``) into the CSV, and the XLSX was a 500."""
    from openpyxl import load_workbook

    from tests import factories

    with app.app_context():
        made = factories.inspection(2026)
        answers = len(made.answers)
        db.session.commit()
    assert answers > 0
    client = app.test_client()
    login_as(client, "auditor")
    response = client.get(f"/inspections/export.{fmt}")
    assert response.status_code == 200
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    else:
        rows = [["" if v is None else str(v) for v in row]
                for row in load_workbook(io.BytesIO(response.data)).worksheets[0].iter_rows(values_only=True)]
    column = rows[0].index("回答数")
    assert [row[column] for row in rows[1:]] == [str(answers)]
