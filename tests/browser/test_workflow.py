"""What the procurement officer and the verifier do, end to end, in a real
browser: a new vendor is registered and selected, its contract gets its
security clauses and is signed, the verifier records a check with an
evidence file, and the contract checklist PDF shows it all."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from core.demo import DEMO_PDF
from core.timeutil import today
from tests.browser.conftest import expect, login, logout, pick
from vendors.rules import corporate_number_check_digit

# The pages send a real CSRF token, as in production.
pytestmark = pytest.mark.config(WTF_CSRF_ENABLED=True)

VENDOR = "株式会社ブラウザ検証システム"
CONTRACT = "R8-901"
TITLE = "窓口予約システム運用保守業務"
CORPORATE_NUMBER = f"{corporate_number_check_digit('443009876543')}443009876543"


def flash(page):
    return page.locator(".flash-messages")


def heading(page):
    return page.get_by_role("heading", level=1)


def register_vendor(page) -> None:
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="委託事業者", exact=True).click()
    page.get_by_role("link", name="委託事業者を登録").click()
    expect(heading(page)).to_have_text("委託事業者の登録")
    page.get_by_label("名称（法人名）").fill(VENDOR)
    page.get_by_label("フリガナ").fill("ブラウザケンショウシステム")
    page.get_by_label("法人番号").fill(CORPORATE_NUMBER)
    page.get_by_label("所在地").fill("滝川市大町1丁目2番3号")
    page.get_by_label("担当組織").select_option(label="消防本部 › 総務課")
    page.get_by_role("button", name="保存").click()
    expect(flash(page)).to_contain_text(f"委託事業者「{VENDOR}」を登録しました。")
    expect(heading(page)).to_contain_text(VENDOR)
    expect(heading(page)).to_contain_text("候補")


def record_selection(page) -> None:
    page.get_by_role("link", name="選定記録を登録").click()
    expect(heading(page)).to_have_text(f"選定記録の登録: {VENDOR}")
    criteria = page.get_by_role("table", name="選定基準").locator("tbody select")
    expect(criteria).to_have_count(11)
    for i in range(criteria.count()):
        criteria.nth(i).select_option(label="適合")
    page.get_by_role("radio", name="選定する").check()  # no decision is chosen beforehand (issue 20)
    page.get_by_label("選定理由・備考").fill("価格と体制を総合評価")
    page.get_by_role("button", name="登録").click()
    expect(flash(page)).to_contain_text("選定記録を登録しました。")


def register_contract(page) -> None:
    page.get_by_role("link", name="契約を登録").click()
    expect(heading(page)).to_have_text("契約の登録")
    expect(page.get_by_role("combobox", name=re.compile("^委託事業者"))).to_have_value(VENDOR)  # the vendor we came from
    expect(page.locator("input[type=hidden][name=vendor_id]")).to_have_value(re.compile(r"\d+"))
    page.get_by_label("契約番号").fill(CONTRACT)
    page.get_by_label("件名").fill(TITLE)
    page.get_by_label("種別").select_option(label="運用")
    pick(page, "担当組織", "総務課", "消防本部 › 総務課")
    pick(page, "担当者", "調達", "調達 花子")
    page.get_by_label("契約開始日").fill((today() - dt.timedelta(days=30)).isoformat())
    page.get_by_label("契約終了日").fill((today() + dt.timedelta(days=335)).isoformat())
    page.get_by_label("取り扱う情報の機密性（最高）").select_option(label="自治体機密性3C")  # personal data: class 3 (issue 17)
    page.get_by_label("個人情報を取り扱う", exact=True).check()
    page.get_by_role("button", name="保存").click()
    expect(flash(page)).to_contain_text(f"契約「{CONTRACT}」を登録しました。")
    expect(heading(page)).to_contain_text(f"セキュリティ条項: {CONTRACT}")


def fill_clause_matrix(page) -> list[str]:
    """規定あり, with its article, for every mandatory (★) clause; the
    others keep 規定なし. Returns the mandatory codes."""
    rows = page.get_by_role("table", name="セキュリティ条項").locator("tbody tr")
    mandatory = rows.filter(has_text="必須")
    codes = []
    for i in range(mandatory.count()):
        row = mandatory.nth(i)
        code = row.locator("td").first.inner_text().split()[0]
        codes.append(code)
        row.get_by_role("combobox").select_option(label="規定あり")
        row.get_by_label(f"条項番号 {code}").fill(f"第{i + 1}条")
    assert codes[:3] == ["C01", "C02", "C03"] and "C20" in codes, codes
    page.get_by_role("button", name="保存").click()
    expect(flash(page)).to_contain_text("セキュリティ条項を保存しました。")
    expect(flash(page)).not_to_contain_text("必須条項の不足")
    return codes


def confirm_selection(page) -> None:
    """The vendor's selection, recorded just before, confirmed for this contract (issue 17)."""
    page.get_by_label("確認のコメント（事業者の選定がこの契約を対象とする理由）").fill("本契約の業務を対象に選定した")
    page.get_by_role("button", name="この契約の選定として確認").click()
    expect(flash(page)).to_contain_text("事業者の選定記録をこの契約の選定として確認しました。")


