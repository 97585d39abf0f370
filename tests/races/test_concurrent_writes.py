"""Writers at the same moment through the served app (issue 15 §3): API
clients creating vendors while others import and use the vendor form.  On
SQLite a transaction that reads and then writes must hold the write lock
from its start (BEGIN IMMEDIATE), or its first write is refused at once
("database is locked") instead of waiting its turn."""
from __future__ import annotations

import io
import re

import requests
from sqlalchemy import func, select

from core.db import db
from core.models import OrgUnit
from tests.conftest import api_token
from tests.served import together
from vendors.models import Vendor
from vendors.rules import corporate_number_check_digit


def corporate_number(n: int) -> str:
    base = f"{n:012d}"
    return f"{corporate_number_check_digit(base)}{base}"


def count_vendors(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Vendor))


def test_parallel_creates_and_imports_all_succeed(app, users, served_app):
    before = count_vendors(app)
    with app.app_context():
        unit_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.name == "総務課"))
    url = served_app.url
    calls, expected = [], 0
    for client in range(4):  # API clients, each creating three vendors in turn
        headers = {"Authorization": f"Bearer {api_token(app, 'procurement')}"}

        def create(client=client, headers=headers):
            return [requests.post(url + "/api/v1/vendors", headers=headers, timeout=60, json={
                "name": f"API {client}-{i}", "unit": "総務課", "status": "候補",
                "corporate_number": corporate_number(1000 + client * 10 + i)}).status_code
                for i in range(3)]
        calls.append(create)
        expected += 3
    for client in range(3):  # browsers importing four vendors each (preview, then confirm)
        browser = served_app.session()
        served_app.login(browser, "procurement")
        token = served_app.csrf(browser, "/vendors/import")
        sheet = "名称,法人番号,担当組織,状態\n" + "".join(
            f"Import {client}-{i},{corporate_number(2000 + client * 10 + i)},総務課,候補\n"
                                         for i in range(4))

        def import_(browser=browser, token=token, sheet=sheet):
            preview = browser.post(url + "/vendors/import", timeout=60, data={"csrf_token": token}, files={
                "file": ("vendors.csv", io.BytesIO(sheet.encode()), "text/csv")})
            found = re.search(r'name="token" value="([0-9a-f]+)"', preview.text)
            if preview.status_code != 200 or not found:
                return [preview.status_code]
            done = browser.post(url + "/vendors/import/confirm", allow_redirects=False, timeout=60, data={
                "csrf_token": token, "token": found.group(1), "filename": "vendors.csv"})
            return [preview.status_code, done.status_code]
        calls.append(import_)
        expected += 4
    for client in range(3):  # browsers using the form
        browser = served_app.session()
        served_app.login(browser, "procurement")
        token = served_app.csrf(browser, "/vendors/new")

        def form(browser=browser, token=token, client=client):
            return [browser.post(url + "/vendors/new", allow_redirects=False, timeout=60, data={
                "csrf_token": token, "name": f"Form {client}", "status": "candidate", "unit_id": unit_id,
                "corporate_number": corporate_number(3000 + client)}).status_code]
        calls.append(form)
        expected += 1

    statuses = [status for answers in together(calls) for status in answers]
    assert not [s for s in statuses if s >= 500], (statuses, served_app.log.read_text()[-3000:])
    assert set(statuses) <= {200, 201, 302}, statuses
    assert count_vendors(app) == before + expected
