"""axe-core on the pages people use most, as the browser renders them (CSS,
colours, the accessibility tree): no violation of impact "serious" or
"critical" on the login page, the dashboard, and each register's list,
detail and form pages."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pytest
from sqlalchemy import select

from core.db import db
from tests.browser.conftest import expect, sign_in

BLOCKING = ("serious", "critical")
# Every rule as a desktop shows the page; then, as a phone shows it, the rules
# whose result depends on the layout: tables scroll sideways there, and
# fingers need targets large enough (WCAG 2.2 AA 2.5.8).
DESKTOP, PHONE = 1280, 390
PHONE_RULES = {"runOnly": {"type": "rule", "values": ["scrollable-region-focusable", "target-size"]},
               "resultTypes": ["violations"]}


# --- the records the detail pages show (demo data) ----------------------------

def _id(model, **where) -> int:
    found = db.session.scalar(select(model.id).filter_by(**where))
    assert found is not None, f"no {model.__name__} {where} in the demo data"
    return found


def vendor(name: str) -> Callable[[], str]:
    from vendors.models import Vendor
    return lambda: f"/vendors/{_id(Vendor, name=name)}"


def contract(number: str, suffix: str = "") -> Callable[[], str]:
    from contracts.models import Contract
    return lambda: f"/contracts/{_id(Contract, number=number)}{suffix}"


def submitted_verification(number: str) -> Callable[[], str]:
    def path() -> str:
        from contracts.models import Contract, Verification
        return f"/verification/{_id(Verification, contract_id=_id(Contract, number=number))}"
    return path


def draft_verification(number: str) -> Callable[[], str]:
    """The verification form needs a draft: the verifier starts one."""
    def path() -> str:
        from contracts import verification
        from contracts.models import Contract
        from core.models import User

        draft = verification.start(db.session.get(Contract, _id(Contract, number=number)),
                                   user=db.session.get(User, _id(User, username="verifier")))
        db.session.commit()
        return f"/verification/{draft.id}/edit"
    return path


def cloud_service(name: str) -> Callable[[], str]:
    from cloud.models import CloudService
    return lambda: f"/cloud/{_id(CloudService, name=name)}"


def social_account(name: str) -> Callable[[], str]:
    from social.models import SocialAccount
    return lambda: f"/social/{_id(SocialAccount, name=name)}"


def submit_empty(page) -> None:
    """Send the form as it is, to see its error messages."""
    page.locator("main form[method=post]").last.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert").filter(has_text="入力内容に誤りがあります")).to_be_visible()


def upload_with_errors(page) -> None:
    """Upload a spreadsheet with a bad row, to see the import preview."""
    page.set_input_files("#file", {"name": "vendors.csv", "mimeType": "text/csv",
                                   "buffer": "名称,担当組織,状態\n株式会社テスト,存在しない課,候補\n".encode()})
    page.get_by_role("button", name="内容を確認する").click()
    expect(page.get_by_role("alert").filter(has_text="取り込めません")).to_be_visible()


def select_despite_not_met(page) -> None:
    """A 選定 with a 不適合 criterion: the form comes back with the warning and its confirmation (issue 20)."""
    criteria = page.get_by_role("table", name="選定基準").locator("tbody tr")
    for i in range(criteria.count()):
        criteria.nth(i).get_by_role("combobox").select_option(label="不適合" if i == 0 else "適合")
    criteria.first.get_by_role("textbox").fill("実績なし")
    page.get_by_role("radio", name="選定する").check()
    page.get_by_label("「不適合」があるまま選定する理由").fill("体制で補えるため")
    page.get_by_role("button", name="登録").click()
    expect(page.get_by_label("「不適合」の基準があることを確認したうえで「選定する」と決定します")).to_be_visible()


@dataclass(frozen=True)
class Case:
    user: str | None  # None: not signed in
    path: str | Callable[[], str]
    then: Callable | None = field(default=None)  # what the user does on the page before the check


PAGES = {
    "login": Case(None, "/login"),
    "dashboard": Case("admin", "/"),
    "vendors-list": Case("procurement", "/vendors/"),
    "vendors-detail": Case("procurement", vendor("株式会社道央情報システム")),
    "vendors-form": Case("procurement", "/vendors/new"),
    "vendors-form-errors": Case("procurement", "/vendors/new", then=submit_empty),
    "vendors-selection-confirm": Case("procurement", lambda: vendor("株式会社道央情報システム")() + "/selection/new",
                                      then=select_despite_not_met),
    "contracts-list": Case("procurement", "/contracts/"),
    "contracts-detail": Case("procurement", contract("R8-001")),
    "contracts-detail-exception": Case("procurement", contract("R8-003")),
    "contracts-form": Case("procurement", "/contracts/new"),
    "contracts-clauses-form": Case("procurement", contract("R8-003", "/clauses")),
    "verifications-list": Case("verifier", "/verification/"),
    "verifications-detail": Case("verifier", submitted_verification("R8-001")),
    "verifications-form": Case("verifier", draft_verification("R8-002")),
    "findings-list": Case("verifier", "/verification/findings"),
    "cloud-list": Case("procurement", "/cloud/"),
    "cloud-detail-approved": Case("procurement", cloud_service("電子メールサービス（組合ドメイン）")),
    "cloud-detail-pending": Case("procurement", cloud_service("オンラインストレージ")),
    "cloud-form": Case("procurement", "/cloud/new"),
    "social-list": Case("social", "/social/"),
    "social-detail": Case("social", social_account("○○消防本部 公式")),
    "social-form": Case("social", "/social/new"),
    "vendors-import": Case("procurement", "/vendors/import"),
    "vendors-import-preview": Case("procurement", "/vendors/import", then=upload_with_errors),
}


def report(violations: list[dict]) -> str:
    """Each violation's id, impact and rule, then each node it found: its
    selector and what to fix."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {violation['helpUrl']}")
        for node in violation["nodes"]:
            target = " ".join(map(str, node["target"]))
            fixes = "; ".join(line.strip() for line in node.get("failureSummary", "").splitlines()[1:] if line.strip())
            lines.append(f"    {target} — {fixes}")
    return "\n".join(lines)


