"""Issue 17: clause exceptions are decided by the security lead
(統括情報セキュリティ責任者) or an administrator, one request per clause, at
most one pending per clause, with an expiry date; a pending one is withdrawn
once the clause is in the contract, and never prints as if it held."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from contracts import documents, rules, services
from contracts.models import ClauseState, Contract, ContractStatus
from core import approvals
from core.approvals import Approval, Decision
from core.db import db
from core.inspection import Scope
from core.models import AuditEntry, Role, User
from core.timeutil import fiscal_year, today
from tests import factories
from tests.conftest import DEMO_PASSWORD, login_as, read_pdf
from tests.contracts.test_contract_register import register_contract, save_matrix

NEXT_YEAR = (dt.date.today() + dt.timedelta(days=365)).isoformat()


def draft_without(*codes: str, personal: bool = False) -> Contract:
    """A draft missing the mandatory ``codes`` (every other one included)."""
    return factories.contract(left_out=codes, personal=personal)


def named(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def requested(app, contract_id: int) -> list[Approval]:
    with app.app_context():
        found = db.session.scalars(select(Approval).where(Approval.subject_id == contract_id,
                                                          Approval.kind == rules.EXCEPTION)
                                   .order_by(Approval.id)).all()
        db.session.expunge_all()
        return found


# --- who decides ----------------------------------------------------------------

def test_service_refuses_a_procurement_officer_and_lets_the_lead_or_an_admin_decide(app, users):
    with app.app_context():
        contract = draft_without("C12", "C13")
        buyer = factories.user(None, Role.PROCUREMENT)
        c12 = services.request_exception(contract, clause="C12", reason="事業者標準書式", user=buyer)
        c13 = services.request_exception(contract, clause="C13", reason="事業者標準書式", user=buyer)
        other_buyer = factories.user(None, Role.PROCUREMENT)
        with pytest.raises(rules.ContractRuleError, match="統括情報セキュリティ責任者または管理者"):
            services.decide_exception(c12, approver=other_buyer, approve=True, expires_on=today())
        assert c12.decision is Decision.PENDING
        services.decide_exception(c12, approver=named("lead"), approve=True, expires_on=today(), comment="次回更新で追加")
        services.decide_exception(c13, approver=named("admin"), approve=False, comment="追加を求める")
        assert (c12.decision, c12.approver.username, c12.expires_on) == (Decision.APPROVED, "lead", today())
        assert c13.decision is Decision.REJECTED and c13.expires_on is None
        assert rules.excepted_codes(contract) == {"C12"}


def test_a_lead_who_asked_cannot_decide_their_own_request(app, users):
    with app.app_context():
        contract = draft_without("C12")
        lead = named("lead")
        own = services.request_exception(contract, clause="C12", reason="自分で申請", user=lead)
        with pytest.raises(approvals.ApprovalError, match="申請者本人は承認できません"):
            services.decide_exception(own, approver=lead, approve=True, expires_on=today())
        assert own.decision is Decision.PENDING


def test_procurement_can_no_longer_decide_through_the_page(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor)
    save_matrix(buyer, app, contract_id, {"C12": "not_included"})
    buyer.post(f"/contracts/{contract_id}/exceptions", data={"clause": "C12", "reason": "事業者標準書式"})
    [approval] = requested(app, contract_id)
    colleague = app.test_client()
    with app.app_context():
        factories.user("buyer2", Role.PROCUREMENT)
        db.session.commit()
    colleague.post("/login", data={"username": "buyer2", "password": factories.PASSWORD})
    response = colleague.post(f"/contracts/{contract_id}/exceptions/{approval.id}/approve",
                              data={"comment": "同僚として", "expires_on": NEXT_YEAR})
    assert response.status_code == 403
    page = colleague.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "/approve" not in page and "統括情報セキュリティ責任者" in page
    [approval] = requested(app, contract_id)
    assert approval.decision is Decision.PENDING
    lead = app.test_client()
    login_as(lead, "lead")
    assert f"/exceptions/{approval.id}/approve" in lead.get(f"/contracts/{contract_id}").get_data(as_text=True)
    response = lead.post(f"/contracts/{contract_id}/exceptions/{approval.id}/approve",
                         data={"comment": "次回更新で追加", "expires_on": NEXT_YEAR})
    assert response.status_code == 302
    [approval] = requested(app, contract_id)
    assert approval.decision is Decision.APPROVED and approval.expires_on.isoformat() == NEXT_YEAR
    assert buyer.post(f"/contracts/{contract_id}/status", data={"status": "signed"}).status_code == 302


# --- one request per clause, one pending per clause -------------------------------

def test_one_request_per_clause_and_only_one_pending(app, users):
    with app.app_context():
        contract = draft_without("C12", "C13")
        buyer = factories.user(None, Role.PROCUREMENT)
        first = services.request_exception(contract, clause="Ｃ１２", reason="理由", user=buyer)  # NFKC
        assert first.details == {"clauses": ["C12"]} and first.topic == "C12"
        with pytest.raises(rules.ContractRuleError, match="C12.*承認待ち"):
            services.request_exception(contract, clause="C12", reason="もう一度", user=buyer)
        with pytest.raises(rules.ContractRuleError, match="不足している必須条項"):
            services.request_exception(contract, clause="C01", reason="不足していない", user=buyer)
        with pytest.raises(rules.ContractRuleError, match="理由"):
            services.request_exception(contract, clause="C13", reason="  ", user=buyer)
        services.request_exception(contract, clause="C13", reason="別の条項", user=buyer)
        # Once decided, the clause may be asked for again (a rejected one, say).
        services.decide_exception(first, approver=named("lead"), approve=False, comment="追加を求める")
        again = services.request_exception(contract, clause="C12", reason="改めて", user=buyer)
        assert again.decision is Decision.PENDING
        # An approved, unexpired exception covers it: nothing to ask for.
        services.decide_exception(again, approver=named("lead"), approve=True, expires_on=today())
        with pytest.raises(rules.ContractRuleError, match="承認済み"):
            services.request_exception(contract, clause="C12", reason="三度目", user=buyer)


def test_the_database_keeps_one_pending_request_per_clause(app, users):
    """The rule holds even past the check (two requests at the same moment):
    a partial unique index on approvals."""
    with app.app_context():
        contract = draft_without("C12")
        buyer = factories.user(None, Role.PROCUREMENT)
        services.request_exception(contract, clause="C12", reason="理由", user=buyer)
        db.session.commit()
        with pytest.raises(IntegrityError):
            approvals.request(rules.EXCEPTION, contract, reason="すり抜け", requester=buyer,
                              details={"clauses": ["C12"]}, topic="C12")
        db.session.rollback()


def test_the_page_asks_per_clause_and_refuses_a_second_pending_one(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor)
    save_matrix(buyer, app, contract_id, {"C12": "not_included", "C13": "not_included"})
    page = buyer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert re.search(r'<select[^>]*name="clause"', page) and '<option value="C12">' in page
    assert buyer.post(f"/contracts/{contract_id}/exceptions",
                      data={"clause": "C12", "reason": "事業者標準書式"}).status_code == 302
    response = buyer.post(f"/contracts/{contract_id}/exceptions", data={"clause": "C12", "reason": "二度目"},
                           follow_redirects=True)
    assert response.history[0].status_code == 303 and "承認待ち" in response.get_data(as_text=True)
    response = buyer.post(f"/contracts/{contract_id}/exceptions", data={"clause": "", "reason": "条項なし"})
    assert response.status_code == 400
    assert [a.details["clauses"] for a in requested(app, contract_id)] == [["C12"]]


def test_old_multi_clause_requests_are_still_read(app, users):
    with app.app_context():
        contract = draft_without("C12", "C13", "C11")
        buyer = factories.user(None, Role.PROCUREMENT)
        old = approvals.request(rules.EXCEPTION, contract, reason="旧形式", requester=buyer,
                                details={"clauses": ["C12", "C13"]})
        with pytest.raises(rules.ContractRuleError, match="承認待ち"):
            services.request_exception(contract, clause="C13", reason="重複", user=buyer)
        approvals.decide(old, approver=named("admin"), approve=True)  # before expiry dates: none recorded
        assert rules.excepted_codes(contract) == {"C12", "C13"}
        with pytest.raises(rules.ContractRuleError, match="C11"):
            rules.check_signable(contract)


# --- expiry -----------------------------------------------------------------------

def test_approval_needs_an_expiry_date_not_in_the_past(app, users):
    with app.app_context():
        contract = draft_without("C12")
        request = services.request_exception(contract, clause="C12", reason="理由",
                                             user=factories.user(None, Role.PROCUREMENT))
        lead = named("lead")
        with pytest.raises(rules.ContractRuleError, match="有効期限を入力"):
            services.decide_exception(request, approver=lead, approve=True, expires_on=None)
        with pytest.raises(rules.ContractRuleError, match="過去の日付"):
            services.decide_exception(request, approver=lead, approve=True,
                                      expires_on=today() - dt.timedelta(days=1))
        assert request.decision is Decision.PENDING
        services.decide_exception(request, approver=lead, approve=True, expires_on=today())
        assert request.expires_on == today()


def test_the_page_refuses_an_approval_without_expiry(app, users):
    with app.app_context():
        contract = draft_without("C12")
        request = services.request_exception(contract, clause="C12", reason="理由",
                                             user=factories.user(None, Role.PROCUREMENT))
        db.session.commit()
        contract_id, approval_id = contract.id, request.id
    lead = app.test_client()
    login_as(lead, "lead")
    response = lead.post(f"/contracts/{contract_id}/exceptions/{approval_id}/approve", data={"comment": "期限なし"},
                         follow_redirects=True)
    assert response.history[0].status_code == 303 and "有効期限を入力してください" in response.get_data(as_text=True)
    response = lead.post(f"/contracts/{contract_id}/exceptions/{approval_id}/approve",
                         data={"expires_on": "2020-01-01"}, follow_redirects=True)
    assert response.history[0].status_code == 303 and "過去の日付" in response.get_data(as_text=True)
    response = lead.post(f"/contracts/{contract_id}/exceptions/{approval_id}/approve",
                         data={"expires_on": "来年の三月"}, follow_redirects=True)
    assert response.history[0].status_code == 303 and "有効期限:" in response.get_data(as_text=True)
    assert requested(app, contract_id)[0].decision is Decision.PENDING
    # Rejecting needs no date.
    assert lead.post(f"/contracts/{contract_id}/exceptions/{approval_id}/reject").status_code == 302
    assert requested(app, contract_id)[0].decision is Decision.REJECTED


def expire(approval: Approval) -> None:
    """Move an approved exception's expiry into the past (as time would)."""
    approval.expires_on = today() - dt.timedelta(days=1)
    db.session.flush()


