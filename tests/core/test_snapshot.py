"""Figures kept until the registers change (core.snapshot, issue 21): the
inspection facts and the annual report are built once per state of the
registers, and what is kept always equals what building them afresh gives —
after a change, after a rolled-back change, on another day."""
from __future__ import annotations

import datetime as dt

from assurance import report
from core import inspection, snapshot
from core.db import db
from core.inspection import Scope
from core.timeutil import fiscal_year, today
from tests import factories

YEAR = fiscal_year(today())


def _fresh_facts(scope: Scope) -> dict:
    snapshot.forget()
    return {code: str(fact) for code, fact in inspection.facts(scope).items()}


def _figures(built) -> dict:
    return {row.key: (row.value, row.previous) for group in built.groups for row in group.rows}


def test_kept_facts_and_report_equal_a_fresh_build_after_every_change(demo):
    with demo.test_request_context():
        scope = Scope(YEAR)
        kept = inspection.facts(scope)
        built = report.build(YEAR)
        assert report.build(YEAR) is built  # kept: not built again while nothing changed
        factories.contract("SNAP-001", classification="C2", left_out=("C07",))  # a draft with a gap
        db.session.commit()
        after = {code: str(fact) for code, fact in inspection.facts(scope).items()}
        assert after != {code: str(fact) for code, fact in kept.items()}  # the new contract is counted at once
        assert after == _fresh_facts(scope)
        assert report.build(YEAR) is not built
        assert _figures(report.build(YEAR)) == _figures(report._build(YEAR))


def test_a_rolled_back_change_never_leaves_its_figures_behind(demo):
    with demo.test_request_context():
        scope = Scope(YEAR)
        factories.contract("SNAP-RB1", classification="C2", left_out=("C07",))
        db.session.flush()
        inside = {code: str(fact) for code, fact in inspection.facts(scope).items()}  # built inside the transaction
        db.session.rollback()
        factories.contract("SNAP-RB2", classification="C2")  # another change, same number of trail entries
        db.session.commit()
        now = {code: str(fact) for code, fact in inspection.facts(scope).items()}
        assert now == _fresh_facts(scope)
        assert now["OUT-02"] != inside["OUT-02"]


def test_the_day_is_part_of_the_state(demo, monkeypatch):
    with demo.test_request_context():
        first = snapshot.state()
        monkeypatch.setattr(snapshot, "today", lambda: today() + dt.timedelta(days=1))
        assert snapshot.state() != first
        calls = []
        snapshot.kept("k", lambda: calls.append(1))
        snapshot.kept("k", lambda: calls.append(1))
        assert calls == [1]
