"""Benchmark Itaku's pages under gunicorn against a generated data set.

    .venv/bin/python scripts/bench.py [--instance DIR] [--database-url URL]
                                      [--duration 15] [--concurrency 8] [--workers 2]

Without --instance, a fresh SQLite database is built in a temporary folder
(migrations, the demo data, then ``flask gen-data`` with 10,000 vendors,
50,000 contracts and 200,000 verifications: a few minutes).  With
--database-url (PostgreSQL), that database is used (migrated and filled the
same way if it is empty).

Itaku runs under gunicorn (sync workers) on 127.0.0.1; the script signs in
as the auditor and drives each page with ``hey`` (Debian package ``hey``)
for --duration seconds from --concurrency clients — the six pages of the
first round, the vendor detail, the work inbox, the incident and
self-inspection lists, a self-inspection and the annual report page (the
pages of tests/core/test_query_counts.py) — then measures the CSV
export of every contract and the contract checklist PDF one request at a
time.  A bare Flask route under the same gunicorn settings gives the
ceiling.  It prints, per page, requests/s, p50 and p95 latency and the
ratio of requests/s to the ceiling beside the issue's target for it (0.10
for lists, 0.05 for the dashboard and detail pages), and the peak memory (VmHWM) of the
workers.  Figures on a shared machine move by ±15 % between runs: compare
within one run.
"""
from __future__ import annotations

import argparse
import csv
import http.cookiejar
import io
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).parent / "gunicorn")
FLASK = str(Path(PYTHON).parent / "flask")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(app: str, port: int, workers: int, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        [GUNICORN, "-w", str(workers), "-k", "sync", "-b", f"127.0.0.1:{port}", "--log-level", "warning", app],
        cwd=ROOT, env=env)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login" if "create_app" in app
                                   else f"http://127.0.0.1:{port}/hello", timeout=1)
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"gunicorn did not start: {app}")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def workers_of(process: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def peak_kib(pids: list[int]) -> int:
    """The highest peak resident memory (VmHWM) among the workers."""
    peaks = []
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)))
    return max(peaks, default=0)


def rss_kib(pids: list[int]) -> int:
    values = []
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        values.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)))
    return max(values, default=0)


