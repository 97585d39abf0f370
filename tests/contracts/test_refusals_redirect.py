"""Issue 20: a POST that is refused redirects (Post/Redirect/Get).  A refused
signing, withdrawal or decision says why on the contract page it lands on;
reloading that page posts nothing again."""
from __future__ import annotations

from contracts.models import Contract, ContractStatus
from core.db import db
from tests import factories
from tests.contracts.test_selection_per_contract import draft


def test_a_refused_signing_redirects_to_the_contract_page_with_its_reason(buyer, app):
    contract_id = draft(app)  # no selection covers the contract: signing is refused
    refused = buyer.post(f"/contracts/{contract_id}/status", data={"status": "signed"})
    assert refused.status_code == 303
    assert refused.headers["Location"].endswith(f"/contracts/{contract_id}")
    page = buyer.get(refused.headers["Location"]).get_data(as_text=True)
    reason = "この契約を対象とする選定記録（選定する）がないため締結できません"
    assert reason in page
    # The page shown after the refusal is a GET: reloading it posts nothing, and the
    # flashed reason is gone (the page's own notice of the missing selection stays).
    again = buyer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert again.count(reason) == page.count(reason) - 1
    with app.app_context():
        assert db.session.get(Contract, contract_id).status is ContractStatus.DRAFT


def test_a_refused_move_redirects_too(buyer, app):
    with app.app_context():
        contract = factories.contract(status=ContractStatus.DRAFT)
        db.session.commit()
        contract_id = contract.id
    refused = buyer.post(f"/contracts/{contract_id}/status", data={"status": "ended"})
    assert refused.status_code == 303
    page = buyer.get(refused.headers["Location"]).get_data(as_text=True)
    assert "には変更できません" in page


