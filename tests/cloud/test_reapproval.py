"""Issue 17: after approval, changing the data location, the ISMAP listing
(removal, or its expiry moved or removed) or the provider returns the
service to 申請中, as the ceiling and the agreement kind do; an unrelated
change keeps the approval."""
from __future__ import annotations

import datetime as dt

import pytest

from cloud import rules, services
from cloud.forms import service_form
from cloud.models import CloudService, ServiceStatus
from core.db import db
from tests import factories
from tests.cloud.test_cloud import admin_id, decide, request_service, service_data, status, two_clients, unit_of

LISTED = {"ismap_listing": "ismap", "ismap_number": "C0000-0001", "ismap_valid_until": "2030-03-31"}


@pytest.fixture
def approved(app, users):
    requester, approver = two_clients(app)
    sid = request_service(requester, app, **LISTED)
    assert decide(approver, sid, "approve").status_code == 302
    assert status(app, sid) is ServiceStatus.APPROVED
    return requester, sid


def edit(app, client, sid: int, **changes):
    with app.app_context():
        version = db.session.get(CloudService, sid).version
    data = service_data(app, version=str(version), administrator_id=str(admin_id(app)),
                        unit_ids=str(unit_of(app, "procurement")), **{**LISTED, **changes})
    return client.post(f"/cloud/{sid}/edit", data=data, follow_redirects=True)


@pytest.mark.parametrize("changes", [
    {"data_location": "abroad"},
    {"ismap_listing": "none", "ismap_number": "", "ismap_valid_until": ""},
    {"ismap_valid_until": "2031-03-31"},
    {"provider_name": "別のクラウド事業者"},
], ids=["location", "ismap-removed", "ismap-expiry", "provider"])
def test_a_change_after_approval_returns_the_service_to_requested(app, approved, changes):
    requester, sid = approved
    response = edit(app, requester, sid, **changes)
    assert "申請中に戻りました" in response.get_data(as_text=True)
    assert status(app, sid) is ServiceStatus.REQUESTED
    with app.app_context():
        pending = rules.pending(db.session.get(CloudService, sid))
        assert pending is not None and "再申請" in pending.reason


def test_an_unrelated_change_keeps_the_approval(app, approved):
    requester, sid = approved
    response = edit(app, requester, sid, purpose="広報資料と会議資料の共有", sla="稼働率99.9%")
    assert "申請中に戻りました" not in response.get_data(as_text=True)
    assert status(app, sid) is ServiceStatus.APPROVED


def _save(app, service: CloudService, user, **changes) -> None:
    data = {"name": service.name, "vendor_id": service.vendor_id, "provider_name": service.provider_name,
            "service_model": service.service_model.value, "agreement": service.agreement.value,
            "contract_id": None, "ceiling_id": service.ceiling_id, "purpose": service.purpose or "利用目的",
            "administrator_id": service.administrator_id, "ismap_listing": service.ismap_listing.value,
            "ismap_number": service.ismap_number, "ismap_valid_until": service.ismap_valid_until,
            "data_location": service.data_location.value, "review_cycle_months": 12, "unit_ids": [],
            **changes}
    with app.test_request_context():
        form = service_form(service, formdata=None, data=data)
        for name, value in data.items():
            getattr(form, name).data = value
        assert services.save(form, service, user) is service


def test_the_service_layer_asks_again_for_a_new_vendor_and_not_for_notes(app, users):
    with app.app_context():
        user = factories.user("cloud-editor", "procurement")
        first, second = factories.vendor("第一事業者"), factories.vendor("第二事業者")
        service = factories.cloud_service(status=ServiceStatus.APPROVED, vendor_id=first.id, provider_name=None,
                                          ismap_valid_until=dt.date(2030, 3, 31))
        _save(app, service, user, purpose="別の利用目的", log_access="申請により提供")
        assert service.status is ServiceStatus.APPROVED
        _save(app, service, user, vendor_id=second.id)
        assert service.status is ServiceStatus.REQUESTED
        assert "提供者" in rules.pending(service).reason
