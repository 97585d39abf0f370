"""Issue 20: a clause exception's expiry date (有効期限), required when it is
approved, is shown on the contract — 期限なし for exceptions approved before
dates were asked for — and comes to the officer as a due item (reminders,
calendar) before and when it expires."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from contracts import due, rules
from contracts.models import Contract, ContractStatus
from core.approvals import Approval
from core.db import db
from core.due import all_items
from core.reminders import threshold_for
from core.timeutil import today
from tests import factories
from tests.conftest import login_as


def signed_with_exception(app, *, expires_in: int | None) -> tuple[int, int]:
    """A signed contract without C12, its exception approved, expiring in ``expires_in`` days (None: no date)."""
    with app.app_context():
        contract = factories.contract(status=ContractStatus.SIGNED, left_out=("C12",))
        approval = db.session.scalar(select(Approval).where(Approval.kind == rules.EXCEPTION,
                                                            Approval.subject_id == contract.id))
        approval.expires_on = None if expires_in is None else today() + dt.timedelta(days=expires_in)
        db.session.commit()
        return contract.id, approval.id


def page(app, contract_id: int) -> str:
    client = app.test_client()
    login_as(client, "procurement")
    return client.get(f"/contracts/{contract_id}").get_data(as_text=True)


def test_an_exception_without_a_date_reads_no_expiry(app, users):
    contract_id, _approval = signed_with_exception(app, expires_in=None)
    assert "有効期限: 期限なし" in page(app, contract_id)


def test_an_exception_expiring_soon_is_flagged_on_the_contract(app, users):
    contract_id, _approval = signed_with_exception(app, expires_in=10)
    html = page(app, contract_id)
    assert "あと10日で期限切れ" in html and "期限切れ（例外として扱わない）" not in html


def test_an_expired_exception_is_flagged_on_the_contract(app, users):
    contract_id, _approval = signed_with_exception(app, expires_in=-1)
    html = page(app, contract_id)
    assert "期限切れ（例外として扱わない）" in html and "で期限切れ" not in html


def test_the_officer_is_reminded_before_and_when_an_exception_expires(app, users):
    contract_id, approval_id = signed_with_exception(app, expires_in=7)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        [item] = [i for i in all_items() if i.kind == "clause_exception"]
        assert item.key.startswith(f"clause_exception:{approval_id}:") and item.owner_id == contract.officer_id
        assert item.due_on == today() + dt.timedelta(days=7) and "C12" in item.title and contract.number in item.title
        assert item.endpoint == "contracts.detail" and item.params == {"contract_id": contract_id}
        assert threshold_for(item, today()) == "7"
        assert threshold_for(item, today() + dt.timedelta(days=8)) == "overdue"


def test_no_item_without_a_date_or_once_the_contract_ends(app, users):
    undated, _ = signed_with_exception(app, expires_in=None)
    ended, _ = signed_with_exception(app, expires_in=30)
    with app.app_context():
        db.session.get(Contract, ended).status = ContractStatus.ENDED
        db.session.commit()
        assert due.exception_items() == []
