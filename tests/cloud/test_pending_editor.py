"""Issue 17 (four eyes): a user holding the approver role who edits a
request while it is 申請中 cannot approve that request; another approver
can."""
from __future__ import annotations

import pytest

from cloud import rules, services
from cloud.models import CloudService, ServiceStatus
from cloud.rules import CloudRuleError
from core.db import db
from core.models import Role
from tests import factories
from tests.cloud.test_cloud import (
    admin_id,
    decide,
    request_service,
    service_data,
    status,
    two_clients,
    unit_of,
)
from tests.conftest import login_as


def test_an_approver_who_edited_the_pending_request_cannot_approve_it(app, users):
    requester, approver = two_clients(app)
    sid = request_service(requester, app)
    with app.app_context():
        factories.user("dual", Role.PROCUREMENT, Role.APPROVER)
        db.session.commit()
        version = db.session.get(CloudService, sid).version
    dual = app.test_client()
    login_as(dual, "dual")
    edited = dual.post(f"/cloud/{sid}/edit", data=service_data(
        app, version=str(version), administrator_id=str(admin_id(app)), unit_ids=str(unit_of(app, "procurement")),
        purpose="広報資料と議事録の共有"))
    assert edited.status_code == 302
    refused = decide(dual, sid, "approve")
    assert refused.status_code == 409
    assert "申請中に内容を変更した人は、この申請を決定できません" in refused.get_data(as_text=True)
    assert status(app, sid) is ServiceStatus.REQUESTED
    assert decide(approver, sid, "approve").status_code == 302
    assert status(app, sid) is ServiceStatus.APPROVED


def test_the_service_layer_remembers_who_edited_the_pending_request(app):
    with app.app_context():
        requester = factories.user("cloud-requester", "procurement")
        dual = factories.user("cloud-dual", "procurement", "approver")
        other = factories.user("cloud-approver", "approver")
        service = factories.cloud_service(administrator=requester)
        services.register(service, requester)
        services.add_rules(service, requester, users="職員", purposes="広報", prohibited="個人情報",
                           accounts="個人アカウント禁止", other=None)
        services.add_rules(service, dual, users="職員", purposes="広報", prohibited="個人情報・未公表の情報",
                           accounts="個人アカウント禁止", other=None)
        db.session.commit()
        answers = {}
        with app.test_request_context():
            with pytest.raises(CloudRuleError):
                services.decide(service, rules.pending(service), dual, outcome="reject", comment="不十分",
                                answers=answers, acknowledged=False)
            db.session.rollback()
            services.decide(service, rules.pending(service), other, outcome="reject", comment="利用目的が不明確",
                            answers=answers, acknowledged=False)
        assert service.status is ServiceStatus.REJECTED


def test_an_approver_who_did_not_edit_decides(app):
    with app.app_context():
        requester = factories.user("cloud-requester2", "procurement")
        editor = factories.user("cloud-editor2", "procurement")
        approver = factories.user("cloud-approver2", "approver")
        service = factories.cloud_service(administrator=requester)
        services.register(service, requester)
        services.add_rules(service, editor, users="職員", purposes="広報", prohibited="個人情報",
                           accounts="個人アカウント禁止", other=None)
        with app.test_request_context():
            services.decide(service, rules.pending(service), approver, outcome="reject", comment="不明確",
                            answers={}, acknowledged=False)
        assert service.status is ServiceStatus.REJECTED


def test_the_decide_page_tells_an_editing_approver_before_they_fill_in_the_checklist(app, users):
    """The refusal should not come as a surprise after the checklist is filled in:
    the page says at once that this user edited the request and cannot decide it,
    and reminds every approver that 未確認 answers need a reason."""
    requester, approver = two_clients(app)
    sid = request_service(requester, app)
    with app.app_context():
        factories.user("dual2", Role.PROCUREMENT, Role.APPROVER)
        db.session.commit()
        version = db.session.get(CloudService, sid).version
    dual = app.test_client()
    login_as(dual, "dual2")
    assert dual.post(f"/cloud/{sid}/edit", data=service_data(
        app, version=str(version), administrator_id=str(admin_id(app)), unit_ids=str(unit_of(app, "procurement")),
        purpose="広報資料と議事録の共有")).status_code == 302
    page = dual.get(f"/cloud/{sid}/decide").get_data(as_text=True)
    assert "申請中に内容を変更したため、この申請は決定できません" in page
    other = approver.get(f"/cloud/{sid}/decide").get_data(as_text=True)
    assert "申請中に内容を変更したため" not in other
    assert "「未確認」とした項目には、その理由をコメントに記載してください" in other
