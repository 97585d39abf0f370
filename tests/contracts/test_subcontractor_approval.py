"""Issue 17, re-subcontracting (C08): a subcontractor is requested with the
approval document and decided by someone other than the requester (an
administrator, an approver or the security lead); only approved ones count
as the contract's subcontractors; an approved one is ended, never deleted."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from contracts import documents, services
from contracts.models import Contract, ContractStatus, Subcontracting, Subcontractor, SubcontractorStatus
from contracts.rules import ContractRuleError
from core import timeutil
from core.db import db
from core.inspection import Scope
from core.models import Role, User
from tests import factories
from tests.conftest import DEMO_PASSWORD, login_as, read_pdf

PDF = b"%PDF-1.4 subcontracting approval"


def upload(name: str = "再委託承認申請書.pdf") -> FileStorage:
    return FileStorage(io.BytesIO(PDF), filename=name)


def make_contract(app, *, subcontracting: Subcontracting = Subcontracting.APPROVAL,
                  status: ContractStatus = ContractStatus.SIGNED) -> int:
    with app.app_context():
        contract = factories.contract(status=status, subcontracting=subcontracting)
        db.session.commit()
        return contract.id


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def rows(app, contract_id: int) -> list[tuple[str, SubcontractorStatus]]:
    with app.app_context():
        return [(s.name, s.status) for s in db.session.scalars(
            select(Subcontractor).where(Subcontractor.contract_id == contract_id).order_by(Subcontractor.id))]


def request_via_page(client, contract_id: int, *, name: str = "株式会社再委託", document: bool = True,
                     follow_redirects: bool = False, **extra):
    data = {"name": name, "scope": "サーバ監視", **extra}
    if document:
        data["document"] = (io.BytesIO(PDF), "承諾書.pdf")
    return client.post(f"/contracts/{contract_id}/subcontractors", data=data, content_type="multipart/form-data",
                       follow_redirects=follow_redirects)


def pending(app, contract_id: int, requester: str = "procurement", **fields) -> int:
    """A pending request by ``requester``, made through the service."""
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        user = db.session.scalar(select(User).where(User.username == requester))
        row = services.request_subcontractor(contract, name=fields.pop("name", "株式会社再委託"), scope="保守",
                                             document=upload(), user=user, **fields)
        db.session.commit()
        return row.id


# --- requesting -------------------------------------------------------------------------

def test_request_without_document_is_refused_through_the_page(buyer, app):
    contract_id = make_contract(app)
    response = request_via_page(buyer, contract_id, document=False)
    assert response.status_code == 400
    assert "再委託承認申請書" in response.get_data(as_text=True)
    assert rows(app, contract_id) == []


def test_request_with_document_is_pending_through_the_page(buyer, app):
    contract_id = make_contract(app)
    response = request_via_page(buyer, contract_id)
    assert response.status_code == 302
    assert rows(app, contract_id) == [("株式会社再委託", SubcontractorStatus.PENDING)]
    page = buyer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "株式会社再委託" in page and "承認待ち" in page


def test_request_without_document_is_refused_by_the_service(app, users):
    contract_id = make_contract(app)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        user = db.session.get(User, users["procurement"])
        with pytest.raises(ContractRuleError, match="再委託承認申請書"):
            services.request_subcontractor(contract, name="株式会社再委託", scope=None, document=None, user=user)
        db.session.rollback()
    assert rows(app, contract_id) == []


def test_prohibited_subcontracting_refuses_requests(buyer, app, users):
    contract_id = make_contract(app, subcontracting=Subcontracting.PROHIBITED)
    response = request_via_page(buyer, contract_id, follow_redirects=True)
    assert response.history[0].status_code == 303
    assert "再委託を禁止しています" in response.get_data(as_text=True)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        with pytest.raises(ContractRuleError, match="再委託を禁止"):
            services.request_subcontractor(contract, name="X", scope=None, document=upload(),
                                           user=db.session.get(User, users["procurement"]))
    assert rows(app, contract_id) == []


# --- deciding: four eyes ------------------------------------------------------------------

def test_requester_cannot_decide_even_holding_the_approver_role(app, users):
    contract_id = make_contract(app)
    with app.app_context():
        both_id = factories.user("both", Role.PROCUREMENT, Role.APPROVER).id
        db.session.commit()
    row_id = pending(app, contract_id, requester="both")
    client = app.test_client()
    login_as(client, "both")
    for decision in ("approve", "reject"):
        response = client.post(f"/contracts/{contract_id}/subcontractors/{row_id}/{decision}", data={"comment": "可"},
                               follow_redirects=True)
        assert response.history[0].status_code == 303
        assert "申請者本人" in response.get_data(as_text=True)
    assert rows(app, contract_id) == [("株式会社再委託", SubcontractorStatus.PENDING)]
    with app.app_context():
        row = db.session.get(Subcontractor, row_id)
        with pytest.raises(ContractRuleError, match="申請者本人"):
            services.decide_subcontractor(row, approve=True, comment=None, user=db.session.get(User, both_id))


@pytest.mark.parametrize("role", ["approver", "admin", "lead"])
def test_another_person_approves(app, users, role):
    contract_id = make_contract(app)
    row_id = pending(app, contract_id)
    client = app.test_client()
    login_as(client, role)
    response = client.post(f"/contracts/{contract_id}/subcontractors/{row_id}/approve", data={"comment": "承諾書を確認"})
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(Subcontractor, row_id)
        assert row.status is SubcontractorStatus.APPROVED
        assert row.approver_id == users[role] and row.approved_on == timeutil.today()


def test_another_person_rejects_through_the_service(app, users):
    contract_id = make_contract(app)
    row_id = pending(app, contract_id)
    with app.app_context():
        row = db.session.get(Subcontractor, row_id)
        services.decide_subcontractor(row, approve=False, comment="範囲が不明確",
                                      user=db.session.get(User, users["approver"]))
        db.session.commit()
    assert rows(app, contract_id) == [("株式会社再委託", SubcontractorStatus.REJECTED)]


def test_a_procurement_officer_or_verifier_may_not_decide(app, users):
    contract_id = make_contract(app)
    row_id = pending(app, contract_id, requester="admin")
    for role in ("procurement", "verifier"):
        client = app.test_client()
        login_as(client, role)
        assert client.post(f"/contracts/{contract_id}/subcontractors/{row_id}/approve").status_code == 403
    with app.app_context():
        row = db.session.get(Subcontractor, row_id)
        with pytest.raises(ContractRuleError):
            services.decide_subcontractor(row, approve=True, comment=None,
                                          user=db.session.get(User, users["procurement"]))
    assert rows(app, contract_id)[0][1] is SubcontractorStatus.PENDING


def test_withdrawn_by_its_requester_only(app, users):
    contract_id = make_contract(app)
    row_id = pending(app, contract_id)
    other = app.test_client()
    with app.app_context():
        factories.user("buyer2", Role.PROCUREMENT)
        db.session.commit()
    login_as(other, "buyer2")
    response = other.post(f"/contracts/{contract_id}/subcontractors/{row_id}/withdraw", follow_redirects=True)
    assert response.history[0].status_code == 303 and "申請者" in response.get_data(as_text=True)
    requester = app.test_client()
    login_as(requester, "procurement")
    assert requester.post(f"/contracts/{contract_id}/subcontractors/{row_id}/withdraw").status_code == 302
    assert rows(app, contract_id) == [("株式会社再委託", SubcontractorStatus.WITHDRAWN)]


# --- ended, never deleted -----------------------------------------------------------------

def approved(app, contract_id: int, users, **fields) -> int:
    row_id = pending(app, contract_id, **fields)
    with app.app_context():
        services.decide_subcontractor(db.session.get(Subcontractor, row_id), approve=True, comment=None,
                                      user=db.session.get(User, users["approver"]))
        db.session.commit()
    return row_id


def test_approved_subcontractor_is_not_deleted_but_ended(buyer, app, users):
    contract_id = make_contract(app)
    row_id = approved(app, contract_id, users)
    response = buyer.post(f"/contracts/{contract_id}/subcontractors/{row_id}/delete", follow_redirects=True)
    assert "削除できません" in response.get_data(as_text=True)
    assert rows(app, contract_id) == [("株式会社再委託", SubcontractorStatus.APPROVED)]
    response = buyer.post(f"/contracts/{contract_id}/subcontractors/{row_id}/end",
                          data={"ended_on": timeutil.today().isoformat(), "end_reason": ""}, follow_redirects=True)
    assert response.history[0].status_code == 303 and "終了の理由を入力してください" in response.get_data(as_text=True)
    assert rows(app, contract_id)[0][1] is SubcontractorStatus.APPROVED
    response = buyer.post(f"/contracts/{contract_id}/subcontractors/{row_id}/end",
                          data={"ended_on": timeutil.today().isoformat(), "end_reason": "監視業務を内製化"})
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(Subcontractor, row_id)
        assert row.status is SubcontractorStatus.ENDED and row.end_reason == "監視業務を内製化"
        assert row.ended_on == timeutil.today()
        with pytest.raises(ContractRuleError, match="削除できません"):
            services.delete_subcontractor(row)


def test_end_at_the_service_needs_an_approved_one_and_a_reason(app, users):
    contract_id = make_contract(app)
    row_id = pending(app, contract_id)
    with app.app_context():
        row = db.session.get(Subcontractor, row_id)
        user = db.session.get(User, users["procurement"])
        with pytest.raises(ContractRuleError):
            services.end_subcontractor(row, ended_on=timeutil.today(), reason="不要", user=user)
    row_id = approved(app, contract_id, users, name="株式会社二番")
    with app.app_context():
        row = db.session.get(Subcontractor, row_id)
        user = db.session.get(User, users["procurement"])
        with pytest.raises(ContractRuleError):
            services.end_subcontractor(row, ended_on=timeutil.today(), reason="  ", user=user)
        with pytest.raises(ContractRuleError):
            services.end_subcontractor(row, ended_on=timeutil.today() + dt.timedelta(days=3), reason="不要", user=user)
        services.end_subcontractor(row, ended_on=timeutil.today(), reason="不要", user=user)
        db.session.commit()
        assert row.status is SubcontractorStatus.ENDED


# --- only approved ones count ----------------------------------------------------------------

def test_pending_does_not_print_or_count(app, users):
    contract_id = make_contract(app)
    pending(app, contract_id, name="承認待ち株式会社")
    approved(app, contract_id, users, name="承認済み株式会社")
    client = app.test_client()
    login_as(client, "procurement")
    _pages, text = read_pdf(client.get(f"/contracts/{contract_id}/checklist.pdf"))
    assert "承認済み株式会社" in text and "承認待ち株式会社" not in text
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        assert [s.name for s in contract.approved_subcontractors] == ["承認済み株式会社"]
        scope = Scope(timeutil.fiscal_year(timeutil.today()))
        assert documents.facts(scope)["OUT-04"].startswith("承認済みの再委託先がある契約 1件")


def test_only_pending_counts_nothing(app, users):
    contract_id = make_contract(app)
    pending(app, contract_id, name="承認待ち株式会社")
    client = app.test_client()
    login_as(client, "procurement")
    _pages, text = read_pdf(client.get(f"/contracts/{contract_id}/checklist.pdf"))
    assert "承認待ち株式会社" not in text
    with app.app_context():
        scope = Scope(timeutil.fiscal_year(timeutil.today()))
        assert documents.facts(scope)["OUT-04"].startswith("承認済みの再委託先がある契約 0件")


# --- the vendor link ------------------------------------------------------------------------

def test_full_width_corporate_number_finds_the_vendor(buyer, app, users):
    contract_id = make_contract(app)
    with app.app_context():
        vendor = factories.vendor("株式会社札幌データセンター", selected=False)
        db.session.commit()
        vendor_id, number = vendor.id, vendor.corporate_number
    wide = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    response = request_via_page(buyer, contract_id, corporate_number=wide)
    assert response.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(Subcontractor).where(Subcontractor.contract_id == contract_id))
        assert row.vendor_id == vendor_id
        services.decide_subcontractor(row, approve=True, comment=None, user=db.session.get(User, users["approver"]))
        db.session.commit()
    page = buyer.get(f"/vendors/{vendor_id}").get_data(as_text=True)
    assert "再委託先としての契約" in page
    with app.app_context():
        contract_number = db.session.get(Contract, contract_id).number
    assert contract_number in page


@pytest.mark.parametrize("number, message", [("1234567890123", "チェックデジット"), ("12345", "13桁"),
                                             ("123456789012A", "13桁"), ("7000012050002".translate(str.maketrans("0123456789", "０１２３４５６７８９")), "登録されていません")])
def test_a_bad_corporate_number_is_refused(buyer, app, number, message):
    contract_id = make_contract(app)
    response = request_via_page(buyer, contract_id, corporate_number=number)
    assert response.status_code in (400, 409)
    assert message in response.get_data(as_text=True)
    assert rows(app, contract_id) == []


def test_an_unknown_corporate_number_is_refused_by_the_service(app, users):
    contract_id = make_contract(app)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        base = "430009999999"
        number = f"{factories.corporate_number_check_digit(base)}{base}"
        with pytest.raises(ContractRuleError, match="登録されていません"):
            services.request_subcontractor(contract, name="X", scope=None, document=upload(), corporate_number=number,
                                           user=db.session.get(User, users["procurement"]))
        db.session.rollback()
    assert rows(app, contract_id) == []


def test_the_demo_shows_each_state(demo):
    with demo.app_context():
        found = {s.status: s for s in db.session.scalars(select(Subcontractor))}
        assert {SubcontractorStatus.APPROVED, SubcontractorStatus.PENDING, SubcontractorStatus.ENDED} <= set(found)
        approved_row = found[SubcontractorStatus.APPROVED]
        assert approved_row.vendor_id is not None and approved_row.document_id is not None
        assert approved_row.requested_by.username == "procurement" and approved_row.approver.username == "approver"
        assert db.session.scalar(select(func.count()).select_from(Subcontractor)
                                 .where(Subcontractor.document_id.is_(None))) == 0
        contract_id, vendor_id = approved_row.contract_id, approved_row.vendor_id
        assert found[SubcontractorStatus.ENDED].end_reason
    client = demo.test_client()
    login_as(client, "procurement", DEMO_PASSWORD)
    page = client.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert all(word in page for word in ("承認待ち", "承認", "終了", "承諾書"))
    assert "再委託先としての契約" in client.get(f"/vendors/{vendor_id}").get_data(as_text=True)


def test_the_migration_keeps_existing_subcontractors_approved(app, users):
    """Rows typed in before requests existed become 承認 and keep their date and approver (migration 0019)."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    contract_id = make_contract(app)
    with app.app_context():
        db.session.remove()  # the migration alters the table (PostgreSQL waits for open reads)
        downgrade(revision="0019")
        downgrade(revision="-1")  # to the revision before 0019, whichever it is
        db.session.execute(text(
            "INSERT INTO subcontractors (contract_id, name, scope, approved_on, approver_id, created_at, updated_at,"
            " version) VALUES (:contract, '旧来の再委託先', '監視', :on, :approver, :now, :now, 1)"),
            {"contract": contract_id, "on": dt.date(2026, 5, 1), "approver": users["procurement"],
             "now": dt.datetime(2026, 5, 1, 9, 0)})
        db.session.commit()
        db.session.remove()
        upgrade()
        row = db.session.scalar(select(Subcontractor).where(Subcontractor.name == "旧来の再委託先"))
        assert row.status is SubcontractorStatus.APPROVED
        assert row.approved_on == dt.date(2026, 5, 1) and row.approver_id == users["procurement"]
        assert [s.name for s in row.contract.approved_subcontractors] == ["旧来の再委託先"]


