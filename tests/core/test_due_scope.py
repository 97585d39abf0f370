"""Due items in a scope (issue 21): the inbox and its header count ask the
registers for one user's items in SQL instead of building every due item of
the body and filtering them; the scoped answer is the filtered whole, item
for item, and the counts are the numbers of the items."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

import pytest
from sqlalchemy import event, select

from cloud.models import ServiceStatus
from contracts.models import Contract, ContractStatus, Finding, Result
from core import due, inbox
from core.db import db
from core.gendata import generate
from core.models import Role, User
from core.timeutil import today
from tests import factories
from tests.conftest import DEMO_PASSWORD, login_as


def _signed(officer, **fields):
    return factories.contract(status=ContractStatus.SIGNED, officer=officer, **fields)


def _overdue_finding(officer, owner, days: int = 3) -> Finding:
    checked = _signed(officer)
    done = factories.verification(checked, results={checked.clauses[0].clause.code: Result.DOES_NOT})
    finding = done.findings[0]
    finding.owner_id, finding.due_on = (owner.id if owner else None), today() - dt.timedelta(days=days)
    return finding


def _forget():
    inbox.entries.__globals__["g"].pop("inbox_entries", None)


def test_the_inbox_builds_no_record_of_other_peoples_work(client, app, users):
    """The bug: the header count and the page built every due item of the
    body (every contract under verification, every open finding) to keep one
    user's.  Now nobody else's contract or finding is even loaded."""
    with app.app_context():
        owner = factories.user("inbox-owner", Role.VERIFIER)
        others = factories.user("someone-else", Role.PROCUREMENT)
        for _ in range(6):
            _overdue_finding(others, others)
        _overdue_finding(owner, owner)
        db.session.commit()
        loaded = []

        def count_loads(target, _context):
            loaded.append(type(target).__name__)
        event.listen(Contract, "load", count_loads)
        event.listen(Finding, "load", count_loads)
        try:
            assert inbox.count(owner) == 1
            _forget()
            [entry] = [entry for entry in inbox.entries(owner) if entry.group == inbox.DUE and entry.overdue]
            assert str(entry.kind) == "措置期限"
        finally:
            event.remove(Contract, "load", count_loads)
            event.remove(Finding, "load", count_loads)
        assert loaded == []


def _rows(items):
    return [(i.key, i.kind, i.title, i.due_on, i.owner_id, i.endpoint, sorted(i.params.items())) for i in items]


def _scopes(user_ids):
    on = today()
    for owner in [None, *user_ids]:
        for unowned in (True, False):
            for until in (None, on - dt.timedelta(days=1), on + dt.timedelta(days=30)):
                for limit in (None, 1, 7, 100):
                    yield due.DueScope(owner_id=owner, unowned=unowned, until=until, limit=limit)


def test_the_scoped_answer_is_the_filtered_whole_on_the_demo_and_generated_data(demo):
    with demo.app_context():
        generate(60, 240, 400, report=lambda _line: None)
        # the owners' edge cases the generated data may lack: a finding naming
        # no owner (its contract's officer answers), a contract nobody answers for
        officer = db.session.scalar(select(User).where(User.username == "verifier"))
        _overdue_finding(officer, None)
        _signed(None)
        db.session.commit()
        everything = due.all_items()
        assert len(everything) > 100
        assert any(item.owner_id is None for item in everything)
        assert [item for item in everything if item.kind == "verification"]
        for scope in _scopes(sorted(db.session.scalars(select(User.id)))):
            expected = due.within(scope, everything)
            assert _rows(due.items(scope)) == _rows(expected), scope
            counted = due.within(scope.unlimited(), everything)
            assert due.count(scope) == len(counted), scope
            # with a split, the overdue among them, in the same statements
            split = replace(scope, split=today())
            assert due.count(split) == due.Counts(len(counted), sum(1 for i in counted if i.due_on < today())), scope


@pytest.mark.parametrize("source", ["verification", "measure", "improvement", "cloud", "social"])
def test_each_register_answers_its_owners_items_only(app, users, source):
    with app.app_context():
        mine, theirs = factories.user("mine", Role.VERIFIER), factories.user("theirs", Role.VERIFIER)
        for person in (mine, theirs):
            if source == "verification":
                contract = _signed(person)
                assert contract.verification_due_on is not None
            elif source == "measure":
                _overdue_finding(person, person)
            elif source == "improvement":
                factories.measure(owner=person, due_on=today() - dt.timedelta(days=2))
            elif source == "cloud":
                factories.cloud_service(administrator=person, status=ServiceStatus.APPROVED,
                                        next_review_on=today() + dt.timedelta(days=5))
            else:
                factories.social_account(responsible=person, next_review_on=today() + dt.timedelta(days=5))
        db.session.flush()
        scope = due.DueScope(owner_id=mine.id, unowned=False)
        found = due.items(scope)
        assert found and {item.owner_id for item in found} == {mine.id}
        assert due.count(scope) == len(found)


def _badge(html: str) -> int:
    found = re.search(r'id="inbox-count">(\d+)<', html)
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize("role", ["admin", "verifier", "procurement", "lead", "approver", "auditor"])
def test_the_header_count_is_the_number_of_requests_and_overdue_work_listed(demo, role):
    client = demo.test_client()
    login_as(client, role, DEMO_PASSWORD)
    html = client.get("/inbox").get_data(as_text=True)
    assert "inbox-more" not in html  # the demo's due groups are short: everything is listed
    with demo.app_context():
        user = db.session.scalar(select(User).where(User.username == role))
        listed = inbox.entries(user)
        expected = sum(1 for entry in listed if entry.group == inbox.APPROVAL or entry.overdue)
    assert _badge(html) == expected
    assert _badge(client.get("/").get_data(as_text=True)) == expected


def test_a_long_due_group_lists_the_first_and_counts_the_rest(client, app, users, monkeypatch):
    monkeypatch.setattr(inbox, "DUE_SHOWN", 3)
    with app.app_context():
        verifier = db.session.get(User, users["verifier"])
        findings = [_overdue_finding(verifier, verifier, days=days) for days in (9, 8, 7, 6, 5)]
        db.session.commit()
        oldest = [finding.id for finding in findings[:3]]
    login_as(client, "verifier")
    html = client.get("/inbox").get_data(as_text=True)
    due_part = html.split('id="inbox-due"')[1].split("</section>")[0]
    # the three due first are listed, the two others counted
    assert [int(n) for n in re.findall(r"/verification/findings/(\d+)", due_part)] == oldest
    assert "ほか 2 件" in due_part
    assert '<span class="badge text-bg-secondary">5</span>' in due_part
    assert 'href="/verification/"' in due_part
    # the header counts all five overdue measures, not only those listed
    assert _badge(html) == 5


def test_the_long_due_group_reads_in_english(client, app, users, monkeypatch):
    monkeypatch.setattr(inbox, "DUE_SHOWN", 1)
    with app.app_context():
        verifier = db.session.get(User, users["verifier"])
        for days in (4, 3):
            _overdue_finding(verifier, verifier, days=days)
        db.session.commit()
    login_as(client, "verifier")
    client.post("/language", data={"lang": "en", "next": "/"})
    html = client.get("/inbox").get_data(as_text=True)
    assert "1 more (the first 1 by due date are shown)." in html
    assert "All your due dates in your calendar" in html
