"""The end-of-contract rule (clause C09) without bypasses (issue 17): the
return/disposal record for 解除 as well as 終了, a method that fits the
class, its evidence; a draft is withdrawn (取下げ), never 解除; OUT-06 finds
terminated contracts whatever their planned end date."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from werkzeug.datastructures import FileStorage

from contracts import documents, rules, services
from contracts.models import Contract, ContractStatus, DisposalMethod
from core.db import db
from core.inspection import Scope
from core.timeutil import fiscal_year, today
from tests import factories

PDF = b"%PDF-1.4 certificate"


def pdf(name: str = "消去証明書.pdf") -> FileStorage:
    return FileStorage(io.BytesIO(PDF), filename=name)


def make(app, **fields) -> int:
    with app.app_context():
        contract = factories.contract(**fields)
        db.session.commit()
        return contract.id


def status(app, contract_id: int) -> ContractStatus:
    with app.app_context():
        return db.session.get(Contract, contract_id).status


def post_disposal(client, contract_id: int, method: str, evidence: bool = True, detail: str = "消去証明書を受領"):
    data = {"done_on": today().isoformat(), "method": method, "detail": detail}
    if evidence:
        data["evidence"] = (io.BytesIO(PDF), "証明書.pdf")
    return client.post(f"/contracts/{contract_id}/disposal", content_type="multipart/form-data", data=data)


# --- 解除 needs the disposal record too ---------------------------------------------

def test_termination_of_a_classified_contract_needs_the_disposal_record(buyer, app):
    contract_id = make(app, status=ContractStatus.IN_FORCE, classification="C2")
    refused = buyer.post(f"/contracts/{contract_id}/status", data={"status": "terminated"}, follow_redirects=True)
    assert refused.history[0].status_code == 303
    assert "返却・廃棄（C09）を記録してから解除にしてください" in refused.get_data(as_text=True)
    assert status(app, contract_id) is ContractStatus.IN_FORCE
    assert post_disposal(buyer, contract_id, "erasure").status_code == 302
    assert buyer.post(f"/contracts/{contract_id}/status", data={"status": "terminated"}).status_code == 302
    assert status(app, contract_id) is ContractStatus.TERMINATED


def test_termination_rule_at_the_service_layer(app, users):
    with app.app_context():
        contract = factories.contract(status=ContractStatus.SIGNED, classification="C3B", personal=True)
        user = factories.clerk()
        with pytest.raises(rules.ContractRuleError, match="解除"):
            rules.change_status(contract, ContractStatus.TERMINATED, user=user)
        assert contract.status is ContractStatus.SIGNED
        services.record_disposal(contract, done_on=today(), method=DisposalMethod.ERASURE, detail="消去証明書",
                                 upload=pdf(), user=user)
        rules.change_status(contract, ContractStatus.TERMINATED, user=user)
        assert contract.status is ContractStatus.TERMINATED


def test_a_public_only_contract_is_terminated_without_disposal(buyer, app):
    contract_id = make(app, status=ContractStatus.IN_FORCE, classification="C1")
    assert buyer.post(f"/contracts/{contract_id}/status", data={"status": "terminated"}).status_code == 302


# --- the method fits the class; the evidence is required -----------------------------

def test_class_3_needs_erasure_or_destruction_with_a_certificate(buyer, app):
    contract_id = make(app, status=ContractStatus.IN_FORCE, classification="C3B", personal=True)
    refused = post_disposal(buyer, contract_id, "return")
    assert refused.status_code == 400
    assert "自治体機密性3の情報は、消去証明書を伴うデータ消去または物理破壊で廃棄してください" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Contract, contract_id).disposal is None
    assert post_disposal(buyer, contract_id, "erasure").status_code == 302
    with app.app_context():
        assert db.session.get(Contract, contract_id).disposal.kind is DisposalMethod.ERASURE


def test_class_2_may_be_returned(buyer, app):
    contract_id = make(app, status=ContractStatus.IN_FORCE, classification="C2")
    assert post_disposal(buyer, contract_id, "return", detail="貸与媒体を返却し、複製がない旨の確認書を受領").status_code == 302


def test_an_unknown_method_is_refused(buyer, app):
    contract_id = make(app, status=ContractStatus.IN_FORCE, classification="C2")
    response = post_disposal(buyer, contract_id, "burn")
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Contract, contract_id).disposal is None


def test_method_and_evidence_at_the_service_layer(app, users):
    with app.app_context():
        contract = factories.contract(status=ContractStatus.IN_FORCE, classification="C3C", personal=True)
        user = factories.clerk()
        with pytest.raises(rules.ContractRuleError, match="消去証明書"):
            rules.record_disposal(contract, done_on=today(), method=DisposalMethod.RETURN, detail=None,
                                  evidence=factories.stored_file(), user=user)
        with pytest.raises(rules.ContractRuleError, match="証明する書類"):
            rules.record_disposal(contract, done_on=today(), method=DisposalMethod.DESTRUCTION, detail=None,
                                  evidence=None, user=user)
        assert contract.disposal is None
        rules.record_disposal(contract, done_on=today(), method=DisposalMethod.DESTRUCTION, detail="破壊証明書",
                              evidence=factories.stored_file(), user=user)
        assert contract.disposal.kind is DisposalMethod.DESTRUCTION


def test_a_disposal_recorded_as_free_text_stays_readable(buyer, app):
    """A record kept before the methods were a choice shows its text."""
    contract_id = make(app, status=ContractStatus.ENDED, classification="C2")
    with app.app_context():
        disposal = db.session.get(Contract, contract_id).disposal
        disposal.kind, disposal.method = None, "旧形式の記録：媒体を返却"
        db.session.commit()
    page = buyer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "旧形式の記録：媒体を返却" in page


# --- a draft is withdrawn, never terminated --------------------------------------------

def test_a_draft_is_withdrawn_not_terminated(buyer, app):
    contract_id = make(app, status=ContractStatus.DRAFT)
    page = buyer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "「解除」にする" not in page and "「取下げ」にする" in page
    refused = buyer.post(f"/contracts/{contract_id}/status", data={"status": "terminated"}, follow_redirects=True)
    assert refused.history[0].status_code == 303
    assert "「起案」から「解除」には変更できません。" in refused.get_data(as_text=True)
    assert status(app, contract_id) is ContractStatus.DRAFT
    assert buyer.post(f"/contracts/{contract_id}/status", data={"status": "withdrawn"}).status_code == 302
    assert status(app, contract_id) is ContractStatus.WITHDRAWN
    page = buyer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "取下げ" in page and "「締結済」にする" not in page
    listed = buyer.get("/contracts/?status=withdrawn").get_data(as_text=True)
    assert "取下げ" in listed


def test_withdrawal_at_the_service_layer(app, users):
    with app.app_context():
        draft = factories.contract(status=ContractStatus.DRAFT)
        signed = factories.contract(status=ContractStatus.SIGNED)
        user = factories.clerk()
        with pytest.raises(rules.ContractRuleError, match="解除"):
            rules.change_status(draft, ContractStatus.TERMINATED, user=user)
        with pytest.raises(rules.ContractRuleError, match="取下げ"):
            rules.change_status(signed, ContractStatus.WITHDRAWN, user=user)
        rules.change_status(draft, ContractStatus.WITHDRAWN, user=user)
        assert draft.status is ContractStatus.WITHDRAWN and not rules.is_live(draft)
        with pytest.raises(rules.ContractRuleError):
            rules.change_status(draft, ContractStatus.SIGNED, user=user)


def test_the_api_retire_withdraws_a_draft(app, users):
    with app.app_context():
        draft = factories.contract(status=ContractStatus.DRAFT)
        services.end(draft, factories.clerk())
        assert draft.status is ContractStatus.WITHDRAWN


# --- OUT-06 -------------------------------------------------------------------------

def test_out_06_finds_terminated_contracts_whatever_their_planned_end(app, users):
    with app.app_context():
        far = today() + dt.timedelta(days=900)
        legacy = factories.contract(status=ContractStatus.IN_FORCE, classification="C2", end_on=far)
        legacy.status = ContractStatus.TERMINATED  # terminated before the rule held: no disposal
        factories.contract(status=ContractStatus.TERMINATED, classification="C2", end_on=far)
        db.session.flush()
        fact = documents.facts(Scope(fiscal_year(today())))["OUT-06"]
        assert "2件中 1件に返却・廃棄の記録なし" in fact
