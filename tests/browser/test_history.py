"""The change history people can read (issue 20), in a real browser: a
contract's after its clause matrix is saved, and a cloud service's after
its approval, in Japanese and English — labels, names and enum labels, no
column names or stored codes — and axe finds nothing serious on them."""
from __future__ import annotations

import re

from sqlalchemy import select

from core.db import db
from tests.browser.conftest import expect, sign_in

# Stored values that must never reach a reader (enum codes, column names).
CODES = re.compile(r"_id\b|\b(not_included|included|na|draft|signed|in_force|requested|approved|conditional"
                   r"|outsourcing|cloud|prohibited|saas|terms)\b")
# In English, the codes that are not also English words.
EN_CODES = re.compile(r"_id\b|\b(not_included|in_force|does_not|saas)\b")


def _contract_id(number: str) -> int:
    from contracts.models import Contract
    return db.session.scalar(select(Contract.id).where(Contract.number == number))


def _service_id(name: str) -> int:
    from cloud.models import CloudService
    return db.session.scalar(select(CloudService.id).where(CloudService.name == name))


def history_text(page) -> str:
    section = page.locator("section[aria-labelledby=history-heading]")
    expect(section).to_be_visible()
    return section.inner_text()


def to_english(page) -> None:
    response = page.request.post("/language", form={"lang": "en", "next": "/"})
    assert response.ok


def no_serious_violations(page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    blocking = [(v["id"], v["impact"]) for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not blocking, blocking


def test_a_contracts_history_after_a_matrix_save_reads_in_japanese_and_english(demo, page):
    with demo.app_context():
        contract_id = _contract_id("R8-003")
    sign_in(page, "procurement")
    page.goto(f"/contracts/{contract_id}/clauses")
    rows = page.get_by_role("table", name="セキュリティ条項").locator("tbody tr")
    changed = None
    for i in range(rows.count()):
        row = rows.nth(i)
        select_ = row.get_by_role("combobox")
        if select_.input_value() != "included":
            changed = row.locator("td").first.inner_text().split()[0]
            select_.select_option(label="規定あり")
            row.get_by_label(f"条項番号 {changed}").fill("第99条")
            break
    assert changed, "every clause of R8-003 is already included"
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".flash-messages")).to_contain_text("セキュリティ条項を保存しました。")

    page.goto(f"/contracts/{contract_id}")
    text = history_text(page)
    first = page.locator("section[aria-labelledby=history-heading] tbody tr").first
    expect(first).to_contain_text("条項マトリクスを更新")
    expect(first).to_contain_text(changed)
    expect(first).to_contain_text("→ 規定あり")
    expect(first).to_contain_text("第99条")
    assert not CODES.search(text), CODES.search(text)
    no_serious_violations(page)

    to_english(page)
    page.goto(f"/contracts/{contract_id}")
    text = history_text(page)
    first = page.locator("section[aria-labelledby=history-heading] tbody tr").first
    expect(first).to_contain_text("Clause matrix updated")
    expect(first).to_contain_text("→ Included")
    assert "条項マトリクス" not in text
    assert not EN_CODES.search(text), EN_CODES.search(text)


def test_a_cloud_services_history_after_its_decision_reads_in_japanese_and_english(demo, page):
    with demo.app_context():
        service_id = _service_id("電子メールサービス（組合ドメイン）")  # approved in the demo data
    sign_in(page, "procurement")
    page.goto(f"/cloud/{service_id}")
    text = history_text(page)
    assert "承認" in text and "申請中 → 承認" in text, text
    assert not CODES.search(text), CODES.search(text)
    no_serious_violations(page)

    to_english(page)
    page.goto(f"/cloud/{service_id}")
    text = history_text(page)
    assert "Approved" in text and "→ Approved" in text, text
    assert not EN_CODES.search(text), EN_CODES.search(text)
