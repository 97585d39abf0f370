"""Renewal of single-year contracts (単年度契約の更新, issue 17): next year's
contract is a new draft that copies this one's vendor, classification,
clause matrix, subcontractors and verification cycle, and names this one as
its predecessor; one successor per contract.  The old contract's disposal
record (C09) may then say the data was handed over to the successor."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from contracts import rules, services
from contracts.models import (
    ClauseState,
    Contract,
    ContractKind,
    ContractStatus,
    DisposalMethod,
    Finding,
    Result,
    Subcontracting,
    Subcontractor,
    SubcontractorStatus,
    Verification,
)
from contracts.schedule import Cycle
from core.audit import AuditEntry
from core.db import db
from core.timeutil import today
from tests import factories
from tests.conftest import DEMO_PASSWORD, login_as

PDF = b"%PDF-1.4 certificate"


def rich_contract(**fields) -> Contract:
    """An in-force contract with something in every field a renewal copies."""
    officer = factories.user(None, "procurement")
    contract = factories.contract(
        status=fields.pop("status", ContractStatus.IN_FORCE), classification="C3B", personal=True,
        kind=ContractKind.DEVELOPMENT, unit=factories.unit(), officer=officer, include=("C17",),
        integrity_id=factories.level("I2").id, availability_id=factories.level("A2").id, handles_my_number=True,
        system_access=True, work_places="本庁舎3階サーバ室、受託者の開発拠点", subcontracting=Subcontracting.APPROVAL,
        verification_cycle=Cycle.QUARTERLY, start_on=dt.date(2025, 4, 1), end_on=dt.date(2026, 3, 31), **fields)
    contract.subcontractors.append(Subcontractor(name="株式会社再委託先", scope="テスト工程", approved_on=dt.date(2025, 5, 1),
                                                 status=SubcontractorStatus.APPROVED,
                                                 approver_id=officer.id))
    # Neither an ended subcontractor nor a request still awaiting its decision carries over.
    contract.subcontractors.append(Subcontractor(name="株式会社終了済", approved_on=dt.date(2025, 5, 1),
                                                 status=SubcontractorStatus.ENDED, approver_id=officer.id))
    contract.subcontractors.append(Subcontractor(name="株式会社申請中", status=SubcontractorStatus.PENDING,
                                                 requested_by_id=officer.id))
    db.session.flush()
    return contract


def renew(contract: Contract, number: str = "R8-100", **fields) -> Contract:
    return services.renew(contract, number=number, title=fields.pop("title", contract.title),
                          start_on=fields.pop("start_on", dt.date(2026, 4, 1)),
                          end_on=fields.pop("end_on", dt.date(2027, 3, 31)), user=factories.clerk(), **fields)


# --- the renewal copies the contract ---------------------------------------------------

def test_renewal_copies_the_contract_into_a_new_draft(app, users):
    with app.app_context():
        old = rich_contract()
        verification = factories.verification(old, results={"C05": Result.PARTLY})
        assert db.session.scalars(select(Finding).where(Finding.contract_id == old.id)).all()
        db.session.commit()
        old_version, old_matrix = old.version, {(r.clause_id, r.state, r.article, r.reason) for r in old.clauses}
        old_history = len(db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "contracts",
                                                                      AuditEntry.object_id == str(old.id))).all())

        new = renew(old, title="次年度の開発業務", start_on=dt.date(2026, 4, 1), end_on=dt.date(2027, 3, 31))
        db.session.commit()

        assert new.id != old.id and new.status is ContractStatus.DRAFT
        assert (new.number, new.title, new.start_on, new.end_on) == (
            "R8-100", "次年度の開発業務", dt.date(2026, 4, 1), dt.date(2027, 3, 31))
        assert new.predecessor is old and old.successor is new
        for name in ("vendor_id", "kind", "unit_id", "officer_id", "classification_id", "integrity_id",
                     "availability_id", "handles_personal_info", "handles_my_number", "system_access", "work_places",
                     "subcontracting", "verification_cycle"):
            assert getattr(new, name) == getattr(old, name), name
        assert {(r.clause_id, r.state, r.article, r.reason) for r in new.clauses} == old_matrix
        assert any(r.state is ClauseState.NOT_APPLICABLE and r.reason for r in new.clauses)
        assert [(s.name, s.scope, s.approved_on, s.approver_id) for s in new.subcontractors] == [
            ("株式会社再委託先", "テスト工程", dt.date(2025, 5, 1), old.subcontractors[0].approver_id)]
        assert new.subcontractors[0].id != old.subcontractors[0].id
        # Not copied: verifications, findings, exceptions, the document, the history.
        assert db.session.scalars(select(Verification).where(Verification.contract_id == new.id)).all() == []
        assert db.session.scalars(select(Finding).where(Finding.contract_id == new.id)).all() == []
        assert rules.exceptions(new) == [] and new.document is None and new.disposal is None
        assert verification.contract_id == old.id
        # The old contract and its history are not changed.
        db.session.refresh(old)
        assert old.version == old_version and old.status is ContractStatus.IN_FORCE
        assert len(db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "contracts",
                                                               AuditEntry.object_id == str(old.id))).all()) == old_history
        assert {(r.clause_id, r.state, r.article, r.reason) for r in old.clauses} == old_matrix


def test_renewal_defaults_are_the_same_title_and_the_next_period(app, users):
    with app.app_context():
        fiscal = factories.contract(status=ContractStatus.SIGNED, start_on=dt.date(2025, 4, 1),
                                    end_on=dt.date(2026, 3, 31))
        assert services.renewal_defaults(fiscal) == {"title": fiscal.title, "start_on": dt.date(2026, 4, 1),
                                                     "end_on": dt.date(2027, 3, 31)}
        shifted = factories.contract(status=ContractStatus.SIGNED, start_on=dt.date(2023, 6, 1),
                                     end_on=dt.date(2024, 2, 29))
        assert services.renewal_defaults(shifted)["start_on"] == dt.date(2024, 6, 1)
        assert services.renewal_defaults(shifted)["end_on"] == dt.date(2025, 2, 28)


def test_only_signed_in_force_or_ended_contracts_are_renewed(app, users):
    with app.app_context():
        for status in (ContractStatus.DRAFT, ContractStatus.WITHDRAWN, ContractStatus.TERMINATED):
            contract = factories.contract(status=status, classification="C1")
            with pytest.raises(rules.ContractRuleError, match="次年度の契約"):
                renew(contract, number=f"N-{status.value}")
        ended = factories.contract(status=ContractStatus.ENDED, classification="C1")
        assert renew(ended).predecessor is ended


def test_renewal_refuses_bad_input_and_saves_nothing(app, users):
    with app.app_context():
        old = factories.contract(status=ContractStatus.SIGNED)
        count = db.session.scalar(select(db.func.count()).select_from(Contract))
        with pytest.raises(rules.ContractRuleError, match="契約番号は既に使われています") as taken:
            renew(old, number=old.number)
        assert taken.value.field == "number"
        with pytest.raises(rules.ContractRuleError, match="終了日") as period:
            renew(old, start_on=dt.date(2027, 4, 1), end_on=dt.date(2026, 3, 31))
        assert period.value.field == "end_on"
        with pytest.raises(rules.ContractRuleError, match="件名") as title:
            renew(old, title="　 ")
        assert title.value.field == "title"
        assert db.session.scalar(select(db.func.count()).select_from(Contract)) == count
        # Text is normalised (NFKC): a full-width number is the same number.
        new = renew(old, number="Ｒ８－１００", title="ﾃｽﾄ業務")
        assert (new.number, new.title) == ("R8-100", "テスト業務")


# --- one successor per contract ---------------------------------------------------------

def test_a_second_renewal_is_refused(app, users):
    with app.app_context():
        old = factories.contract(status=ContractStatus.IN_FORCE)
        first = renew(old)
        with pytest.raises(rules.ContractRuleError, match="R8-100") as refused:
            renew(old, number="R8-101")
        assert "次年度の契約は既に作成されています" in str(refused.value)
        assert db.session.scalar(select(Contract).where(Contract.number == "R8-101")) is None
        assert old.successor is first


def test_one_successor_holds_at_the_database(app, users):
    """Two renewals at once both pass the check before either is saved: the
    unique predecessor_id refuses the second."""
    with app.app_context():
        old = factories.contract(status=ContractStatus.IN_FORCE)
        other = factories.contract(status=ContractStatus.DRAFT)
        db.session.commit()
        other.predecessor_id = old.id  # a parallel request's successor, already saved
        db.session.flush()
        duplicate = factories.contract(status=ContractStatus.DRAFT)
        duplicate.predecessor_id = old.id
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_a_parallel_second_renewal_is_refused_cleanly(app, users, monkeypatch):
    with app.app_context():
        old = factories.contract(status=ContractStatus.IN_FORCE)
        first = renew(old)
        db.session.commit()
        first_id = first.id
        real, calls = services.successor_of, []

        def not_yet(contract):  # the check ran before the parallel request saved its successor
            calls.append(contract)
            return None if len(calls) == 1 else real(contract)

        monkeypatch.setattr(services, "successor_of", not_yet)
        with pytest.raises(rules.ContractRuleError, match="次年度の契約は既に作成されています"):
            renew(old, number="R8-101")
        db.session.rollback()
        assert db.session.scalar(select(Contract).where(Contract.number == "R8-101")) is None
        assert db.session.get(Contract, first_id).predecessor_id == old.id


# --- through the pages ----------------------------------------------------------------

def make(app, **fields) -> int:
    with app.app_context():
        contract = rich_contract(**fields) if fields.pop("rich", False) else factories.contract(**fields)
        db.session.commit()
        return contract.id


def test_renewal_through_the_pages(buyer, app):
    old_id = make(app, rich=True)
    page = buyer.get(f"/contracts/{old_id}").get_data(as_text=True)
    assert "次年度の契約を作成" in page
    form = buyer.get(f"/contracts/{old_id}/renew")
    assert form.status_code == 200
    text = form.get_data(as_text=True)
    assert 'value="2026-04-01"' in text and 'value="2027-03-31"' in text
    response = buyer.post(f"/contracts/{old_id}/renew", data={
        "number": "R8-200", "title": "次年度の開発業務", "start_on": "2026-04-01", "end_on": "2027-03-31"})
    assert response.status_code == 302
    with app.app_context():
        new = db.session.scalar(select(Contract).where(Contract.number == "R8-200"))
        assert new.status is ContractStatus.DRAFT and new.predecessor_id == old_id
        assert response.headers["Location"].endswith(f"/contracts/{new.id}")
        new_id = new.id
    new_page = buyer.get(f"/contracts/{new_id}").get_data(as_text=True)
    assert "前年度の契約" in new_page and f'href="/contracts/{old_id}"' in new_page
    old_page = buyer.get(f"/contracts/{old_id}").get_data(as_text=True)
    assert "次年度の契約" in old_page and f'href="/contracts/{new_id}"' in old_page
    assert "次年度の契約を作成" not in old_page

    again = buyer.post(f"/contracts/{old_id}/renew", data={
        "number": "R8-201", "title": "二つ目", "start_on": "2026-04-01", "end_on": "2027-03-31"})
    assert again.status_code == 409
    text = again.get_data(as_text=True)
    assert "次年度の契約は既に作成されています" in text and f'href="/contracts/{new_id}"' in text
    with app.app_context():
        assert db.session.scalar(select(Contract).where(Contract.number == "R8-201")) is None


def test_renewal_form_refusals_through_the_pages(buyer, app):
    old_id = make(app, status=ContractStatus.SIGNED)
    with app.app_context():
        taken = db.session.get(Contract, old_id).number
    response = buyer.post(f"/contracts/{old_id}/renew", data={
        "number": taken, "title": "件名", "start_on": "2026-04-01", "end_on": "2027-03-31"})
    assert response.status_code == 400
    assert "この契約番号は既に使われています。" in response.get_data(as_text=True)
    response = buyer.post(f"/contracts/{old_id}/renew", data={
        "number": "R8-300", "title": "件名", "start_on": "2027-04-01", "end_on": "2026-03-31"})
    assert response.status_code == 400
    assert "終了日は開始日以降の日付にしてください。" in response.get_data(as_text=True)
    draft_id = make(app, status=ContractStatus.DRAFT)
    assert "次年度の契約を作成" not in buyer.get(f"/contracts/{draft_id}").get_data(as_text=True)
    refused = buyer.post(f"/contracts/{draft_id}/renew", data={
        "number": "R8-301", "title": "件名", "start_on": "2026-04-01", "end_on": "2027-03-31"})
    assert refused.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(Contract).where(Contract.number.in_(["R8-300", "R8-301"]))) is None


def test_renewal_page_speaks_english(buyer, app):
    old_id = make(app, status=ContractStatus.SIGNED)
    buyer.post("/language", data={"lang": "en", "next": "/"})
    text = buyer.get(f"/contracts/{old_id}/renew").get_data(as_text=True)
    assert "next year" in text.lower() and "次年度の契約を作成" not in text


# --- the disposal record may say: handed over to the successor -------------------------

def test_handover_needs_a_successor_with_the_same_vendor(app, users):
    with app.app_context():
        user = factories.clerk()
        alone = factories.contract(status=ContractStatus.IN_FORCE, classification="C3B", personal=True)
        with pytest.raises(rules.ContractRuleError, match="後継契約") as refused:
            rules.record_disposal(alone, done_on=today(), method=DisposalMethod.HANDOVER, detail=None, evidence=None,
                                  user=user)
        assert refused.value.field == "method" and alone.disposal is None

        other_vendor = factories.contract(status=ContractStatus.IN_FORCE, classification="C3B", personal=True)
        successor = renew(other_vendor)
        successor.vendor = factories.vendor()
        db.session.flush()
        with pytest.raises(rules.ContractRuleError, match="同じ委託事業者"):
            rules.record_disposal(other_vendor, done_on=today(), method=DisposalMethod.HANDOVER, detail=None,
                                  evidence=None, user=user)

        withdrawn = factories.contract(status=ContractStatus.IN_FORCE, classification="C2")
        rules.change_status(renew(withdrawn, number="R8-102"), ContractStatus.WITHDRAWN, user=user)
        with pytest.raises(rules.ContractRuleError, match="後継契約"):
            rules.record_disposal(withdrawn, done_on=today(), method=DisposalMethod.HANDOVER, detail=None,
                                  evidence=None, user=user)
        assert other_vendor.disposal is None and withdrawn.disposal is None


def test_handover_to_the_successor_needs_no_certificate_whatever_the_class(app, users):
    with app.app_context():
        user = factories.clerk()
        old = factories.contract(status=ContractStatus.IN_FORCE, classification="C3A", personal=True)
        successor = renew(old)
        assert DisposalMethod.HANDOVER in rules.disposal_methods(old)
        disposal = services.record_disposal(old, done_on=today(), method=DisposalMethod.HANDOVER,
                                            detail="次年度契約で同じ事業者が引き続き保有", upload=None, user=user)
        assert disposal.kind is DisposalMethod.HANDOVER and disposal.evidence is None
        rules.change_status(old, ContractStatus.ENDED, user=user)
        assert old.status is ContractStatus.ENDED and old.successor is successor
        # Other methods still need their evidence.
        plain = factories.contract(status=ContractStatus.IN_FORCE, classification="C2")
        with pytest.raises(rules.ContractRuleError, match="証明する書類"):
            services.record_disposal(plain, done_on=today(), method=DisposalMethod.RETURN, detail=None, upload=None,
                                     user=user)
        assert DisposalMethod.HANDOVER not in rules.disposal_methods(plain)


def post_disposal(client, contract_id: int, method: str, evidence: bool = False):
    data = {"done_on": today().isoformat(), "method": method, "detail": "引継ぎ"}
    if evidence:
        data["evidence"] = (io.BytesIO(PDF), "証明書.pdf")
    return client.post(f"/contracts/{contract_id}/disposal", content_type="multipart/form-data", data=data)


def test_handover_through_the_pages(buyer, app):
    alone_id = make(app, status=ContractStatus.IN_FORCE, classification="C3B", personal=True)
    refused = post_disposal(buyer, alone_id, "handover")
    assert refused.status_code == 400
    assert "後継契約がありません" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Contract, alone_id).disposal is None

    old_id = make(app, status=ContractStatus.IN_FORCE, classification="C3B", personal=True)
    assert buyer.post(f"/contracts/{old_id}/renew", data={
        "number": "R8-400", "title": "次年度", "start_on": "2026-04-01", "end_on": "2027-03-31"}).status_code == 302
    with app.app_context():
        new = db.session.scalar(select(Contract).where(Contract.number == "R8-400"))
        new_id = new.id
        new.vendor = factories.vendor()
        db.session.commit()
    refused = post_disposal(buyer, old_id, "handover")
    assert refused.status_code == 400
    assert "同じ委託事業者" in refused.get_data(as_text=True)
    with app.app_context():
        new = db.session.get(Contract, new_id)
        new.vendor_id = db.session.get(Contract, old_id).vendor_id
        db.session.commit()
    # Still no evidence: other methods ask for it.
    assert "返却・消去を証明する書類を添付してください。" in post_disposal(buyer, old_id, "erasure").get_data(as_text=True)
    assert post_disposal(buyer, old_id, "handover").status_code == 302
    page = buyer.get(f"/contracts/{old_id}").get_data(as_text=True)
    assert "後継契約へ引継ぎ" in page and f'href="/contracts/{new_id}"' in page
    assert buyer.post(f"/contracts/{old_id}/status", data={"status": "ended"}).status_code == 302


# --- the demo -------------------------------------------------------------------------

def test_the_demo_shows_a_renewal_with_its_handover(demo, client):
    with demo.app_context():
        old = db.session.scalar(select(Contract).where(Contract.number == "R7-005"))
        new = db.session.scalar(select(Contract).where(Contract.number == "R8-005"))
        assert old.status is ContractStatus.ENDED and new.status is ContractStatus.IN_FORCE
        assert new.predecessor_id == old.id and new.vendor_id == old.vendor_id
        assert old.disposal.kind is DisposalMethod.HANDOVER and old.disposal.evidence is None
        assert {r.clause_id for r in new.clauses} == {r.clause_id for r in old.clauses}
        old_id, new_id = old.id, new.id
    login_as(client, "procurement", DEMO_PASSWORD)
    page = client.get(f"/contracts/{old_id}").get_data(as_text=True)
    assert "後継契約へ引継ぎ" in page and f'href="/contracts/{new_id}"' in page


def test_the_checklist_names_the_successor_of_a_handover(buyer, app):
    from tests.conftest import read_pdf

    with app.app_context():
        old = factories.contract(status=ContractStatus.IN_FORCE, classification="C2")
        renew(old, number="R8-500")
        rules.record_disposal(old, done_on=today(), method=DisposalMethod.HANDOVER, detail=None, evidence=None,
                              user=factories.clerk())
        db.session.commit()
        old_id = old.id
    _pages, text = read_pdf(buyer.get(f"/contracts/{old_id}/checklist.pdf"))
    assert "後継契約へ引継ぎ（R8-500）" in text
