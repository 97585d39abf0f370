"""People change (人事異動, issue 17): a user still responsible for something
is not deactivated until each responsibility is handed to a successor; an
administrator hands them all over in one audited step."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from cloud import services as cloud_services
from contracts import rules as contract_rules
from contracts import services as contract_services
from contracts import verification as checks
from contracts.models import Contract, ContractStatus, Finding, Result, Verification
from core import accounts, approvals, handover
from core.approvals import Approval, Decision
from core.db import db
from core.models import AuditEntry, Role, User
from social import rules as social_rules
from social import services as social_services
from social.models import MemberRole, SocialAccount
from tests import factories
from tests.conftest import login_as


def _user(app, username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _officer_with_contract(app, *, status=ContractStatus.SIGNED) -> tuple[int, int, str]:
    with app.app_context():
        leaver = factories.user("leaver", Role.PROCUREMENT, display_name="異動 太郎")
        contract = factories.contract(status=status, officer=leaver)
        db.session.commit()
        return leaver.id, contract.id, contract.number


# --- deactivation is refused while a responsibility remains ---------------------------------

def test_deactivation_is_refused_with_the_list_at_the_service(app, users):
    leaver_id, _contract_id, number = _officer_with_contract(app)
    with app.test_request_context():
        leaver = db.session.get(User, leaver_id)
        with pytest.raises(handover.HandoverRefusal, match=number) as refused:
            accounts.set_active(leaver, False)
        assert "契約の担当者" in str(refused.value) and "引き継いで" in str(refused.value)
        db.session.rollback()
        assert db.session.get(User, leaver_id).active is True


def test_deactivation_is_refused_with_the_list_on_the_page(client, app, users):
    leaver_id, contract_id, number = _officer_with_contract(app)
    login_as(client, "admin")
    response = client.post(f"/admin/users/{leaver_id}/active", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "まだ担当している事項があるため、無効にできません" in html
    assert "担当している事項" in html and f'href="/contracts/{contract_id}"' in html and number in html
    with app.app_context():
        assert db.session.get(User, leaver_id).active is True


def test_a_user_with_nothing_open_is_deactivated_and_an_ended_contract_does_not_count(client, app, users):
    leaver_id, _contract_id, _number = _officer_with_contract(app, status=ContractStatus.ENDED)
    login_as(client, "admin")
    html = client.get(f"/admin/users/{leaver_id}").get_data(as_text=True)
    assert "担当している事項はありません。" in html
    client.post(f"/admin/users/{leaver_id}/active")
    with app.app_context():
        assert db.session.get(User, leaver_id).active is False


# --- the handover ---------------------------------------------------------------------------

def test_a_successor_without_the_role_is_refused_and_nothing_moves(client, app, users):
    leaver_id, contract_id, number = _officer_with_contract(app)
    login_as(client, "admin")
    response = client.post(f"/admin/users/{leaver_id}/handover", data={"handover-successor_id": users["auditor"]})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "次の事項を引き継げません" in html and number in html and "必要な役割: 調達担当" in html
    with app.app_context():
        assert db.session.get(Contract, contract_id).officer_id == leaver_id
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "handover")) is None


def test_a_successor_without_the_role_is_refused_at_the_service(app, users):
    leaver_id, contract_id, number = _officer_with_contract(app)
    with app.test_request_context():
        leaver, auditor = db.session.get(User, leaver_id), db.session.get(User, users["auditor"])
        with pytest.raises(handover.HandoverRefusal, match=number):
            handover.hand_over(leaver, auditor)
        with pytest.raises(handover.HandoverRefusal, match="本人以外"):
            handover.hand_over(leaver, leaver)
        with pytest.raises(handover.HandoverRefusal, match="後任者を選択"):
            handover.hand_over(leaver, None)
        assert db.session.get(Contract, contract_id).officer_id == leaver_id


def test_an_inactive_successor_is_refused(app, users):
    leaver_id, contract_id, _number = _officer_with_contract(app)
    with app.test_request_context():
        gone = factories.user("gone", Role.PROCUREMENT)
        accounts.set_active(gone, False)
        with pytest.raises(handover.HandoverRefusal, match="無効な利用者"):
            handover.hand_over(db.session.get(User, leaver_id), gone)
        assert db.session.get(Contract, contract_id).officer_id == leaver_id


def test_handover_then_deactivation_is_allowed_and_audited(client, app, users):
    leaver_id, contract_id, number = _officer_with_contract(app)
    login_as(client, "admin")
    response = client.post(f"/admin/users/{leaver_id}/handover", data={"handover-successor_id": users["procurement"]},
                           follow_redirects=True)
    assert "procurement user さんに引き継ぎました" in response.get_data(as_text=True)
    client.post(f"/admin/users/{leaver_id}/active")
    with app.app_context():
        assert db.session.get(Contract, contract_id).officer_id == users["procurement"]
        assert db.session.get(User, leaver_id).active is False
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "handover"))
        assert entry.object_type == "users" and entry.object_id == str(leaver_id)
        assert entry.username == "admin"
        assert entry.changes["from"] == [leaver_id, "leaver"]
        assert entry.changes["to"] == [users["procurement"], "procurement"]
        assert number in entry.changes["moved"]["contract_officer"][0]
        # the moved record's own entry, as usual
        assert db.session.scalar(select(AuditEntry).where(
            AuditEntry.object_type == "contracts", AuditEntry.object_id == str(contract_id),
            AuditEntry.action == "update").order_by(AuditEntry.seq.desc())).changes["officer_id"] == [
                leaver_id, users["procurement"]]


# --- every domain's responsibility moves -----------------------------------------------------

def _everything(app, users) -> dict:
    """A leaver (procurement, verifier, social) responsible for one of each kind."""
    with app.test_request_context():
        leaver = factories.user("leaver", Role.PROCUREMENT, Role.VERIFIER, Role.SOCIAL, display_name="異動 太郎")
        other = factories.user("colleague", Role.SOCIAL)
        ids = {"leaver": leaver.id, "other": other.id}
        ids["contract"] = factories.contract(status=ContractStatus.IN_FORCE, officer=leaver).id
        checked = factories.contract(status=ContractStatus.SIGNED)
        done = factories.verification(checked, results={checked.clauses[0].clause.code: Result.DOES_NOT})
        finding = done.findings[0]
        finding.owner_id = leaver.id
        ids["finding"] = finding.id
        reported = factories.verification(checked, results={checked.clauses[0].clause.code: Result.DOES_NOT})
        closing = reported.findings[0]
        ids["closure"] = checks.report_done(closing, note="是正済み", evidence=factories.stored_file(), user=leaver).id
        ids["draft"] = factories.verification(checked, verifier=leaver, submitted=False).id
        draft_contract = factories.contract(clauses="none")
        missing = contract_rules.clause_gaps(draft_contract)[0].code
        ids["exception"] = contract_services.request_exception(draft_contract, clause=missing, reason="次回追加",
                                                               user=leaver).id
        service = factories.cloud_service(administrator=leaver)
        ids["service"] = service.id
        ids["cloud_request"] = _pending_of(cloud_services.register(factories.cloud_service(), leaver))
        account = factories.social_account(responsible=leaver)
        ids["account"] = account.id
        deputy_of = factories.social_account(responsible=other)
        social_services.set_people(deputy_of, responsible_id=other.id, deputy_id=leaver.id, operator_ids={other.id},
                                   holder_ids={leaver.id})
        ids["deputy_of"] = deputy_of.id
        texts = {name: "テスト手順" for name in social_rules.PROCEDURE_FIELDS}
        ids["procedure"] = social_services.add_procedure(account, leaver, **texts).approval_id
        db.session.commit()
    return ids


def _pending_of(service) -> int:
    return db.session.scalar(select(Approval.id).where(Approval.subject_type == "cloud_services",
                                                       Approval.subject_id == service.id,
                                                       Approval.decision == Decision.PENDING))


def test_the_page_lists_each_domain_grouped_with_links(client, app, users):
    ids = _everything(app, users)
    login_as(client, "admin")
    html = client.get(f"/admin/users/{ids['leaver']}").get_data(as_text=True)
    for label in ("契約の担当者", "是正措置の担当者", "下書きの確認（確認者）", "外部サービスの管理者",
                  "SNSアカウントの責任者・代理者・運用担当", "承認待ちの申請（申請者）"):
        assert label in html
    for link in (f"/contracts/{ids['contract']}", f"/verification/findings/{ids['finding']}",
                 f"/verification/{ids['draft']}", f"/cloud/{ids['service']}", f"/social/{ids['account']}",
                 f"/social/{ids['account']}/procedures"):
        assert f'href="{link}"' in html


def test_every_domain_moves_to_the_successor_in_one_step(app, users):
    ids = _everything(app, users)
    with app.test_request_context():
        successor = factories.user("successor", Role.PROCUREMENT, Role.VERIFIER, Role.SOCIAL)
        leaver = db.session.get(User, ids["leaver"])
        moved = handover.hand_over(leaver, successor)
        accounts.set_active(leaver, False)
        db.session.commit()
        sid = successor.id
        assert set(moved) == {"contract_officer", "measure_owner", "draft_verification", "cloud_administrator",
                              "social_account", "pending_requests"}
        assert db.session.get(Contract, ids["contract"]).officer_id == sid
        assert db.session.get(Finding, ids["finding"]).owner_id == sid
        assert db.session.get(Verification, ids["draft"]).verifier_id == sid
        assert db.session.get(cloud_services.CloudService, ids["service"]).administrator_id == sid
        account = db.session.get(SocialAccount, ids["account"])
        assert account.responsible_id == sid
        assert {(m.user_id, m.role) for m in account.members} == {(sid, MemberRole.OPERATOR)}
        deputy_of = db.session.get(SocialAccount, ids["deputy_of"])
        assert deputy_of.deputy_id == sid and deputy_of.responsible_id == ids["other"]
        assert {(m.user_id, m.role) for m in deputy_of.members} == {(ids["other"], MemberRole.OPERATOR),
                                                                   (sid, MemberRole.HOLDER)}
        for key in ("closure", "exception", "cloud_request", "procedure"):
            request = db.session.get(Approval, ids[key])
            assert request.requested_by_id == sid and request.decision is Decision.PENDING
        assert handover.responsibilities(db.session.get(User, ids["leaver"])) == []
        assert db.session.get(User, ids["leaver"]).active is False


def test_a_handed_over_request_is_never_decided_by_its_new_requester(app, users):
    ids = _everything(app, users)
    with app.test_request_context():
        successor = factories.user("successor", Role.PROCUREMENT, Role.VERIFIER, Role.SOCIAL, Role.ADMIN)
        handover.hand_over(db.session.get(User, ids["leaver"]), successor)
        with pytest.raises(approvals.ApprovalError, match="申請者本人は承認できません"):
            approvals.decide(db.session.get(Approval, ids["exception"]), approver=successor, approve=True)
        finding = db.session.get(Approval, ids["closure"])
        with pytest.raises(checks.VerificationError):
            checks.decide_closure(db.session.get(Finding, finding.subject_id), user=successor, accept=True,
                                  comment=None)


def test_the_other_one_of_an_accounts_pair_cannot_take_it_and_nothing_moves(app, users):
    ids = _everything(app, users)
    with app.test_request_context():
        other = db.session.get(User, ids["other"])  # the responsible person where the leaver is deputy
        other.set_roles([Role.PROCUREMENT, Role.VERIFIER, Role.SOCIAL])
        db.session.flush()
        with pytest.raises(handover.HandoverRefusal, match="同じ記録で別の役目"):
            handover.hand_over(db.session.get(User, ids["leaver"]), other)
        assert db.session.get(Contract, ids["contract"]).officer_id == ids["leaver"]
        assert db.session.get(SocialAccount, ids["deputy_of"]).deputy_id == ids["leaver"]


# --- a leaver is given nothing new ---------------------------------------------------------

def test_an_inactive_user_cannot_be_made_contract_officer_or_measure_owner(app, users):
    leaver_id, contract_id, _number = _officer_with_contract(app, status=ContractStatus.ENDED)
    with app.test_request_context():
        leaver = db.session.get(User, leaver_id)
        accounts.set_active(leaver, False)
        draft = factories.contract()
        values = {name: getattr(draft, name) for name in (
            "number", "title", "vendor_id", "unit_id", "start_on", "end_on", "classification_id", "integrity_id",
            "availability_id", "handles_personal_info", "handles_my_number", "work_places")}
        values.update(kind=draft.kind.value, officer_id=leaver_id, subcontracting=draft.subcontracting.value,
                      verification_cycle="")
        with pytest.raises(contract_rules.ContractRuleError, match="無効な利用者"):
            contract_services.save_contract(draft, values, user=db.session.get(User, users["procurement"]))
        values["officer_id"] = users["procurement"]
        contract_services.save_contract(draft, values, user=db.session.get(User, users["procurement"]))
        # an ended contract keeps its former officer when edited
        ended = db.session.get(Contract, contract_id)
        assert ended.officer_id == leaver_id
        done = factories.verification(factories.contract(status=ContractStatus.SIGNED))
        row = done.results[0]
        row.result = Result.DOES_NOT
        finding = factories.finding(done, row)
        with pytest.raises(checks.VerificationError, match="無効な利用者"):
            checks.update_measure(finding, measure="是正", owner_id=leaver_id, due_on=finding.due_on)
        checks.update_measure(finding, measure="是正", owner_id=users["verifier"], due_on=finding.due_on)


def test_an_inactive_user_cannot_be_put_on_an_sns_account(app, users):
    with app.test_request_context():
        gone = factories.user("gone", Role.SOCIAL)
        accounts.set_active(gone, False)
        account = factories.social_account()
        with pytest.raises(social_rules.SocialRuleError, match="無効な利用者"):
            social_services.set_people(account, responsible_id=account.responsible_id, deputy_id=gone.id,
                                       operator_ids=set(), holder_ids=set())
        social_services.set_people(account, responsible_id=account.responsible_id, deputy_id=users["social"],
                                   operator_ids=set(), holder_ids=set())


def test_amendments_and_subcontractor_requests_move_to_the_successor(app, users):
    """A leaver's draft or pending amendment (only its author edits, submits or
    withdraws it, and it blocks any other amendment to the contract) and their
    pending subcontractor request (only its requester withdraws it) are
    responsibilities too: they move, and the successor can act on them."""
    import datetime as dt

    from contracts.models import (
        AmendmentStatus,
        ContractAmendment,
        Subcontracting,
        Subcontractor,
        SubcontractorStatus,
    )

    with app.test_request_context():
        leaver = factories.user("leaver", Role.PROCUREMENT)
        signed = factories.contract(status=ContractStatus.SIGNED, officer=factories.clerk(),
                                    subcontracting=Subcontracting.APPROVAL)
        values = {name: getattr(signed, name) for name in contract_services.PROTECTED}
        values.update(reason="期間延長", amended_on=dt.date(2026, 10, 1), document=None,
                      end_on=signed.end_on + dt.timedelta(days=30))
        draft = contract_services.save_amendment(ContractAmendment(contract=signed), values, {}, user=leaver)
        other = factories.contract(status=ContractStatus.SIGNED, officer=factories.clerk())
        values = {name: getattr(other, name) for name in contract_services.PROTECTED}
        values.update(reason="期間延長", amended_on=dt.date(2026, 10, 1), document=None,
                      end_on=other.end_on + dt.timedelta(days=30))
        pending = contract_services.save_amendment(ContractAmendment(contract=other), values, {}, user=leaver)
        pending.document = factories.stored_file("変更契約書.pdf", by=leaver)
        contract_services.submit_amendment(pending, user=leaver)
        row = contract_services.request_subcontractor(signed, name="株式会社再委託", scope="保守",
                                                      document=factories.stored_file("承諾書.pdf", by=leaver),
                                                      user=leaver)
        db.session.commit()
        listed = " ".join(item.description for group in handover.responsibilities(leaver) for item in group.items)
        assert signed.number in listed and other.number in listed and "株式会社再委託" in listed

        successor = factories.user("successor", Role.PROCUREMENT)
        handover.hand_over(leaver, successor)
        accounts.set_active(leaver, False)
        db.session.commit()
        assert db.session.get(ContractAmendment, draft.id).author_id == successor.id
        assert db.session.get(ContractAmendment, pending.id).author_id == successor.id
        assert db.session.get(Subcontractor, row.id).requested_by_id == successor.id
        # the successor now carries them on: submits the draft, withdraws the request
        draft = db.session.get(ContractAmendment, draft.id)
        draft.document = factories.stored_file("変更契約書.pdf", by=successor)
        contract_services.submit_amendment(draft, user=successor)
        contract_services.withdraw_subcontractor(db.session.get(Subcontractor, row.id), user=successor)
        db.session.commit()
        assert db.session.get(ContractAmendment, draft.id).status is AmendmentStatus.PENDING
        assert db.session.get(Subcontractor, row.id).status is SubcontractorStatus.WITHDRAWN


def test_an_account_opening_request_is_described_and_moves(app, users):
    """The request to open an SNS account (issue 17) is listed by name, not as an
    unknown request, and moves to the successor with the user's other requests."""
    from social.models import AccountStatus

    with app.test_request_context():
        leaver = factories.user("leaver", Role.SOCIAL)
        account = factories.social_account("防災ショート動画", responsible=factories.user(None, Role.SOCIAL),
                                           status=AccountStatus.REQUESTED)
        request = social_services.request_opening(account, leaver)
        db.session.commit()
        listed = [item.description for group in handover.responsibilities(leaver) for item in group.items]
        assert any("防災ショート動画 の開設の申請" in text for text in listed)
        successor = factories.user("successor", Role.SOCIAL)
        handover.hand_over(leaver, successor)
        db.session.commit()
        assert db.session.get(Approval, request.id).requested_by_id == successor.id