def sign_in(base: str, username: str, password: str) -> str:
    """The session cookie of a signed-in user (the login form's CSRF token included)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    data = {"username": username, "password": password, **({"csrf_token": token.group(1)} if token else {})}
    opener.open(f"{base}/login", data=urllib.parse.urlencode(data).encode())
    cookie = next((c for c in jar if c.name == "session"), None)
    if cookie is None:
        raise SystemExit("sign-in failed")
    return f"session={cookie.value}"


def load(url: str, seconds: int, clients: int, cookie: str | None = None) -> dict:
    """Drive ``url`` with hey; requests/s and latency percentiles (ms)."""
    command = ["hey", "-z", f"{seconds}s", "-c", str(clients), "-o", "csv", "-t", "60"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rows = list(csv.DictReader(io.StringIO(output)))
    times = sorted(float(r["response-time"]) * 1000 for r in rows)
    errors = sum(1 for r in rows if r["status-code"] != "200")
    span = max(float(r["offset"]) + float(r["response-time"]) for r in rows) if rows else seconds
    return {"rps": len(rows) / span, "p50": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1],
            "n": len(rows), "errors": errors}


def timed(url: str, cookie: str, times: int = 1) -> list[tuple[float, int]]:
    """One request at a time: (seconds, bytes) of each."""
    results = []
    for _ in range(times):
        request = urllib.request.Request(url, headers={"Cookie": cookie})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=600) as response:
            size = 0
            while block := response.read(1 << 16):
                size += len(block)
        results.append((time.perf_counter() - started, size))
    return results


def prepare(env: dict, database_url: str | None) -> None:
    subprocess.run([FLASK, "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    probe = subprocess.run([PYTHON, "-c", "from app import create_app\nfrom core.db import db\n"
                            "from sqlalchemy import select, func\nfrom contracts.models import Contract\n"
                            "with create_app().app_context(): print(db.session.scalar(select(func.count())"
                            ".select_from(Contract)))"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    if int(probe.stdout.strip().splitlines()[-1]) < 1000:
        print("generating the data set (flask gen-data)…", flush=True)
        subprocess.run([FLASK, "--app", "app", "gen-data"], cwd=ROOT, env=env, check=True)


def sample(env: dict) -> dict:
    """Ids and filter values that exist in the data set: the unit with the most
    contracts, the newest contract, the vendor with the most selections, the
    newest self-inspection."""
    code = ("from app import create_app\nfrom core.db import db\nfrom sqlalchemy import select, func, text\n"
            "from contracts.models import Contract\n"
            "with create_app().app_context():\n"
            "  unit = db.session.execute(select(Contract.unit_id, func.count()).group_by(Contract.unit_id)"
            ".order_by(func.count().desc())).first()[0]\n"
            "  cid = db.session.scalar(select(func.max(Contract.id)))\n"
            "  n = db.session.scalar(select(func.count()).select_from(Contract))\n"
            "  vendor = db.session.scalar(text('SELECT vendor_id FROM selections GROUP BY vendor_id "
            "ORDER BY count(*) DESC, vendor_id LIMIT 1')) or db.session.scalar(text('SELECT max(id) FROM vendors'))\n"
            "  inspection = db.session.scalar(text('SELECT max(id) FROM inspections')) or 0\n"
            "  print(unit, cid, n, vendor, inspection)")
    out = subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    unit, contract, count, vendor, inspection = out.stdout.split()[-5:]
    return {"unit": unit, "contract": contract, "contracts": int(count), "vendor": vendor,
            "inspection": int(inspection)}


def pages(found: dict) -> list[tuple[str, str, str]]:
    """(name, path, kind) of every benchmarked page; kind: the issue's ratio
    target, "list" (0.10 of the ceiling) or "detail" (0.05: dashboard and
    detail pages)."""
    found_pages = [
        ("vendor list", "/vendors/", "list"),
        ("vendor search by name", "/vendors/?q=" + urllib.parse.quote("旭川"), "list"),
        ("contracts by unit and status", f"/contracts/?unit={found['unit']}&status=in_force", "list"),
        ("contract detail (clause matrix)", f"/contracts/{found['contract']}", "detail"),
        ("dashboard", "/", "detail"),
        ("audit trail", "/audit/", "list"),
        ("vendor detail", f"/vendors/{found['vendor']}", "detail"),
        ("work inbox", "/inbox", "list"),
        ("incident list", "/incidents/", "list"),
        ("self-inspection list", "/inspections/", "list"),
    ]
    if found["inspection"]:
        found_pages.append(("self-inspection", f"/inspections/{found['inspection']}", "detail"))
    found_pages.append(("annual report", "/report/", "detail"))
    return found_pages


TARGETS = {"list": 0.10, "detail": 0.05}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", help="an instance folder holding itaku.db (default: a new temporary one)")
    parser.add_argument("--database-url", help="benchmark this database (PostgreSQL) instead of SQLite")
    parser.add_argument("--duration", type=int, default=15, help="seconds of load per page")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    args = parser.parse_args()
    if shutil.which("hey") is None:
        raise SystemExit("needs hey: apt-get install -y hey")
    instance = args.instance or tempfile.mkdtemp(prefix="itaku-bench-")
    env = {**os.environ, "ITAKU_INSTANCE_PATH": instance, "ITAKU_SECRET_KEY": "bench-secret-key-not-for-production",
           "ITAKU_DEMO_PASSWORD": "bench-password-2026", "ITAKU_SESSION_COOKIE_SECURE": "false"}
    if args.database_url:
        env["ITAKU_DATABASE_URL"] = args.database_url
    prepare(env, args.database_url)
    found = sample(env)
    database = "PostgreSQL" if args.database_url else f"SQLite ({instance}/itaku.db)"
    print(f"data set: {found['contracts']:,} contracts; database: {database}; gunicorn {args.workers} sync workers; "
          f"{args.concurrency} clients × {args.duration} s per page", flush=True)

    port, hello_port = free_port(), free_port()
    hello = start("scripts.hello:app", hello_port, args.workers, env)
    try:
        ceiling = load(f"http://127.0.0.1:{hello_port}/hello", args.duration, args.concurrency)
    finally:
        stop(hello)
    server = start("app:create_app()", port, args.workers, env)
    base = f"http://127.0.0.1:{port}"
    try:
        cookie = sign_in(base, "auditor", env["ITAKU_DEMO_PASSWORD"])
        print(f"\n{'page':<34}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'vs ceiling':>12}{'target':>8}{'errors':>8}")
        print(f"{'bare Flask route (ceiling)':<34}{ceiling['rps']:>8.0f}{ceiling['p50']:>9.1f}{ceiling['p95']:>9.1f}"
              f"{'1.00':>12}{'':>8}{ceiling['errors']:>8}", flush=True)
        for name, path, kind in pages(found):
            # a fresh sign-in per page: the session then holds what a browser's
            # would (the header's inbox count, kept a few minutes: core.inbox)
            cookie = sign_in(base, "auditor", env["ITAKU_DEMO_PASSWORD"])
            result = load(base + path, args.duration, args.concurrency, cookie)
            print(f"{name:<34}{result['rps']:>8.1f}{result['p50']:>9.1f}{result['p95']:>9.1f}"
                  f"{result['rps'] / ceiling['rps']:>12.3f}{TARGETS[kind]:>8.2f}{result['errors']:>8}", flush=True)
        pids = workers_of(server)
        before = rss_kib(pids)
        [(seconds, size)] = timed(base + "/contracts/export.csv", cookie)
        print(f"\nCSV export of all {found['contracts']:,} contracts: {seconds:.2f} s, {size / 1e6:.1f} MB; "
              f"worker memory {before / 1024:.0f} MiB before, peak {peak_kib(pids) / 1024:.0f} MiB")
        runs = timed(f"{base}/contracts/{found['contract']}/checklist.pdf", cookie, times=10)
        times = sorted(s for s, _ in runs)
        print(f"contract checklist PDF: median {statistics.median(times):.2f} s, slowest {times[-1]:.2f} s "
              f"(10 requests one at a time), {runs[0][1]:,} bytes")
        print(f"peak memory of the workers (VmHWM): {peak_kib(pids) / 1024:.0f} MiB")
    finally:
        stop(server)


if __name__ == "__main__":
    main()
