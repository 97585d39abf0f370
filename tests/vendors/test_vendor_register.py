"""Vendor register: registering, certifications with files, selection,
validation, deletion only without history, audit trail."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import timeutil
from core.db import db
from core.files import StoredFile
from core.models import AuditEntry
from tests import factories
from tests.conftest import login_as
from vendors.models import Certification, CertificationKind, Selection, Vendor, VendorStatus

PDF = b"%PDF-1.4\n% test certificate\n%%EOF\n"
VENDOR = {"name": "株式会社テスト情報", "kana": "テストジョウホウ", "corporate_number": "7000012050002",
          "address": "滝川市大町1-2-3", "representative": "代表 一郎", "website": "https://example.co.jp",
          "unit_id": "1", "status": "candidate", "notes": ""}


def register_vendor(client, **overrides) -> int:
    response = client.post("/vendors/new", data={**VENDOR, **overrides})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def select_vendor(client, app, vendor_id: int, decision: str = "selected") -> None:
    from vendors.services import active_criteria

    with app.app_context():
        criteria = [c.id for c in active_criteria()]
    data = {"decided_on": "2026-10-01", "decision": decision, "notes": "総合評価"}
    for i, criterion_id in enumerate(criteria):
        data[f"assessments-{i}-criterion_id"] = str(criterion_id)
        data[f"assessments-{i}-result"] = "met"
    response = client.post(f"/vendors/{vendor_id}/selection/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)


def test_register_a_vendor_with_a_certification_and_a_selection(buyer, app):
    vendor_id = register_vendor(buyer)
    response = buyer.post(f"/vendors/{vendor_id}/certifications/new", content_type="multipart/form-data", data={
        "kind": "isms", "number": "IS 123456", "issuer": "認証機関", "valid_until": "2027-06-30",
        "file": (io.BytesIO(PDF), "登録証.pdf")})
    assert response.status_code == 302
    select_vendor(buyer, app, vendor_id)
    page = buyer.get(f"/vendors/{vendor_id}").get_data(as_text=True)
    assert "ISMS（ISO/IEC 27001）" in page and "IS 123456" in page and "選定する" in page
    with app.app_context():
        vendor = db.session.get(Vendor, vendor_id)
        assert vendor.status is VendorStatus.SELECTED  # a positive selection moves a candidate on
        assert vendor.is_selected and len(vendor.latest_selection.assessments) == 11
        stored = vendor.certifications[0].file
        assert stored.sha256 == hashlib.sha256(PDF).hexdigest() and stored.content_type == "application/pdf"
        path = stored.path()
        assert path.read_bytes() == PDF and path.name != "登録証.pdf"
        assert Path(app.config["STORAGE_PATH"]) in path.parents and Path(app.static_folder) not in path.parents
        certification_id = vendor.certifications[0].id
    download = buyer.get(f"/vendors/{vendor_id}/certifications/{certification_id}/file")
    assert download.data == PDF and "attachment" in download.headers["Content-Disposition"]
    download.close()


def test_every_change_is_in_the_audit_trail(buyer, app):
    vendor_id = register_vendor(buyer)
    buyer.post(f"/vendors/{vendor_id}/contacts", data={"name": "担当 太郎", "phone": "0125-22-1234",
                                                       "email": "taro@example.co.jp"})
    select_vendor(buyer, app, vendor_id)
    with app.app_context():
        entries = db.session.execute(select(AuditEntry.action, AuditEntry.object_type, AuditEntry.username)
                                     .where(AuditEntry.username == "procurement")).all()
    kinds = {(action, kind) for action, kind, _user in entries}
    assert {("create", "vendors"), ("create", "vendor_contacts"), ("create", "selections"),
            ("create", "selection_assessments"), ("update", "vendors")} <= kinds


@pytest.mark.parametrize("number, message", [
    ("7000012050003", "法人番号のチェックデジットが正しくありません"),
    ("70000120500", "法人番号は13桁の数字で入力してください"),
    ("70000120500AB", "法人番号は13桁の数字で入力してください"),
])
def test_corporate_number_is_validated(buyer, app, number, message):
    response = buyer.post("/vendors/new", data={**VENDOR, "corporate_number": number})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Vendor)) == 0


def test_duplicate_corporate_number_is_refused(buyer, app):
    register_vendor(buyer)
    response = buyer.post("/vendors/new", data={**VENDOR, "name": "別の会社"})
    assert "この法人番号の事業者は既に登録されています。" in response.get_data(as_text=True)


@pytest.mark.parametrize("field, value, message", [
    ("kana", "てすと", "フリガナは全角カタカナで入力してください。"),
    ("website", "not a url", "URLの形式が正しくありません"),
    ("name", "", "このフィールドは必須です。"),
    ("unit_id", "", "担当組織を選択してください。"),
    ("status", "bogus", "選択肢が正しくありません"),
])
def test_bad_vendor_input_gets_a_message(buyer, field, value, message):
    response = buyer.post("/vendors/new", data={**VENDOR, field: value})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_selected_status_needs_a_selection_record(buyer, app):
    response = buyer.post("/vendors/new", data={**VENDOR, "status": "active"})
    assert response.status_code == 400
    assert "先に選定記録（選定する）を登録してください" in response.get_data(as_text=True)


@pytest.mark.parametrize("contact, message", [
    ({"name": "A", "phone": "abc"}, "電話番号は数字とハイフンで入力してください"),
    ({"name": "A", "phone": "012"}, "電話番号は数字とハイフンで入力してください"),
    ({"name": "A", "email": "nope"}, "メールアドレスの形式が正しくありません。"),
    ({"name": ""}, "このフィールドは必須です。"),
])
def test_bad_contacts_are_refused(buyer, app, contact, message):
    vendor_id = register_vendor(buyer)
    response = buyer.post(f"/vendors/{vendor_id}/contacts", data=contact)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


@pytest.mark.parametrize("upload, message", [
    ((io.BytesIO(b"this is not a pdf"), "fake.pdf"), "PDF、PNG、JPEGのファイルを選んでください"),
    ((io.BytesIO(b"MZ\x90\x00 executable"), "cert.png"), "PDF、PNG、JPEGのファイルを選んでください"),
    ((io.BytesIO(b""), "empty.pdf"), "ファイルが空です。"),
    ((io.BytesIO(b"%PDF-" + b"0" * (10 * 1024 * 1024)), "big.pdf"), "ファイルは10MBまでです。"),
])
def test_certificate_files_are_checked_by_content(buyer, app, upload, message):
    vendor_id = register_vendor(buyer)
    response = buyer.post(f"/vendors/{vendor_id}/certifications/new", content_type="multipart/form-data",
                          data={"kind": "isms", "file": upload})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Certification)) == 0
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_selection_needs_every_criterion_and_a_comment_for_not_met(buyer, app):
    vendor_id = register_vendor(buyer)
    response = buyer.post(f"/vendors/{vendor_id}/selection/new", data={
        "decided_on": "2026-10-01", "decision": "selected",
        "assessments-0-criterion_id": "1", "assessments-0-result": "not_met"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "「不適合」にはコメントを入力してください。" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Selection)) == 0


def test_vendor_without_history_is_deleted_after_confirmation(buyer, app):
    vendor_id = register_vendor(buyer)
    confirm = buyer.get(f"/vendors/{vendor_id}/delete")
    assert "を削除します" in confirm.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Vendor, vendor_id) is not None  # asking deletes nothing
    buyer.post(f"/vendors/{vendor_id}/delete")
    with app.app_context():
        assert db.session.get(Vendor, vendor_id) is None
        assert db.session.scalar(select(AuditEntry.action).where(
            AuditEntry.object_type == "vendors", AuditEntry.object_id == str(vendor_id))
            .order_by(AuditEntry.seq.desc()).limit(1)) == "delete"


def test_vendor_with_history_is_retired_never_deleted(buyer, app):
    vendor_id = register_vendor(buyer)
    select_vendor(buyer, app, vendor_id)
    response = buyer.post(f"/vendors/{vendor_id}/delete", follow_redirects=True)
    assert "履歴がある事業者は削除できません" in response.get_data(as_text=True)
    with app.app_context():
        vendor = db.session.get(Vendor, vendor_id)
        version = vendor.version
    buyer.post(f"/vendors/{vendor_id}/edit", data={**VENDOR, "status": "ended", "version": str(version)})
    with app.app_context():
        assert db.session.get(Vendor, vendor_id).status is VendorStatus.ENDED
        assert "retire" in db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.object_type == "vendors", AuditEntry.object_id == str(vendor_id))).all()


def test_certifications_expiring_are_flagged(app, users):
    today = timeutil.today()
    with app.app_context():
        soon = factories.vendor("株式会社道央情報システム")  # one of its certifications expires in 45 days
        factories.certification(soon, valid_until=today + dt.timedelta(days=400))
        factories.certification(soon, kind=CertificationKind.PMARK, valid_until=today + dt.timedelta(days=45))
        expired = factories.vendor("空知ネットワーク株式会社")
        factories.certification(expired, valid_until=today - dt.timedelta(days=10))
        valid = factories.vendor("北日本クラウドサービス株式会社")
        factories.certification(valid, kind=CertificationKind.ISMAP, valid_until=today + dt.timedelta(days=200))
        db.session.commit()
        expired_id = expired.id
    client = app.test_client()
    login_as(client, "procurement")
    listing = client.get("/vendors/?cert=expiring").get_data(as_text=True).split("<tbody>")[1]
    assert "道央情報システム" in listing and "空知ネットワーク" in listing and "北日本クラウド" not in listing
    detail = client.get(f"/vendors/{expired_id}").get_data(as_text=True)
    assert "期限切れ" in detail
    dashboard = client.get("/").get_data(as_text=True)
    assert 'href="/vendors/?cert=expiring' in dashboard


def test_auditor_reads_but_cannot_register(app, users):
    client = app.test_client()
    login_as(client, "auditor")
    assert "委託事業者を登録" not in client.get("/vendors/").get_data(as_text=True)
    assert client.post("/vendors/new", data=VENDOR).status_code == 403


def test_a_contact_is_removed_only_through_its_own_vendor(buyer, app):
    first = register_vendor(buyer)
    second = register_vendor(buyer, name="別の会社", corporate_number="")
    buyer.post(f"/vendors/{first}/contacts", data={"name": "担当 太郎"})
    with app.app_context():
        contact_id = db.session.get(Vendor, first).contacts[0].id
    assert buyer.post(f"/vendors/{second}/contacts/{contact_id}/delete").status_code == 404
    buyer.post(f"/vendors/{first}/contacts/{contact_id}/delete")
    with app.app_context():
        assert db.session.get(Vendor, first).contacts == []
        assert db.session.scalar(select(AuditEntry.action).where(
            AuditEntry.object_type == "vendor_contacts", AuditEntry.object_id == str(contact_id))
            .order_by(AuditEntry.seq.desc()).limit(1)) == "delete"
