"""The benchmark data set: realistic, every status, a valid audit chain."""
from __future__ import annotations

from sqlalchemy import func, select

from cloud.models import CloudService, ServiceStatus
from contracts.models import Contract, ContractClause, ContractStatus, Finding, Verification
from core.audit import verify_chain
from core.db import db
from core.gendata import generate
from vendors.models import Vendor, VendorStatus


def test_generated_data_has_every_status_and_a_valid_trail(demo):
    with demo.app_context():
        before = {m: db.session.scalar(select(func.count()).select_from(m)) for m in (Vendor, Contract, Verification)}
        counts = generate(60, 300, 600, report=lambda _line: None)
        after = {m: db.session.scalar(select(func.count()).select_from(m)) for m in (Vendor, Contract, Verification)}
        assert after[Vendor] - before[Vendor] == 60 and after[Contract] - before[Contract] == 300
        assert after[Verification] - before[Verification] == 600
        assert counts["contract_clauses"] == 300 * db.session.scalar(
            select(func.count()).select_from(ContractClause).where(ContractClause.contract_id == select(
                func.max(Contract.id)).scalar_subquery()))
        assert counts["findings"] > 0 and db.session.scalar(select(func.count()).select_from(Finding)) >= counts["findings"]
        for column, enum in ((Vendor.status, VendorStatus), (Contract.status, ContractStatus),
                             (CloudService.status, ServiceStatus)):
            assert set(db.session.scalars(select(column).distinct())) == set(enum)
        name = db.session.scalar(select(Vendor.name).order_by(Vendor.id.desc()).limit(1))
        assert any(form in name for form in ("株式会社", "有限会社", "合同会社"))
        report = verify_chain(db.session.connection())
        assert report.ok and report.checked >= 960
