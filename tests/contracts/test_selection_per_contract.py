"""Issue 17: signing needs a selection that covers *this* contract — one
recorded for the contract, or a vendor's selection still valid
(SELECTION_VALID_DAYS, default 365) that the officer confirms for the
contract with a comment.  A 選定 with a 不適合 criterion counts only once
its justification is approved by another person."""
from __future__ import annotations

import datetime as dt

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from contracts import rules, services
from contracts.models import Contract, ContractStatus
from core import timeutil
from core.db import db
from core.models import User
from tests import factories
from tests.conftest import login_as
from tests.vendors.test_selection_justification import REASON, form_data
from vendors import services as vendor_services
from vendors.models import Assessment, SelectionDecision

COMMENT = "令和8年度の選定が本契約の業務範囲を含むため"


def draft(app, *, days_ago: int = 30, selected: bool = True) -> int:
    """A draft with every mandatory clause, its vendor selected ``days_ago`` days
    ago, and no selection linked to the contract."""
    with app.app_context():
        vendor = factories.vendor(selected=selected)
        if selected:
            vendor.selections[0].decided_on = timeutil.today() - dt.timedelta(days=days_ago)
        contract = factories.contract(vendor_=vendor, selection=None)
        db.session.commit()
        return contract.id


def state(app, contract_id: int) -> tuple[ContractStatus, str | None, str | None]:
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        return contract.status, contract.selection_basis, contract.selection_comment


def sign(client, contract_id: int, **kwargs):
    return client.post(f"/contracts/{contract_id}/status", data={"status": "signed"}, **kwargs)


# --- through the pages ---------------------------------------------------------------

def test_signing_is_refused_without_a_covering_selection(buyer, app):
    contract_id = draft(app)
    refused = sign(buyer, contract_id, follow_redirects=True)
    assert refused.history[0].status_code == 303
    page = refused.get_data(as_text=True)
    assert "この契約を対象とする選定記録（選定する）がないため締結できません" in page
    assert "この契約の選定を記録" in page
    assert state(app, contract_id)[0] is ContractStatus.DRAFT


def test_a_valid_vendor_selection_confirmed_with_a_comment_allows_signing(buyer, app):
    contract_id = draft(app, days_ago=300)
    page = buyer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "この契約の選定として確認" in page
    refused = buyer.post(f"/contracts/{contract_id}/selection/confirm", data={"comment": "　"})
    assert refused.status_code == 400
    assert "確認のコメントを入力してください" in refused.get_data(as_text=True)
    assert state(app, contract_id)[1] is None
    confirmed = buyer.post(f"/contracts/{contract_id}/selection/confirm", data={"comment": COMMENT})
    assert confirmed.status_code == 302
    assert state(app, contract_id) == (ContractStatus.DRAFT, "vendor", COMMENT)
    assert COMMENT in buyer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert sign(buyer, contract_id).status_code == 302
    assert state(app, contract_id)[0] is ContractStatus.SIGNED


def test_an_expired_vendor_selection_cannot_be_confirmed(buyer, app):
    contract_id = draft(app, days_ago=400)
    refused = buyer.post(f"/contracts/{contract_id}/selection/confirm", data={"comment": COMMENT},
                         follow_redirects=True)
    assert refused.history[0].status_code == 303
    assert "365日以内" in refused.get_data(as_text=True)
    assert state(app, contract_id)[1] is None
    assert sign(buyer, contract_id).status_code == 303


@pytest.mark.config(SELECTION_VALID_DAYS=90)
def test_the_validity_follows_the_setting(buyer, app):
    contract_id = draft(app, days_ago=100)
    refused = buyer.post(f"/contracts/{contract_id}/selection/confirm", data={"comment": COMMENT},
                         follow_redirects=True)
    assert refused.history[0].status_code == 303 and "90日以内" in refused.get_data(as_text=True)


def test_a_selection_recorded_for_the_contract_allows_signing(buyer, app):
    contract_id = draft(app, selected=False)
    page = buyer.get(f"/contracts/{contract_id}/selection/new")
    assert page.status_code == 200 and "この契約の選定を記録" in buyer.get(f"/contracts/{contract_id}").get_data(
        as_text=True)
    recorded = buyer.post(f"/contracts/{contract_id}/selection/new", data=form_data(app, not_met=None))
    assert recorded.status_code == 302, recorded.get_data(as_text=True)
    assert state(app, contract_id)[1] == "contract"
    assert sign(buyer, contract_id).status_code == 302


