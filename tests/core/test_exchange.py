"""Every register's spreadsheets: export → import changes nothing (CSV and
XLSX, on the demo data: every kind of record and field), a re-import
matches on the natural key, exports follow the list's filters, and every
export streams for its readers."""
from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from cloud.models import CloudService
from contracts.models import Contract, ContractStatus, Result
from core.db import db
from core.models import AuditEntry, User
from social.models import SocialAccount
from tests import factories
from tests.conftest import DEMO_PASSWORD, PASSWORD, login_as
from vendors.models import Vendor

IMPORTABLE = [("vendors", "procurement", Vendor), ("contracts", "procurement", Contract),
              ("cloud", "procurement", CloudService), ("social", "social", SocialAccount)]


def signed_in(app, role, password=PASSWORD):
    client = app.test_client()
    login_as(client, role, password)
    return client


@pytest.fixture
def records(app, users):
    """Of each register a few records of the ``users`` users, ids by key:
    two contracts in force of 総務課 (the first checked, with an open finding),
    a draft, and an account of the social user."""
    with app.app_context():
        officer = db.session.get(User, users["procurement"])
        verifier = db.session.get(User, users["verifier"])
        factories.unit("警防課")
        dohoku = factories.vendor("株式会社道央情報システム", kana="ドウオウジョウホウシステム", unit=officer.unit)
        first = factories.contract("R8-001", vendor_=dohoku, status=ContractStatus.IN_FORCE, classification="C3B",
                                   unit=officer.unit, officer=officer, personal=True)
        second = factories.contract("R8-004", status=ContractStatus.IN_FORCE, unit=officer.unit, officer=officer)
        factories.contract("R8-003", unit=officer.unit, officer=officer)
        factories.verification(first, verifier=verifier, results={"C05": Result.PARTLY})
        account = factories.social_account(responsible=db.session.get(User, users["social"]), unit=officer.unit)
        db.session.commit()
        return {"first": first.id, "second": second.id, "account": account.id}


def csv_rows(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def import_file(client, name: str, data: bytes, filename: str):
    preview = client.post(f"/{name}/import", data={"file": (io.BytesIO(data), filename)},
                          content_type="multipart/form-data")
    assert preview.status_code == 200, preview.get_data(as_text=True)[-3000:]
    html = preview.get_data(as_text=True)
    match = re.search(r'name="token" value="([0-9a-f]+)"', html)
    assert match, re.findall(r'<td>(\d+)</td><td>エラー</td><td>[^<]*</td>\s*<td>(.*?)</td>', html, re.S)
    done = client.post(f"/{name}/import/confirm", data={"token": match.group(1), "filename": filename})
    assert done.status_code == 302
    return html


@pytest.mark.parametrize(("name", "role", "model"), IMPORTABLE)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(demo, name, role, model, fmt):
    client = signed_in(demo, role, DEMO_PASSWORD)
    exported = client.get(f"/{name}/export.{fmt}").data
    with demo.app_context():
        before = db.session.scalar(select(func.count()).select_from(model))
        audit_before = db.session.scalar(select(func.max(AuditEntry.seq)))
    html = import_file(client, name, exported, f"{name}.{fmt}")
    assert f"この内容で取り込む（{before}行）" in html
    assert re.search(r"新規</span> 0\b", html) and re.search(r"変更</span> 0\b", html)
    again = client.get(f"/{name}/export.{fmt}").data
    if fmt == "csv":
        # updated_at is the only thing allowed to move, and it did not
        assert csv_rows(again) == csv_rows(exported)
    with demo.app_context():
        assert db.session.scalar(select(func.count()).select_from(model)) == before
        # one entry for the import itself, none for records: nothing changed
        new = db.session.scalars(select(AuditEntry).where(AuditEntry.seq > audit_before)).all()
        assert [entry.action for entry in new] == ["import"]


def test_a_changed_contract_row_updates_the_contract_with_that_number(app, records):
    client = signed_in(app, "procurement")
    rows = csv_rows(client.get("/contracts/export.csv").data)
    header = rows[0]
    # the draft: the period of a signed or in-force contract changes only by amendment (issue 17)
    first = next(row for row in rows[1:] if row[header.index("契約番号")] == "R8-003")
    first[header.index("件名")] = "件名を取り込みで変更"
    first[header.index("契約終了日")] = "2031/3/31"  # an Excel-style date is accepted
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, first])
    html = import_file(client, "contracts", buffer.getvalue().encode("cp932"), "contracts.csv")
    assert re.search(r"変更</span> 1\b", html)
    assert re.search(r"<td>変更</td><td>[^<]*</td>\s*<td>件名、契約終了日</td>", html)  # what will change
    with app.app_context():
        contract = db.session.scalar(select(Contract).where(Contract.number == first[header.index("契約番号")]))
        assert contract.title == "件名を取り込みで変更" and contract.end_on.isoformat() == "2031-03-31"


