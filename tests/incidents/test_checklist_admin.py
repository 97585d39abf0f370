"""The response checklists, administered (issue 19): per kind, add an item,
correct its texts, retire and restore it; a retired item leaves new
incidents' checklists and stays in past ones."""
from __future__ import annotations

from sqlalchemy import select

from core.db import db
from core.incidents import IncidentChecklistItem, IncidentKind, Severity
from core.models import User
from core.timeutil import utcnow
from incidents import services
from tests import factories
from tests.conftest import login_as


def _item(kind: IncidentKind, code: str) -> IncidentChecklistItem | None:
    return db.session.scalar(select(IncidentChecklistItem).where(
        IncidentChecklistItem.kind == kind, IncidentChecklistItem.code == code))


def test_an_administrator_adds_corrects_retires_and_restores_an_item(app, client, users):
    login_as(client, "admin")
    page = client.get("/incidents/checklists").get_data(as_text=True)
    assert "サービス停止・障害" in page and "事故対応チェックリスト" in page
    response = client.post("/incidents/checklists/new", data={
        "kind": "outage", "code": "ｏｕｔ－９", "text_ja": "利用者へ復旧見込みを周知した",
        "text_en": "Told the users when service returns"})
    assert response.status_code == 302
    with app.app_context():
        item = _item(IncidentKind.OUTAGE, "OUT-9")  # NFKC, upper case
        assert item is not None and not item.retired
        item_id, version = item.id, item.version
    duplicate = client.post("/incidents/checklists/new", data={
        "kind": "outage", "code": "OUT-9", "text_ja": "二つ目", "text_en": "Second"})
    assert duplicate.status_code == 400 and "このコードはこの種類のチェックリストで使われています" in \
        duplicate.get_data(as_text=True)
    # the same code in another kind is fine
    assert client.post("/incidents/checklists/new", data={
        "kind": "malware", "code": "OUT-9", "text_ja": "別の種類", "text_en": "Another kind"}).status_code == 302
    assert client.post(f"/incidents/checklists/{item_id}", data={
        "version": str(version), "text_ja": "利用者へ復旧見込みを周知した（ウェブ・電話）",
        "text_en": "Told the users"}).status_code == 302
    assert client.post(f"/incidents/checklists/{item_id}", data={
        "version": str(version), "text_ja": "古いフォーム", "text_en": "Stale"}).status_code == 409
    with app.app_context():
        assert _item(IncidentKind.OUTAGE, "OUT-9").text_ja == "利用者へ復旧見込みを周知した（ウェブ・電話）"
        before = factories.incident(subject=(None, None), kind=IncidentKind.OUTAGE, checklist={"OUT-9": True})
        db.session.commit()
        before_id = before.id
    assert client.post(f"/incidents/checklists/{item_id}/retire").status_code == 302
    with app.app_context():
        assert _item(IncidentKind.OUTAGE, "OUT-9").retired
    # a new outage does not carry it; the one before keeps it, ticked
    new_form = client.get("/incidents/new").status_code
    assert new_form == 200
    past = client.get(f"/incidents/{before_id}").get_data(as_text=True)
    assert "OUT-9" in past
    with app.app_context():
        admin = db.session.get(User, users["admin"])
        fresh = services.record(by=admin, kind=IncidentKind.OUTAGE, severity=Severity.MINOR,
                                title="停止", summary="止まった", subject_type=None, subject_id=None,
                                occurred_at=utcnow(), learned_at=utcnow())
        assert "OUT-9" not in fresh.checklist
        db.session.rollback()
    assert client.post(f"/incidents/checklists/{item_id}/restore").status_code == 302
    with app.app_context():
        assert not _item(IncidentKind.OUTAGE, "OUT-9").retired


def test_only_administrators_administer_the_checklists(client, users):
    login_as(client, "lead")
    assert client.get("/incidents/checklists").status_code == 403
    assert client.post("/incidents/checklists/new", data={"kind": "outage", "code": "X", "text_ja": "x",
                                                          "text_en": "x"}).status_code == 403


def test_the_admin_tabs_link_the_checklists(client, users):
    login_as(client, "admin")
    assert 'href="/incidents/checklists"' in client.get("/admin/users").get_data(as_text=True)
