"""Issue 17: inspection fact OUT-02 counts contracts without their base
clauses (whatever the level) and ignores approved exceptions."""
from __future__ import annotations

import re

from contracts import documents
from contracts.models import ContractStatus
from core.db import db
from core.inspection import Scope
from core.timeutil import fiscal_year, today
from tests import factories
from tests.conftest import login_as
from tests.core.test_documents import read_pdf


def out02() -> str:
    return documents.facts(Scope(fiscal_year(today())))["OUT-02"]


def test_out02_counts_missing_base_clauses_and_ignores_approved_exceptions(app):
    with app.app_context():
        factories.contract(classification="C1", status=ContractStatus.SIGNED)  # complete
        factories.contract(classification="C1", left_out=("C07",))  # a draft without a base clause
        # signed without C12 under an approved exception: not a gap for the inspection
        factories.contract(classification="C2", status=ContractStatus.SIGNED, left_out=("C12",))
        db.session.commit()
        assert out02() == "有効な契約 3件中 1件に必須条項の不足（C07: 1件）"


def test_out02_on_the_self_inspection_sheet(app, users):
    with app.app_context():
        factories.contract(classification="C1", left_out=("C01", "C13"))
        factories.contract(classification="C2", status=ContractStatus.IN_FORCE, left_out=("C12",))
        db.session.commit()
    client = app.test_client()
    login_as(client, "auditor")
    _pages, text = read_pdf(client.get("/checklists/self-inspection.pdf"))
    compact = re.sub(r"\s+", "", text)
    assert "有効な契約2件中1件に必須条項の不足（C01:1件、C13:1件）" in compact
