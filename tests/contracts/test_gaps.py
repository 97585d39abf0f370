"""The stored gap flag (Contract.has_gap) always equals what the clause
rules say, whatever changed: the matrix, the contract, the catalogue."""
from __future__ import annotations

from sqlalchemy import select

from contracts import rules, services
from contracts.models import Clause, ClauseState, Contract
from core.db import db
from core.gendata import generate
from core.models import ClassificationLevel
from tests import factories


def stored_and_computed(contract_ids=None):
    stmt = select(Contract.id, Contract.has_gap, rules.has_gap_expression())
    if contract_ids:
        stmt = stmt.where(Contract.id.in_(contract_ids))
    return db.session.execute(stmt).all()


def agree(contract_ids=None) -> bool:
    rows = stored_and_computed(contract_ids)
    return bool(rows) and all(bool(stored) == bool(computed) for _id, stored, computed in rows)


def test_the_flag_follows_the_matrix_the_contract_and_the_catalogue(app):
    with app.app_context():
        # a draft: the matrix of a signed contract changes only through an amendment (issue 17)
        contract = factories.contract(classification="C3B", personal=True)
        factories.contract(clauses="none")  # a draft lacking its mandatory clauses
        factories.contract(classification=None)
        db.session.commit()
        assert contract.has_gap is False and rules.clause_gaps(contract) == []
        first = next(row for row in contract.clauses if row.clause.is_mandatory_for(contract))
        services.save_matrix(contract, {first.clause_id: (ClauseState.NOT_INCLUDED, None, None)})
        db.session.commit()
        assert contract.has_gap is True and agree()
        services.save_matrix(contract, {first.clause_id: (ClauseState.INCLUDED, "第5条", None)})
        db.session.commit()
        assert contract.has_gap is False
        # a higher classification brings more mandatory clauses
        top = db.session.scalar(select(ClassificationLevel).where(ClassificationLevel.axis == "confidentiality")
                                .order_by(ClassificationLevel.rank.desc()))
        contract.classification = top
        db.session.commit()
        assert bool(contract.has_gap) == bool(rules.clause_gaps(contract)) and agree()
        # the catalogue: a new mandatory clause for every level leaves every contract short
        clause = Clause(code="C99", label_ja="新しい必須条項", label_en="A new mandatory clause", sort_order=99,
                        active=True)
        clause.mandatory_levels = db.session.scalars(select(ClassificationLevel)).all()
        db.session.add(clause)
        db.session.commit()
        live = db.session.scalars(select(Contract).where(Contract.classification_id.is_not(None))).all()
        assert all(c.has_gap for c in live) and agree()
        clause.active = False
        db.session.commit()
        assert agree()


def test_generated_contracts_carry_the_right_flag(demo):
    with demo.app_context():
        generate(20, 200, 100, report=lambda _line: None)
        rows = stored_and_computed()
        assert any(stored for _id, stored, _c in rows) and not all(stored for _id, stored, _c in rows)
        assert agree()


def test_the_contract_and_vendor_pages_follow_a_catalogue_change_after_showing_it(app, client, users):
    """Issue 21: the pages keep the clause catalogue between views
    (contracts.rules.read_clauses); a change of the catalogue shows at once."""
    from tests.conftest import login_as

    with app.app_context():
        contract = factories.contract(classification="C2")
        db.session.commit()
        contract_id, vendor_id = contract.id, contract.vendor_id
    login_as(client, "procurement")
    pages = (f"/contracts/{contract_id}", f"/vendors/{vendor_id}")
    for page in pages:
        assert "C99" not in client.get(page).get_data(as_text=True)
    with app.app_context():
        clause = Clause(code="C99", label_ja="新しい必須条項", label_en="A new mandatory clause", sort_order=99,
                        active=True, mandatory_base=True)
        db.session.add(clause)
        db.session.commit()
    for page in pages:  # the contract now lacks it: listed as a gap on both pages
        assert "C99" in client.get(page).get_data(as_text=True)
    with app.app_context():
        db.session.scalar(select(Clause).where(Clause.code == "C99")).active = False
        db.session.commit()
    for page in pages:
        assert "C99" not in client.get(page).get_data(as_text=True)