def sign(page) -> None:
    # The button asks "状態を「締結済」にしますか？" first; the page fixture says yes.
    page.get_by_role("button", name="「締結済」にする").click()
    expect(flash(page)).to_contain_text("状態を「締結済」にしました。")
    expect(heading(page)).to_contain_text("締結済")


def record_verification(page, codes: list[str]) -> None:
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="確認", exact=True).click()
    expect(heading(page)).to_have_text("確認")
    row = page.get_by_role("table", name="確認の予定").locator("tbody tr").filter(has_text=CONTRACT)
    expect(row).to_contain_text(VENDOR)
    row.get_by_role("button", name="確認を記録").click()
    expect(heading(page)).to_have_text(f"確認の記録: {CONTRACT} {TITLE}")
    page.get_by_label("確認方法").select_option(label="報告書")
    results = page.get_by_role("table", name="契約に含まれる条項ごとの結果").locator("tbody tr")
    expect(results).to_have_count(len(codes))
    for code in codes:
        page.get_by_label(f"結果 {code}", exact=True).select_option(label="適合")
    page.get_by_label("確認全体の証拠ファイル").set_input_files(
        {"name": "定期報告書_2026上期.pdf", "mimeType": "application/pdf", "buffer": DEMO_PDF})
    page.get_by_label("総合所見").fill("すべての必須条項について、報告書で実施を確認した。")
    # "提出すると変更できなくなります。提出しますか？" — yes.
    page.get_by_role("button", name="提出する").click()
    expect(flash(page)).to_contain_text("確認を提出しました。")
    expect(heading(page)).to_contain_text("提出済み")
    evidence = page.get_by_role("region", name="確認全体の証拠ファイル")
    expect(evidence.get_by_role("link", name="定期報告書_2026上期.pdf")).to_be_visible()
    expect(page.get_by_role("table", name="条項ごとの結果").locator("tbody tr")).to_have_count(len(codes))


def checklist_text(page) -> str:
    """Download the contract checklist with the signed-in user's session and
    return its text. (Chromium shows an inline PDF in its viewer, whose page
    holds no PDF bytes, so the file is fetched from the link's address.)"""
    from pypdf import PdfReader

    link = page.get_by_role("link", name="契約点検表（PDF）")
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200, response.status
    assert response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF"), body[:20]
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)


def test_vendor_contract_verification_and_checklist(demo, page):
    login(page, "procurement")
    register_vendor(page)
    record_selection(page)
    expect(heading(page)).to_contain_text("選定済")
    register_contract(page)
    codes = fill_clause_matrix(page)
    clauses = page.get_by_role("table", name="セキュリティ条項").locator("tbody tr")
    for code in codes:
        expect(clauses.filter(has_text=code).first).to_contain_text("規定あり")
    confirm_selection(page)
    sign(page)
    logout(page)

    login(page, "verifier")
    record_verification(page, codes)
    page.get_by_role("navigation", name="パンくずリスト").get_by_role("link", name=CONTRACT).click()
    expect(heading(page)).to_contain_text(TITLE)
    text = checklist_text(page)
    assert VENDOR in text
    assert f"契約点検表 {CONTRACT}" in text
    assert "適合" in text and "報告書" in text


def test_language_switch_follows_the_user(demo, page):
    login(page, "auditor")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "ja")
    language = page.get_by_role("form", name="表示言語")
    language.get_by_role("button", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(heading(page)).to_have_text("Dashboard")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("form", name="Language").get_by_role("button", name="English")).to_have_attribute(
        "aria-pressed", "true")

    # The choice is the user's, not the browser's: signing out clears the
    # session (the sign-in page is Japanese again), signing in brings it back.
    page.get_by_role("button", name="Sign out").click()
    expect(heading(page)).to_have_text("ログイン")
    login(page, "auditor", expect_heading="Dashboard")
    expect(html).to_have_attribute("lang", "en")

    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Contracts", exact=True).click()
    expect(heading(page)).to_have_text("Contracts")
    page.get_by_role("form", name="Language").get_by_role("button", name="日本語").click()
    expect(html).to_have_attribute("lang", "ja")
    expect(heading(page)).to_have_text("契約")  # back on the same page
    expect(language.get_by_role("button", name="日本語")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="ログアウト")).to_be_visible()