def test_an_imported_row_does_not_change_the_period_of_a_contract_in_force(app, records):
    """Issue 17: the import writes contracts through the same rule as the form."""
    client = signed_in(app, "procurement")
    rows = csv_rows(client.get("/contracts/export.csv").data)
    header = rows[0]
    row = next(row for row in rows[1:] if row[header.index("契約番号")] == "R8-001")
    row[header.index("契約終了日")] = "2031/3/31"
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, row])
    response = client.post("/contracts/import", data={"file": (io.BytesIO(buffer.getvalue().encode("cp932")),
                                                               "contracts.csv")}, content_type="multipart/form-data")
    assert "契約終了日は直接変更できません。契約のページから変更契約を起案し" in response.get_data(as_text=True)
    with app.app_context():
        contract = db.session.get(Contract, records["first"])
        assert contract.end_on.isoformat() != "2031-03-31"


def test_a_contract_row_is_held_to_the_form_rules(app, records):
    client = signed_in(app, "procurement")
    data = ("契約番号,件名,委託事業者,種別,担当組織,担当者,契約開始日,契約終了日,機密性,再委託,個人情報,個人番号\n"
            "X-1,件名,存在しない事業者,保守,警防課,procurement,2026-04-01,2026-03-01,C2,禁止,いいえ,はい\n").encode()
    response = client.post("/contracts/import", data={"file": (io.BytesIO(data), "c.csv")},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert "委託事業者: 「存在しない事業者」は登録されていません。" in html
    data = data.replace("存在しない事業者".encode(), "株式会社道央情報システム".encode())
    html = client.post("/contracts/import", data={"file": (io.BytesIO(data), "c.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "契約終了日" in html and "マイナンバーを取り扱う場合は" in html
    with app.app_context():
        assert db.session.scalar(select(Contract).where(Contract.number == "X-1")) is None


def test_a_new_cloud_service_row_is_a_request_for_approval(app, records):
    client = signed_in(app, "procurement")
    data = ("サービス名,提供者名,サービス形態,利用形態,取扱上限,利用目的,利用部署,ISMAP登録,データの保存場所,見直しの周期（月）\n"
            "取込チャット,チャット株式会社,SaaS,約款・利用規約,自治体機密性1,連絡,警防課、総務課,登録なし,国内,12\n").encode()
    html = import_file(client, "cloud", data, "cloud.csv")
    assert re.search(r"新規</span> 1\b", html)
    with app.app_context():
        service = db.session.scalar(select(CloudService).where(CloudService.name == "取込チャット"))
        assert service.status.value == "requested"
        assert sorted(link.unit.name for link in service.unit_links) == ["総務課", "警防課"]
    again = import_file(client, "cloud", data, "cloud.csv")  # same name and provider: the same service
    assert re.search(r"新規</span> 0\b", again)


def test_a_social_row_needs_one_responsible_person_and_matches_on_the_url(app, records):
    client = signed_in(app, "social")
    rows = csv_rows(client.get("/social/export.csv").data)
    header, first = rows[0], rows[1]
    first[header.index("代理者")] = first[header.index("責任者")]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, first])
    html = client.post("/social/import", data={"file": (io.BytesIO(buffer.getvalue().encode()), "s.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "代理者には責任者と別の人を選んでください。" in html


@pytest.mark.parametrize(("url", "role", "header"), [
    ("/verification/records/export.csv", "verifier", "委託事業者"),
    ("/verification/findings/export.csv?status=open", "auditor", "措置の内容"),
    ("/audit/export.xlsx?object_type=vendors", "auditor", None),
])
def test_export_only_registers(app, records, url, role, header):
    response = signed_in(app, role).get(url)
    assert response.status_code == 200
    if header:
        rows = csv_rows(response.data)
        assert header in rows[0] and len(rows) > 1


def test_who_may_import_what(app, users):
    auditor = signed_in(app, "auditor")
    assert auditor.get("/contracts/export.xlsx").status_code == 200
    for name in ("vendors", "contracts", "cloud", "social"):
        assert auditor.get(f"/{name}/import").status_code == 403
    assert signed_in(app, "social").get("/contracts/export.csv").status_code == 403


def test_a_large_export_streams_in_pieces(app, users):
    """Thousands of rows go out in chunks as they are read (memory stays
    flat: scripts/bench.py measures it), not as one built-up body."""
    from sqlalchemy import insert

    from core.timeutil import utcnow
    from vendors.models import VendorStatus

    with app.app_context():
        now = utcnow()
        db.session.execute(insert(Vendor), [
            {"name": f"株式会社大量{i:05d}", "status": VendorStatus.CANDIDATE, "created_at": now, "updated_at": now,
             "version": 1} for i in range(3000)])
        db.session.commit()
    response = signed_in(app, "auditor").get("/vendors/export.csv", buffered=False)
    assert response.is_streamed
    chunks = list(response.response)
    response.close()
    assert len(chunks) >= 3  # 64 KB pieces
    body = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks).decode("utf-8")
    assert body.count("株式会社大量") == 3000


def test_the_contract_export_is_the_filtered_list_with_names_and_labels(app, records):
    """Every contract the list's filters find, in its order, once, with the
    names of what it points to (blank where it points to nothing)."""
    from contracts.models import ContractStatus

    with app.app_context():
        in_force = db.session.scalars(select(Contract.number).where(Contract.status == ContractStatus.IN_FORCE)
                                      .order_by(Contract.number.desc())).all()
        contract = db.session.scalar(select(Contract).where(Contract.status == ContractStatus.IN_FORCE)
                                     .order_by(Contract.number).limit(1))
        contract.unit, contract.officer, contract.integrity, contract.availability = None, None, None, None
        contract.work_places = "=HYPERLINK(\"http://example.com\")"
        db.session.commit()
        expected = {"ID": str(contract.id), "契約番号": contract.number, "件名": contract.title,
                    "委託事業者": contract.vendor.name, "担当組織": "", "担当者": "", "完全性": "", "可用性": "",
                    "機密性": contract.classification.label_ja, "状態": "履行中",
                    "個人情報": "はい" if contract.handles_personal_info else "いいえ",
                    "契約開始日": contract.start_on.isoformat(), "作業場所": "'=HYPERLINK(\"http://example.com\")",
                    "更新日時": contract.updated_at.isoformat(sep=" ", timespec="seconds")}
    assert len(in_force) > 1
    rows = csv_rows(signed_in(app, "auditor").get("/contracts/export.csv?status=in_force&sort=number&dir=desc").data)
    header, body = rows[0], rows[1:]
    assert [row[header.index("契約番号")] for row in body] == in_force
    row = dict(zip(header, next(row for row in body if row[1] == contract.number), strict=True))
    assert {key: row[key] for key in expected} == expected
