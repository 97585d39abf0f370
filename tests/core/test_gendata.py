"""The benchmark data set: realistic, every status, a valid audit chain."""
from __future__ import annotations

from sqlalchemy import func, select

from cloud.models import CloudService, ServiceStatus
from contracts import rules
from contracts.models import Contract, ContractClause, ContractStatus, Disposal, Finding, Verification
from core.audit import verify_chain
from core.db import db
from core.gendata import generate
from core.models import ClassificationLevel
from core.timeutil import today
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


def test_generated_ended_and_terminated_contracts_above_class_1_have_their_disposal(demo):
    """The end-of-contract rule (C09, issue 17) holds in the generated data:
    each ended or terminated contract above 自治体機密性1 has its disposal
    record, with a method that fits its class and an evidence file."""
    with demo.app_context():
        first = db.session.scalar(select(func.max(Contract.id))) + 1
        generate(20, 300, 50, report=lambda _line: None)
        closed = (select(Contract.id).join(Contract.classification)
                  .where(Contract.id >= first, ClassificationLevel.rank > 1,
                         Contract.status.in_((ContractStatus.ENDED, ContractStatus.TERMINATED))))
        assert db.session.scalars(closed).all(), "the data set has such contracts"
        missing = closed.where(~select(Disposal.id).where(Disposal.contract_id == Contract.id).exists())
        assert db.session.scalars(missing).all() == []
        disposals = db.session.scalars(select(Disposal).where(Disposal.contract_id >= first)).all()
        assert all(d.evidence is not None and d.evidence.path().exists() and d.done_on <= today() for d in disposals)
        assert all(d.kind in rules.disposal_methods(d.contract) for d in disposals)
        assert verify_chain(db.session.connection()).ok


def test_generated_signed_contracts_are_covered_by_a_selection(demo):
    """Selection per contract (issue 17) holds in the generated data: every
    contract past the draft is linked to a positive selection of its own
    vendor, so the benchmarks and OUT-01 see a body that keeps the rule."""
    from vendors.models import Selection, SelectionDecision

    with demo.app_context():
        first = db.session.scalar(select(func.max(Contract.id))) + 1
        generate(20, 300, 50, report=lambda _line: None)
        signed = select(Contract).where(Contract.id >= first, Contract.status != ContractStatus.DRAFT)
        contracts = db.session.scalars(signed).all()
        assert contracts, "the data set has signed contracts"
        assert all(c.selection is not None and c.selection.vendor_id == c.vendor_id and c.selection.is_positive
                   for c in contracts)
        assert db.session.scalar(select(func.count()).select_from(Selection).where(
            Selection.decision == SelectionDecision.SELECTED)) > 0


def test_generated_and_demo_records_have_readings_and_search_keys(demo):
    """The bulk inserts bypass the flush hook: the generator writes the
    search keys itself, and the names made get readings (issue 20)."""
    from core.textkey import search_key
    from social.models import SocialAccount

    with demo.app_context():
        generate(40, 40, 0, report=lambda _line: None)
        for model in (Vendor, Contract, CloudService, SocialAccount):
            assert db.session.scalar(select(func.count()).select_from(model).where(model.search_key.is_(None))) == 0
        for model in (CloudService, SocialAccount):
            assert db.session.scalar(select(func.count()).select_from(model).where(model.reading.is_(None))) == 0
        vendor = db.session.scalars(select(Vendor).order_by(Vendor.id.desc()).limit(1)).one()
        assert vendor.search_key == search_key(vendor.name, vendor.kana, vendor.corporate_number)


def test_generated_yearly_loop_and_incidents_have_every_status(demo):
    """The registers of the yearly loop and the incident register are in the
    data set (issue 21), at proportional sizes and in every status, and the
    trail still verifies."""
    from assurance.audit_models import AuditFinding, AuditPlan, FindingStatus, PlanStatus
    from assurance.inspection_models import Inspection, InspectionAnswer, InspectionStatus
    from core.incidents import Incident, IncidentAction, IncidentNotification, IncidentStatus
    from core.measures import Measure, MeasureStatus
    from core.models import OrgUnit
    from core.timeutil import fiscal_year

    with demo.app_context():
        counts = generate(40, 1000, 100, report=lambda _line: None)
        assert counts["incidents"] == 1000 // 25 and counts["incident_actions"] > 0
        assert counts["incident_notifications"] > 0
        for column, enum in ((Incident.status, IncidentStatus), (Inspection.status, InspectionStatus),
                             (AuditPlan.status, PlanStatus), (AuditFinding.status, FindingStatus),
                             (Measure.status, MeasureStatus)):
            assert set(db.session.scalars(select(column).distinct())) == set(enum), column
        numbers = db.session.scalars(select(Incident.number)).all()
        assert len(numbers) == len(set(numbers))
        closed = db.session.scalars(select(Incident.id).where(Incident.status == IncidentStatus.CLOSED)).all()
        with_measures = set(db.session.scalars(select(Measure.source_id).where(Measure.source_type == "incident")))
        assert closed and set(closed) <= with_measures
        assert db.session.scalar(select(func.count()).select_from(IncidentAction)) >= counts["incident_actions"]
        assert db.session.scalar(select(func.count()).select_from(IncidentNotification)) > 0
        # every unit and the whole body inspected in each of three 年度, each with all its answers
        scopes = db.session.scalar(select(func.count()).select_from(OrgUnit)) + 1
        year = fiscal_year(today())
        for fiscal in (year - 2, year - 1, year):
            assert len(set(db.session.scalars(select(Inspection.scope_key).where(
                Inspection.fiscal_year == fiscal)))) == scopes
        from core.inspection import active_items
        generated = select(Inspection.id).where(Inspection.summary.like("%生成データ%"))
        per_inspection = dict(db.session.execute(select(InspectionAnswer.inspection_id, func.count()).where(
            InspectionAnswer.inspection_id.in_(generated)).group_by(InspectionAnswer.inspection_id)).all())
        assert len(per_inspection) == counts["inspections"]
        assert set(per_inspection.values()) == {len(active_items())}
        assert db.session.scalar(select(func.count()).select_from(AuditPlan)) >= 36
        assert db.session.scalar(select(func.count()).select_from(Measure).where(
            Measure.source_type == "audit_finding")) > 0
        assert verify_chain(db.session.connection()).ok


def test_gen_data_only_runs_the_named_generators(demo):
    """``flask gen-data --only incidents,assurance`` adds those registers to a
    data set generated before them, and nothing else."""
    from core.incidents import Incident

    with demo.app_context():
        before = {m: db.session.scalar(select(func.count()).select_from(m)) for m in (Vendor, Contract, Incident)}
    result = demo.test_cli_runner().invoke(args=["gen-data", "--vendors", "10", "--contracts", "500",
                                                 "--verifications", "10", "--only", "incidents,assurance"])
    assert result.exit_code == 0, result.output
    with demo.app_context():
        after = {m: db.session.scalar(select(func.count()).select_from(m)) for m in (Vendor, Contract, Incident)}
    assert after[Vendor] == before[Vendor] and after[Contract] == before[Contract]
    assert after[Incident] - before[Incident] == 20
    refused = demo.test_cli_runner().invoke(args=["gen-data", "--only", "nonsense"])
    assert refused.exit_code != 0 and "nonsense" in refused.output
