"""Issue 17: a signed or in-force contract changes its protected terms (the
vendor, the classification, personal data, the period, re-subcontracting,
the clause matrix) only through an amendment (変更契約), approved by someone
other than its author; approval runs the signing gates again."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from contracts import rules, services
from contracts.models import AmendmentStatus, ClauseState, Contract, ContractAmendment, ContractStatus
from core.approvals import Approval, Decision
from core.db import db
from core.models import AuditEntry, Role, User
from core.timeutil import wareki
from tests import factories
from tests.conftest import DEMO_PASSWORD, login_as, read_pdf
from tests.contracts.test_vendor_gate import edit_data
from vendors.models import VendorStatus

AMEND_ONLY = "直接変更できません。契約のページから変更契約を起案し"


def signed(app, **fields) -> int:
    with app.app_context():
        contract = factories.contract(status=ContractStatus.SIGNED, **fields)
        db.session.commit()
        return contract.id


def snapshot(app, contract_id: int) -> dict:
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        return {**services.protected_values(contract), "title": contract.title,
                "clauses": {row.clause.code: (row.state, row.article) for row in contract.clauses}}


def amendment_data(app, contract_id: int, clauses: dict | None = None, **overrides) -> dict:
    """The amendment form as it opens (the contract's terms and matrix), with ``overrides``
    and ``clauses`` ({code: (state, article, reason)}) changed."""
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        current = services.protected_values(contract)
        rows = rules.matrix(contract)
        catalogue = rules.active_clauses()
    data = {"reason": "契約期間の延長", "amended_on": "2026-10-01"}
    for name, value in current.items():
        if isinstance(value, bool):
            if value:
                data[name] = "y"
        else:
            data[name] = "" if value is None else str(value)
    for i, clause in enumerate(catalogue):
        row = rows.get(clause.id)
        state, article, reason = (clauses or {}).get(clause.code) or (
            (row.state, row.article, row.reason) if row else (ClauseState.NOT_INCLUDED, None, None))
        data.update({f"rows-{i}-clause_id": str(clause.id), f"rows-{i}-state": state.value,
                     f"rows-{i}-article": article or "", f"rows-{i}-reason": reason or ""})
    for name, value in overrides.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def with_document(data: dict) -> dict:
    return {**data, "document": (io.BytesIO(b"%PDF-1.4 amendment"), "変更契約書.pdf")}


def draft(client, app, contract_id: int, **kwargs) -> int:
    response = client.post(f"/contracts/{contract_id}/amendments/new", content_type="multipart/form-data",
                           data=with_document(amendment_data(app, contract_id, **kwargs)))
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        return db.session.scalar(select(ContractAmendment.id).where(ContractAmendment.contract_id == contract_id)
                                 .order_by(ContractAmendment.id.desc()))


def amendment(app, amendment_id: int) -> ContractAmendment:
    with app.app_context():
        found = db.session.get(ContractAmendment, amendment_id)
        db.session.expunge(found)
        return found


@pytest.fixture
def other_buyer(app, client, users):
    """A second procurement officer (a fresh client)."""
    with app.app_context():
        factories.user("buyer2", Role.PROCUREMENT)
        db.session.commit()
    other = app.test_client()
    login_as(other, "buyer2")
    return other


# --- direct edits are refused -----------------------------------------------------------

@pytest.mark.parametrize("status", [ContractStatus.SIGNED, ContractStatus.IN_FORCE])
def test_editing_the_period_of_a_signed_contract_is_refused(buyer, app, status):
    with app.app_context():
        contract = factories.contract(status=status)
        db.session.commit()
        contract_id, vendor_id = contract.id, contract.vendor_id
    before = snapshot(app, contract_id)
    refused = buyer.post(f"/contracts/{contract_id}/edit", data=edit_data(app, contract_id, vendor_id,
                                                                           end_on="2028-03-31"))
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert AMEND_ONLY in page and f"/contracts/{contract_id}/amendments/new" in page
    assert snapshot(app, contract_id) == before


def test_the_other_fields_of_a_signed_contract_stay_editable(buyer, app):
    contract_id = signed(app)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        data = {"number": contract.number, "title": "新しい件名", "vendor_id": contract.vendor_id,
                "kind": contract.kind.value, "unit_id": None, "officer_id": None}
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        values = {**data, **{name: getattr(contract, name) for name in services.PROTECTED}, "work_places": "庁舎内",
                  "verification_cycle": ""}
        services.save_contract(contract, values, user=factories.clerk())
        db.session.commit()
    assert snapshot(app, contract_id)["title"] == "新しい件名"


@pytest.mark.parametrize("name,value", [("vendor_id", None), ("handles_personal_info", True),
                                        ("classification_id", "C3A"), ("subcontracting", "approval"),
                                        ("start_on", dt.date(2020, 1, 1))])
def test_save_contract_refuses_each_protected_field(app, users, name, value):
    with app.app_context():
        contract = factories.contract(status=ContractStatus.IN_FORCE, classification="C3C")
        values = {"number": contract.number, "title": contract.title, "unit_id": None, "officer_id": None,
                  "work_places": None, "verification_cycle": "",
                  **{n: getattr(contract, n) for n in services.PROTECTED}}
        values["kind"], values["subcontracting"] = contract.kind.value, contract.subcontracting.value
        if name == "vendor_id":
            value = factories.vendor().id
        elif name == "classification_id":
            value = factories.level(value).id
        before = services.protected_values(contract)
        with pytest.raises(rules.ContractRuleError, match="変更契約") as refused:
            services.save_contract(contract, {**values, name: value}, user=factories.clerk())
        assert refused.value.field == name
        assert services.protected_values(contract) == before
        draft_ = factories.contract()
        services.save_contract(draft_, {**values, "number": draft_.number, name: value}, user=factories.clerk())
        assert services.protected_values(draft_)[name] == services._as_json(name, value)  # a draft is edited directly


def test_the_matrix_of_a_signed_contract_changes_only_by_amendment(buyer, app):
    contract_id = signed(app, personal=True, classification="C3C")
    before = snapshot(app, contract_id)
    with app.app_context():
        c20 = db.session.scalar(select(rules.Clause.id).where(rules.Clause.code == "C20"))
        contract = db.session.get(Contract, contract_id)
        with pytest.raises(rules.ContractRuleError, match="変更契約"):
            services.save_matrix(contract, {c20: (ClauseState.NOT_INCLUDED, None, None)})
        db.session.rollback()
        contract = db.session.get(Contract, contract_id)
        row = rules.matrix(contract)[c20]
        services.save_matrix(contract, {c20: (row.state, row.article, row.reason)})  # the same matrix again
        db.session.commit()
    data = amendment_data(app, contract_id, clauses={"C20": (ClauseState.NOT_INCLUDED, None, None)})
    refused = buyer.post(f"/contracts/{contract_id}/clauses", data={
        "version": data.get("version") or str(_version(app, contract_id)),
        **{k: v for k, v in data.items() if k.startswith("rows-")}}, follow_redirects=True)
    assert AMEND_ONLY in refused.get_data(as_text=True)
    assert snapshot(app, contract_id) == before


def _version(app, contract_id: int) -> int:
    with app.app_context():
        return db.session.get(Contract, contract_id).version


# --- the amendment path -----------------------------------------------------------------

def test_an_amendment_drafted_submitted_and_approved_by_another_changes_the_contract(buyer, app, other_buyer):
    contract_id = signed(app)
    before = snapshot(app, contract_id)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        c17 = rules.matrix(contract)[db.session.scalar(select(rules.Clause.id).where(rules.Clause.code == "C17"))]
        assert c17.state is not ClauseState.INCLUDED
    form = buyer.get(f"/contracts/{contract_id}/amendments/new")
    assert form.status_code == 200
    amendment_id = draft(buyer, app, contract_id, end_on="2028-03-31",
                         clauses={"C17": (ClauseState.INCLUDED, "第３０条", None)})
    assert snapshot(app, contract_id) == before  # a draft changes nothing
    assert buyer.post(f"/contracts/{contract_id}/amendments/{amendment_id}/submit").status_code == 302
    assert amendment(app, amendment_id).status is AmendmentStatus.PENDING
    assert snapshot(app, contract_id) == before
    approved = other_buyer.post(f"/contracts/{contract_id}/amendments/{amendment_id}/approve",
                                data={"comment": "延長を承認"})
    assert approved.status_code == 302, approved.get_data(as_text=True)
    after = snapshot(app, contract_id)
    assert after["end_on"] == "2028-03-31" and after["clauses"]["C17"] == (ClauseState.INCLUDED, "第30条")
    done = amendment(app, amendment_id)
    assert done.status is AmendmentStatus.APPROVED and done.decided_at is not None
    assert done.changes["fields"]["end_on"] == {"before": before["end_on"], "after": "2028-03-31"}
    with app.app_context():
        assert db.session.scalar(select(Approval.decision).where(
            Approval.kind == services.AMENDMENT, Approval.subject_id == amendment_id)) is Decision.APPROVED
        actions = set(db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.object_type.in_(["contracts", "contract_amendments"]))))
        assert {"amend", "submit", "approve"} <= actions
    page = buyer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "第1回変更" in page and "契約期間の延長" in page
    # the period's dates as the contract page writes them (和暦)
    assert f"{wareki(dt.date.fromisoformat(before['end_on']))} → <strong>令和10年3月31日</strong>" in page
    assert "C17" in page and "規定あり（第30条）" in page
    detail = buyer.get(f"/contracts/{contract_id}/amendments/{amendment_id}")
    assert detail.status_code == 200 and "変更契約書" in detail.get_data(as_text=True)
    document = buyer.get(f"/contracts/{contract_id}/amendments/{amendment_id}/document")
    assert document.data.startswith(b"%PDF")
    document.close()
    _, text = read_pdf(buyer.get(f"/contracts/{contract_id}/checklist.pdf"))
    flat = "".join(text.split())
    # the period's date as every document prints it (和暦 by default, ITAKU_DOCUMENT_DATES)
    assert "変更契約" in flat and "第1回変更" in flat and "→令和10年3月31日" in flat


def test_the_author_cannot_approve(buyer, app, users):
    contract_id = signed(app)
    amendment_id = draft(buyer, app, contract_id, end_on="2028-03-31")
    buyer.post(f"/contracts/{contract_id}/amendments/{amendment_id}/submit")
    refused = buyer.post(f"/contracts/{contract_id}/amendments/{amendment_id}/approve", data={"comment": ""},
                         follow_redirects=True)
    assert refused.history[0].status_code == 303
    assert "起案者本人は変更契約を承認できません" in refused.get_data(as_text=True)
    assert amendment(app, amendment_id).status is AmendmentStatus.PENDING
    with app.app_context():
        found = db.session.get(ContractAmendment, amendment_id)
        with pytest.raises(rules.ContractRuleError, match="起案者本人"):
            services.decide_amendment(found, user=found.author, approve=True)
        services.decide_amendment(found, user=db.session.scalar(select(User).where(User.username == "lead")),
                                  approve=True)
        assert found.status is AmendmentStatus.APPROVED and found.contract.end_on == dt.date(2028, 3, 31)


def test_a_verifier_cannot_decide(app, users):
    contract_id = signed(app)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        found = _service_draft(contract, end_on=contract.end_on + dt.timedelta(days=365))
        verifier = db.session.scalar(select(User).where(User.username == "verifier"))
        with pytest.raises(rules.ContractRuleError, match="契約担当、管理者または統括"):
            services.decide_amendment(found, user=verifier, approve=True)


def _service_draft(contract: Contract, *, by=None, rows: dict | None = None, **changes) -> ContractAmendment:
    """An amendment drafted and submitted at the service layer by ``by`` (the clerk)."""
    by = by or factories.clerk()
    values = {name: getattr(contract, name) for name in services.PROTECTED}
    values.update(reason="変更", amended_on=dt.date(2026, 10, 1), document=None, **changes)
    found = services.save_amendment(ContractAmendment(contract=contract), values, rows or {}, user=by)
    found.document = factories.stored_file("変更契約書.pdf", by=by)
    services.submit_amendment(found, user=by)
    return found


def test_approval_runs_the_gates_again_a_mandatory_clause_dropped(buyer, app, other_buyer):
    contract_id = signed(app, personal=True, classification="C3C")
    before = snapshot(app, contract_id)
    amendment_id = draft(buyer, app, contract_id, clauses={"C20": (ClauseState.NOT_INCLUDED, None, None)})
    buyer.post(f"/contracts/{contract_id}/amendments/{amendment_id}/submit")
    refused = other_buyer.post(f"/contracts/{contract_id}/amendments/{amendment_id}/approve", data={"comment": ""},
                               follow_redirects=True)
    assert refused.history[0].status_code == 303
    assert "必須のセキュリティ条項が不足しているため締結できません（C20）" in refused.get_data(as_text=True)
    assert snapshot(app, contract_id) == before
    assert amendment(app, amendment_id).status is AmendmentStatus.PENDING


def test_approval_runs_the_gates_again_a_suspended_vendor(app, users):
    with app.app_context():
        contract = factories.contract(status=ContractStatus.IN_FORCE)
        original = contract.vendor_id
        suspended = factories.vendor(status=VendorStatus.SUSPENDED)
        found = _service_draft(contract, vendor_id=suspended.id)
        lead = db.session.scalar(select(User).where(User.username == "lead"))
        with pytest.raises(rules.ContractRuleError, match="取引停止"):
            services.decide_amendment(found, user=lead, approve=True)
        assert contract.vendor_id == original  # the applied change was rolled back with the refusal
        assert found.status is AmendmentStatus.PENDING
        services.decide_amendment(found, user=lead, approve=False, comment="取引停止の事業者")
        active = factories.vendor()
        found = _service_draft(contract, vendor_id=active.id)
        services.decide_amendment(found, user=lead, approve=True)
        assert contract.vendor_id == active.id and found.approver_id == lead.id


def test_a_new_vendor_needs_its_valid_selection_which_the_amendment_links(app, users):
    """Changing the vendor by amendment re-runs the selection gate: a vendor
    without a selection still valid is refused; with one, the approval links
    it to the contract, confirmed by the author with the amendment's reason."""
    from contracts.rules import CONFIRMED

    with app.app_context():
        contract = factories.contract(status=ContractStatus.IN_FORCE)
        unselected = factories.vendor(selected=False)
        found = _service_draft(contract, vendor_id=unselected.id)
        lead = db.session.scalar(select(User).where(User.username == "lead"))
        with pytest.raises(rules.ContractRuleError, match="選定記録"):
            services.decide_amendment(found, user=lead, approve=True)
        assert contract.vendor_id != unselected.id
        services.decide_amendment(found, user=lead, approve=False, comment="選定がない")
        selected = factories.vendor()
        found = _service_draft(contract, vendor_id=selected.id)
        services.decide_amendment(found, user=lead, approve=True)
        assert contract.selection.vendor_id == selected.id and contract.selection_basis == CONFIRMED
        assert contract.selection_confirmed_by_id == found.author_id and "変更契約" in contract.selection_comment


def test_a_rejected_amendment_changes_nothing(buyer, app, other_buyer):
    contract_id = signed(app)
    before = snapshot(app, contract_id)
    amendment_id = draft(buyer, app, contract_id, end_on="2028-03-31")
    buyer.post(f"/contracts/{contract_id}/amendments/{amendment_id}/submit")
    other_buyer.post(f"/contracts/{contract_id}/amendments/{amendment_id}/reject", data={"comment": "不要"})
    assert amendment(app, amendment_id).status is AmendmentStatus.REJECTED
    assert snapshot(app, contract_id) == before


def test_submitting_needs_the_document_and_a_change(app, users):
    with app.app_context():
        contract = factories.contract(status=ContractStatus.SIGNED)
        by = factories.clerk()
        values = {name: getattr(contract, name) for name in services.PROTECTED}
        values.update(reason="変更", amended_on=dt.date(2026, 10, 1), document=None)
        found = services.save_amendment(ContractAmendment(contract=contract), values, {}, user=by)
        with pytest.raises(rules.ContractRuleError, match="変更する項目がありません"):
            services.submit_amendment(found, user=by)
        services.save_amendment(found, {**values, "end_on": contract.end_on + dt.timedelta(days=30)}, {}, user=by)
        with pytest.raises(rules.ContractRuleError, match="変更契約書のファイル"):
            services.submit_amendment(found, user=by)
        found.document = factories.stored_file(by=by)
        services.submit_amendment(found, user=by)
        assert found.status is AmendmentStatus.PENDING


def test_classification_follows_the_data_in_an_amendment(app, users):
    with app.app_context():
        contract = factories.contract(status=ContractStatus.SIGNED, classification="C2")
        values = {name: getattr(contract, name) for name in services.PROTECTED}
        values.update(reason="個人情報の追加", amended_on=dt.date(2026, 10, 1), document=None,
                      handles_personal_info=True)
        with pytest.raises(rules.ContractRuleError, match="機密性は") as refused:
            services.save_amendment(ContractAmendment(contract=contract), values, {}, user=factories.clerk())
        assert refused.value.field == "classification_id"


def test_only_one_open_amendment_per_contract(buyer, app, users):
    contract_id = signed(app)
    first = draft(buyer, app, contract_id, end_on="2028-03-31")
    second = buyer.post(f"/contracts/{contract_id}/amendments/new", content_type="multipart/form-data",
                        data=with_document(amendment_data(app, contract_id, end_on="2029-03-31")))
    assert second.status_code == 409
    assert "起案中または承認待ちの変更契約が既にあります" in second.get_data(as_text=True)
    assert buyer.post(f"/contracts/{contract_id}/amendments/{first}/withdraw").status_code == 302
    assert amendment(app, first).status is AmendmentStatus.WITHDRAWN
    third = draft(buyer, app, contract_id, end_on="2029-03-31")
    assert amendment(app, third).number == 2


def test_the_draft_is_edited_with_a_version_check(buyer, app, users):
    contract_id = signed(app)
    amendment_id = draft(buyer, app, contract_id, end_on="2028-03-31")
    version = amendment(app, amendment_id).version
    data = amendment_data(app, contract_id, end_on="2028-09-30", version=str(version), reason="半年延長")
    saved = buyer.post(f"/contracts/{contract_id}/amendments/{amendment_id}/edit", data=data)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert amendment(app, amendment_id).changes["fields"]["end_on"]["after"] == "2028-09-30"
    stale = buyer.post(f"/contracts/{contract_id}/amendments/{amendment_id}/edit", data=data)
    assert stale.status_code == 303
    assert amendment(app, amendment_id).reason == "半年延長"


def test_a_draft_contract_has_no_amendment(buyer, app, users):
    with app.app_context():
        contract = factories.contract()
        db.session.commit()
        contract_id = contract.id
    refused = buyer.post(f"/contracts/{contract_id}/amendments/new", content_type="multipart/form-data",
                         data=with_document(amendment_data(app, contract_id, end_on="2028-03-31")))
    assert refused.status_code == 409
    assert "締結済・履行中の契約についてのみ" in refused.get_data(as_text=True)


def test_the_refusal_is_in_english_too(app, users):
    with app.test_request_context(), force_locale("en"):
        contract = factories.contract(status=ContractStatus.SIGNED)
        values = {"number": contract.number, "title": contract.title, "unit_id": None, "officer_id": None,
                  "work_places": None, "verification_cycle": "",
                  **{n: getattr(contract, n) for n in services.PROTECTED}, "end_on": dt.date(2030, 3, 31)}
        with pytest.raises(rules.ContractRuleError) as refused:
            services.save_contract(contract, values, user=factories.clerk())
        assert "amendment" in str(refused.value) and "End date" in str(refused.value)


def test_the_demo_shows_an_approved_amendment_and_one_waiting_for_a_decision(demo, client):
    with demo.app_context():
        found = {a.contract.number: a for a in db.session.scalars(select(ContractAmendment))}
        assert found["R8-001"].status is AmendmentStatus.APPROVED and found["R8-001"].approver.username == "lead"
        assert set(found["R8-001"].changes["fields"]) == {"end_on"} and len(found["R8-001"].changes["clauses"]) == 1
        assert found["R8-002"].status is AmendmentStatus.PENDING and set(found["R8-002"].changes["clauses"]) == {"C12"}
        contract_id = found["R8-001"].contract_id
    login_as(client, "auditor", DEMO_PASSWORD)
    page = client.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "第1回変更" in page and "第26条" in page
