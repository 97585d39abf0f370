"""Issue 17: an approval whose checklist answers 未確認 needs a comment per
未確認 item; without one it is refused, naming the items, and nothing is
saved."""
from __future__ import annotations

import pytest

from cloud import checklist, rules, services
from cloud.models import CloudService, ServiceStatus
from cloud.rules import CloudRuleError
from core.approvals import Decision
from core.db import db
from tests import factories
from tests.cloud.test_cloud import decide, request_service, status, two_clients


def test_an_unchecked_item_without_its_comment_refuses_the_approval(app, users):
    requester, approver = two_clients(app)
    sid = request_service(requester, app)
    unchecked = {"SEC-03": "not_checked", "POL-06": "not_checked", "SUP-01": "na"}
    refused = decide(approver, sid, "approve", answers=unchecked, comments={"POL-06": "監査報告書を請求中"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "未確認の項目には、その理由をコメントに記載してください" in page and "SEC-03" in page
    assert "POL-06" not in page.split("未確認の項目には")[1].split("</div>")[0]
    assert status(app, sid) is ServiceStatus.REQUESTED
    with app.app_context():
        assert rules.pending(db.session.get(CloudService, sid)) is not None
    # 　(a full-width space) is no comment either
    assert decide(approver, sid, "conditional", "年内に再確認", answers=unchecked,
                  comments={"SEC-03": "\u3000", "POL-06": "監査報告書を請求中"}).status_code == 409
    assert status(app, sid) is ServiceStatus.REQUESTED

    allowed = decide(approver, sid, "approve", answers=unchecked,
                     comments={"SEC-03": "事業者が非公開。次回見直しで確認", "POL-06": "監査報告書を請求中"})
    assert allowed.status_code == 302 and status(app, sid) is ServiceStatus.APPROVED
    with app.app_context():
        rows = {row["code"]: row for row in rules.last_granted(db.session.get(CloudService, sid)).details["checklist"]}
        assert rows["SEC-03"]["comment"] == "事業者が非公開。次回見直しで確認"


def test_a_rejection_needs_no_comment_per_unchecked_item(app, users):
    requester, approver = two_clients(app)
    sid = request_service(requester, app)
    assert decide(approver, sid, "reject", "利用目的が不明確", answers={"SEC-03": "not_checked"}).status_code == 302
    assert status(app, sid) is ServiceStatus.REJECTED


@pytest.fixture
def pending_service(app):
    with app.app_context():
        requester = factories.user("cloud-requester", "procurement")
        approver = factories.user("cloud-approver", "approver")
        service = factories.cloud_service(administrator=requester)
        services.register(service, requester)
        services.add_rules(service, requester, users="職員", purposes="広報", prohibited="個人情報",
                           accounts="個人アカウント禁止", other=None)
        db.session.commit()
        yield service, approver


def test_the_service_layer_refuses_and_then_allows(app, pending_service):
    service, approver = pending_service
    answers = {item.code: ("checked", "") for item in checklist.items_for(terms=True)}
    answers["SEC-12"] = ("not_checked", " ")
    del answers["TOS-03"]  # a missing answer counts as 未確認
    with app.test_request_context():
        with pytest.raises(CloudRuleError) as refused:
            services.decide(service, rules.pending(service), approver, outcome="approve", comment="",
                            answers=answers, acknowledged=False)
        assert "SEC-12" in str(refused.value) and "TOS-03" in str(refused.value)
        db.session.rollback()
        assert service.status is ServiceStatus.REQUESTED
        answers["SEC-12"] = ("not_checked", "削除方法は次回確認")
        answers["TOS-03"] = ("not_checked", "ログ提供は対象外と確認")
        approval = services.decide(service, rules.pending(service), approver, outcome="approve", comment="",
                                   answers=answers, acknowledged=False)
        assert approval.decision is Decision.APPROVED and service.status is ServiceStatus.APPROVED
