"""The vendor picker on the contract form, in a real browser (issue 20):
reached with Tab, searched by typing (in hiragana: the vendors' kana is in
katakana), chosen with ArrowDown and Enter, its results announced in a live
region, axe-core finding nothing serious; the form then submits the id of
the vendor chosen."""
from __future__ import annotations

from sqlalchemy import select

from contracts.models import Contract
from core.db import db
from tests.browser.conftest import expect, pick, sign_in
from vendors.models import Vendor

BLOCKING = ("serious", "critical")


def _serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe
    results = Axe().run(page)
    return [f"{v['id']}: {v['help']} ({[n['target'] for n in v['nodes']]})"
            for v in results.response["violations"] if v["impact"] in BLOCKING]


def test_the_vendor_picker_works_from_the_keyboard(demo, page):
    with demo.app_context():
        sorachi = db.session.scalar(select(Vendor.id).where(Vendor.name == "空知ネットワーク株式会社"))
    sign_in(page, "procurement")
    page.goto("/contracts/new")
    page.get_by_label("件名").click()
    page.keyboard.press("Tab")
    combobox = page.get_by_role("combobox", name="委託事業者")
    expect(combobox).to_be_focused()
    page.keyboard.type("そらち")
    options = page.get_by_role("listbox").get_by_role("option")
    expect(options).to_have_count(2)  # 合同会社そらちAI研究所 (ソラチエ…) before 空知ネットワーク (ソラチネ…)
    expect(page.locator(".autocomplete__wrapper [role=status]").first).to_contain_text("候補が2件あります。")
    assert _serious(page) == [], "with the results open"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(options.filter(has_text="空知ネットワーク株式会社")).to_have_attribute(
        "aria-selected", "true")
    page.keyboard.press("Enter")
    expect(combobox).to_have_value("空知ネットワーク株式会社")
    expect(page.locator("input[type=hidden][name=vendor_id]")).to_have_value(str(sorachi))
    assert _serious(page) == [], "with the vendor chosen"

    page.get_by_label("契約番号").fill("R8-900")
    page.get_by_label("件名").fill("キーボードで選んだ契約")
    pick(page, "担当組織", "総務課")
    pick(page, "担当者", "調達", "調達 花子")
    page.get_by_label("契約開始日").fill("2026-04-01")
    page.get_by_label("契約終了日").fill("2027-03-31")
    page.get_by_label("取り扱う情報の機密性（最高）").select_option(index=1)
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("契約の登録")
    with demo.app_context():
        assert db.session.scalar(select(Contract.vendor_id).where(Contract.number == "R8-900")) == sorachi


def test_without_a_choice_the_typed_text_chooses_nothing(demo, page):
    """Typing a name without choosing it leaves the field empty: the server
    asks for a vendor (and keeps what was typed elsewhere)."""
    sign_in(page, "procurement")
    page.goto("/contracts/new")
    page.get_by_role("combobox", name="委託事業者").fill("空知")
    page.get_by_label("件名").fill("選ばずに保存")
    page.get_by_role("button", name="保存").click()
    # beside the field (the combobox's own hint repeats it for screen readers)
    expect(page.locator("#vendor_id-error")).to_contain_text("委託事業者を選択してください。")
    expect(page.get_by_label("件名")).to_have_value("選ばずに保存")