def test_a_pending_not_met_selection_does_not_allow_signing_until_approved(buyer, app):
    contract_id = draft(app, selected=False)
    refused = buyer.post(f"/contracts/{contract_id}/selection/new", data=form_data(app))
    assert refused.status_code == 400 and "その理由を記載してください" in refused.get_data(as_text=True)
    assert state(app, contract_id)[1] is None
    recorded = buyer.post(f"/contracts/{contract_id}/selection/new", data=form_data(app, justification=REASON))
    assert recorded.status_code == 302
    pending = sign(buyer, contract_id, follow_redirects=True)
    assert pending.history[0].status_code == 303 and "承認待ち" in pending.get_data(as_text=True)
    with app.app_context():
        selection_id = db.session.get(Contract, contract_id).selection_id
        vendor_id = db.session.get(Contract, contract_id).vendor_id
    lead = app.test_client()
    login_as(lead, "lead")
    assert lead.post(f"/vendors/{vendor_id}/selections/{selection_id}/approve").status_code == 302
    assert sign(buyer, contract_id).status_code == 302


# --- at the service layer ------------------------------------------------------------

def results(not_met: bool = False) -> dict:
    return {c.id: (Assessment.NOT_MET if not_met and c.code == "SEL03" else Assessment.MET, None)
            for c in vendor_services.active_criteria()}


def test_service_gate_and_confirmation(app, users):
    with app.test_request_context():
        vendor = factories.vendor()
        contract = factories.contract(vendor_=vendor, selection=None)
        user = factories.clerk()
        with pytest.raises(rules.ContractRuleError, match="選定記録（選定する）がないため"):
            rules.change_status(contract, ContractStatus.SIGNED, user=user)
        with pytest.raises(rules.ContractRuleError, match="コメント"):
            services.confirm_vendor_selection(contract, comment=" ", user=user)
        with force_locale("en"):
            with pytest.raises(rules.ContractRuleError, match="comment"):
                services.confirm_vendor_selection(contract, comment="", user=user)
        vendor.selections[0].decided_on = timeutil.today() - dt.timedelta(days=366)
        with pytest.raises(rules.ContractRuleError, match="365"):
            services.confirm_vendor_selection(contract, comment=COMMENT, user=user)
        vendor.selections[0].decided_on = timeutil.today() - dt.timedelta(days=365)
        services.confirm_vendor_selection(contract, comment=f" {COMMENT} ", user=user)
        assert (contract.selection_basis, contract.selection_comment) == ("vendor", COMMENT)
        assert contract.selection_confirmed_by_id == user.id and contract.selection_confirmed_on == timeutil.today()
        # A confirmed selection that has expired by the time of signing no longer covers a draft.
        vendor.selections[0].decided_on = timeutil.today() - dt.timedelta(days=400)
        with pytest.raises(rules.ContractRuleError, match="有効期間"):
            rules.check_signable(contract)
        vendor.selections[0].decided_on = timeutil.today() - dt.timedelta(days=10)
        rules.change_status(contract, ContractStatus.SIGNED, user=user)
        # Signed, the contract keeps being covered by what was confirmed then (amendments re-run the gate).
        vendor.selections[0].decided_on = timeutil.today() - dt.timedelta(days=400)
        contract.selection_confirmed_on = timeutil.today() - dt.timedelta(days=300)
        rules.check_signable(contract)


def test_service_contract_selection_with_not_met_needs_approval(app, users):
    with app.test_request_context():
        contract = factories.contract(vendor_=factories.vendor(selected=False), selection=None)
        recorder = factories.clerk()
        selection = services.record_contract_selection(
            contract, decided_on=timeutil.today(), decision=SelectionDecision.SELECTED, user=recorder, notes=None,
            results=results(not_met=True), justification=REASON)
        assert contract.selection is selection and contract.selection_basis == "contract"
        with pytest.raises(rules.ContractRuleError, match="承認待ち"):
            rules.check_signable(contract)
        lead = db.session.scalar(select(User).where(User.username == "lead"))
        vendor_services.decide_justification(selection, approver=lead, approve=True)
        rules.check_signable(contract)


