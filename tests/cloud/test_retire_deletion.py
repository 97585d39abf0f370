"""Retiring a cloud service that held information above 自治体機密性1 needs
its deletion/return record (データ消去証明書 or the provider's deletion
report: a date, the method, the evidence file), as a contract's end needs
its disposal record (issue 17)."""
from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage

from cloud import rules, services
from cloud.models import CloudService, DeletionMethod, ServiceStatus
from core.db import db
from core.timeutil import today
from tests import factories
from tests.conftest import api_token, followed

PDF = b"%PDF-1.4 deletion report"


@pytest.fixture
def api(app, users):
    return app.test_client(), {"procurement": {"Authorization": f"Bearer {api_token(app, 'procurement')}"}}


def make(app, **fields) -> int:
    with app.app_context():
        service = factories.cloud_service(**fields)
        db.session.commit()
        return service.id


def status(app, sid: int) -> ServiceStatus:
    with app.app_context():
        return db.session.get(CloudService, sid).status


def post_deletion(client, sid: int, method: str = "certificate", evidence: bool = True):
    data = {"done_on": today().isoformat(), "method": method, "detail": "全データの消去を確認"}
    if evidence:
        data["evidence"] = (io.BytesIO(PDF), "データ消去証明書.pdf")
    return client.post(f"/cloud/{sid}/deletion", content_type="multipart/form-data", data=data)


def test_retiring_a_service_that_held_class_2_needs_the_deletion_record(buyer, app):
    sid = make(app, ceiling="C2", status=ServiceStatus.APPROVED, information=(("業務メール", "C2"),))
    refused = buyer.post(f"/cloud/{sid}/retire", data={"retire_reason": "移行した"})
    assert "データの消去・返却を記録してから廃止してください" in followed(buyer, refused).get_data(as_text=True)
    assert status(app, sid) is ServiceStatus.APPROVED
    no_file = post_deletion(buyer, sid, evidence=False)
    assert no_file.status_code == 400 and "消去を証明する書類を添付してください" in no_file.get_data(as_text=True)
    assert post_deletion(buyer, sid, method="shred").status_code == 400
    assert post_deletion(buyer, sid).status_code == 302
    page = buyer.get(f"/cloud/{sid}").get_data(as_text=True)
    assert "データ消去証明書" in page and "全データの消去を確認" in page
    assert buyer.post(f"/cloud/{sid}/retire", data={"retire_reason": "移行した"}).status_code == 302
    assert status(app, sid) is ServiceStatus.RETIRED


def test_a_service_with_public_information_only_retires_without_it(buyer, app):
    sid = make(app, ceiling="C1", status=ServiceStatus.APPROVED, information=(("公開資料", "C1"),))
    assert buyer.post(f"/cloud/{sid}/retire", data={"retire_reason": "不要"}).status_code == 302


def test_the_rule_at_the_service_layer(app, users):
    with app.app_context():
        service = factories.cloud_service(ceiling="C3B", status=ServiceStatus.CONDITIONAL,
                                          information=(("救急活動記録", "C3B"),))
        user = factories.clerk()
        assert rules.held_classified(service)
        with pytest.raises(rules.CloudRuleError, match="消去・返却"):
            services.retire(service, user, "終了")
        with pytest.raises(rules.CloudRuleError, match="証明する書類"):
            services.record_deletion(service, done_on=today(), method=DeletionMethod.PROVIDER_REPORT, detail=None,
                                     upload=None, user=user)
        assert service.status is ServiceStatus.CONDITIONAL and service.deletion is None
        services.record_deletion(service, done_on=today(), method=DeletionMethod.PROVIDER_REPORT,
                                 detail="事業者の削除完了報告書", user=user,
                                 upload=FileStorage(io.BytesIO(PDF), filename="削除報告.pdf"))
        services.retire(service, user, "終了")
        assert service.status is ServiceStatus.RETIRED and service.deletion.kind is DeletionMethod.PROVIDER_REPORT


def test_a_request_never_approved_holds_nothing_yet(app, users):
    with app.app_context():
        service = factories.cloud_service(ceiling="C2", status=ServiceStatus.REQUESTED)
        service.information.append(factories.cloud_information("予定の情報", "C2", held=False))
        services.retire(service, factories.clerk(), "取りやめ")
        assert service.status is ServiceStatus.RETIRED


def test_the_api_retire_keeps_the_rule(app, api):
    client, headers = api
    with app.app_context():
        service = factories.cloud_service(ceiling="C2", status=ServiceStatus.APPROVED,
                                          information=(("業務メール", "C2"),))
        db.session.commit()
        sid = service.id
    refused = client.post(f"/api/v1/cloud/{sid}/retire", headers=headers["procurement"])
    assert refused.status_code == 409 and "消去・返却" in refused.get_json()["detail"]
    assert status(app, sid) is ServiceStatus.APPROVED
