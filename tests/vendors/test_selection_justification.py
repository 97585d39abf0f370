"""Issue 17: a 選定 decision with any criterion 不適合 needs a written
justification and the approval of another person (an administrator, an
approver or the security lead, never the recorder).  Until approved it is
not a positive selection; rejected, the vendor is not selected."""
from __future__ import annotations

import datetime as dt

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from core import timeutil
from core.approvals import Approval, ApprovalError, Decision
from core.db import db
from core.models import User
from tests import factories
from tests.conftest import login_as
from tests.vendors.test_vendor_register import register_vendor
from vendors import services
from vendors.models import Assessment, Selection, SelectionDecision, Vendor, VendorStatus

REASON = "同種業務の実績はないが、ISMS認証と体制で補えるため"


def form_data(app, *, not_met: str | None = "SEL03", justification: str = "", decision: str = "selected",
              confirm: bool = True) -> dict:
    """The selection form's input; ``confirm``: the 不適合 warning's confirmation ticked (issue 20)."""
    with app.app_context():
        criteria = [(c.id, c.code) for c in services.active_criteria()]
    data = {"decided_on": timeutil.today().isoformat(), "decision": decision, "notes": "総合評価",
            "justification": justification}
    if confirm:
        data["confirm_not_met"] = "y"
    for i, (criterion_id, code) in enumerate(criteria):
        data[f"assessments-{i}-criterion_id"] = str(criterion_id)
        data[f"assessments-{i}-result"] = "not_met" if code == not_met else "met"
        data[f"assessments-{i}-comment"] = "実績なし" if code == not_met else ""
    return data


def selections(app, vendor_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Selection).where(Selection.vendor_id == vendor_id))


def latest(app, vendor_id: int) -> tuple[str, bool, VendorStatus, int | None]:
    """(state, vendor selected?, vendor status, id of the selection when it has an approval)."""
    with app.app_context():
        vendor = db.session.get(Vendor, vendor_id)
        selection = vendor.latest_selection
        return selection.state, vendor.is_selected, vendor.status, selection.id if selection.approval_id else None


def results(not_met: str | None = "SEL03") -> dict:
    return {c.id: (Assessment.NOT_MET if c.code == not_met else Assessment.MET, "実績なし" if c.code == not_met else None)
            for c in services.active_criteria()}


# --- through the pages ---------------------------------------------------------------

def test_a_not_met_selection_without_justification_is_refused(buyer, app):
    vendor_id = register_vendor(buyer)
    response = buyer.post(f"/vendors/{vendor_id}/selection/new", data=form_data(app, justification="　"))
    assert response.status_code == 400
    assert "「不適合」の基準があるまま選定するには、その理由を記載してください。" in response.get_data(as_text=True)
    assert selections(app, vendor_id) == 0


def test_a_not_met_selection_waits_for_another_persons_approval(buyer, app):
    vendor_id = register_vendor(buyer)
    response = buyer.post(f"/vendors/{vendor_id}/selection/new", data=form_data(app, justification=REASON))
    assert response.status_code == 302, response.get_data(as_text=True)
    state, selected, status, selection_id = latest(app, vendor_id)
    assert (state, selected, status) == ("pending", False, VendorStatus.CANDIDATE)
    page = buyer.get(f"/vendors/{vendor_id}").get_data(as_text=True)
    assert "不適合の理由 承認待ち" in page and REASON in page
    # The recorder cannot approve it.
    refused = buyer.post(f"/vendors/{vendor_id}/selections/{selection_id}/approve", data={"comment": "自分で"})
    assert refused.status_code in (403, 409)
    assert latest(app, vendor_id)[0] == "pending"
    # The pending decision is where the deciders look.
    approver = app.test_client()
    login_as(approver, "approver")
    assert REASON in approver.get("/vendors/selections/pending").get_data(as_text=True)
    approved = approver.post(f"/vendors/{vendor_id}/selections/{selection_id}/approve", data={"comment": "妥当"})
    assert approved.status_code == 302
    assert latest(app, vendor_id)[:3] == ("selected", True, VendorStatus.SELECTED)
    assert REASON not in approver.get("/vendors/selections/pending").get_data(as_text=True)


def test_a_rejected_justification_leaves_the_vendor_unselected(buyer, app):
    vendor_id = register_vendor(buyer)
    buyer.post(f"/vendors/{vendor_id}/selection/new", data=form_data(app, justification=REASON))
    selection_id = latest(app, vendor_id)[3]
    lead = app.test_client()
    login_as(lead, "lead")
    assert lead.post(f"/vendors/{vendor_id}/selections/{selection_id}/reject", data={"comment": "不可"}).status_code == 302
    assert latest(app, vendor_id)[:3] == ("rejected", False, VendorStatus.CANDIDATE)
    assert "不適合の理由 却下" in buyer.get(f"/vendors/{vendor_id}").get_data(as_text=True)