def test_an_expired_exception_no_longer_covers_the_clause(app, users):
    with app.app_context():
        contract = factories.contract(status=ContractStatus.SIGNED, left_out=("C12",))
        [approval] = rules.exceptions(contract)
        assert approval.expires_on is not None and rules.excepted_codes(contract) == {"C12"}
        assert documents.facts(Scope(fiscal_year(today())))["OUT-02"] == "有効な契約 1件中 0件に必須条項の不足"
        expire(approval)
        assert rules.excepted_codes(contract) == set()
        with pytest.raises(rules.ContractRuleError, match="C12"):
            rules.check_signable(contract)
        assert documents.facts(Scope(fiscal_year(today())))["OUT-02"] == "有効な契約 1件中 1件に必須条項の不足（C12: 1件）"
        db.session.commit()
        contract_id = contract.id
    client = app.test_client()
    login_as(client, "auditor")
    page = client.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "期限切れ" in page and "例外承認済み" not in page
    _pages, text = read_pdf(client.get(f"/contracts/{contract_id}/checklist.pdf"))
    compact = re.sub(r"\s+", "", text)
    assert "例外承認あり" not in compact and "期限切れ" in compact


# --- withdrawn once the clause is in the contract -----------------------------------

def test_a_pending_exception_is_withdrawn_once_the_clause_is_included(app, users):
    with app.app_context():
        contract = draft_without("C12", "C13")
        buyer = factories.user(None, Role.PROCUREMENT)
        c12 = services.request_exception(contract, clause="C12", reason="理由", user=buyer)
        c13 = services.request_exception(contract, clause="C13", reason="理由", user=buyer)
        rows = {row.clause_id: (row.state, row.article, row.reason) for row in contract.clauses}
        c12_id = next(row.clause_id for row in contract.clauses if row.clause.code == "C12")
        rows[c12_id] = (ClauseState.INCLUDED, "第12条", None)
        services.save_matrix(contract, rows, user=buyer)
        assert c12.decision is Decision.WITHDRAWN and "C12" in c12.comment and "記載" in c12.comment
        assert c13.decision is Decision.PENDING
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.object_type == "approvals", AuditEntry.object_id == str(c12.id),
            AuditEntry.action == "withdraw")) == 1


