"""Issue 17: mandatory clauses for every contract — a base set at every
level (C01, C06, C07, C13 by default), clauses mandatory by contract kind
(C16 development, C19 cloud) and by access to systems (C04).  Python
(clause_gaps) and SQL (has_gap_expression, the stored flag) agree."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from contracts import rules, services
from contracts.models import Clause, ClauseState, Contract, ContractKind, ContractStatus
from core.db import db
from tests import factories
from tests.conftest import login_as
from tests.contracts.test_contract_register import gaps, level_id, register_contract, save_matrix
from tests.contracts.test_gaps import agree

BASE = {"C01", "C06", "C07", "C13"}


def codes(contract) -> set[str]:
    return {c.code for c in rules.clause_gaps(contract)}


def test_the_base_set_is_mandatory_at_every_level_even_class_1(app):
    with app.app_context():
        low = factories.contract(classification="C1", clauses="none")
        unclassified = factories.contract(classification=None, clauses="none")
        db.session.commit()
        assert BASE <= codes(low) and BASE <= codes(unclassified)
        assert low.has_gap and unclassified.has_gap and agree()
        full = factories.contract(classification="C1", status=ContractStatus.SIGNED)
        db.session.commit()
        assert codes(full) == set() and not full.has_gap


def test_signing_at_class_1_without_a_base_clause_is_refused(app):
    with app.app_context():
        contract = factories.contract(classification="C1", left_out=("C07",))
        with pytest.raises(rules.ContractRuleError, match="C07"):
            rules.change_status(contract, ContractStatus.SIGNED, user=factories.clerk())


@pytest.mark.parametrize("kind, code", [(ContractKind.DEVELOPMENT, "C16"), (ContractKind.CLOUD, "C19")])
def test_clauses_mandatory_by_contract_kind(app, kind, code):
    with app.app_context():
        of_kind = factories.contract(classification="C1", clauses="none", kind=kind)
        other = factories.contract(classification="C1", clauses="none", kind=ContractKind.OTHER)
        db.session.commit()
        assert code in codes(of_kind) and code not in codes(other) and agree()
        # the kind changes: the flag and the gaps follow
        complete = factories.contract(classification="C1", kind=ContractKind.OTHER)
        db.session.commit()
        assert not complete.has_gap
        complete.kind = kind
        db.session.commit()
        assert code in codes(complete) and complete.has_gap and agree()


def test_c04_is_mandatory_when_the_contractor_gets_access_to_systems(app):
    with app.app_context():
        contract = factories.contract(classification="C1")
        db.session.commit()
        assert "C04" not in codes(contract) and not contract.has_gap
        contract.system_access = True
        db.session.commit()
        assert "C04" in codes(contract) and contract.has_gap and agree()


def test_python_and_sql_agree_on_every_combination(app):
    with app.app_context():
        for kind in ContractKind:
            for access in (False, True):
                for personal in (False, True):
                    for clauses in ("none", "mandatory"):
                        factories.contract(classification="C1" if not personal else "C3C", kind=kind,
                                           system_access=access, personal=personal, clauses=clauses)
        db.session.commit()
        for contract in db.session.scalars(select(Contract)):
            assert bool(contract.has_gap) == bool(rules.clause_gaps(contract))
        assert agree()


def test_the_administrator_edits_the_base_set_kinds_and_access_in_the_catalogue(buyer, app, selected_vendor):
    contract_id = register_contract(buyer, app, selected_vendor, kind="other",
                                    classification_id=str(level_id(app, "C1")))
    save_matrix(buyer, app, contract_id, {"C14": "na", "C05": "na", "C16": "na"},
                {"C14": "複写なし", "C05": "小規模", "C16": "開発なし"})
    assert gaps(app, contract_id) == []
    admin = app.test_client()
    login_as(admin, "admin")
    page = admin.get("/contracts/clauses").get_data(as_text=True)
    assert "すべての契約" in page and "開発" in page and "システムへのアクセス" in page

    def post(code, **fields):
        with app.app_context():
            clause = db.session.scalar(select(Clause).where(Clause.code == code))
            data = {"code": code, "label_ja": clause.label_ja, "label_en": clause.label_en, "verify_ja": "",
                    "verify_en": "", "sort_order": str(clause.sort_order), "active": "y",
                    "version": str(clause.version), **fields}
        response = admin.post(f"/contracts/clauses/{clause.id}", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)

    post("C14", mandatory_base="y")
    assert gaps(app, contract_id) == ["C14"]
    post("C14")
    post("C05", mandatory_kinds=["other"])
    assert gaps(app, contract_id) == ["C05"]
    post("C05")
    assert gaps(app, contract_id) == []
    with app.app_context():
        c04 = db.session.scalar(select(Clause).where(Clause.code == "C04"))
        assert c04.mandatory_if_access and db.session.get(Contract, contract_id).has_gap is False
        assert agree()
    assert buyer.post("/contracts/clauses/new", data={"code": "C99", "mandatory_base": "y"}).status_code == 403


def test_the_access_flag_on_the_form_makes_c04_mandatory(buyer, app, selected_vendor):
    page = buyer.get("/contracts/new").get_data(as_text=True)
    assert "システムへのリモート又はオンサイトのアクセス" in page
    contract_id = register_contract(buyer, app, selected_vendor, system_access="y",
                                    classification_id=str(level_id(app, "C1")))
    with app.app_context():
        assert db.session.get(Contract, contract_id).system_access is True
    save_matrix(buyer, app, contract_id, {"C04": "na"}, {"C04": "アクセスなし"})
    assert "C04" in gaps(app, contract_id)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        contract.system_access = False
        db.session.commit()
    assert "C04" not in gaps(app, contract_id)


def test_the_service_stores_the_catalogue_rules(app):
    with app.app_context():
        clause = db.session.scalar(select(Clause).where(Clause.code == "C14"))
        services.save_clause(clause, {"code": "C14", "label_ja": clause.label_ja, "label_en": clause.label_en,
                                      "verify_ja": None, "verify_en": None, "mandatory_if_personal": False,
                                      "mandatory_base": True, "mandatory_kinds": ["development", "cloud"],
                                      "mandatory_if_access": True, "sort_order": 14, "active": True,
                                      "mandatory_levels": []})
        db.session.commit()
        assert clause.mandatory_base and clause.mandatory_if_access
        assert clause.kinds == [ContractKind.DEVELOPMENT, ContractKind.CLOUD]
        with pytest.raises(rules.ContractRuleError):
            services.save_clause(clause, {"code": "C14", "label_ja": clause.label_ja, "label_en": clause.label_en,
                                          "verify_ja": None, "verify_en": None, "mandatory_if_personal": False,
                                          "mandatory_base": False, "mandatory_kinds": ["nonsense"],
                                          "mandatory_if_access": False, "sort_order": 14, "active": True,
                                          "mandatory_levels": []})


def test_unused_state_is_not_a_clause(app):
    # "not applicable" never satisfies a base clause
    with app.app_context():
        contract = factories.contract(classification="C1")
        row = next(r for r in contract.clauses if r.clause.code == "C01")
        services.save_matrix(contract, {row.clause_id: (ClauseState.NOT_APPLICABLE, None, "不要")})
        db.session.commit()
        assert codes(contract) == {"C01"} and contract.has_gap


def test_the_access_flag_through_the_api(app, users):
    from tests.conftest import api_token

    with app.app_context():
        from core.models import User

        officer = db.session.get(User, users["procurement"])
        contract = factories.contract(classification="C1", unit=officer.unit, officer=officer)
        db.session.commit()
        contract_id, version = contract.id, contract.version
    headers = {"Authorization": f"Bearer {api_token(app, 'procurement')}"}
    client = app.test_client()
    assert client.get(f"/api/v1/contracts/{contract_id}", headers=headers).get_json()["system_access"] is False
    response = client.patch(f"/api/v1/contracts/{contract_id}", json={"system_access": True},
                            headers={**headers, "If-Match": f'"{version}"'})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["system_access"] is True
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        assert contract.system_access and contract.has_gap and "C04" in codes(contract)
