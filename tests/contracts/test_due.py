"""The stored next verification date (Contract.verification_due_on) always
equals what the schedule rule says, whatever changed: a verification, the
contract, its level's default cycle; the dashboard and the schedule page
count and list by it."""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter

from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from contracts import verification as service
from contracts.due import UNDER_VERIFICATION
from contracts.models import Contract, ContractStatus, Method, Result
from contracts.schedule import Cycle, DueState, due_state, next_due
from core.db import db
from core.gendata import generate
from core.models import ClassificationLevel, User
from core.timeutil import today
from tests import factories
from tests.conftest import DEMO_PASSWORD, login_as


def contracts_to_verify() -> None:
    """Contracts of each kind the rule treats apart: in force and signed
    (one checked, one with its own cycle), a draft and an ended one."""
    started = today() - dt.timedelta(days=200)
    checked = factories.contract(status=ContractStatus.IN_FORCE, start_on=started)
    factories.verification(checked, performed_on=today() - dt.timedelta(days=170))
    factories.contract(status=ContractStatus.IN_FORCE, start_on=started, classification="C3B")
    factories.contract(status=ContractStatus.SIGNED, start_on=started, verification_cycle=Cycle.QUARTERLY)
    factories.contract(start_on=today() + dt.timedelta(days=30))
    factories.contract(status=ContractStatus.ENDED, start_on=started, end_on=today() - dt.timedelta(days=1))
    db.session.commit()


def by_rule() -> dict[int, dt.date | None]:
    """Every contract's next due date worked out afresh from the rule."""
    db.session.expire_all()
    contracts = db.session.scalars(select(Contract)).all()
    done = service.last_completed([c.id for c in contracts])
    return {c.id: next_due(c.cycle, c.start_on, c.end_on, done.get(c.id))
            if c.status in UNDER_VERIFICATION and c.start_on and c.end_on else None for c in contracts}


def stored() -> dict[int, dt.date | None]:
    return dict(db.session.execute(select(Contract.id, Contract.verification_due_on)).all())


def test_the_date_follows_verifications_the_contract_and_the_level(app, users):
    with app.app_context():
        contracts_to_verify()
        contract = db.session.scalar(select(Contract).where(Contract.status == ContractStatus.IN_FORCE,
                                                            Contract.verification_cycle.is_(None))
                                     .order_by(Contract.number))
        officer = db.session.scalar(select(User).where(User.username == "verifier"))
        assert stored() == by_rule()
        before = contract.verification_due_on
        assert before is not None

        # a submitted verification moves the date on; a draft does not
        contract.verification_cycle = Cycle.MONTHLY
        db.session.commit()
        monthly = contract.verification_due_on
        assert stored() == by_rule()
        draft = service.start(contract, user=officer)
        db.session.commit()
        assert contract.verification_due_on == monthly
        service.save_draft(draft, performed_on=today(), method=Method.ONSITE, conclusion="問題なし", remarks=None,
                           results={row.id: (Result.CONFORMS, None) for row in draft.results})
        service.submit(draft, user=officer)
        db.session.commit()
        expected = min(next_due(Cycle.MONTHLY, contract.start_on, contract.end_on, today()), contract.end_on)
        assert contract.verification_due_on == expected != monthly
        assert stored() == by_rule()

        # the level's default cycle reaches every contract that follows it
        contract.verification_cycle = None
        db.session.commit()
        level = contract.classification
        level.verification_cycle = Cycle.QUARTERLY.value
        db.session.commit()
        assert contract.verification_due_on == next_due(Cycle.QUARTERLY, contract.start_on, contract.end_on,
                                                        today())
        assert stored() == by_rule()

        # new dates, then the end of the contract: nothing more is due
        contract.end_on = today() + dt.timedelta(days=10)
        db.session.commit()
        assert contract.verification_due_on == today() + dt.timedelta(days=10)
        contract.status = ContractStatus.ENDED
        db.session.commit()
        assert contract.verification_due_on is None
        assert stored() == by_rule()


def test_the_admin_cycle_page_moves_the_dates(app, users):
    admin = app.test_client()
    login_as(admin, "admin")
    with app.app_context():
        contracts_to_verify()
        c2 = db.session.scalar(select(ClassificationLevel.id).where(ClassificationLevel.code == "C2"))
        following = db.session.scalars(select(Contract.id).where(
            Contract.classification_id == c2, Contract.verification_cycle.is_(None),
            Contract.status.in_(UNDER_VERIFICATION))).all()
        before = stored()
    assert following
    admin.post("/verification/cycles", data={f"cycle-{c2}": "monthly"})
    with app.app_context():
        after = stored()
        assert after == by_rule()
        assert any(after[cid] != before[cid] for cid in following)


def test_generated_data_and_the_dashboard_counts_agree_with_the_rule(demo):
    with demo.app_context():
        generate(30, 300, 500, report=lambda _line: None)
        rule = by_rule()
        assert stored() == rule
        expected = Counter(due_state(due, today()) for due in rule.values() if due is not None)
        counts = service.due_counts()
        assert {state: n for state, n in counts.items() if n} == dict(expected)
        assert counts[DueState.OVERDUE] > 0 and counts[DueState.SCHEDULED] > 0
        unit = db.session.scalar(select(Contract.unit_id).where(Contract.verification_due_on.is_not(None)))
        in_unit = {c.id for c in db.session.scalars(select(Contract).where(Contract.unit_id == unit))}
        assert sum(service.due_counts(unit).values()) == sum(
            1 for cid, due in rule.items() if cid in in_unit and due is not None)


def due_dates(html: str) -> list[dt.date]:
    """The 次回期限 column of the schedule page (the cell before the badge)."""
    return [dt.date(int(y), int(m), int(d))
            for y, m, d in re.findall(r"<td[^>]*>(\d{4})年(\d{1,2})月(\d{1,2})日</td><td[^>]*><span", html)]


def test_the_schedule_page_pages_and_filters_by_state(demo):
    with demo.app_context():
        generate(10, 120, 200, report=lambda _line: None)
        overdue = service.due_counts()[DueState.OVERDUE]
    assert overdue > 20  # more than one page
    client = demo.test_client()
    login_as(client, "auditor", DEMO_PASSWORD)
    page = client.get("/verification/?state=overdue").get_data(as_text=True)
    assert f"{overdue}件中 1–20件を表示" in page
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    assert body.count("<tr>") == 20 and body.count("期限超過") == 20
    dates = due_dates(body)
    assert len(dates) == 20 and dates == sorted(dates)
    second = client.get("/verification/?state=overdue&page=2").get_data(as_text=True)
    assert f"{overdue}件中 21–" in second
    latest_first = client.get("/verification/?state=overdue&sort=due&dir=desc").get_data(as_text=True)
    newest = due_dates(latest_first.split("<tbody>")[1])
    assert newest == sorted(newest, reverse=True) and newest[0] > dates[0]


def test_the_migration_fills_in_the_dates(app, users):
    with app.app_context():
        contracts_to_verify()
        expected = stored()
        assert any(expected.values())
        db.session.remove()  # end the read's transaction: the migration alters the table (PostgreSQL waits)
        downgrade(revision="0008")
        db.session.remove()
        upgrade()
        assert stored() == expected
