"""The hostile crawler (issue 15 §1): stored and reflected XSS anywhere.

What it does, on the demo data:
1. As each role that can write (admin, procurement, verifier, social,
   approver, then auditor), it follows the site's links (GET, same site,
   bounded) and submits every form it finds with
   ``<script>alert(1)</script>`` and ``"'><img src=x onerror=alert(1)>`` in
   every text field: text, search and URL inputs and textareas (a URL gets
   them in its path, an e-mail field a valid address, dates today, numbers
   1; selects keep their first real option, checkboxes and hidden fields
   stay as they are, or the first box of an unticked group is ticked).  A
   refused form is sent once more with its flagged fields blanked, or given a
   plain value where required, so that the other fields' payloads are stored.
   Search forms (GET) get the payloads too.
2. Then, as every role, it crawls every page reachable by links, the pages
   the saves redirected to first.

Every HTML response of both steps (form pages, refusals, redirects'
targets, lists, detail pages, the dashboard) must contain neither payload
as it was written: escaped, they are harmless.

Left out, so that the crawl can go on: signing out, the language switch,
password changes and resets, (de)activating, unlocking or editing users,
revoking tokens or calendar links, deleting, retiring, status changes,
file uploads and imports, downloads (PDF, CSV, XLSX, iCal) and the API.
The crawl is bounded: a path pattern (digits as N, with its query's keys) is
visited at most a few times, pagination and sort links are not followed.
"""
from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from markupsafe import escape
from werkzeug.datastructures import MultiDict

from tests.conftest import DEMO_PASSWORD, login_as

PAYLOADS = ("<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>")
TEXT = "".join(PAYLOADS)
WRITERS = ("admin", "procurement", "verifier", "social", "approver", "auditor")
READERS = WRITERS

SKIP_ACTIONS = re.compile(
    r"^/(logout|language|login|account$|account/calendar/revoke|account/tokens/\d+/revoke"
    r"|admin/users/\d+)"
    r"|/delete$|/retire$|/status$|/import(/confirm)?$")
SKIP_LINKS = re.compile(r"\.(pdf|csv|xlsx|ics)$|/export|/template|/file$|/document$|/evidence(/\d+)?$"
                        r"|^/api/|^/static/|^/bootstrap/|^/logout|^/language")
SKIP_QUERY = {"page", "sort", "dir", "order", "format"}
PER_PATTERN = 3


@dataclass
class Form:
    method: str
    action: str
    fields: list[dict] = field(default_factory=list)  # inputs, textareas and selects, in order
    buttons: list[dict] = field(default_factory=list)  # its submit buttons: the first one is pressed


class PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: dict | None = None
        self._select: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = Form(a.get("method", "get").lower(), a.get("action", ""))
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "button" and a.get("type", "submit").lower() == "submit":
            self._form.buttons.append(a)
        elif tag == "input" and a.get("name"):
            self._form.fields.append({"tag": "input", **a})
        elif tag == "textarea" and a.get("name"):
            self._textarea = {"tag": "textarea", **a, "value": ""}
            self._form.fields.append(self._textarea)
        elif tag == "select" and a.get("name"):
            self._select = {"tag": "select", **a, "options": []}
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._select["options"].append((a.get("value", ""), "selected" in a))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


def pattern(url: str) -> str:
    """/vendors/12?unit=3 → /vendors/N?unit: the crawl's unit of 'same page'."""
    parts = urlsplit(url)
    keys = sorted({key for key, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(keys) if keys else "")


def local(base: str, href: str) -> str | None:
    """The same-site path (with query) ``href`` points to, or None."""
    url = urljoin("http://localhost" + base, href)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc != "localhost":
        return None
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in SKIP_QUERY]
    if len(query) != len(parse_qsl(parts.query, keep_blank_values=True)):
        return None  # a paging or sorting link: the first page is enough
    path = parts.path + ("?" + urlencode(query) if query else "")
    return None if SKIP_LINKS.search(parts.path) else path


