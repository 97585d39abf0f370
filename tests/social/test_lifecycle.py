"""An official account's life (issue 17, DOMAIN.md §4.2, §4.6): opening is a
request decided by an administrator or approver other than the requester;
closing (廃止) follows a four-item checklist and happens only once all four
are recorded."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core import accounts
from core.approvals import Decision
from core.db import db
from core.models import OrgUnit, Role, User
from core.timeutil import today
from social import rules, services
from social.models import AccountStatus, ClosureStep, SocialAccount
from tests import factories
from tests.conftest import PASSWORD, api_token, followed, login_as
from tests.social.test_social import account_data, account_id

STEPS = [step.value for step in ClosureStep]


def client_of(app, username: str):
    client = app.test_client()
    login_as(client, username)
    return client


@pytest.fixture
def both(app, users):
    """A user who is both an SNS officer and an approver."""
    with app.app_context():
        accounts.create_user(username="both", display_name="二役 花子", password=PASSWORD,
                             roles=[Role.SOCIAL, Role.APPROVER], unit=db.session.scalar(select(OrgUnit)))
        db.session.commit()
    return client_of(app, "both")


def status_of(app, aid: int) -> AccountStatus:
    with app.app_context():
        return db.session.get(SocialAccount, aid).status


def requested_account(app, client) -> int:
    response = client.post("/social/new", data=account_data(app))
    assert response.status_code == 302, response.get_data(as_text=True)
    return account_id(app)


# --- opening: a request ---------------------------------------------------------------------

def test_a_new_account_is_a_request_until_another_person_approves_it(app, users, both):
    aid = requested_account(app, both)
    assert status_of(app, aid) is AccountStatus.REQUESTED
    page = both.get(f"/social/{aid}").get_data(as_text=True)
    assert "開設の申請" in page and "申請中" in page
    # The requester holds the approver role, and still may not approve their own request.
    refused = both.post(f"/social/{aid}/opening/approve", data={"comment": ""})
    assert "申請者本人は承認できません" in followed(both, refused).get_data(as_text=True)
    assert status_of(app, aid) is AccountStatus.REQUESTED
    # An SNS officer without the approver role may not decide at all.
    assert client_of(app, "social").post(f"/social/{aid}/opening/approve").status_code == 403
    approved = client_of(app, "approver").post(f"/social/{aid}/opening/approve", data={"comment": "開設を認める"})
    assert approved.status_code == 302
    assert status_of(app, aid) is AccountStatus.ACTIVE
    with app.app_context():
        request = rules.opening_requests(db.session.get(SocialAccount, aid))[0]
        assert request.decision is Decision.APPROVED and request.approver.username == "approver"


def test_an_administrator_may_approve_too(app, users):
    aid = requested_account(app, client_of(app, "social"))
    assert client_of(app, "admin").post(f"/social/{aid}/opening/approve").status_code == 302
    assert status_of(app, aid) is AccountStatus.ACTIVE


def test_a_rejection_needs_a_reason_and_the_officer_may_ask_again(app, users):
    social = client_of(app, "social")
    aid = requested_account(app, social)
    approver = client_of(app, "approver")
    refused = approver.post(f"/social/{aid}/opening/reject", data={"comment": "  "})
    assert "却下の理由をコメントに記載してください。" in followed(approver, refused).get_data(as_text=True)
    assert status_of(app, aid) is AccountStatus.REQUESTED
    assert approver.post(f"/social/{aid}/opening/reject", data={"comment": "運用担当を2名以上にしてください"}
                         ).status_code == 302
    assert status_of(app, aid) is AccountStatus.REJECTED
    assert "運用担当を2名以上にしてください" in social.get(f"/social/{aid}").get_data(as_text=True)
    assert social.post(f"/social/{aid}/opening/resubmit").status_code == 302
    assert status_of(app, aid) is AccountStatus.REQUESTED
    assert approver.post(f"/social/{aid}/opening/approve").status_code == 302
    assert status_of(app, aid) is AccountStatus.ACTIVE


def test_the_rules_of_opening_at_the_service_layer(app, users):
    with app.app_context():
        officer = factories.user(None, Role.SOCIAL, Role.APPROVER)
        approver = factories.user(None, Role.APPROVER)
        account = factories.social_account(responsible=officer, status=AccountStatus.ACTIVE)
        services.request_opening(account, officer)
        assert account.status is AccountStatus.REQUESTED
        with pytest.raises(rules.SocialRuleError, match="申請者本人は承認できません"):
            services.decide_opening(account, officer, approve=True, comment=None)
        with pytest.raises(rules.SocialRuleError, match="却下の理由"):
            services.decide_opening(account, approver, approve=False, comment="")
        assert account.status is AccountStatus.REQUESTED
        services.decide_opening(account, approver, approve=False, comment="目的が不明確")
        assert account.status is AccountStatus.REJECTED
        with pytest.raises(rules.SocialRuleError, match="承認待ちの開設の申請がありません"):
            services.decide_opening(account, approver, approve=True, comment=None)
        services.resubmit_opening(account, officer)
        services.decide_opening(account, approver, approve=True, comment=None)
        assert account.status is AccountStatus.ACTIVE
        with pytest.raises(rules.SocialRuleError, match="却下された"):
            services.resubmit_opening(account, officer)


def test_an_approver_who_edits_a_pending_request_may_not_decide_it(app, users, both):
    aid = requested_account(app, client_of(app, "social"))
    with app.app_context():
        version = db.session.get(SocialAccount, aid).version
    edited = both.post(f"/social/{aid}/edit", data=account_data(app, status="requested", version=str(version),
                                                                purpose="防災情報と火災予防の発信"))
    assert edited.status_code == 302, edited.get_data(as_text=True)
    refused = both.post(f"/social/{aid}/opening/approve")
    assert "申請中に内容を変更した人" in followed(both, refused).get_data(as_text=True)
    assert client_of(app, "approver").post(f"/social/{aid}/opening/approve").status_code == 302


def test_the_status_form_cannot_open_or_close_an_account(app, users):
    social = client_of(app, "social")
    aid = requested_account(app, social)
    with app.app_context():
        version = db.session.get(SocialAccount, aid).version
    response = social.post(f"/social/{aid}/edit", data=account_data(app, status="active", version=str(version)))
    assert response.status_code == 400 and "承認者の承認で運用中になります" in response.get_data(as_text=True)
    assert status_of(app, aid) is AccountStatus.REQUESTED
    client_of(app, "approver").post(f"/social/{aid}/opening/approve")
    with app.app_context():
        version = db.session.get(SocialAccount, aid).version
    response = social.post(f"/social/{aid}/edit", data=account_data(app, status="closed", version=str(version)))
    assert response.status_code == 400 and "廃止の手続き" in response.get_data(as_text=True)
    assert status_of(app, aid) is AccountStatus.ACTIVE
    response = social.post(f"/social/{aid}/edit", data=account_data(app, status="dormant", version=str(version)))
    assert response.status_code == 302 and status_of(app, aid) is AccountStatus.DORMANT


def test_a_pending_account_cannot_be_checked_for_posting(app, users):
    social = client_of(app, "social")
    aid = requested_account(app, social)
    assert "開設の承認前" in social.get(f"/social/check?account={aid}").get_data(as_text=True)
    response = social.post("/social/check", data={"account_id": str(aid), "draft": "火災予防運動が始まります"})
    assert response.status_code == 409 and "開設の承認前" in response.get_data(as_text=True)
    with app.app_context():
        with pytest.raises(rules.SocialRuleError, match="開設の承認前"):
            rules.check_can_post(db.session.get(SocialAccount, aid))
    client_of(app, "approver").post(f"/social/{aid}/opening/approve")
    response = social.post("/social/check", data={"account_id": str(aid), "draft": "火災予防運動が始まります"})
    assert response.status_code == 200 and "注意点は見つかりませんでした" in response.get_data(as_text=True)


def test_a_new_account_through_the_api_is_a_request_too(app, users):
    token = {"Authorization": f"Bearer {api_token(app, 'social')}"}
    with app.app_context():
        unit = db.session.scalar(select(OrgUnit.name))
        responsible = db.session.scalar(select(User.display_name).where(User.username == "social"))
    response = app.test_client().post("/api/v1/social", headers=token, json={
        "platform": "x", "name": "API公式", "url": "https://x.com/api_119", "purpose": "防災情報の発信",
        "unit": unit, "responsible": responsible, "status": "active", "review_cycle_months": 12,
        "posting_ceiling": "C1"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert status_of(app, response.get_json()["id"]) is AccountStatus.REQUESTED


# --- closing: a checklist -------------------------------------------------------------------

def active_account(app) -> int:
    with app.app_context():
        responsible = db.session.scalar(select(User).where(User.username == "social"))
        account = factories.social_account(responsible=responsible, url="https://x.com/closing_119")
        db.session.commit()
        return account.id


def test_closing_is_refused_until_all_four_items_are_done(app, users):
    aid = active_account(app)
    social = client_of(app, "social")
    yesterday = (today() - dt.timedelta(days=1)).isoformat()
    for step in STEPS[:2]:
        response = social.post(f"/social/{aid}/closure", data={"step": step, "done_on": yesterday, "note": "実施"})
        assert response.status_code == 302, response.get_data(as_text=True)
    refused = social.post(f"/social/{aid}/close")
    html = followed(social, refused).get_data(as_text=True)  # back to the account, with the reason
    assert "廃止するには、次の手続きを記録してください" in html
    assert "アクセス権と連携アプリの許可を取り消した" in html and "公式サイトの掲載から削除した" in html
    assert status_of(app, aid) is AccountStatus.ACTIVE
    future = (today() + dt.timedelta(days=1)).isoformat()
    refused = social.post(f"/social/{aid}/closure", data={"step": STEPS[2], "done_on": future})
    assert refused.status_code == 409 and "未来の日付" in refused.get_data(as_text=True)
    for step in STEPS[2:]:
        assert social.post(f"/social/{aid}/closure", data={"step": step, "done_on": yesterday, "note": "連携解除"}
                           ).status_code == 302
    page = social.get(f"/social/{aid}").get_data(as_text=True)
    with app.test_request_context():  # each step's date as the page shows it, in its list and its history
        shown = app.jinja_env.filters["date"](today() - dt.timedelta(days=1))
    assert "廃止の手続き" in page and page.count(shown) >= 4
    assert social.post(f"/social/{aid}/close").status_code == 302
    assert status_of(app, aid) is AccountStatus.CLOSED
    page = social.get(f"/social/{aid}").get_data(as_text=True)
    assert "連携解除" in page and "記録する" not in page
    again = social.post(f"/social/{aid}/closure", data={"step": STEPS[0], "done_on": yesterday})
    assert again.status_code == 409 and "廃止したアカウントは変更できません。" in again.get_data(as_text=True)
    # A reader may look, not record.
    assert client_of(app, "auditor").post(f"/social/{aid}/closure", data={"step": STEPS[0]}).status_code == 403


def test_the_rules_of_closing_at_the_service_layer(app, users):
    with app.app_context():
        officer = factories.user(None, Role.SOCIAL)
        account = factories.social_account(responsible=officer)
        with pytest.raises(rules.SocialRuleError, match="パスワードそのものは登録できません"):
            services.record_closure_step(account, officer, step=ClosureStep.REVOKE, done_on=today(),
                                         note="新しいパスワード: Abc12345!")
        services.record_closure_step(account, officer, step=ClosureStep.ANNOUNCE, done_on=today(), note="告知")
        with pytest.raises(rules.SocialRuleError) as refused:
            services.close(account, officer)
        message = str(refused.value)
        assert "アカウントを削除または非公開（ロック）にした" in message and "告知" not in message
        assert account.status is AccountStatus.ACTIVE
        for step in list(ClosureStep)[1:]:
            services.record_closure_step(account, officer, step=step, done_on=today(), note=None)
        services.close(account, officer)
        assert account.status is AccountStatus.CLOSED and account.closure_left == []
        with pytest.raises(rules.SocialRuleError, match="廃止したアカウント"):
            services.record_closure_step(account, officer, step=ClosureStep.ANNOUNCE, done_on=today(), note=None)
        pending = factories.social_account(responsible=officer, status=AccountStatus.REQUESTED)
        with pytest.raises(rules.SocialRuleError, match="運用中・休止"):
            services.record_closure_step(pending, officer, step=ClosureStep.ANNOUNCE, done_on=today(), note=None)


def test_the_api_retires_an_account_only_after_its_checklist(app, users):
    aid = active_account(app)
    token = {"Authorization": f"Bearer {api_token(app, 'social')}"}
    client = app.test_client()
    refused = client.post(f"/api/v1/social/{aid}/retire", headers=token)
    assert refused.status_code == 409 and "廃止するには" in refused.get_json()["detail"]
    with app.app_context():
        account = db.session.get(SocialAccount, aid)
        for step in ClosureStep:
            services.record_closure_step(account, account.responsible, step=step, done_on=today(), note=None)
        db.session.commit()
    assert client.post(f"/api/v1/social/{aid}/retire", headers=token).status_code == 200
    assert status_of(app, aid) is AccountStatus.CLOSED


# --- the public list and the counts ---------------------------------------------------------

@pytest.mark.config(PUBLIC_ACCOUNT_LIST=True)
def test_the_public_list_leaves_out_pending_rejected_and_closed_accounts(app, users):
    with app.app_context():
        for status in AccountStatus:
            factories.social_account(f"公開一覧 {status.value}", url=f"https://x.com/list_{status.value}", status=status)
        db.session.commit()
    html = app.test_client().get("/social/official").get_data(as_text=True)
    assert "https://x.com/list_active" in html and "https://x.com/list_dormant" in html
    for hidden in ("requested", "rejected", "closed"):
        assert f"https://x.com/list_{hidden}" not in html


def test_pending_accounts_are_not_active_in_the_inspection_facts(app, users):
    from core.inspection import Scope
    from social import documents

    with app.app_context():
        factories.social_account(status=AccountStatus.ACTIVE, mfa_enabled=True)
        factories.social_account(status=AccountStatus.REQUESTED, mfa_enabled=False)
        facts = documents.facts(Scope(fiscal_year=today().year if today().month >= 4 else today().year - 1))
        assert facts["SNS-03"].startswith("1件中 二要素認証なし 0件")
        assert "開設の申請中 1件" in facts["SNS-01"]


def test_the_demo_has_a_pending_request_and_a_closure_with_its_checklist(app, demo):
    from tests.conftest import DEMO_PASSWORD, read_pdf

    with app.app_context():
        accounts_ = db.session.scalars(select(SocialAccount)).all()
        [pending] = [a for a in accounts_ if a.status is AccountStatus.REQUESTED]
        [closed] = [a for a in accounts_ if a.status is AccountStatus.CLOSED]
        assert rules.pending_opening(pending) is not None and closed.closure_left == []
        closed_id = closed.id
    client = app.test_client()
    login_as(client, "auditor", DEMO_PASSWORD)
    assert "廃止の手続き" in client.get(f"/social/{closed_id}").get_data(as_text=True)
    _pages, text = read_pdf(client.get("/social/register.pdf"))
    compact = "".join(text.split())
    assert "廃止の手続き" in compact and "開設の申請" in compact
