"""The forced password change (issue 20), in a real browser: a user whose
account an administrator created signs in, is held at the form until they
choose their own password, and then works as usual."""
from __future__ import annotations

from tests.browser.conftest import expect, login, logout
from tests.browser.test_accessibility import BLOCKING, DESKTOP, PHONE, report, resize

GIVEN, MINE = "given-by-admin-1", "chosen-by-myself-2"


def test_a_new_user_sets_their_own_password_at_first_sign_in(demo, page):
    from core import accounts
    from core.db import db
    from core.models import Role

    with demo.app_context():
        accounts.create_user(username="yobou.sato", display_name="佐藤 二郎", password=GIVEN,
                             roles=[Role.PROCUREMENT], must_change=True)
        db.session.commit()

    login(page, "yobou.sato", GIVEN, expect_heading="新しいパスワードの設定")
    # Another page, from the menu or typed: back to the form.
    page.goto("/contracts/")
    expect(page.get_by_role("heading", level=1)).to_have_text("新しいパスワードの設定")

    from axe_playwright_python.sync_playwright import Axe
    for width in (DESKTOP, PHONE):
        resize(page, width)
        blocking = [v for v in Axe().run(page).response["violations"] if v["impact"] in BLOCKING]
        assert not blocking, f"at {width} px:\n{report(blocking)}"
    resize(page, DESKTOP)

    # The administrator's password again is refused, beside the field.
    page.locator("#current_password").fill(GIVEN)
    page.locator("#new_password").fill(GIVEN)
    page.locator("#confirm_password").fill(GIVEN)
    page.get_by_role("button", name="パスワードを設定する").click()
    expect(page.get_by_text("新しいパスワードには、現在のパスワードと異なるものを指定してください。").first).to_be_visible()

    page.locator("#current_password").fill(GIVEN)
    page.locator("#new_password").fill(MINE)
    page.locator("#confirm_password").fill(MINE)
    page.get_by_role("button", name="パスワードを設定する").click()
    # Back where the user was going.
    expect(page.get_by_role("heading", level=1)).to_have_text("契約")
    expect(page.get_by_text("パスワードを設定しました。")).to_be_visible()

    logout(page)
    login(page, "yobou.sato", MINE)
