"""Register lists on a phone (issue 20): at 390 px each row is a compact card
— never taller than 200 px, nothing cut off, no sideways scrolling of the
page — the filters fold into a panel, and axe-core finds nothing serious at
either width."""
from __future__ import annotations

import pytest

from tests.browser.conftest import expect, sign_in
from tests.browser.test_accessibility import BLOCKING, DESKTOP, PHONE, report, resize

# Each list page, read by a user who sees all of it in the demo data.
LISTS = {
    "vendors": ("procurement", "/vendors/"),
    "contracts": ("procurement", "/contracts/"),
    "cloud": ("procurement", "/cloud/"),
    "social": ("social", "/social/"),
    "verifications": ("verifier", "/verification/"),
    "findings": ("verifier", "/verification/findings"),
    "measures": ("lead", "/measures"),
    "incidents": ("lead", "/incidents/?status=all"),
    "audits": ("auditor", "/audits/"),
    "inspections": ("auditor", "/inspections/"),
    "checklists": ("auditor", "/checklists/"),
    "users": ("admin", "/admin/users"),
    "inbox": ("approver", "/inbox"),
    "audit-log": ("auditor", "/audit/"),
}

# What the page measures at phone width: the rows of each register list,
# the cells whose content is wider than the cell, and how far the page
# reaches beyond the window.
MEASURE = """() => {
  const rows = [...document.querySelectorAll('main table.register-list > tbody > tr')];
  const cut = [...document.querySelectorAll('main table.register-list > tbody > tr > td')]
    .filter(td => td.getClientRects().length && (td.scrollWidth > td.clientWidth + 1
                                                 || td.getBoundingClientRect().right > window.innerWidth + 1))
    .map(td => td.textContent.trim().slice(0, 40));
  return {
    rows: rows.length,
    tall: rows.map(tr => [Math.round(tr.getBoundingClientRect().height), tr.textContent.trim().slice(0, 40)])
              .filter(([height]) => height > 200),
    cut: cut,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
  };
}"""


def _open(page, demo, name):
    user, path = LISTS[name]
    sign_in(page, user)
    response = page.goto(path)
    assert response is not None and response.ok, f"{path}: {response.status if response else 'no response'}"


@pytest.mark.parametrize("name", LISTS)
def test_a_list_reads_as_cards_on_a_phone(demo, page, name):
    _open(page, demo, name)
    resize(page, PHONE)
    found = page.evaluate(MEASURE)
    if name not in ("inbox",):
        assert found["rows"] > 0, f"{name}: no register list on the page"
    assert not found["tall"], f"{name}: rows taller than 200 px at {PHONE} px: {found['tall']}"
    assert not found["cut"], f"{name}: cells cut off at {PHONE} px: {found['cut']}"
    assert found["overflow"] <= 0, f"{name}: the page scrolls sideways by {found['overflow']} px at {PHONE} px"


@pytest.mark.parametrize("name", LISTS)
def test_a_list_has_no_serious_accessibility_violation_at_either_width(demo, page, name):
    from axe_playwright_python.sync_playwright import Axe

    _open(page, demo, name)
    problems = []
    for width in (DESKTOP, PHONE):
        resize(page, width)
        blocking = [v for v in Axe().run(page).response["violations"] if v["impact"] in BLOCKING]
        if blocking:
            problems.append(f"at {width} px wide:\n{report(blocking)}")
    assert not problems, f"{name} ({page.url}):\n" + "\n".join(problems)


def test_the_filters_fold_on_a_phone_and_stay_open_on_a_desktop(demo, page, context):
    sign_in(page, "procurement")
    page.goto("/contracts/")
    status = page.get_by_label("状態", exact=True)
    expect(status).to_be_visible()
    expect(page.locator("details.filter-panel > summary")).to_be_hidden()

    phone = context.new_page()
    phone.set_viewport_size({"width": PHONE, "height": 800})
    phone.goto("/contracts/")
    status = phone.get_by_label("状態", exact=True)
    expect(status).to_be_hidden()
    summary = phone.get_by_text("絞り込み条件")
    summary.click()
    expect(status).to_be_visible()
    status.select_option(label="締結済")
    phone.get_by_role("button", name="絞り込む").click()
    # A filter in use: the panel stays open and says how many are set.
    expect(phone.get_by_label("状態", exact=True)).to_be_visible()
    expect(phone.locator("details.filter-panel > summary")).to_contain_text("1件指定中")
    # The search box is always in view.
    expect(phone.get_by_role("searchbox", name="検索")).to_be_visible()


def test_each_checklist_document_has_its_own_button(demo, page):
    sign_in(page, "auditor")
    page.goto("/checklists/")
    contracts = page.get_by_role("table", name="契約点検表")
    row = contracts.get_by_role("row").filter(has_text="R8-001")
    for label in ("契約点検表", "実地確認シート", "事業者概要"):
        button = row.get_by_role("link", name=label)
        expect(button).to_have_class("btn btn-sm btn-document")
    response = page.request.get(row.get_by_role("link", name="事業者概要").get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
