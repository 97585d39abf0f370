"""Issue 20, the fields offices keep: a contract's amount (契約金額, tax
included), contracting method, signing date entered by the officer, the
person responsible at the contractor and the budget item; amount and method
of a signed contract change only by amendment; a vendor's first signed
contract makes it 取引中, audited."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from contracts import rules, services
from contracts.models import AmendmentStatus, Contract, ContractAmendment, ContractingMethod, ContractStatus
from core import timeutil
from core.db import db
from core.models import AuditEntry
from tests import factories
from tests.conftest import login_as
from tests.contracts.test_contract_register import contract_data, register_contract, save_matrix
from vendors.models import Vendor, VendorStatus

FIELDS = {"amount": "１，２３４，０００", "method": "proposal", "contractor_manager": "道央　太郎",
          "contractor_manager_contact": "０１２５－２２－１２３４", "budget_item": "総務費 一般管理費 委託料"}


def contract(app, contract_id: int) -> Contract:
    with app.app_context():
        found = db.session.get(Contract, contract_id)
        db.session.expunge(found)
        return found


def test_the_form_keeps_the_offices_fields_and_the_page_shows_them(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor, **FIELDS)
    saved = contract(app, contract_id)
    assert saved.amount == 1_234_000 and saved.method is ContractingMethod.PROPOSAL
    assert saved.contractor_manager == "道央 太郎" and saved.contractor_manager_contact == "0125-22-1234"
    assert saved.budget_item == "総務費 一般管理費 委託料"
    page = buyer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "1,234,000円" in page and "プロポーザル" in page and "道央 太郎（0125-22-1234）" in page
    assert "総務費 一般管理費 委託料" in page
    form = buyer.get(f"/contracts/{contract_id}/edit").get_data(as_text=True)
    assert 'value="1,234,000"' in form and "契約方法" in form and "受託者側責任者" in form and "予算科目" in form


def test_the_fields_are_optional(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor)
    saved = contract(app, contract_id)
    assert saved.amount is None and saved.method is None and saved.budget_item is None
    assert "契約金額" in buyer.get(f"/contracts/{contract_id}").get_data(as_text=True)


@pytest.mark.parametrize("typed", ["-1", "12.5", "百万円", "1e6", "12,34x"])
def test_a_bad_amount_gets_a_message_and_nothing_is_saved(buyer, app, selected_vendor, typed):
    response = buyer.post("/contracts/new", data=contract_data(app, selected_vendor, amount=typed))
    assert response.status_code == 400
    assert "契約金額は0以上の整数（円、税込）で入力してください" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Contract.id)) is None


@pytest.mark.parametrize("typed, stored", [("0", 0), ("1,234,000円", 1_234_000), ("１２３４", 1234),
                                           ("12,000,000,000", 12_000_000_000)])
def test_an_amount_is_folded(buyer, app, selected_vendor, typed, stored):
    contract_id = register_contract(buyer, app, selected_vendor, amount=typed)
    assert contract(app, contract_id).amount == stored


# --- the signing date ----------------------------------------------------------------

def signable(buyer, app, selected_vendor, **fields) -> int:
    contract_id = register_contract(buyer, app, selected_vendor, **fields)
    save_matrix(buyer, app, contract_id, {})
    return contract_id


def test_the_officer_enters_the_signing_date_and_the_recorded_moment_is_kept(buyer, app, selected_vendor):
    contract_id = signable(buyer, app, selected_vendor)
    page = buyer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    today = timeutil.today()
    assert f'name="signed_on" value="{today.isoformat()}" max="{today.isoformat()}"' in page
    day = today - dt.timedelta(days=2)
    assert day >= dt.date(2026, 10, 1)  # after the vendor's selection (select_vendor: 2026-10-01)
    signed = buyer.post(f"/contracts/{contract_id}/status", data={"status": "signed", "signed_on": day.isoformat()})
    assert signed.status_code == 302
    saved = contract(app, contract_id)
    assert saved.status is ContractStatus.SIGNED and saved.signed_on == day
    assert saved.signed_at is not None and abs(saved.signed_at - timeutil.utcnow()) < dt.timedelta(minutes=5)
    page = buyer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "締結日" in page and "締結の記録" in page


def test_the_signing_date_defaults_to_today(buyer, app, selected_vendor):
    contract_id = signable(buyer, app, selected_vendor)
    assert buyer.post(f"/contracts/{contract_id}/status", data={"status": "signed"}).status_code == 302
    assert contract(app, contract_id).signed_on == timeutil.today()


@pytest.mark.parametrize("day, message", [
    (lambda: timeutil.today() + dt.timedelta(days=1), "締結日に未来の日付は指定できません。"),
    (lambda: dt.date(2026, 9, 30), "締結日は選定日（2026-10-01）より前にできません。"),
    (lambda: "2026-02-30", "締結日はYYYY-MM-DDの形で正しい日付を入力してください。"),
])
def test_a_bad_signing_date_is_refused(buyer, app, selected_vendor, day, message):
    contract_id = signable(buyer, app, selected_vendor)
    value = day()
    refused = buyer.post(f"/contracts/{contract_id}/status",
                         data={"status": "signed", "signed_on": str(getattr(value, "isoformat", lambda: value)())},
                         follow_redirects=True)
    assert refused.history[0].status_code == 303
    assert message in refused.get_data(as_text=True)
    saved = contract(app, contract_id)
    assert saved.status is ContractStatus.DRAFT and saved.signed_on is None and saved.signed_at is None


# --- amount and method of a signed contract ---------------------------------------------

def test_amount_and_method_of_a_signed_contract_change_only_by_amendment(app, users):
    with app.app_context():
        signed = factories.contract(status=ContractStatus.SIGNED)
        signed.amount, signed.method = 1_000_000, ContractingMethod.NEGOTIATED
        db.session.commit()
        values = {name: getattr(signed, name) for name in services.PROTECTED}
        values.update(number=signed.number, title=signed.title, unit_id=signed.unit_id, officer_id=signed.officer_id,
                      work_places=None, verification_cycle="", kind=signed.kind.value,
                      subcontracting=signed.subcontracting.value, method=signed.method.value)
        for name, value in (("amount", 2_000_000), ("method", "general_tender")):
            with pytest.raises(rules.ContractRuleError, match="直接変更できません") as refused:
                services.save_contract(signed, {**values, name: value}, user=factories.clerk())
            assert refused.value.field == name
            db.session.rollback()
        # An amendment changes them, once another person approves it.
        amendment = ContractAmendment(contract=signed)
        services.save_amendment(amendment, {**values, "amount": 1_500_000, "method": "designated_tender",
                                            "reason": "数量変更", "amended_on": timeutil.today()},
                                {}, user=factories.clerk())
        assert amendment.changes["fields"] == {"amount": {"before": 1_000_000, "after": 1_500_000},
                                               "method": {"before": "negotiated", "after": "designated_tender"}}
        lines = services.change_lines(amendment)
        assert ("契約金額", "1,000,000円", "1,500,000円") in lines and ("契約方法", "随意契約", "指名競争入札") in lines
        amendment.document = factories.stored_file("変更契約書.pdf")
        services.submit_amendment(amendment, user=factories.clerk())
        services.decide_amendment(amendment, user=factories.user(None, "procurement"), approve=True, comment=None)
        assert amendment.status is AmendmentStatus.APPROVED
        assert signed.amount == 1_500_000 and signed.method is ContractingMethod.DESIGNATED_TENDER


def test_a_blank_amount_of_a_signed_contract_is_filled_in_without_an_amendment(app, users):
    with app.app_context():
        signed = factories.contract(status=ContractStatus.SIGNED)
        db.session.commit()
        values = {name: getattr(signed, name) for name in services.PROTECTED}
        values.update(number=signed.number, title=signed.title, unit_id=signed.unit_id, officer_id=signed.officer_id,
                      work_places=None, verification_cycle="", kind=signed.kind.value,
                      subcontracting=signed.subcontracting.value, amount=880_000, method="negotiated")
        services.save_contract(signed, values, user=factories.clerk())
        assert signed.amount == 880_000 and signed.method is ContractingMethod.NEGOTIATED


def test_the_edit_page_refuses_a_changed_amount_beside_the_field(buyer, app, selected_vendor):
    contract_id = signable(buyer, app, selected_vendor, amount="500000", method="negotiated")
    assert buyer.post(f"/contracts/{contract_id}/status", data={"status": "signed"}).status_code == 302
    version = contract(app, contract_id).version
    response = buyer.post(f"/contracts/{contract_id}/edit", data=contract_data(
        app, selected_vendor, amount="600,000", method="negotiated", version=str(version)))
    assert response.status_code == 400
    assert "締結済・履行中の契約の契約金額は直接変更できません" in response.get_data(as_text=True)
    assert contract(app, contract_id).amount == 500_000


# --- the vendor's first signed contract -----------------------------------------------

def test_the_first_signed_contract_makes_a_selected_vendor_active_audited(buyer, app, selected_vendor):
    with app.app_context():
        assert db.session.get(Vendor, selected_vendor).status is VendorStatus.SELECTED
    contract_id = signable(buyer, app, selected_vendor)
    assert buyer.post(f"/contracts/{contract_id}/status", data={"status": "signed"}).status_code == 302
    with app.app_context():
        vendor = db.session.get(Vendor, selected_vendor)
        assert vendor.status is VendorStatus.ACTIVE
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "vendors",
                                                            AuditEntry.object_id == str(selected_vendor))
                                   .order_by(AuditEntry.seq.desc())).first()
        assert entry.action == "first_contract_signed" and entry.changes["status"] == ["selected", "active"]


def test_a_refused_signing_leaves_the_vendor_selected(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor)
    save_matrix(buyer, app, contract_id, {"C08": "not_included"})
    assert buyer.post(f"/contracts/{contract_id}/status", data={"status": "signed"}).status_code == 303
    with app.app_context():
        assert db.session.get(Vendor, selected_vendor).status is VendorStatus.SELECTED


def test_an_active_vendor_stays_active_and_is_not_audited_again(app, users):
    with app.app_context():
        draft = factories.contract()  # the factory's vendor is 取引中
        vendor_id = draft.vendor_id
        db.session.commit()
        rules.change_status(draft, ContractStatus.SIGNED, user=factories.clerk())
        db.session.commit()
        assert draft.vendor.status is VendorStatus.ACTIVE
        assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.object_type == "vendors",
                                                             AuditEntry.object_id == str(vendor_id),
                                                             AuditEntry.action == "first_contract_signed")) is None


def test_the_lead_reads_the_signing_date_on_the_page(app, users):
    with app.app_context():
        signed = factories.contract(status=ContractStatus.SIGNED)
        signed.signed_on = dt.date(2026, 4, 1)
        db.session.commit()
        contract_id = signed.id
    client = app.test_client()
    login_as(client, "auditor")
    page = client.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "令和8年4月1日" in page


def test_the_contract_checklist_prints_the_fields(app, users):
    import re

    from tests.conftest import read_pdf

    with app.app_context():
        signed = factories.contract(status=ContractStatus.SIGNED)
        signed.amount, signed.method = 12_345_000, ContractingMethod.DESIGNATED_TENDER
        signed.signed_on, signed.contractor_manager = dt.date(2026, 4, 1), "道央太郎"
        signed.contractor_manager_contact, signed.budget_item = "0125-22-1234", "消防費委託料"
        db.session.commit()
        contract_id = signed.id
    client = app.test_client()
    login_as(client, "auditor")
    compact = re.sub(r"\s+", "", read_pdf(client.get(f"/contracts/{contract_id}/checklist.pdf"))[1])
    for expected in ("契約方法・契約金額（税込）", "指名競争入札・12,345,000円", "締結日", "令和8年4月1日",
                     "受託者側責任者", "道央太郎（0125-22-1234）", "予算科目", "消防費委託料"):
        assert expected in compact, expected