def test_the_pages_offer_the_decision_to_others_only(app, users):
    contract_id = make_contract(app)
    row_id = pending(app, contract_id)
    decide_url = f"/contracts/{contract_id}/subcontractors/{row_id}/approve"
    requester = app.test_client()
    login_as(requester, "procurement")
    page = requester.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert "承認待ち" in page and "取り下げる" in page and decide_url not in page
    assert requester.get("/contracts/subcontractors/requests").status_code == 403
    lead = app.test_client()
    login_as(lead, "lead")
    page = lead.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert decide_url in page and "取り下げる" not in page
    # An approver reads no contract page: the requests awaiting a decision, with their document, are theirs.
    approver = app.test_client()
    login_as(approver, "approver")
    dashboard = approver.get("/").get_data(as_text=True)
    assert "/contracts/subcontractors/requests" in dashboard
    listing = approver.get("/contracts/subcontractors/requests").get_data(as_text=True)
    assert decide_url in listing and "株式会社再委託" in listing
    document = approver.get(f"/contracts/{contract_id}/subcontractors/{row_id}/document")
    assert document.data == PDF
    document.close()
    response = approver.post(decide_url, data={"comment": "承諾書を確認", "back": "requests"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/contracts/subcontractors/requests")
    assert "承認待ちの再委託はありません" in approver.get("/contracts/subcontractors/requests").get_data(as_text=True)
    approver.post("/language", data={"lang": "en"})
    english = approver.get("/contracts/subcontractors/requests").get_data(as_text=True)
    assert "承認待ちの再委託はありません" not in english


def test_the_on_site_sheet_lists_approved_subcontractors_only(app, users):
    contract_id = make_contract(app)
    pending(app, contract_id, name="承認待ち株式会社")
    approved(app, contract_id, users, name="承認済み株式会社")
    client = app.test_client()
    login_as(client, "verifier")
    _pages, text = read_pdf(client.get(f"/contracts/{contract_id}/sheet.pdf"))
    assert "承認済み株式会社" in text and "承認待ち株式会社" not in text


def test_subcontracting_cannot_be_prohibited_while_a_subcontractor_is_approved(buyer, app, users):
    from tests.contracts.test_contract_register import contract_data

    contract_id = make_contract(app, status=ContractStatus.DRAFT)
    row_id = approved(app, contract_id, users)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        data = contract_data(app, contract.vendor_id, number=contract.number, subcontracting="prohibited",
                             version=str(contract.version))
    response = buyer.post(f"/contracts/{contract_id}/edit", data=data)
    assert response.status_code == 400 and "「禁止」にできません" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Contract, contract_id).subcontracting is Subcontracting.APPROVAL
        services.end_subcontractor(db.session.get(Subcontractor, row_id), ended_on=timeutil.today(), reason="完了",
                                   user=db.session.get(User, users["procurement"]))
        db.session.commit()
    assert buyer.post(f"/contracts/{contract_id}/edit", data=data).status_code == 302
    with app.app_context():
        assert db.session.get(Contract, contract_id).subcontracting is Subcontracting.PROHIBITED


def test_a_vendor_named_as_subcontractor_is_not_deleted(app, users):
    from vendors import services as vendor_services
    from vendors.models import Vendor
    from vendors.services import VendorRuleError

    contract_id = make_contract(app)
    with app.app_context():
        vendor = factories.vendor("株式会社再委託先", selected=False)
        db.session.commit()
        vendor_id = vendor.id
    pending(app, contract_id, vendor_id=vendor_id)
    with app.app_context():
        with pytest.raises(VendorRuleError):
            vendor_services.delete_vendor(db.session.get(Vendor, vendor_id))
