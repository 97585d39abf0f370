"""The dashboard's figures are live counts (issue 21): for every role, each
figure the page shows equals the number of records counted one by one —
on the demo data, on a generated data set, and after records are created,
change status, move to another unit and are deleted.  A unit's findings are
counted in one pass over its contracts (contracts/verification_views.py), the
other units' figures one statement each: both must say the same."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from contracts.models import Clause, Contract, Finding, Result, VerificationResult
from core.db import db
from core.gendata import generate
from core.measures import OPEN_STATUSES, MeasureStatus
from core.models import Role, User
from core.timeutil import today
from tests import factories
from tests.conftest import DEMO_PASSWORD, login_as
from vendors.models import Vendor, VendorStatus

ROLES = ["admin", "auditor", "verifier", "procurement"]


def figures(client) -> dict[str, dict[str, int]]:
    """The page's cards: title → {tile label: figure}."""
    page = client.get("/")
    assert page.status_code == 200
    cards = {}
    for card in re.findall(r'<section class="col-12 col-md-6 col-xl-3".*?</section>', page.get_data(as_text=True),
                           flags=re.S):
        title = html.unescape(re.search(r'<h2[^>]*><a [^>]*>([^<]+)</a>', card).group(1))
        tiles = re.findall(r'<a class="tile-link" href="[^"]+">(?:<span aria-hidden="true">⚠ </span>)?([^<]+)</a>\s*'
                           r'<span class="fw-bold">(\d+)</span>', card)
        cards[title] = {html.unescape(label): int(count) for label, count in tiles}
    return cards


def live(role: str) -> dict[str, dict[str, int]]:
    """The same figures counted record by record, in Python."""
    user = db.session.scalar(select(User).where(User.username == role))
    unit = None if user.has_role(Role.ADMIN, Role.AUDITOR, Role.APPROVER, Role.LEAD) else user.unit_id
    on = today()
    units = dict(db.session.execute(select(Contract.id, Contract.unit_id)).all())
    findings = [row for row in db.session.scalars(select(Finding))
                if unit is None or units[row.contract_id] == unit]
    vendors = [row for row in db.session.scalars(select(Vendor)) if unit is None or row.unit_id == unit]
    contracts = [row for row in db.session.scalars(select(Contract)) if unit is None or row.unit_id == unit]
    checks = {status.label: sum(row.status is status for row in findings) for status in MeasureStatus}
    checks["期限を過ぎた措置"] = sum(row.status in OPEN_STATUSES and row.due_on < on for row in findings)
    checks["未完了の措置"] = sum(row.status in OPEN_STATUSES for row in findings)
    return {
        "確認・措置": {str(label): count for label, count in checks.items()},
        "委託事業者": {str(status.label): sum(row.status is status for row in vendors) for status in VendorStatus},
        "契約": {str(status.label): sum(row.status is status for row in contracts)
               for status in type(contracts[0].status)} if contracts else {},
    }


def assert_same(client, role: str) -> None:
    shown = figures(client)
    db.session.expire_all()
    for title, expected in live(role).items():
        if title not in shown:
            continue  # a card the role does not see
        for label, count in expected.items():
            assert shown[title][label] == count, f"{role}: {title} / {label}: shown {shown[title][label]}, live {count}"


def test_the_roles_see_the_cards_whose_figures_are_compared(demo, client):
    for role in ROLES:
        login_as(client, role, DEMO_PASSWORD)
        shown = figures(client)
        assert "確認・措置" in shown and "委託事業者" in shown and "契約" in shown, role
        client.post("/logout")


