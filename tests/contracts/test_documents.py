"""The contract checklist, the blank on-site verification sheet and the
vendor summary: what each shows, who may print it, and the print record."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from contracts.models import Contract, ContractStatus
from core.db import db
from core.models import AuditEntry
from tests import factories
from tests.conftest import DEMO_PASSWORD, login_as, read_pdf


def contract(app, number: str) -> Contract:
    with app.app_context():
        found = db.session.scalar(select(Contract).where(Contract.number == number))
        db.session.expunge(found)
        return found


@pytest.fixture
def r8001(app, users):
    """A C3B contract in force that handles personal data, with C17 and C18
    besides its mandatory clauses, of a certified, selected vendor."""
    with app.app_context():
        vendor = factories.vendor("株式会社道央情報システム")
        factories.certification(vendor)
        found = factories.contract("R8-001", vendor_=vendor, status=ContractStatus.IN_FORCE, classification="C3B",
                                   personal=True, include=("C17", "C18"))
        db.session.commit()
        return SimpleNamespace(id=found.id, vendor_id=found.vendor_id)


def test_the_contract_checklist_shows_matrix_latest_results_findings_and_end(app, demo):
    """On the demo: every section of the checklist has something to show."""
    client = demo.test_client()
    login_as(client, "verifier", DEMO_PASSWORD)
    r8001 = contract(app, "R8-001")
    response = client.get(f"/contracts/{r8001.id}/checklist.pdf")
    pages, text = read_pdf(response)
    compact = re.sub(r"\s+", "", text)
    assert 1 <= pages <= 3
    for expected in ("契約点検表", "R8-001", "株式会社道央情報システム", "自治体機密性3B", "セキュリティ条項と最新の確認結果",
                     "C01", "C20", "規定あり（第5条）", "一部不適合", "書面確認", "未完了の指摘事項と措置", "再委託先",
                     "株式会社札幌データセンター", "契約終了時の返却・廃棄", "点検者", "確認者", "承認者"):
        assert expected in compact, expected
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()))
        assert (entry.action, entry.object_type, entry.object_id) == ("print", "contracts", str(r8001.id))
        assert entry.changes["document"] == "contract_checklist" and len(entry.changes["sha256"]) == 64
        assert entry.username == "verifier"


def test_a_gap_and_an_approved_exception_are_marked(app, users):
    with app.app_context():
        excepted = factories.contract(status=ContractStatus.SIGNED, left_out=("C12",),
                                      exception_reason="事業者の標準契約書にC12がなく、次回更新時に追加する")
        db.session.commit()
        excepted_id = excepted.id
    client = app.test_client()
    login_as(client, "procurement")
    _pages, text = read_pdf(client.get(f"/contracts/{excepted_id}/checklist.pdf"))
    compact = re.sub(r"\s+", "", text)
    assert "必須条項の不足（例外承認あり）" in compact and "事業者の標準契約書にC12がなく" in compact


def test_the_blank_sheet_has_one_row_per_included_clause_with_tick_boxes(app, r8001):
    client = app.test_client()
    login_as(client, "verifier")
    with app.app_context():
        included = [row.clause.code for row in db.session.get(Contract, r8001.id).clauses
                    if row.state.value == "included"]
    pages, text = read_pdf(client.get(f"/contracts/{r8001.id}/sheet.pdf"))
    assert pages >= 2  # 17 rows with room to write do not fit one page
    compact = re.sub(r"\s+", "", text)
    assert "実地確認シート" in compact and "所見・メモ（手書き）" in compact
    assert compact.count("□適合□一部不適合") == len(included)
    for code in included:
        assert code in text
    assert "C14" not in text  # not applicable to this contract: no row
    assert text.count("確認すること") == pages  # the header row repeats on every page


def test_the_vendor_summary_lists_certifications_selection_and_contracts(app, r8001):
    client = app.test_client()
    login_as(client, "auditor")
    vendor_id = r8001.vendor_id
    _pages, text = read_pdf(client.get(f"/vendors/{vendor_id}/summary.pdf"))
    compact = re.sub(r"\s+", "", text)
    for expected in ("委託事業者の概要", "株式会社道央情報システム", "認証", "選定の記録", "SEL01", "R8-001", "履行中"):
        assert expected in compact, expected


def test_only_contract_readers_print_contract_documents(app, r8001):
    client = app.test_client()
    login_as(client, "social")
    for url in (f"/contracts/{r8001.id}/checklist.pdf", f"/contracts/{r8001.id}/sheet.pdf",
                f"/vendors/{r8001.vendor_id}/summary.pdf"):
        assert client.get(url).status_code == 403
    assert client.get("/contracts/99999/checklist.pdf").status_code == 403
    reader = app.test_client()
    login_as(reader, "auditor")
    assert reader.get("/contracts/99999/checklist.pdf").status_code == 404


def test_the_checklist_names_the_selection_that_covers_the_contract(app, r8001):
    """Selection per contract (issue 17): the auditor reads on the checklist
    which selection covers the contract and how (recorded for it, or the
    vendor's confirmed for it) — and sees it marked when none does."""
    client = app.test_client()
    login_as(client, "auditor")
    compact = re.sub(r"\s+", "", read_pdf(client.get(f"/contracts/{r8001.id}/checklist.pdf"))[1])
    assert "選定記録" in compact and "事業者の選定を本契約の選定として確認" in compact
    with app.app_context():
        db.session.get(Contract, r8001.id).selection_id = None
        db.session.commit()
    compact = re.sub(r"\s+", "", read_pdf(client.get(f"/contracts/{r8001.id}/checklist.pdf"))[1])
    assert "▲本契約を対象とする選定の記録なし" in compact
