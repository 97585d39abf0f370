"""Contract register: clause matrix, gap detection, the signing rule with its
four-eyes exception, the end-of-contract rule, validation, audit trail."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from contracts import rules, services
from contracts.models import Clause, ClauseState, Contract, ContractStatus
from core.approvals import Approval, Decision
from core.db import db
from core.models import AuditEntry, ClassificationLevel
from tests.conftest import DEMO_PASSWORD, login_as
from tests.vendors.test_vendor_register import register_vendor
from vendors import services as vendor_services

C01_C13 = [f"C{n:02d}" for n in range(1, 14)]


def level_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(ClassificationLevel.id).where(ClassificationLevel.code == code))


def contract_data(app, vendor: int, **overrides) -> dict:
    data = {"number": "R8-100", "title": "指令システム保守", "vendor_id": str(vendor), "kind": "maintenance",
            "unit_id": "1", "officer_id": "2", "start_on": "2026-04-01", "end_on": "2027-03-31",
            "classification_id": str(level_id(app, "C2")), "integrity_id": "", "availability_id": "",
            "work_places": "受託者の事務所", "subcontracting": "prohibited", "verification_cycle": ""}
    return {**data, **overrides}


def register_contract(client, app, vendor: int, **overrides) -> int:
    """A draft registered through the page; when its vendor has a valid
    selection, confirmed for the contract through the page, as signing needs."""
    response = client.post("/contracts/new", data=contract_data(app, vendor, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        contract = db.session.scalar(select(Contract).where(Contract.number == overrides.get("number", "R8-100")))
        contract_id, confirmable = contract.id, vendor_services.valid_selection(contract.vendor) is not None
    if confirmable:
        confirmed = client.post(f"/contracts/{contract_id}/selection/confirm", data={"comment": "選定の対象業務"})
        assert confirmed.status_code == 302, confirmed.get_data(as_text=True)
    return contract_id


def save_matrix(client, app, contract_id: int, states: dict[str, str], reasons: dict[str, str] | None = None):
    """Post the clause matrix: every active clause, state from ``states``
    (default included)."""
    with app.app_context():
        clauses = rules.active_clauses()
        version = db.session.get(Contract, contract_id).version
    data = {"version": str(version)}
    for i, clause in enumerate(clauses):
        state = states.get(clause.code, "included")
        data[f"rows-{i}-clause_id"] = str(clause.id)
        data[f"rows-{i}-state"] = state
        data[f"rows-{i}-article"] = f"第{i + 1}条" if state == "included" else ""
        data[f"rows-{i}-reason"] = (reasons or {}).get(clause.code, "")
    return client.post(f"/contracts/{contract_id}/clauses", data=data)


def gaps(app, contract_id: int) -> list[str]:
    with app.app_context():
        return [c.code for c in rules.clause_gaps(db.session.get(Contract, contract_id))]


def status(app, contract_id: int) -> ContractStatus:
    with app.app_context():
        return db.session.get(Contract, contract_id).status


def test_register_a_contract_with_its_clause_matrix(buyer, app, selected_vendor):
    response = buyer.post("/contracts/new", content_type="multipart/form-data", data={
        **contract_data(app, selected_vendor), "document": (io.BytesIO(b"%PDF-1.7 contract"), "契約書.pdf")})
    assert response.status_code == 302 and response.headers["Location"].endswith("/clauses")
    with app.app_context():
        contract_id = db.session.scalar(select(Contract.id))
    form = buyer.get(f"/contracts/{contract_id}/clauses").get_data(as_text=True)
    assert "確認すること" in form and "★" in form
    response = save_matrix(buyer, app, contract_id, {"C12": "not_included", "C16": "na"}, {"C16": "開発を含まない"})
    assert response.status_code == 302
    assert gaps(app, contract_id) == ["C12"]
    page = buyer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "必須のセキュリティ条項が不足しています" in page and "C12" in page and "開発を含まない" in page
    document = buyer.get(f"/contracts/{contract_id}/document")
    assert document.data == b"%PDF-1.7 contract"
    document.close()


def test_the_matrix_saved_outside_the_page_bumps_the_version_and_is_audited_as_clauses(buyer, app,
                                                                                     selected_vendor):
    """Every caller of the matrix's save, not only its page: the contract's
    version moves (a matrix form opened earlier is stale) and the audit
    trail names the change."""
    contract_id = register_contract(buyer, app, selected_vendor)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        version = contract.version
        rows = {clause.id: (ClauseState.INCLUDED, f"第{i + 1}条", None)
                for i, clause in enumerate(rules.active_clauses())}
        services.save_matrix(contract, rows)
        db.session.commit()
        assert db.session.get(Contract, contract_id).version == version + 1
        assert db.session.scalar(select(AuditEntry.action).where(
            AuditEntry.object_type == "contracts", AuditEntry.object_id == str(contract_id))
            .order_by(AuditEntry.seq.desc()).limit(1)) == "clauses"
    assert gaps(app, contract_id) == []


@pytest.mark.parametrize("level, personal, expected", [
    ("C1", False, ["C01", "C06", "C07", "C13"]),  # the base set, at every level (issue 17)
    ("C3C", True, C01_C13 + ["C20"]),
    ("C2", False, C01_C13),
    ("C3B", True, C01_C13 + ["C20"]),
    ("C3A", False, C01_C13),
])
def test_mandatory_clauses_follow_the_classification(buyer, app, selected_vendor, level, personal, expected):
    overrides = {"classification_id": str(level_id(app, level))}
    if personal:
        overrides["handles_personal_info"] = "y"
    contract_id = register_contract(buyer, app, selected_vendor, **overrides)
    assert gaps(app, contract_id) == expected  # nothing recorded yet: every mandatory clause is missing

    def listed() -> bool:  # the list filter's SQL must agree with the rule
        return "R8-100" in buyer.get("/contracts/?gaps=yes").get_data(as_text=True).split("<tbody>")[1]

    assert listed() is bool(expected)
    save_matrix(buyer, app, contract_id, {})
    assert gaps(app, contract_id) == []
    assert listed() is False


def test_not_applicable_needs_a_reason_and_does_not_satisfy_a_mandatory_clause(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor)
    response = save_matrix(buyer, app, contract_id, {"C05": "na"})
    assert response.status_code == 400
    assert "「該当なし」には理由が必要です。" in response.get_data(as_text=True)
    save_matrix(buyer, app, contract_id, {"C05": "na"}, {"C05": "教育は発注者が実施"})
    assert gaps(app, contract_id) == ["C05"]
    assert "R8-100" in buyer.get("/contracts/?gaps=yes").get_data(as_text=True).split("<tbody>")[1]


def test_signing_is_refused_with_a_missing_mandatory_clause(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor)
    save_matrix(buyer, app, contract_id, {"C08": "not_included"})
    response = buyer.post(f"/contracts/{contract_id}/status", data={"status": "signed"}, follow_redirects=True)
    assert response.history[0].status_code == 303
    assert "必須のセキュリティ条項が不足しているため締結できません（C08）" in response.get_data(as_text=True)
    assert status(app, contract_id) is ContractStatus.DRAFT


def test_signing_is_refused_without_a_selected_vendor(buyer, app):
    vendor_id = register_vendor(buyer)  # never selected
    contract_id = register_contract(buyer, app, vendor_id)
    save_matrix(buyer, app, contract_id, {})
    response = buyer.post(f"/contracts/{contract_id}/status", data={"status": "signed"}, follow_redirects=True)
    assert "選定記録（選定する）がないため締結できません" in response.get_data(as_text=True)
    assert status(app, contract_id) is ContractStatus.DRAFT


def test_exception_path_needs_an_approver_who_is_not_the_requester(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor)
    save_matrix(buyer, app, contract_id, {"C12": "not_included"})
    buyer.post(f"/contracts/{contract_id}/exceptions", data={"clause": "C12", "reason": "事業者標準書式のため次回更新で追加"})
    with app.app_context():
        approval = db.session.scalars(select(Approval)).one()
        assert approval.details == {"clauses": ["C12"]} and approval.decision is Decision.PENDING
        approval_id = approval.id
    # Pending is not enough to sign.
    assert buyer.post(f"/contracts/{contract_id}/status", data={"status": "signed"}).status_code == 303
    # The requester, a procurement officer, cannot decide it (issue 17: the security lead or an
    # administrator decides; a lead who asked is refused too: tests/contracts/test_clause_exceptions.py).
    response = buyer.post(f"/contracts/{contract_id}/exceptions/{approval_id}/approve",
                          data={"comment": "自分で", "expires_on": "2099-03-31"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Approval, approval_id).decision is Decision.PENDING
    # Someone else approves; then the contract can be signed.
    admin = app.test_client()
    login_as(admin, "admin")
    admin.post(f"/contracts/{contract_id}/exceptions/{approval_id}/approve",
               data={"comment": "次回更新を条件に承認", "expires_on": "2099-03-31"})
    with app.app_context():
        approval = db.session.get(Approval, approval_id)
        assert approval.decision is Decision.APPROVED and approval.approver.username == "admin"
    assert buyer.post(f"/contracts/{contract_id}/status", data={"status": "signed"}).status_code == 302
    assert status(app, contract_id) is ContractStatus.SIGNED
    page = buyer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "例外承認済み" in page and "次回更新を条件に承認" in page
    # Deciding twice is refused.
    again = admin.post(f"/contracts/{contract_id}/exceptions/{approval_id}/reject", follow_redirects=True)
    assert "既に決定済み" in again.get_data(as_text=True)
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type.in_(
            ["approvals", "contracts"]))).all()
        assert {"request", "approve", "sign"} <= set(actions)


def test_an_exception_covers_only_the_clauses_it_names(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor)
    save_matrix(buyer, app, contract_id, {"C12": "not_included"})
    buyer.post(f"/contracts/{contract_id}/exceptions", data={"clause": "C12", "reason": "理由"})
    admin = app.test_client()
    login_as(admin, "admin")
    with app.app_context():
        approval_id = db.session.scalar(select(Approval.id))
    admin.post(f"/contracts/{contract_id}/exceptions/{approval_id}/approve", data={"expires_on": "2099-03-31"})
    save_matrix(buyer, app, contract_id, {"C12": "not_included", "C13": "not_included"})
    response = buyer.post(f"/contracts/{contract_id}/status", data={"status": "signed"}, follow_redirects=True)
    assert "（C13）" in response.get_data(as_text=True)


def test_an_exception_is_refused_when_nothing_is_missing(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor)
    save_matrix(buyer, app, contract_id, {})
    response = buyer.post(f"/contracts/{contract_id}/exceptions", data={"clause": "C12", "reason": "念のため"},
                          follow_redirects=True)
    assert "例外の申請は不要です" in response.get_data(as_text=True)


def sign_and_start(client, app, contract_id):
    save_matrix(client, app, contract_id, {})
    assert client.post(f"/contracts/{contract_id}/status", data={"status": "signed"}).status_code == 302
    assert client.post(f"/contracts/{contract_id}/status", data={"status": "in_force"}).status_code == 302


def test_article_is_required_for_an_included_clause(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor)
    with app.app_context():
        clause_id = rules.active_clauses()[0].id
    response = buyer.post(f"/contracts/{contract_id}/clauses", data={
        "version": "1", "rows-0-clause_id": str(clause_id), "rows-0-state": "included", "rows-0-article": ""})
    assert response.status_code == 400
    assert "「規定あり」には条項番号を入力してください" in response.get_data(as_text=True)


def test_disposal_needs_its_evidence(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor)
    sign_and_start(buyer, app, contract_id)
    response = buyer.post(f"/contracts/{contract_id}/disposal", data={"done_on": "2026-11-20", "method": "erasure"})
    assert response.status_code == 400
    assert "返却・消去を証明する書類を添付してください。" in response.get_data(as_text=True)
    future = buyer.post(f"/contracts/{contract_id}/disposal", content_type="multipart/form-data", data={
        "done_on": "2099-01-01", "method": "erasure", "evidence": (io.BytesIO(b"%PDF-1.4 x"), "x.pdf")})
    assert "実施日に未来の日付は指定できません。" in future.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Contract, contract_id).disposal is None


def test_end_of_contract_needs_the_disposal_record_when_classified(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor)
    sign_and_start(buyer, app, contract_id)
    response = buyer.post(f"/contracts/{contract_id}/status", data={"status": "ended"}, follow_redirects=True)
    assert "返却・廃棄（C09）を記録してから終了にしてください" in response.get_data(as_text=True)
    assert status(app, contract_id) is ContractStatus.IN_FORCE
    response = buyer.post(f"/contracts/{contract_id}/disposal", content_type="multipart/form-data", data={
        "done_on": "2026-11-20", "method": "erasure", "detail": "消去証明書を受領",
        "evidence": (io.BytesIO(b"\x89PNG\r\n\x1a\nxx"), "証明.png")})
    assert response.status_code == 302
    assert buyer.post(f"/contracts/{contract_id}/status", data={"status": "ended"}).status_code == 302
    assert status(app, contract_id) is ContractStatus.ENDED
    evidence = buyer.get(f"/contracts/{contract_id}/disposal/evidence")
    assert evidence.mimetype == "image/png"
    evidence.close()


def test_a_contract_with_only_public_information_ends_without_disposal(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor, classification_id=str(level_id(app, "C1")))
    sign_and_start(buyer, app, contract_id)
    assert buyer.post(f"/contracts/{contract_id}/status", data={"status": "ended"}).status_code == 302


def test_disallowed_status_moves_are_refused(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor)
    response = buyer.post(f"/contracts/{contract_id}/status", data={"status": "ended"}, follow_redirects=True)
    assert "「起案」から「終了」には変更できません。" in response.get_data(as_text=True)
    assert buyer.post(f"/contracts/{contract_id}/status", data={"status": "nonsense"}).status_code == 400


@pytest.mark.parametrize("overrides, message", [
    ({"end_on": "2026-03-31"}, "終了日は開始日以降の日付にしてください。"),
    ({"start_on": "2026-02-30"}, "日付はYYYY-MM-DDの形で正しい日付を入力してください。"),
    ({"vendor_id": ""}, "委託事業者を選択してください。"),
    ({"vendor_id": "9999"}, "選択肢が正しくありません"),
    ({"classification_id": ""}, "機密性を選択してください。"),
    ({"handles_my_number": "y"}, "「個人情報を取り扱う」にもチェックしてください"),
    ({"number": ""}, "このフィールドは必須です。"),
])
def test_bad_contract_input_gets_a_message(buyer, app, selected_vendor, overrides, message):
    response = buyer.post("/contracts/new", data=contract_data(app, selected_vendor, **overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Contract)) == 0


def test_contract_number_is_unique(buyer, app, selected_vendor):
    register_contract(buyer, app, selected_vendor)
    response = buyer.post("/contracts/new", data=contract_data(app, selected_vendor, title="別件"))
    assert "この契約番号は既に使われています。" in response.get_data(as_text=True)


def test_subcontractors_only_when_allowed(buyer, app, selected_vendor):
    """A subcontractor is requested with its approval document (承諾書), and
    only on a contract that allows subcontracting with approval
    (tests/contracts/test_subcontractor_approval.py: the four-eyes decision)."""
    contract_id = register_contract(buyer, app, selected_vendor)

    def request_subcontractor():
        return buyer.post(f"/contracts/{contract_id}/subcontractors", content_type="multipart/form-data", data={
            "name": "再委託社", "scope": "監視", "document": (io.BytesIO(b"%PDF-1.4 consent"), "承諾書.pdf")}, follow_redirects=True)

    assert "再委託を禁止しています" in request_subcontractor().get_data(as_text=True)
    with app.app_context():
        version = db.session.get(Contract, contract_id).version
    buyer.post(f"/contracts/{contract_id}/edit", data=contract_data(app, selected_vendor, subcontracting="approval",
                                                                    version=str(version)))
    assert request_subcontractor().history[0].status_code == 302
    page = buyer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "再委託社" in page and "監視" in page and "承認待ち" in page


def test_admin_makes_a_clause_mandatory_and_gaps_follow(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor)
    save_matrix(buyer, app, contract_id, {"C16": "na"}, {"C16": "開発なし"})
    assert gaps(app, contract_id) == []
    admin = app.test_client()
    login_as(admin, "admin")
    with app.app_context():
        clause = db.session.scalar(select(Clause).where(Clause.code == "C16"))
        clause_id, version = clause.id, clause.version
    admin.post(f"/contracts/clauses/{clause_id}", data={
        "code": "C16", "label_ja": clause.label_ja, "label_en": clause.label_en, "verify_ja": "", "verify_en": "",
        "mandatory_levels": [str(level_id(app, "C2"))], "sort_order": "16", "active": "y", "version": str(version)})
    assert gaps(app, contract_id) == ["C16"]
    assert buyer.post("/contracts/clauses/new", data={"code": "C99"}).status_code == 403


def test_demo_has_every_status_a_gap_and_an_exception(demo):
    with demo.app_context():
        statuses = set(db.session.scalars(select(Contract.status).distinct()))
        assert statuses == set(ContractStatus)
        assert db.session.scalar(rules.gap_count_query()) >= 1
        assert db.session.scalar(select(func.count()).select_from(Approval).where(
            Approval.decision == Decision.APPROVED)) >= 1
        for contract in db.session.scalars(select(Contract).where(
                Contract.status.in_((ContractStatus.SIGNED, ContractStatus.IN_FORCE)))):
            missing = {c.code for c in rules.clause_gaps(contract)} - rules.excepted_codes(contract)
            assert contract.vendor.is_selected and not missing, contract.number
    client = demo.test_client()
    login_as(client, "auditor", DEMO_PASSWORD)
    dashboard = client.get("/").get_data(as_text=True)
    assert 'href="/contracts/?gaps=yes"' in dashboard
    listing = client.get("/contracts/?gaps=yes").get_data(as_text=True).split("<tbody>")[1]
    assert "R8-003" in listing and "R8-001" not in listing


def test_an_exception_is_only_for_a_draft(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor)
    sign_and_start(buyer, app, contract_id)
    response = buyer.post(f"/contracts/{contract_id}/exceptions", data={"clause": "C12", "reason": "後から"},
                          follow_redirects=True)
    assert "例外は締結前（起案）の契約についてのみ申請できます。" in response.get_data(as_text=True)