def test_the_matrix_page_withdraws_the_pending_request(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor)
    save_matrix(buyer, app, contract_id, {"C12": "not_included"})
    buyer.post(f"/contracts/{contract_id}/exceptions", data={"clause": "C12", "reason": "事業者標準書式"})
    response = save_matrix(buyer, app, contract_id, {})
    assert response.status_code == 302
    [approval] = requested(app, contract_id)
    assert approval.decision is Decision.WITHDRAWN
    page = buyer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "取下げ" in page


# --- never printed as if it held ------------------------------------------------------

def test_a_pending_exception_never_prints_as_if_it_held(app, users):
    with app.app_context():
        contract = draft_without("C12")
        services.request_exception(contract, clause="C12", reason="承認前の申請",
                                   user=factories.user(None, Role.PROCUREMENT))
        db.session.commit()
        contract_id = contract.id
    client = app.test_client()
    login_as(client, "auditor")
    _pages, text = read_pdf(client.get(f"/contracts/{contract_id}/checklist.pdf"))
    compact = re.sub(r"\s+", "", text)
    assert "必須条項の例外なし" in compact  # the summary counts approved, unexpired exceptions only
    assert "例外承認あり" not in compact
    assert "承認待ち（例外として扱わない）" in compact
    page = client.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "例外承認済み" not in page and "承認待ち" in page


