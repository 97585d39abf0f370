"""Issue 17: classification follows the data for a cloud service's kinds of
information too — personal information at 自治体機密性3C or higher (MIC R6.10)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from cloud import services
from cloud.models import CloudInformation, InformationState
from cloud.rules import CloudRuleError
from core.db import db
from tests import factories
from tests.cloud.test_cloud import level_id, request_service, two_clients


def information(app, sid: int) -> list[tuple[str, str, bool]]:
    with app.app_context():
        return [(row.name, row.classification.code, row.personal) for row in db.session.scalars(
            select(CloudInformation).where(CloudInformation.service_id == sid).order_by(CloudInformation.id))]


def test_personal_information_below_3c_is_refused_on_the_page(app, users):
    requester, _approver = two_clients(app)
    sid = request_service(requester, app, info=())
    response = requester.post(f"/cloud/{sid}/information", data={
        "info_name": "住民からの問合せ", "classification_id": str(level_id(app, "C2")), "state": "planned",
        "note": "", "personal": "y"})
    assert response.status_code in (400, 409)
    html = response.get_data(as_text=True)
    assert "自治体機密性3C" in html and "総務省ガイドライン" in html
    assert information(app, sid) == []
    response = requester.post(f"/cloud/{sid}/information", data={
        "info_name": "住民からの問合せ", "classification_id": str(level_id(app, "C3C")), "state": "planned",
        "note": "", "personal": "y"})
    assert response.status_code == 302
    assert information(app, sid) == [("住民からの問合せ", "C3C", True)]


@pytest.mark.parametrize("code, personal, refused", [("C2", True, True), ("C1", True, True),
                                                     ("C3C", True, False), ("C2", False, False)])
def test_the_service_refuses_personal_information_below_its_minimum(app, code, personal, refused):
    with app.app_context():
        service = factories.cloud_service()
        user = factories.clerk()
        args = dict(name="職員名簿", classification=factories.level(code), state=InformationState.PLANNED,
                    note=None, personal=personal)
        if refused:
            with pytest.raises(CloudRuleError, match="自治体機密性3C"):
                services.add_information(service, user, **args)
            assert service.information == []
        else:
            assert services.add_information(service, user, **args).personal is personal


def test_the_demo_services_follow_the_rule(demo):
    with demo.app_context():
        for row in db.session.scalars(select(CloudInformation).where(CloudInformation.personal)):
            assert row.classification.rank >= factories.level("C3C").rank, row.name
        assert db.session.scalar(select(CloudInformation.id).where(CloudInformation.personal)) is not None