def resize(page, width: int) -> None:
    """Narrow or widen the window, and let the page's resize handlers run."""
    page.set_viewport_size({"width": width, "height": 900})
    page.wait_for_function("width => window.innerWidth === width", arg=width)
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


@pytest.mark.parametrize("name", PAGES)
def test_no_serious_accessibility_violations(demo, page, name):
    """Checked as a desktop shows the page, then as a phone does."""
    from axe_playwright_python.sync_playwright import Axe

    case = PAGES[name]
    if case.user:
        sign_in(page, case.user)
    with demo.app_context():
        path = case.path() if callable(case.path) else case.path
    response = page.goto(path)
    assert response is not None and response.ok, f"{path}: {response.status if response else 'no response'}"
    if case.then:
        case.then(page)
    problems = []
    for width, options in ((DESKTOP, None), (PHONE, PHONE_RULES)):
        resize(page, width)
        results = Axe().run(page, options=options) if options else Axe().run(page)
        blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
        if blocking:
            problems.append(f"at {width} px wide:\n{report(blocking)}")
    assert not problems, f"{name} ({page.url}):\n" + "\n".join(problems)


def test_a_table_wider_than_the_screen_scrolls_with_the_keyboard(demo, page):
    sign_in(page, "procurement")
    with demo.app_context():
        page.goto(contract("R8-001")())
    resize(page, PHONE)
    history = page.get_by_role("group", name="変更履歴")
    history.focus()
    expect(history).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("el => el.scrollLeft > 0", arg=history.element_handle())

    # Wide enough for the table: nothing to scroll, no extra stop in the tab order.
    resize(page, DESKTOP)
    expect(page.get_by_role("table", name="変更履歴").locator("..")).not_to_have_attribute("tabindex", "0")
    expect(history).to_have_count(0)