def test_an_approved_exception_prints_with_its_expiry(app, users):
    with app.app_context():
        contract = factories.contract(status=ContractStatus.SIGNED, left_out=("C12",))
        [approval] = rules.exceptions(contract)
        db.session.commit()
        contract_id, expires = contract.id, approval.expires_on
    client = app.test_client()
    login_as(client, "auditor")
    _pages, text = read_pdf(client.get(f"/contracts/{contract_id}/checklist.pdf"))
    compact = re.sub(r"\s+", "", text)
    from core.timeutil import wareki

    assert "例外承認あり" in compact and f"{wareki(expires)}まで" in compact  # documents print 和暦 (issue 18)


# --- where the lead looks ---------------------------------------------------------------

def test_pending_exceptions_show_on_the_leads_dashboard(app, users):
    with app.app_context():
        contract = draft_without("C12")
        services.request_exception(contract, clause="C12", reason="理由", user=factories.user(None, Role.PROCUREMENT))
        draft_without("C13")  # a gap without a request: not in the lead's list
        db.session.commit()
        number = contract.number
    lead = app.test_client()
    login_as(lead, "lead")
    dashboard = lead.get("/").get_data(as_text=True)
    assert "承認待ちの条項例外" in dashboard and 'href="/contracts/?exceptions=pending"' in dashboard
    listing = lead.get("/contracts/?exceptions=pending").get_data(as_text=True).split("<tbody>")[1]
    assert number in listing and listing.count("<tr") == 1
    clerk = app.test_client()
    login_as(clerk, "procurement")
    assert "承認待ちの条項例外" not in clerk.get("/").get_data(as_text=True)


# --- the demo ------------------------------------------------------------------------------

def test_demo_has_an_exception_decided_by_the_lead_and_one_pending(demo):
    with demo.app_context():
        found = db.session.scalars(select(Approval).where(Approval.kind == rules.EXCEPTION)).all()
        decided = [a for a in found if a.decision is Decision.APPROVED and a.approver.username == "lead"]
        assert decided and all(a.expires_on and a.expires_on >= today() for a in decided)
        assert any(a.decision is Decision.PENDING and a.topic for a in found)
    client = demo.test_client()
    login_as(client, "lead", DEMO_PASSWORD)
    assert "承認待ちの条項例外" in client.get("/").get_data(as_text=True)