@pytest.mark.parametrize("role", ROLES)
def test_dashboard_figures_equal_the_live_counts(demo, client, role):
    login_as(client, role, DEMO_PASSWORD)
    with demo.app_context():
        user = db.session.scalar(select(User).where(User.username == role))
        unit_id = user.unit_id
    with demo.app_context():
        assert_same(client, role)  # the demo data

        generate(30, 120, 240, report=lambda _line: None)  # a generated set over every unit
        assert_same(client, role)

        # created: a nonconforming result's finding in the user's unit (or any), one overdue
        contract = db.session.scalar(select(Contract).where(Contract.unit_id == (unit_id or Contract.unit_id))
                                     .order_by(Contract.id).limit(1))
        verification = factories.verification(contract)
        checked = {row.clause_id for row in verification.results}
        result = VerificationResult(verification_id=verification.id, clause_id=db.session.scalar(
            select(Clause.id).where(Clause.id.not_in(checked)).order_by(Clause.id).limit(1)), result=Result.DOES_NOT)
        db.session.add(result)
        db.session.flush()
        created = factories.finding(verification, result, due_on=today() - dt.timedelta(days=3))
        db.session.commit()
        assert_same(client, role)

        # a status change: in progress, then reported, then accepted
        for status in (MeasureStatus.IN_PROGRESS, MeasureStatus.REPORTED, MeasureStatus.ACCEPTED):
            db.session.get(Finding, created.id).status = status
            db.session.commit()
            assert_same(client, role)

        # the contract moves to another unit: its findings with it
        other = db.session.scalar(select(Contract.unit_id).where(Contract.unit_id != contract.unit_id).limit(1))
        db.session.get(Contract, contract.id).unit_id = other
        db.session.commit()
        assert_same(client, role)

        # deleted
        db.session.delete(db.session.get(Finding, created.id))
        db.session.commit()
        assert_same(client, role)


def test_the_figures_follow_the_day_and_the_unit_with_the_statements_built_once(demo, client, monkeypatch):
    """The count statements are built once per key and day (core.dashboard.statement):
    overnight a finding falls overdue and the figures still equal the live counts;
    users of different units, one after the other in the same app, each see their own."""
    from core import timeutil

    with demo.app_context():
        for role in ROLES:  # every role's statements built (and cached) today
            login_as(client, role, DEMO_PASSWORD)
            assert_same(client, role)
            client.post("/logout")
        contract = db.session.scalar(select(Contract).order_by(Contract.id).limit(1))
        verification = factories.verification(contract)
        checked = {row.clause_id for row in verification.results}
        result = VerificationResult(verification_id=verification.id, clause_id=db.session.scalar(
            select(Clause.id).where(Clause.id.not_in(checked)).order_by(Clause.id).limit(1)), result=Result.DOES_NOT)
        db.session.add(result)
        db.session.flush()
        factories.finding(verification, result, due_on=today() + dt.timedelta(days=1))  # due tomorrow
        db.session.commit()
        login_as(client, "auditor", DEMO_PASSWORD)
        before = figures(client)["確認・措置"]["期限を過ぎた措置"]
        assert_same(client, "auditor")
        client.post("/logout")

        later = timeutil.utcnow() + dt.timedelta(days=3)
        monkeypatch.setattr(timeutil, "utcnow", lambda: later)
        for role in ROLES:
            login_as(client, role, DEMO_PASSWORD)
            assert_same(client, role)
            if role == "auditor":
                assert figures(client)["確認・措置"]["期限を過ぎた措置"] >= before + 1
            client.post("/logout")


def test_the_pending_clause_exceptions_figure_equals_the_contracts_awaiting_the_lead(demo, client):
    """承認待ちの条項例外 (the lead's and administrators' card) counts the contracts
    with a clause exception request 承認待ち, found by the requests' keys."""
    from contracts import rules
    from core.approvals import Approval, Decision

    def live() -> int:
        db.session.expire_all()
        return len({row.subject_id for row in db.session.scalars(select(Approval)) if row.kind == rules.EXCEPTION
                    and row.subject_type == "contracts" and row.decision is Decision.PENDING
                    and db.session.get(Contract, row.subject_id) is not None})

    with demo.app_context():
        for role in ("lead", "admin"):
            login_as(client, role, DEMO_PASSWORD)
            assert figures(client)["契約"]["承認待ちの条項例外"] == live() >= 1
            client.post("/logout")
        pending = db.session.scalars(select(Approval).where(Approval.kind == rules.EXCEPTION,
                                                            Approval.decision == Decision.PENDING)).all()
        for approval in pending:
            approval.decision = Decision.APPROVED
        db.session.commit()
        login_as(client, "lead", DEMO_PASSWORD)
        assert figures(client)["契約"]["承認待ちの条項例外"] == live() == 0