def test_a_pending_selection_justification_is_described_and_moves(app, users):
    """A 選定 despite 不適合 waiting for its approval (issue 17) is listed by vendor and moves."""
    from core import timeutil
    from vendors import services as vendor_services
    from vendors.models import Assessment, SelectionCriterion, SelectionDecision

    with app.test_request_context():
        leaver = factories.user("leaver", Role.PROCUREMENT)
        vendor = factories.vendor("株式会社不適合あり", selected=False)
        criteria = db.session.scalars(select(SelectionCriterion).where(SelectionCriterion.active)).all()
        results = {c.id: ((Assessment.NOT_MET, "未取得") if i == 0 else (Assessment.MET, None))
                   for i, c in enumerate(criteria)}
        selection = vendor_services.record_selection(vendor, decided_on=timeutil.today(),
                                                     decision=SelectionDecision.SELECTED, user=leaver, notes=None,
                                                     results=results, justification="他の認証で補完できる")
        db.session.commit()
        listed = [item.description for group in handover.responsibilities(leaver) for item in group.items]
        assert any("株式会社不適合あり の選定（不適合の理由）の承認申請" in text for text in listed)
        successor = factories.user("successor", Role.PROCUREMENT)
        handover.hand_over(leaver, successor)
        db.session.commit()
        assert db.session.get(Approval, selection.approval_id).requested_by_id == successor.id
