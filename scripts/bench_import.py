"""Benchmark a 5,000-row vendor import end to end, and what it does to
everyone else's sign-in.

    .venv/bin/python scripts/bench_import.py [--database-url URL] [--rows 5000] [--workers 2]

Without --database-url, a fresh SQLite database is built in a temporary
folder; with it (PostgreSQL), that database is migrated and given the demo
data if it has none.  Itaku runs under gunicorn (sync workers, the default
30 s timeout, its own control socket) on 127.0.0.1.  First a sign-in loop
runs alone for a few seconds (the baseline); then, while it keeps running,
the procurement user uploads a CSV of --rows new vendors, follows the
import's page until the preview is shown, confirms, and follows the page
until the import is done.  It prints the time of the preview and of the
confirmation (from the upload or the click to the page showing the result),
the longest single request of the import, and the sign-ins' median and
worst time during the import against the baseline.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import FLASK, GUNICORN, PYTHON, ROOT, free_port  # noqa: E402


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A signed-in user: cookies kept, redirects returned, not followed."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  NoRedirect())
        self.longest = 0.0

    def request(self, path: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, dict, str]:
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        started = time.perf_counter()
        try:
            with self.opener.open(request, timeout=120) as response:
                status, head, body = response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            status, head, body = error.code, dict(error.headers), error.read().decode()
        self.longest = max(self.longest, time.perf_counter() - started)
        return status, head, body

    def form(self, path: str, fields: dict) -> tuple[int, dict, str]:
        return self.request(path, urllib.parse.urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def sign_in(self, username: str, password: str) -> None:
        _status, _head, page = self.request("/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        status, _head, _body = self.form("/login", {"username": username, "password": password,
                                                    **({"csrf_token": token.group(1)} if token else {})})
        if status != 302:
            raise SystemExit(f"sign-in as {username} refused ({status})")

    def csrf(self, page: str) -> dict:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        return {"csrf_token": token.group(1)} if token else {}


def multipart(fields: dict, name: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                 f"Content-Type: text/csv\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def follow(browser: Browser, location: str) -> tuple[int, dict, str]:
    """Poll a job's page (it refreshes every 2 s; here every 0.5 s) until it shows a result."""
    path = urllib.parse.urlsplit(location).path
    while True:
        status, head, body = browser.request(path)
        if "Refresh" not in head:
            return status, head, body
        time.sleep(0.5)


class SignIns(threading.Thread):
    """Sign in again and again (a fresh session each time); the time of each."""

    def __init__(self, base: str, password: str):
        super().__init__(daemon=True)
        self.base, self.password = base, password
        self.times: list[tuple[float, float]] = []  # (started, seconds)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            started = time.perf_counter()
            Browser(self.base).sign_in("auditor", self.password)
            self.times.append((started, time.perf_counter() - started))
            time.sleep(0.05)

    def between(self, start: float, end: float) -> list[float]:
        return [seconds for at, seconds in self.times if start <= at <= end]


def summary(times: list[float]) -> str:
    if not times:
        return "none"
    return f"{len(times)} sign-ins, median {statistics.median(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="benchmark this database (PostgreSQL) instead of a new SQLite one")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="itaku-bench-import-")
    password = "bench-password-2026"
    env = {**os.environ, "ITAKU_INSTANCE_PATH": instance, "ITAKU_SECRET_KEY": "bench-secret-key-not-for-production",
           "ITAKU_DEMO_PASSWORD": password, "ITAKU_SESSION_COOKIE_SECURE": "false"}
    if args.database_url:
        env["ITAKU_DATABASE_URL"] = args.database_url
    subprocess.run([FLASK, "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([FLASK, "--app", "app", "demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    unit = subprocess.run([PYTHON, "-c", "from app import create_app\nfrom core.db import db\n"
                           "from sqlalchemy import select\nfrom core.models import OrgUnit\n"
                           "with create_app().app_context(): print(db.session.scalar(select(OrgUnit.name)"
                           ".where(OrgUnit.active).order_by(OrgUnit.id)))"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.split()[-1]
    run = uuid.uuid4().hex[:6]
    rows = [f"ベンチ{run}事業者{i}株式会社,,東京都千代田区{i}番地,{unit},候補" for i in range(args.rows)]
    data = ("名称,法人番号,所在地,担当組織,状態\n" + "\n".join(rows) + "\n").encode()

    port = free_port()
    server = subprocess.Popen(
        [GUNICORN, "-w", str(args.workers), "-k", "sync", "-b", f"127.0.0.1:{port}", "--timeout", "30",
         "--control-socket", f"{instance}/gunicorn.ctl", "--log-level", "warning", "app:create_app()"],
        cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/login", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        database = "PostgreSQL" if args.database_url else "SQLite"
        print(f"{database}; gunicorn {args.workers} sync workers (--timeout 30); {args.rows:,} new vendors "
              f"({len(data) / 1e6:.2f} MB CSV)", flush=True)
        signins = SignIns(base, password)
        signins.start()
        time.sleep(5)
        baseline_end = time.perf_counter()

        browser = Browser(base)
        browser.sign_in("procurement", password)
        _status, _head, page = browser.request("/vendors/import")
        body, content_type = multipart(browser.csrf(page), "file", "bench.csv", data)
        started = time.perf_counter()
        status, head, page = browser.request("/vendors/import", body, {"Content-Type": content_type})
        if status == 303:
            status, head, page = follow(browser, head["Location"])
        preview = time.perf_counter() - started
        token = re.search(r'name="token" value="([0-9a-f]+)"', page)
        if status != 200 or token is None:
            raise SystemExit(f"preview failed ({status}): {page[-1500:]}")
        started = time.perf_counter()
        status, head, page = browser.form("/vendors/import/confirm", {**browser.csrf(page), "token": token.group(1),
                                                                     "filename": "bench.csv"})
        if status == 303 and "/import/job/" in head.get("Location", ""):
            status, head, page = follow(browser, head["Location"])
        confirm = time.perf_counter() - started
        if status != 302:
            raise SystemExit(f"confirmation failed ({status}): {page[-1500:]}")
        import_end = time.perf_counter()
        signins.stopping.set()
        signins.join()

        print(f"preview (upload → the page shows every row's outcome): {preview:.1f} s")
        print(f"confirm (click → the import is committed and shown):   {confirm:.1f} s")
        print(f"longest single request of the import: {browser.longest:.2f} s")
        print(f"sign-ins alone (baseline):       {summary(signins.between(0, baseline_end))}")
        print(f"sign-ins during the import:      {summary(signins.between(baseline_end, import_end))}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