def test_a_verifier_cannot_decide_a_justification(buyer, app):
    vendor_id = register_vendor(buyer)
    buyer.post(f"/vendors/{vendor_id}/selection/new", data=form_data(app, justification=REASON))
    selection_id = latest(app, vendor_id)[3]
    verifier = app.test_client()
    login_as(verifier, "verifier")
    assert verifier.post(f"/vendors/{vendor_id}/selections/{selection_id}/approve").status_code == 403
    assert latest(app, vendor_id)[0] == "pending"


def test_an_all_met_selection_needs_no_justification(buyer, app):
    vendor_id = register_vendor(buyer)
    response = buyer.post(f"/vendors/{vendor_id}/selection/new", data=form_data(app, not_met=None))
    assert response.status_code == 302
    assert latest(app, vendor_id) == ("selected", True, VendorStatus.SELECTED, None)


# --- at the service layer ------------------------------------------------------------

def test_service_refuses_a_not_met_selection_without_justification(app, users):
    with app.test_request_context():
        vendor = factories.vendor(selected=False, status=VendorStatus.CANDIDATE)
        with pytest.raises(services.VendorRuleError, match="理由を記載してください") as refused:
            services.record_selection(vendor, decided_on=timeutil.today(), decision=SelectionDecision.SELECTED,
                                      user=factories.clerk(), notes=None, results=results(), justification=" ")
        assert refused.value.field == "justification"
        with force_locale("en"):
            with pytest.raises(services.VendorRuleError, match="justification"):
                services.record_selection(vendor, decided_on=timeutil.today(),
                                          decision=SelectionDecision.SELECTED, user=factories.clerk(),
                                          notes=None, results=results(), justification=None)
        assert not vendor.selections
        # 選定しない needs no justification.
        services.record_selection(vendor, decided_on=timeutil.today(), decision=SelectionDecision.NOT_SELECTED,
                                  user=factories.clerk(), notes=None, results=results())


def test_service_four_eyes_and_deciders(app, users):
    with app.test_request_context():
        recorder = db.session.scalar(select(User).where(User.username == "approver"))
        vendor = factories.vendor(selected=False, status=VendorStatus.CANDIDATE)
        selection = services.record_selection(
            vendor, decided_on=timeutil.today() - dt.timedelta(days=1), decision=SelectionDecision.SELECTED,
            user=recorder, notes=None, results=results(), justification=f"  {REASON}  ")
        assert selection.justification == REASON and selection.approval.kind == services.JUSTIFICATION
        assert not vendor.is_selected and selection in services.pending_justifications()
        with pytest.raises(ApprovalError, match="申請者本人は承認できません"):
            services.decide_justification(selection, approver=recorder, approve=True)
        verifier = db.session.scalar(select(User).where(User.username == "verifier"))
        with pytest.raises(services.VendorRuleError):
            services.decide_justification(selection, approver=verifier, approve=True)
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        services.decide_justification(selection, approver=admin, approve=True, comment="妥当")
        assert selection.approval.decision is Decision.APPROVED and vendor.is_selected
        assert vendor.status is VendorStatus.SELECTED and not services.pending_justifications()
        assert db.session.scalar(select(func.count()).select_from(Approval)) == 1


def test_the_pending_justification_is_where_deciders_look(buyer, app):
    from core import due

    vendor_id = register_vendor(buyer)
    buyer.post(f"/vendors/{vendor_id}/selection/new", data=form_data(app, justification=REASON))
    selection_id = latest(app, vendor_id)[3]
    with app.test_request_context():
        items = [item for item in due.all_items() if item.kind == "selection_justification"]
        assert [item.key for item in items] == [f"selection_justification:{selection_id}"]
        assert items[0].owner_id is None and "株式会社テスト情報" in items[0].title
    for role in ("approver", "lead", "admin"):
        decider = app.test_client()
        login_as(decider, role)
        dashboard = decider.get("/").get_data(as_text=True)
        assert 'href="/vendors/selections/pending"' in dashboard, role
    assert 'href="/vendors/selections/pending"' not in buyer.get("/").get_data(as_text=True)
    admin = app.test_client()
    login_as(admin, "admin")
    admin.post(f"/vendors/{vendor_id}/selections/{selection_id}/approve")
    with app.test_request_context():
        assert not [item for item in due.all_items() if item.kind == "selection_justification"]


def test_a_pending_reselection_leaves_the_earlier_decision_standing(app, users):
    with app.test_request_context():
        vendor = factories.vendor()  # selected 30 days ago, every criterion met
        recorder = factories.clerk()
        selection = services.record_selection(vendor, decided_on=timeutil.today(),
                                              decision=SelectionDecision.SELECTED, user=recorder, notes=None,
                                              results=results(), justification=REASON)
        db.session.refresh(vendor)
        assert vendor.latest_selection is selection and selection.state == "pending"
        assert vendor.is_selected and vendor.settled_selection is not selection
        assert services.valid_selection(vendor) is vendor.settled_selection
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        services.decide_justification(selection, approver=admin, approve=False, comment="不可")
        assert selection.state == "rejected" and not vendor.is_selected and services.valid_selection(vendor) is None
