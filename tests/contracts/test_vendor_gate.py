"""Issue 17: a vendor that is 取引停止 or 終了 cannot have a contract signed,
and a signed or in-force contract cannot be moved to such a vendor."""
from __future__ import annotations

import pytest
from flask_babel import force_locale

from contracts import rules, services
from contracts.models import Contract, ContractStatus
from core.db import db
from tests import factories
from tests.contracts.test_contract_register import contract_data
from vendors.models import VendorStatus

BARRED = [(VendorStatus.SUSPENDED, "取引停止"), (VendorStatus.ENDED, "終了")]


def make(app, *, vendor_status: VendorStatus = VendorStatus.ACTIVE, status=ContractStatus.DRAFT) -> int:
    """A contract with everything signing needs (a selected vendor, every
    mandatory clause) but its vendor's status."""
    with app.app_context():
        contract = factories.contract(status=status, vendor_=factories.vendor(status=vendor_status))
        db.session.commit()
        return contract.id


def vendor_id(app, status: VendorStatus) -> int:
    with app.app_context():
        created = factories.vendor(status=status)
        db.session.commit()
        return created.id


def load(app, contract_id: int) -> tuple[ContractStatus, int]:
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        return contract.status, contract.vendor_id


def edit_data(app, contract_id: int, vendor: int, **overrides) -> dict:
    """The edit form of the contract with its own terms (kind, period, level), ``vendor`` and ``overrides``."""
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        terms = {"number": contract.number, "version": str(contract.version), "kind": contract.kind.value,
                 "start_on": contract.start_on.isoformat(), "end_on": contract.end_on.isoformat(),
                 "classification_id": str(contract.classification_id or ""),
                 "subcontracting": contract.subcontracting.value}
    return contract_data(app, vendor, **{**terms, **overrides})


# --- signing -------------------------------------------------------------------------

@pytest.mark.parametrize("vendor_status,label", BARRED)
def test_signing_is_refused_for_a_suspended_or_ended_vendor(buyer, app, vendor_status, label):
    contract_id = make(app, vendor_status=vendor_status)
    refused = buyer.post(f"/contracts/{contract_id}/status", data={"status": "signed"}, follow_redirects=True)
    assert refused.history[0].status_code == 303
    assert f"委託事業者が「{label}」のため締結できません" in refused.get_data(as_text=True)
    assert load(app, contract_id)[0] is ContractStatus.DRAFT


def test_an_active_vendor_signs(buyer, app):
    contract_id = make(app, vendor_status=VendorStatus.ACTIVE)
    assert buyer.post(f"/contracts/{contract_id}/status", data={"status": "signed"}).status_code == 302
    assert load(app, contract_id)[0] is ContractStatus.SIGNED


def test_the_refusal_is_in_english_too(app, users):
    with app.test_request_context(), force_locale("en"):
        contract = factories.contract(vendor_=factories.vendor(status=VendorStatus.SUSPENDED))
        with pytest.raises(rules.ContractRuleError) as refused:
            rules.change_status(contract, ContractStatus.SIGNED, user=factories.clerk())
        assert "cannot be signed" in str(refused.value)


@pytest.mark.parametrize("vendor_status,label", BARRED)
def test_signing_gate_at_the_service_layer(app, users, vendor_status, label):
    with app.app_context():
        contract = factories.contract(vendor_=factories.vendor(status=vendor_status))
        with pytest.raises(rules.ContractRuleError, match=label):
            rules.change_status(contract, ContractStatus.SIGNED, user=factories.clerk())
        assert contract.status is ContractStatus.DRAFT
        contract.vendor.status = VendorStatus.ACTIVE
        rules.change_status(contract, ContractStatus.SIGNED, user=factories.clerk())
        assert contract.status is ContractStatus.SIGNED


# --- moving a signed contract to such a vendor -----------------------------------------

@pytest.mark.parametrize("status", [ContractStatus.SIGNED, ContractStatus.IN_FORCE])
@pytest.mark.parametrize("vendor_status,label", BARRED)
def test_a_signed_contract_is_not_moved_to_a_suspended_or_ended_vendor(buyer, app, status, vendor_status, label):
    contract_id = make(app, status=status)
    before = load(app, contract_id)
    barred = vendor_id(app, vendor_status)
    refused = buyer.post(f"/contracts/{contract_id}/edit", data=edit_data(app, contract_id, barred))
    assert refused.status_code == 400
    assert f"「{label}」の事業者を締結済・履行中の契約の委託事業者にすることはできません" in refused.get_data(as_text=True)
    assert load(app, contract_id) == before


def test_a_signed_contract_changes_its_vendor_only_by_amendment(buyer, app):
    """Even to an active vendor: the vendor of a signed contract changes through an amendment (issue 17)."""
    contract_id = make(app, status=ContractStatus.SIGNED)
    before = load(app, contract_id)
    active = vendor_id(app, VendorStatus.ACTIVE)
    refused = buyer.post(f"/contracts/{contract_id}/edit", data=edit_data(app, contract_id, active))
    assert refused.status_code == 400
    assert "委託事業者は直接変更できません" in refused.get_data(as_text=True)
    assert load(app, contract_id) == before


def test_a_signed_contract_whose_vendor_was_suspended_later_is_still_saved(buyer, app):
    """The gate is on choosing the vendor: a vendor suspended after signing
    does not lock the contract's other fields."""
    contract_id = make(app, status=ContractStatus.IN_FORCE)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        contract.vendor.status = VendorStatus.SUSPENDED
        current = contract.vendor_id
        db.session.commit()
    saved = buyer.post(f"/contracts/{contract_id}/edit",
                       data=edit_data(app, contract_id, current, title="指令システム保守（訂正）"))
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert load(app, contract_id) == (ContractStatus.IN_FORCE, current)


@pytest.mark.parametrize("vendor_status,label", BARRED)
def test_vendor_gate_on_save_at_the_service_layer(app, users, vendor_status, label):
    with app.app_context():
        contract = factories.contract(status=ContractStatus.SIGNED)
        original = contract.vendor_id
        values = {"number": contract.number, "title": contract.title, "kind": contract.kind.value,
                  "unit_id": None, "officer_id": None, "start_on": contract.start_on, "end_on": contract.end_on,
                  "classification_id": contract.classification_id, "integrity_id": None, "availability_id": None,
                  "handles_personal_info": False, "handles_my_number": False, "work_places": None,
                  "subcontracting": contract.subcontracting.value, "verification_cycle": ""}
        barred = factories.vendor(status=vendor_status)
        with pytest.raises(rules.ContractRuleError, match=label) as refused:
            services.save_contract(contract, {**values, "vendor_id": barred.id}, user=factories.clerk())
        assert refused.value.field == "vendor_id"
        assert contract.vendor_id == original
        active = factories.vendor(status=VendorStatus.ACTIVE)
        with pytest.raises(rules.ContractRuleError, match="変更契約"):  # by amendment only (issue 17)
            services.save_contract(contract, {**values, "vendor_id": active.id}, user=factories.clerk())
        assert contract.vendor_id == original
        draft = factories.contract()
        services.save_contract(draft, {**values, "number": draft.number, "vendor_id": barred.id},
                               user=factories.clerk())
        assert draft.vendor_id == barred.id  # a draft may name it; signing refuses
