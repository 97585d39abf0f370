"""The number of SQL statements a page runs does not grow with the number
of rows: counted on the demo data, then again after adding a generated
data set several times its size."""
from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from assurance.audit_models import AuditPlan
from assurance.inspection_models import Inspection, InspectionStatus
from contracts.models import Contract, ContractStatus
from core import plugins
from core.db import db
from core.gendata import generate
from core.incidents import Incident
from tests.conftest import DEMO_PASSWORD, login_as

PAGES = [
    "/", "/vendors/", "/vendors/?q=株式会社", "/contracts/", "/contracts/?unit={unit}&status=in_force",
    "/contracts/{contract}", "/verification/", "/verification/findings", "/cloud/", "/social/", "/audit/",
    "/vendors/{vendor}",
]
# The indexed search (issue 21): a pair (株式, 旭川) reads the trigram vocabulary first, longer text the
# trigram table, one character scans the key's index.  Words found in both data sets: a page without rows
# loads no units.
PAGES += ["/vendors/?q=株式", "/vendors/?q=株", "/contracts/?q=保守業務", "/contracts/?q=保守", "/cloud/?q=クラウド",
          "/social/?q=公式", "/audit/?action=update"]
PAGES += ["/inbox"]  # issue 21: the work inbox and its header count
# the incident register and the yearly loop (issue 21): generate() makes their records too
PAGES += ["/incidents/", "/incidents/?status=all", "/incidents/{incident}", "/inspections/",
          "/inspections/{inspection}", "/report/", "/audits/", "/audits/{plan}"]


AUDIT_PAGE_CEILING = 40


class Counter:
    def __init__(self):
        self.count = 0

    def __call__(self, *_args):
        self.count += 1


def counts(app, client, values) -> dict[str, int]:
    found = {}
    with app.app_context():
        engine = db.engine
    for page in PAGES:
        url = page.format(**values)
        client.get(url)  # warm: caches filled on first use (labels, levels) are not the point
        counter = Counter()
        event.listen(engine, "before_cursor_execute", counter)
        try:
            response = client.get(url)
        finally:
            event.remove(engine, "before_cursor_execute", counter)
        assert response.status_code == 200, url
        found[page] = counter.count
    return found


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_queries_per_page_do_not_grow_with_the_data(demo, role):
    client = demo.test_client()
    login_as(client, role, DEMO_PASSWORD)
    with demo.app_context():
        contract = db.session.scalar(select(Contract).where(Contract.status == ContractStatus.IN_FORCE).limit(1))
        values = {"unit": contract.unit_id, "contract": contract.id, "vendor": contract.vendor_id,
                  # the demo's: an open inspection (its page shows the facts), an audit plan, an incident
                  "inspection": db.session.scalar(select(Inspection.id).where(
                      Inspection.status == InspectionStatus.SUBMITTED).limit(1)),
                  "plan": db.session.scalar(select(AuditPlan.id).limit(1)),
                  "incident": db.session.scalar(select(Incident.id).limit(1))}
    small = counts(demo, client, values)
    with demo.app_context():
        generate(100, 400, 800, report=lambda _line: None)
        assert db.session.scalar(select(func.count()).select_from(Contract)) > 400
        auditable_kinds = len(plugins.registry().auditables)
    large = counts(demo, client, values)
    # The trail's page names what its entries refer to with one statement per table
    # referenced (core.audit_display): bounded by the tables, not the rows, but which
    # tables depends on what the newest entries are about.
    assert large.pop("/audit/") <= AUDIT_PAGE_CEILING and small.pop("/audit/") <= AUDIT_PAGE_CEILING
    # The inbox reads the people responsible for the records open audit findings are about with one
    # statement per kind of record (assurance.audits.responsible_for): the demo's findings are about
    # fewer kinds than the generated ones.  Bounded by the kinds, not the rows.
    assert small["/inbox"] <= large.pop("/inbox") <= small.pop("/inbox") + auditable_kinds
    assert large == small
