"""Real-browser tests: the test app served over HTTP in a thread, driven by
Debian's Chromium through Playwright.

One browser for the session, a new context (cookies, storage) for every
test. Each test still gets its own app and database from tests/conftest.py
(SQLite file or PostgreSQL copy); the server thread serves that very app,
and stops before the fixture drops its database.

Without Chromium (ITAKU_TEST_CHROMIUM, default /usr/bin/chromium) the tests
are skipped — except in CI (CI=true), where a missing browser is an install
step gone wrong and the tests fail.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import DEMO_PASSWORD

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the browser fixture says why the tests cannot run
    expect = sync_playwright = None

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = "test-artifacts"
TIMEOUT_MS = 15_000

_reports = pytest.StashKey[dict]()


def chromium_path() -> str | None:
    """The browser to drive, or None when it is not installed."""
    configured = os.environ.get("ITAKU_TEST_CHROMIUM", "/usr/bin/chromium")
    found = shutil.which(configured)
    return found if found and Path(found).is_file() else None


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} — CI must install it (.ci/run), so the browser tests never silently skip",
                    pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, for the screenshot on failure."""
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if executable is None:
        _unavailable(f"Chromium not found at {os.environ.get('ITAKU_TEST_CHROMIUM', '/usr/bin/chromium')} "
                     "(apt-get install chromium fonts-ipaexfont, or set ITAKU_TEST_CHROMIUM)")
    if sync_playwright is None:
        _unavailable("Playwright is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LiveServer:
    """The test's app on 127.0.0.1 at a free port, in a thread."""

    def __init__(self, app):
        self.app = app
        self._busy = 0
        self._idle = threading.Condition()
        self._server = make_server("127.0.0.1", 0, self._serve, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="itaku-live-server", daemon=True)

    def _serve(self, environ, start_response):
        """The app, counting the requests in progress; each response body is
        read in full and closed before it is sent. (werkzeug's development
        server never closes a response whose client hung up halfway — a
        browser leaving a page while a stylesheet still loads — and the
        open file's ResourceWarning would fail whichever test is running.)"""
        with self._idle:
            self._busy += 1
        try:
            body = self.app(environ, start_response)
            try:
                return [b"".join(body)]
            finally:
                if hasattr(body, "close"):
                    body.close()
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, and wait for the requests in progress: none may
        touch the database once the app fixture drops it."""
        self._server.shutdown()
        with self._idle:
            self._idle.wait_for(lambda: self._busy == 0, timeout=10)
        self._server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture
def server(app):
    """Serve the test's own app (and so its own database); stopped before the
    app fixture disposes of the engine and drops the database."""
    live = LiveServer(app).start()
    yield live
    live.stop()


@pytest.fixture
def context(browser, server):
    context = browser.new_context(base_url=server.url, locale="ja-JP", viewport={"width": 1280, "height": 900},
                                  accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context, request):
    """A tab of the test's context. The app asks before some POSTs
    (data-confirm → window.confirm): the user says yes. A failed test leaves
    a screenshot of the page in test-artifacts/."""
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    reports = request.node.stash.get(_reports, {})
    if any(report.failed for report in reports.values()):
        folder = Path(request.config.rootpath) / ARTIFACTS
        folder.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
        try:
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        except Exception as error:  # the test's own failure is what matters
            print(f"screenshot failed: {error}")


def login(page, username: str, password: str = DEMO_PASSWORD, expect_heading: str = "ダッシュボード") -> None:
    """Sign in through the (Japanese) login form and land on the dashboard."""
    page.goto("/login")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(expect_heading)


def sign_in(page, username: str, password: str = DEMO_PASSWORD) -> None:
    """A quick sign-in for tests about something else: the login form's POST
    sent by the page's request API, which shares the browser's cookies (the
    form itself is tested through login()). Needs CSRF off, as in the
    default test configuration."""
    response = page.request.post("/login", form={"username": username, "password": password}, max_redirects=0)
    assert response.status == 302, f"sign-in as {username} refused ({response.status})"


def logout(page) -> None:
    page.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")


def pick(page, label: str, typed: str, choice: str | None = None) -> None:
    """Choose a record with a picker (core/pickers.py) as a person does: type
    into the combobox named ``label`` and click the option that reads
    ``choice`` (``typed`` when not given)."""
    box = page.get_by_role("combobox", name=re.compile("^" + re.escape(label)))  # its name may end in （必須）
    box.fill("")
    box.press_sequentially(typed)
    page.get_by_role("listbox").get_by_role("option", name=re.compile(re.escape(choice or typed))).first.click()
    expect(box).to_have_value(re.compile(re.escape(choice or typed)))