class Crawler:
    def __init__(self, client, role: str):
        self.client, self.role = client, role
        self.seen_patterns: dict[str, int] = {}
        self.visited: set[str] = set()
        self.raw: list[str] = []  # "role METHOD url: payload" found unescaped
        self.escaped_pages = 0
        self.pages = 0
        self.counter = itertools.count(1)

    def check(self, label: str, response) -> str | None:
        if response.mimetype != "text/html":
            response.close()  # a download's file
            return None
        html = response.get_data(as_text=True)
        self.pages += 1
        for payload in PAYLOADS:
            if payload in html:
                at = html.index(payload)
                self.raw.append(f"{self.role} {label}: …{html[max(0, at - 80):at + len(payload)]}")
        if str(escape(PAYLOADS[0])) in html:
            self.escaped_pages += 1
        return html

    def get(self, url: str):
        response = self.client.get(url, follow_redirects=True)
        return response, self.check(f"GET {url}", response)

    def crawl(self, seeds, on_page=None, limit: int = 400):
        queue = list(dict.fromkeys(seeds))
        while queue and len(self.visited) < limit:
            url = queue.pop(0)
            if url in self.visited:
                continue
            key = pattern(url)
            if self.seen_patterns.get(key, 0) >= PER_PATTERN:
                continue
            self.seen_patterns[key] = self.seen_patterns.get(key, 0) + 1
            self.visited.add(url)
            response, html = self.get(url)
            if html is None or response.status_code != 200:
                continue
            page = parse(html)
            if on_page is not None:
                on_page(url, page)
            for href in page.links:
                target = local(url, href)
                if target and target not in self.visited:
                    queue.append(target)

    # --- filling forms -----------------------------------------------------------------
    def values(self, form: Form, blank: set[str] = frozenset(), plain: set[str] = frozenset()) -> list:
        data: list[tuple[str, str]] = []
        ticked: set[str] = set()
        boxes: dict[str, str] = {}
        for f in form.fields:
            name, kind = f["name"], f.get("type", "text").lower()
            if f["tag"] == "select":
                options = [value for value, _ in f["options"] if value]
                chosen = [value for value, selected in f["options"] if selected and value] or options[:1]
                if name in blank or name in plain:  # refused: none, else another one
                    chosen = options[1:2] if name in plain else []
                data += [(name, value) for value in chosen]
            elif kind in ("checkbox", "radio"):
                if "checked" in f:
                    data.append((name, f.get("value", "y")))
                    ticked.add(name)
                else:
                    boxes.setdefault(name, f.get("value", "y"))
            elif kind in ("hidden", "submit", "button", "file", "image", "reset"):
                if kind == "hidden":
                    data.append((name, f.get("value", "")))
            elif name in blank:
                data.append((name, ""))
            elif name in plain:
                data.append((name, f"x{next(self.counter)}"))
            elif kind == "email" or "mail" in name:
                data.append((name, f"crawler{next(self.counter)}@example.lg.jp"))
            elif kind == "date" or name.endswith(("_on", "_until", "_at")):
                data.append((name, dt.date.today().isoformat()))
            elif kind == "number":
                data.append((name, f.get("min") or "1"))
            elif kind == "password":
                data.append((name, "Crawler-passphrase-2026!"))
            elif "url" in name:
                data.append((name, f"https://example.com/{next(self.counter)}/{TEXT}"))
            else:
                room = int(f.get("maxlength") or 10_000)
                data.append((name, next((text for text in (TEXT, *PAYLOADS) if len(text) <= room), "x")))
        data += [(name, value) for name, value in boxes.items() if name not in ticked]
        # the form's own button: a picker's 検索 (core.pickers, before it in the form) only searches
        buttons = [b for b in form.buttons if b.get("name") != "_pick"]
        if buttons and buttons[0].get("name"):
            data.append((buttons[0]["name"], buttons[0].get("value", "")))
        return data

    def submit(self, url: str, form: Form) -> tuple[int, str | None]:
        """Send ``form`` as found on ``url``; (status, where a save redirected)."""
        action = resolve(url, form)
        if form.method == "get":
            data = self.values(form)
            if not any(value == TEXT for _, value in data):
                return 0, None
            response, _html = self.get(action + "?" + urlencode(data))
            return response.status_code, None
        blank: set[str] = set()
        plain: set[str] = set()
        for _attempt in range(3):
            response = self.client.post(action, data=MultiDict(self.values(form, blank, plain)))
            self.check(f"POST {action}", response)
            if response.status_code in (301, 302, 303):
                target = local(action, response.headers["Location"])
                if target:
                    self.get(target)
                return response.status_code, target
            html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
            again = [f for f in parse(html).forms if f.method == "post" and resolve(action, f) == action]
            invalid = {f["name"] for f in again[0].fields if "is-invalid" in f.get("class", "")} if again else set()
            if not invalid or invalid <= plain:
                break
            form = again[0]  # the newer version, the values it kept
            for name in invalid:
                required = any(f["name"] == name and "required" in f for f in form.fields)
                (plain if name in blank or required else blank).add(name)
        return response.status_code, None


def resolve(url: str, form: Form) -> str:
    """Where pressing the form's first button sends it."""
    action = (form.buttons[0].get("formaction") if form.buttons else None) or form.action or url
    return urlsplit(urljoin("http://localhost" + url, action)).path


def _assert_clean(crawlers):
    raw = [line for crawler in crawlers for line in crawler.raw]
    assert not raw, f"{len(raw)} response(s) carry a payload unescaped:\n" + "\n".join(raw[:40])


def test_hostile_text_in_every_form_never_reaches_a_page_unescaped(app, demo):
    answered: dict[str, set[int]] = {}  # "method /action/pattern" → the statuses it got
    landed: list[str] = []  # where the saves redirected: the new records' pages first
    crawlers = []
    for role in WRITERS:
        client = app.test_client()
        login_as(client, role, DEMO_PASSWORD)
        crawler = Crawler(client, role)
        crawlers.append(crawler)
        done: set[str] = set()

        def fill(url, page, crawler=crawler, done=done):
            for form in page.forms:
                action = resolve(url, form)
                key = form.method + " " + pattern(action)
                if key in done or SKIP_ACTIONS.search(action):
                    continue
                done.add(key)
                status, target = crawler.submit(url, form)
                answered.setdefault(key, set()).add(status)
                if target:
                    landed.append(target)

        crawler.crawl(["/"], on_page=fill, limit=250)
    _assert_clean(crawlers)

    # The crawl reached the registers' forms and stored the payloads.
    saved = {key for key, statuses in answered.items() if statuses & {302, 303}}
    for expected in ("post /admin/units/new", "post /admin/users/new", "post /vendors/new", "post /contracts/new",
                     "post /cloud/new", "post /cloud/N/information", "post /social/new"):
        assert expected in saved, f"{expected} was never saved; saved: {sorted(saved)}"
    assert 200 in answered.get("post /social/check", set()), "the pre-post check was never run"

    for role in READERS:
        client = app.test_client()
        login_as(client, role, DEMO_PASSWORD)
        crawler = Crawler(client, role)
        crawlers.append(crawler)
        crawler.crawl(list(dict.fromkeys(landed)) + ["/"])
    _assert_clean(crawlers)
    # The stored payloads were shown, escaped, on many pages.
    assert sum(c.escaped_pages for c in crawlers[len(WRITERS):]) > 50
