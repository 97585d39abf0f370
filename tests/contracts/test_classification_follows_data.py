"""Issue 17: classification follows the data (MIC R6.10, DOMAIN.md §1.1).
Personal information puts a contract in the class-3 tier (3C at least), My
Number in 3B at least (general practice); the minimums are data that
administrators edit, with their source shown."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from contracts import services
from contracts.models import Contract
from contracts.rules import ContractRuleError
from core import classification
from core.db import db
from core.models import ClassificationLevel, DataMinimum
from tests import factories
from tests.conftest import login_as
from tests.contracts.test_contract_register import contract_data, level_id


def count(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(Contract.id)).all())


def test_the_minimums_are_seeded_with_their_source(app):
    with app.app_context():
        rows = {row.kind: row for row in db.session.scalars(select(DataMinimum))}
        assert rows["personal"].level.code == "C3C" and "R6" in rows["personal"].source
        assert not rows["personal"].general_practice
        assert rows["my_number"].level.code == "C3B" and rows["my_number"].general_practice


@pytest.mark.parametrize("level, my_number, refused", [
    ("C2", False, True), ("C1", False, True), ("C3C", False, False), ("C3A", False, False),
    ("C3C", True, True), ("C3B", True, False)])
def test_the_service_refuses_personal_data_below_its_minimum(app, level, my_number, refused):
    with app.app_context():
        vendor = factories.vendor()
        db.session.commit()
        values = {"number": "R8-200", "title": "住民データ入力", "vendor_id": vendor.id, "kind": "outsourcing",
                  "unit_id": None, "officer_id": None, "start_on": None, "end_on": None,
                  "classification_id": factories.level(level).id, "integrity_id": None, "availability_id": None,
                  "handles_personal_info": True, "handles_my_number": my_number, "work_places": None,
                  "subcontracting": "prohibited", "verification_cycle": None, "document": None}
        if refused:
            with pytest.raises(ContractRuleError, match="自治体機密性3") as error:
                services.save_contract(Contract(), values, user=factories.clerk())
            assert error.value.field == "classification_id"
            db.session.rollback()
            assert db.session.scalar(select(Contract.id)) is None
        else:
            contract = services.save_contract(Contract(), values, user=factories.clerk())
            assert contract.classification.code == level
        # without personal data any level goes
        services.save_contract(Contract(), {**values, "number": "R8-201", "handles_personal_info": False,
                                            "handles_my_number": False,
                                            "classification_id": factories.level("C1").id},
                               user=factories.clerk())


def test_the_form_refuses_personal_data_at_class_2_with_the_reason(buyer, app, selected_vendor):
    response = buyer.post("/contracts/new", data=contract_data(app, selected_vendor, handles_personal_info="y"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "個人情報" in html and "自治体機密性3C" in html and "総務省ガイドライン" in html
    assert count(app) == 0
    response = buyer.post("/contracts/new", data=contract_data(
        app, selected_vendor, handles_personal_info="y", classification_id=str(level_id(app, "C3C"))))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert count(app) == 1


def test_the_administrator_edits_the_minimums(app, users):
    admin = app.test_client()
    login_as(admin, "admin")
    page = admin.get("/admin/classification").get_data(as_text=True)
    assert "自治体機密性3C" in page and "総務省ガイドライン" in page and "一般的な運用" in page
    with app.app_context():
        row = db.session.scalar(select(DataMinimum).where(DataMinimum.kind == "personal"))
        row_id, c3b = row.id, factories.level("C3B").id
        other = db.session.scalar(select(DataMinimum).where(DataMinimum.kind == "my_number"))
        unchanged = {f"level-{other.id}": str(other.level_id), f"source-{other.id}": other.source,
                     f"gp-{other.id}": "y"}
    response = admin.post("/admin/classification", data={
        **unchanged, f"level-{row_id}": str(c3b), f"source-{row_id}": "団体の規程 第3条"})
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(DataMinimum, row_id)
        assert row.level.code == "C3B" and row.source == "団体の規程 第3条"
        assert classification.minimum(personal=True, my_number=False).level.code == "C3B"
    # an empty source or an unknown level is refused, nothing changes
    bad = admin.post("/admin/classification", data={**unchanged, f"level-{row_id}": "99999",
                                                           f"source-{row_id}": ""})
    assert bad.status_code == 400 and "出典" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(DataMinimum, row_id).source == "団体の規程 第3条"
    buyer = app.test_client()
    login_as(buyer, "procurement")
    assert buyer.get("/admin/classification").status_code == 403


def test_the_service_changes_a_minimum(app):
    with app.app_context():
        row = db.session.scalar(select(DataMinimum).where(DataMinimum.kind == "my_number"))
        top = db.session.scalar(select(ClassificationLevel).where(ClassificationLevel.code == "C3A"))
        classification.set_minimum(row, level=top, source="  独自の運用  ", general_practice=True)
        assert row.level is top and row.source == "独自の運用"
        with pytest.raises(classification.ClassificationRefusal):
            classification.set_minimum(row, level=top, source=" ", general_practice=True)
        with pytest.raises(classification.ClassificationRefusal):
            classification.set_minimum(row, level=factories.level("I2"), source="x", general_practice=True)


def test_the_demo_follows_the_rule(demo):
    with demo.app_context():
        contracts = db.session.scalars(select(Contract)).all()
        assert contracts
        for contract in contracts:
            assert classification.below_minimum(contract.classification, personal=contract.handles_personal_info,
                                                my_number=contract.handles_my_number) is None, contract.number
        assert db.session.scalar(select(Contract).where(Contract.number == "R8-004")).classification.code == "C3C"