def test_service_rejected_justification_does_not_cover(app, users):
    with app.test_request_context():
        contract = factories.contract(vendor_=factories.vendor(selected=False), selection=None)
        selection = services.record_contract_selection(
            contract, decided_on=timeutil.today(), decision=SelectionDecision.SELECTED, user=factories.clerk(),
            notes=None, results=results(not_met=True), justification=REASON)
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        vendor_services.decide_justification(selection, approver=admin, approve=False, comment="不可")
        with pytest.raises(rules.ContractRuleError, match="選定しない"):
            rules.check_signable(contract)


def test_a_selection_of_another_vendor_does_not_cover(app, users):
    with app.test_request_context():
        contract = factories.contract()
        assert contract.selection is not None
        contract.vendor = factories.vendor()
        with pytest.raises(rules.ContractRuleError, match="選定記録（選定する）がないため"):
            rules.check_signable(contract)


def test_the_migration_links_signed_contracts_to_their_vendors_latest_positive_selection(app, users):
    from flask_migrate import downgrade, upgrade

    with app.test_request_context():
        vendor = factories.vendor()
        signed = factories.contract(vendor_=vendor, status=ContractStatus.IN_FORCE)
        draft_ = factories.contract(vendor_=vendor)
        later = vendor_services.record_selection(vendor, decided_on=timeutil.today() - dt.timedelta(days=5),
                                                 decision=SelectionDecision.SELECTED, user=factories.clerk(),
                                                 notes=None, results=results())
        vendor_services.record_selection(vendor, decided_on=timeutil.today(), decision=SelectionDecision.NOT_SELECTED,
                                         user=factories.clerk(), notes=None, results=results())
        db.session.commit()
        ids = signed.id, draft_.id, later.id
        db.session.remove()  # end the transaction: the migration alters the tables (PostgreSQL waits)
        downgrade(revision="0017")
        downgrade(revision="-1")  # to the revision before 0017, whichever it is
        db.session.remove()
        upgrade()
        signed, draft_ = db.session.get(Contract, ids[0]), db.session.get(Contract, ids[1])
        assert (signed.selection_id, signed.selection_basis) == (ids[2], "vendor")
        assert signed.selection_confirmed_on == signed.selection.decided_on and "移行時" in signed.selection_comment
        assert draft_.selection_id is None
        rules.check_signable(signed)


def test_the_demo_links_every_signed_contract_to_its_selection(demo):
    from tests.conftest import DEMO_PASSWORD

    with demo.test_request_context():
        signed = db.session.scalars(select(Contract).where(Contract.status.not_in(
            (ContractStatus.DRAFT, ContractStatus.WITHDRAWN)))).all()
        assert signed
        for contract in signed:
            assert contract.selection is not None and contract.selection.is_positive, contract.number
            if contract.status in (ContractStatus.SIGNED, ContractStatus.IN_FORCE):
                rules.check_signable(contract)
        by_number = {contract.number: contract for contract in signed}
        confirmed = by_number["R8-002"]
        assert confirmed.selection_basis == "vendor" and confirmed.selection_comment
        justified = by_number["R8-004"].selection
        assert by_number["R8-004"].selection_basis == "contract" and justified.has_not_met
        assert justified.approval.approver.username == "lead" and justified.approval.requested_by.username != "lead"
        contract_id, vendor_id = by_number["R8-004"].id, justified.vendor_id
    client = demo.test_client()
    login_as(client, "lead", DEMO_PASSWORD)
    page = client.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "この契約の選定" in page and "プライバシーマークは未取得" in page
    assert "プライバシーマークは未取得" in client.get(f"/vendors/{vendor_id}").get_data(as_text=True)


def test_out01_counts_signed_contracts_that_no_selection_covers(app):
    """Inspection item OUT-01 is asked per contract (DOMAIN.md §5): a signed
    contract counts when no positive selection of its vendor is linked to it,
    even if its vendor was selected for something else."""
    from contracts import documents
    from core.inspection import Scope
    from core.timeutil import fiscal_year

    with app.app_context():
        factories.contract(status=ContractStatus.SIGNED)  # its vendor's selection confirmed for it
        bare = factories.contract(status=ContractStatus.SIGNED)
        bare.selection_id = None  # e.g. signed before issue 17 and never linked (the migration links them)
        factories.contract()  # a draft: not asked yet
        db.session.commit()
        assert documents.facts(Scope(fiscal_year(timeutil.today())))["OUT-01"] == \
            "締結済・履行中 2件中 1件に契約を対象とする選定の記録なし"
