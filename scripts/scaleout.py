"""Two Itaku app servers behind nginx on one PostgreSQL, and the checks that they act as one.

    .venv/bin/python scripts/scaleout.py [--only a,b,...] [--keep] [--pg-port 25432] [--port 25480]
                                         [--rows 3000]

It starts, each on loopback with its own port and everything in one temporary folder:
a throwaway PostgreSQL cluster (--pg-port), migrated and loaded with the demo data; two
gunicorn servers A and B (--port + 1 and + 2; two sync workers each, their own instance
folders and control sockets, one shared ITAKU_SECRET_KEY and ITAKU_STORAGE_PATH); nginx
in front of both (--port); and an SMTP sink (--port + 3).  Then it checks:

  a  a session made through A is valid on B (and nginx spreads requests over both);
  b  a file uploaded through A downloads through B, byte for byte;
  c  a form opened on A and saved after B's save is refused as stale;
  d  parallel wrong passwords spread over both servers lock the account;
  e  `flask remind` started on both at once (the app loaded, then one signal) sends each
     reminder once;
  f  a large vendor import on A does not stall sign-ins on B (worst wait <= 2 s).

One line per check, PASS or FAIL with the figures; the exit status is 1 if any failed.
Everything it started is stopped by process group at the end, and the folder removed
(--keep leaves it all running until Ctrl+C, for a look with a browser or psql).
Ports stay below 32768, away from the ports the kernel hands out to clients.
"""
from __future__ import annotations

import argparse
import atexit
import csv
import email
import email.policy
import html.parser
import io
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "scaleout-demo-2026"
MAX_FAILURES = 5
SIGN_IN_TIMEOUT = 10  # seconds; anything above 2 s fails check f anyway
STALE = "他の利用者が先に更新しました"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


# --- processes ------------------------------------------------------------------

class Stack:
    """What this run started, stopped in reverse order by process group, exactly once."""

    def __init__(self) -> None:
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.cleanups: list = []
        self.done = False

    def spawn(self, name: str, args: list[str], log: Path, **kwargs) -> subprocess.Popen:
        out = open(log, "ab")
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, **kwargs)
        out.close()
        self.processes.append((name, process))
        return process

    def stop(self) -> None:
        if self.done:
            return
        self.done = True
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for _name, process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for cleanup in reversed(self.cleanups):
            try:
                cleanup()
            except Exception as error:  # stopping the rest matters more
                print(f"cleanup: {error}", file=sys.stderr)


def as_postgres(command: str) -> list[str]:
    """Run a PostgreSQL server command as the postgres user when we are root (initdb refuses root)."""
    return ["su", "postgres", "-s", "/bin/sh", "-c", command] if os.geteuid() == 0 else ["sh", "-c", command]


def wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the server stopped (exit {process.returncode}):\n{log.read_text()[-2000:]}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url}: no answer after {seconds:.0f} s:\n{log.read_text()[-2000:]}")


def start_postgres(stack: Stack, tmp: Path, port: int) -> str:
    pgbin = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1]
    data = tmp / "pg"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    subprocess.run(as_postgres(f"{pgbin}/initdb -D {data}/data -U postgres --auth=trust -E UTF8 "
                               f"--locale=C.UTF-8 >/dev/null"), check=True)
    subprocess.run(as_postgres(f"{pgbin}/pg_ctl -D {data}/data -l {data}/log -w -o '-p {port} -k {data} "
                               f"-c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60' "
                               f"start >/dev/null"), check=True)

    def stop_postgres():
        subprocess.run(as_postgres(f"{pgbin}/pg_ctl -D {data}/data -m fast -w stop >/dev/null"), check=False)
        pidfile = data / "data" / "postmaster.pid"
        if pidfile.exists():  # pg_ctl failed: stop the postmaster by its PID
            os.kill(int(pidfile.read_text().split()[0]), signal.SIGKILL)
    stack.cleanups.append(stop_postgres)
    subprocess.run([f"{pgbin}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "itaku"], check=True)
    return f"postgresql://postgres@127.0.0.1:{port}/itaku"


NGINX_CONF = """\
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {tmp}/nginx-access.log;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    client_max_body_size 30m;
    upstream itaku {{
        server 127.0.0.1:{a};
        server 127.0.0.1:{b};
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://itaku;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_read_timeout 120s;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


class Cluster:
    """PostgreSQL, servers A and B, nginx and the SMTP sink, all in ``tmp``."""

    def __init__(self, stack: Stack, tmp: Path, pg_port: int, port: int) -> None:
        self.stack, self.tmp = stack, tmp
        self.nginx = f"http://127.0.0.1:{port}"
        self.servers = {"A": f"http://127.0.0.1:{port + 1}", "B": f"http://127.0.0.1:{port + 2}"}
        self.smtp_port = port + 3
        clock = time.monotonic()
        self.pg_url = start_postgres(stack, tmp, pg_port)
        self.phases = {"PostgreSQL": time.monotonic() - clock}
        storage = tmp / "files"
        storage.mkdir()
        base = {key: value for key, value in os.environ.items() if not key.startswith("ITAKU_")}
        shared = {
            "ITAKU_DATABASE_URL": self.pg_url.replace("postgresql://", "postgresql+psycopg://"),
            "ITAKU_SECRET_KEY": secrets.token_hex(32), "ITAKU_STORAGE_PATH": str(storage),
            "ITAKU_DEMO_PASSWORD": PASSWORD, "ITAKU_SESSION_COOKIE_SECURE": "0",
            "ITAKU_LOGIN_MAX_FAILURES": str(MAX_FAILURES), "ITAKU_BASE_URL": self.nginx,
            "ITAKU_MAIL_SERVER": "127.0.0.1", "ITAKU_MAIL_PORT": str(self.smtp_port),
            "ITAKU_MAIL_SENDER": "itaku@example.lg.jp",
        }
        self.env = {name: {**base, **shared, "ITAKU_INSTANCE_PATH": str(tmp / f"instance-{name}")}
                    for name in self.servers}
        for command in (["db", "upgrade"], ["demo"]):
            done = subprocess.run([str(BIN / "flask"), "--app", "app", *command], cwd=ROOT, env=self.env["A"],
                                  capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"flask {' '.join(command)} failed:\n{done.stdout}{done.stderr}")
        self.phases["migrations and demo data"] = time.monotonic() - clock - sum(self.phases.values())
        started = {}
        for name, url in self.servers.items():
            log = tmp / f"gunicorn-{name}.log"
            started[name] = (stack.spawn(f"gunicorn {name}", [
                str(BIN / "gunicorn"), "--workers", "2", "--bind", url.removeprefix("http://"), "--timeout", "120",
                "--graceful-timeout", "5", "--control-socket", str(tmp / f"gunicorn-{name}.ctl"),
                "--log-level", "warning", "app:create_app()"], log, cwd=ROOT, env=self.env[name]), log)
        for name, (process, log) in started.items():
            wait_for(f"{self.servers[name]}/login", process, log)
        self.phases["gunicorn A and B"] = time.monotonic() - clock - sum(self.phases.values())
        (tmp / "nginx.conf").write_text(NGINX_CONF.format(
            tmp=tmp, port=port, a=port + 1, b=port + 2))
        log = tmp / "nginx.log"
        process = stack.spawn("nginx", ["nginx", "-c", str(tmp / "nginx.conf"), "-p", str(tmp),
                                        "-e", str(tmp / "nginx-error.log"), "-g", "daemon off;"], log)
        wait_for(f"{self.nginx}/login", process, log)

    def db(self):
        return psycopg.connect(self.pg_url, autocommit=True)


# --- a small browser ------------------------------------------------------------------

class Forms(html.parser.HTMLParser):
    """The forms of a page: action and the values a browser would send."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._select = self._textarea = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}})
        elif not self.forms:
            return
        fields = self.forms[-1]["fields"]
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                fields[a["name"]] = a.get("value", "on" if a.get("type") == "checkbox" else "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and (self._select not in fields or "selected" in a):
            fields[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a.get("name")
            fields[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            self.forms[-1]["fields"][self._textarea] += data

    def with_field(self, name: str) -> dict:
        return next(form["fields"] for form in self.forms if name in form["fields"])


def csrf(page: str) -> str:
    return Forms(page).with_field("csrf_token")["csrf_token"]


def sign_in(base: str, username: str, password: str = PASSWORD,
            timeout: float = 60) -> tuple[requests.Response, float]:
    """A fresh sign-in on ``base`` as a person makes it (open the page, send the form): the answer
    to the POST (not followed) and how long both took."""
    session = requests.Session()
    started = time.monotonic()
    token = csrf(session.get(f"{base}/login", timeout=timeout).text)
    response = session.post(f"{base}/login", data={"csrf_token": token, "username": username, "password": password},
                            allow_redirects=False, timeout=timeout)
    return response, time.monotonic() - started


def session_cookie(base: str, username: str) -> dict:
    response, _seconds = sign_in(base, username)
    if response.status_code != 302 or "session" not in response.cookies:
        raise AssertionError(f"sign-in of {username} on {base} answered {response.status_code}")
    return {"session": response.cookies["session"]}


def get(base: str, path: str, cookies: dict) -> requests.Response:
    """GET with the cookie in ``cookies``, which takes any new one the server sets, as a browser's would."""
    response = requests.get(f"{base}{path}", cookies=cookies, allow_redirects=False, timeout=60)
    cookies.update(response.cookies.get_dict())
    return response


def post(base: str, path: str, cookies: dict, data: dict, files=None) -> requests.Response:
    response = requests.post(f"{base}{path}", cookies=cookies, data=data, files=files, allow_redirects=False,
                             timeout=120)
    cookies.update(response.cookies.get_dict())
    return response


# --- the checks --------------------------------------------------------------------

def check_a(c: Cluster) -> tuple[bool, str]:
    """A session made through A is valid on B."""
    cookies = session_cookie(c.servers["A"], "admin")
    on_b = get(c.servers["B"], "/admin/users", cookies)
    upstreams = Counter(get(c.nginx, "/admin/users", cookies).headers.get("X-Upstream", "?") for _ in range(6))
    ok = on_b.status_code == 200 and "管理 太郎" in on_b.text and len(upstreams) == 2
    return ok, (f"admin signed in on A; /admin/users on B answered {on_b.status_code}; "
                f"6 requests through nginx went to {dict(upstreams)}")


def check_b(c: Cluster) -> tuple[bool, str]:
    """A file uploaded through A downloads through B."""
    cookies = session_cookie(c.servers["A"], "procurement")
    vendor = re.search(r'href="/vendors/(\d+)"', get(c.servers["A"], "/vendors/", cookies).text).group(1)
    form = get(c.servers["A"], f"/vendors/{vendor}/certifications/new", cookies).text
    content = PDF + f"% {secrets.token_hex(16)}\n".encode()
    saved = post(c.servers["A"], f"/vendors/{vendor}/certifications/new", cookies,
                 {"csrf_token": csrf(form), "kind": "isms", "number": "SCALE-1", "valid_until": "2030-03-31"},
                 files={"file": ("登録証.pdf", content, "application/pdf")})
    links = re.findall(rf'/vendors/{vendor}/certifications/(\d+)/file', get(c.servers["B"], f"/vendors/{vendor}",
                                                                             cookies).text)
    if saved.status_code != 302 or not links:
        return False, f"upload on A answered {saved.status_code}; B's page lists {len(links)} certificate file(s)"
    download = get(c.servers["B"], f"/vendors/{vendor}/certifications/{max(map(int, links))}/file", cookies)
    same = download.status_code == 200 and download.content == content
    return same, (f"{len(content)} bytes uploaded on A (vendor {vendor}); B answered {download.status_code} with "
                  f"{len(download.content)} bytes, {'identical' if same else 'DIFFERENT'}")


def check_c(c: Cluster) -> tuple[bool, str]:
    """A form opened on A and saved after B's save is refused as stale."""
    cookies = session_cookie(c.servers["A"], "admin")
    on_a = Forms(get(c.servers["A"], "/admin/units/1", cookies).text).with_field("version")
    on_b = Forms(get(c.servers["B"], "/admin/units/1", cookies).text).with_field("version")
    name_b, name_a = f"{on_b['name']}（B）", f"{on_a['name']}（A）"
    saved_b = post(c.servers["B"], "/admin/units/1", cookies, {**on_b, "name": name_b})
    saved_a = post(c.servers["A"], "/admin/units/1", cookies, {**on_a, "name": name_a})
    with c.db() as conn:
        stored = conn.execute("SELECT name, version FROM org_units WHERE id = 1").fetchone()
    ok = (saved_b.status_code == 302 and saved_a.status_code == 409 and STALE in saved_a.text
          and name_b in saved_a.text and stored[0] == name_b)
    return ok, (f"both opened version {on_a['version']}; B's save {saved_b.status_code}, A's later save "
                f"{saved_a.status_code}{' with the stale message and B’s data' if STALE in saved_a.text else ''}; "
                f"stored: {stored[0]!r} version {stored[1]}")


def check_d(c: Cluster) -> tuple[bool, str]:
    """Parallel wrong passwords spread across both servers lock the account."""
    attempts = MAX_FAILURES + 3
    username = "social"
    bases = [c.servers["AB"[i % 2]] for i in range(attempts)]
    prepared = []
    for base in bases:  # each attempt its own browser, its form already open
        session = requests.Session()
        prepared.append((base, session, csrf(session.get(f"{base}/login", timeout=30).text)))
    barrier = threading.Barrier(attempts)
    codes: list[int] = []

    def attempt(base, session, token):
        barrier.wait()
        codes.append(session.post(f"{base}/login", data={"csrf_token": token, "username": username,
                                                         "password": "wrong-password-123"},
                                  allow_redirects=False, timeout=60).status_code)
    threads = [threading.Thread(target=attempt, args=item) for item in prepared]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with c.db() as conn:
        failed, locked_until = conn.execute("SELECT failed_logins, locked_until FROM users WHERE username = %s",
                                            (username,)).fetchone()
        counts = dict(conn.execute("SELECT action, count(*) FROM audit_entries a JOIN users u "
                                   "ON a.object_type = 'users' AND a.object_id = CAST(u.id AS text) "
                                   "WHERE u.username = %s AND action IN ('login_failed', 'lockout') GROUP BY action",
                                   (username,)).fetchall())
    right, _seconds = sign_in(c.servers["A"], username)
    ok = right.status_code != 302 and locked_until is not None and counts.get("lockout") == 1
    return ok, (f"{attempts} wrong passwords at once ({bases.count(c.servers['A'])} via A, "
                f"{bases.count(c.servers['B'])} via B; answers {sorted(Counter(codes).items())}); limit "
                f"{MAX_FAILURES}: locked_until {'set' if locked_until else 'NOT set'}, failed_logins now {failed}, "
                f"audit: {counts.get('login_failed', 0)} login_failed, {counts.get('lockout', 0)} lockout; "
                f"the right password then answered {right.status_code} "
                f"({'signed in' if right.status_code == 302 else 'refused'})")


REMIND_AT_ONCE = """
import os, sys, time, traceback
from app import create_app
app = create_app()
print("ready", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.002)
result = app.test_cli_runner().invoke(args=["remind"])
print(result.output, end="")
if result.exception is not None and not isinstance(result.exception, SystemExit):
    traceback.print_exception(result.exception, file=sys.stdout)
sys.exit(result.exit_code)
"""


class Sink:
    """An SMTP server in this process that keeps every message it is given."""

    def __init__(self, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[tuple[tuple[str, ...], bytes]] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.messages.append((tuple(envelope.rcpt_tos), envelope.original_content or envelope.content))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def reminder_entries(raw: bytes) -> set[str]:
    """The items of one digest: each '- date [step] title' line with its link."""
    body = email.message_from_bytes(raw, policy=email.policy.default).get_body(("plain",)).get_content()
    lines = body.splitlines()
    return {f"{line.strip()} {lines[i + 1].strip()}" for i, line in enumerate(lines[:-1]) if line.startswith("- ")}


def check_e(c: Cluster) -> tuple[bool, str]:
    """`flask remind` started on both at once sends each reminder once."""
    sink = Sink(c.smtp_port)
    try:
        # Each process loads the app first (seconds, and not the same on both), then both start
        # `remind` at one signal: the runs overlap every time, as two servers' cron jobs can.
        go = c.tmp / "remind-go"
        logs = {name: c.tmp / f"remind-{name}.log" for name in c.servers}
        runs = {name: c.stack.spawn(f"remind {name}", [sys.executable, "-c", REMIND_AT_ONCE, str(go)], logs[name],
                                    cwd=ROOT, env=c.env[name]) for name in c.servers}
        deadline = time.monotonic() + 60
        while not all("ready" in log.read_text() for log in logs.values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        go.touch()
        results = {name: (run.wait(timeout=120), logs[name].read_text()) for name, run in runs.items()}
        time.sleep(0.5)
    finally:
        sink.stop()
    per_entry = Counter()
    for recipients, raw in sink.messages:
        for recipient in recipients:
            for entry in reminder_entries(raw):
                per_entry[(recipient, entry)] += 1
    twice = {key: n for key, n in per_entry.items() if n > 1}
    with c.db() as conn:
        logged = conn.execute("SELECT count(*) FROM reminder_log").fetchone()[0]

    def describe(name):
        code, output = results[name]
        errors = [line for line in output.splitlines() if re.match(r"\w+(\.\w+)*(Error|Exception)\b", line)]
        said = next((line.rstrip(".") for line in output.splitlines() if line.startswith("Reminders:")), "no summary")
        return f"run {name} exit {code} ({said}{'; ' + errors[-1][:200] if code and errors else ''})"
    ok = bool(per_entry) and not twice and all(code == 0 for code, _output in results.values())
    return ok, (f"{len(sink.messages)} email(s) for {len(per_entry)} (recipient, item) pair(s), "
                f"{len(twice)} pair(s) sent more than once; {logged} row(s) in reminder_log; "
                f"{describe('A')}; {describe('B')}")


def vendor_csv(rows: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["名称", "フリガナ", "法人番号", "所在地", "代表者", "ウェブサイト", "担当組織", "状態", "備考"])
    tag = secrets.token_hex(3)
    for i in range(rows):
        writer.writerow([f"スケール試験株式会社{tag}-{i:05d}", "スケールシケン", "", f"札幌市中央区{i}丁目",
                         "試験 太郎", "", "総務課", "候補", "scaleout"])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def check_f(c: Cluster, rows: int, budget: float) -> tuple[bool, str]:
    """A large import on A does not stall sign-ins on B."""
    cookies = session_cookie(c.servers["A"], "procurement")
    idle = [sign_in(c.servers["B"], "auditor")[1] for _ in range(3)]
    waits: list[float] = []
    problems: Counter = Counter()
    running = threading.Event()
    running.set()

    def sign_ins():
        while running.is_set():
            started = time.monotonic()
            try:
                response, seconds = sign_in(c.servers["B"], "auditor", timeout=SIGN_IN_TIMEOUT)
            except requests.RequestException as error:
                waits.append(time.monotonic() - started)
                problems[type(error).__name__] += 1
                continue
            waits.append(seconds)
            if response.status_code != 302:
                problems[f"answer {response.status_code}"] += 1
    loop = threading.Thread(target=sign_ins)
    deadline = time.monotonic() + budget
    steps: list[str] = []
    imported, confirmed = 0, False
    with c.db() as conn:
        def count() -> int:
            return conn.execute("SELECT count(*) FROM vendors WHERE notes = 'scaleout'").fetchone()[0]

        loop.start()
        try:
            data = vendor_csv(rows)
            page = get(c.servers["A"], "/vendors/import", cookies).text
            form = {"csrf_token": csrf(page)}
            for step, path in (("preview", "/vendors/import"), ("confirm", "/vendors/import/confirm")):
                started = time.monotonic()
                if deadline - started < 5:
                    steps.append(f"{step} not tried: the {budget:.0f} s budget was spent")
                    break
                try:
                    answer = requests.post(f"{c.servers['A']}{path}", cookies=cookies, data=form, allow_redirects=False,
                                           files={"file": ("vendors.csv", data, "text/csv")} if step == "preview" else None,
                                           timeout=max(1.0, deadline - started))
                    slowest = time.monotonic() - started
                    # A large import runs as a job: follow its page (each poll a short request) until it
                    # stops refreshing itself.
                    while answer.is_redirect or "Refresh" in answer.headers:
                        if time.monotonic() > deadline:
                            raise requests.Timeout
                        if not answer.is_redirect:
                            time.sleep(1)
                        target = answer.headers.get("Location") or answer.url
                        polled = time.monotonic()
                        answer = requests.get(requests.compat.urljoin(f"{c.servers['A']}{path}", target),
                                              cookies=cookies, allow_redirects=False,
                                              timeout=max(1.0, deadline - polled))
                        slowest = max(slowest, time.monotonic() - polled)
                except requests.Timeout:
                    steps.append(f"{step} not done within {time.monotonic() - started:.0f} s")
                    break
                steps.append(f"{step} {answer.status_code} in {time.monotonic() - started:.1f} s "
                             f"(longest request {slowest:.1f} s)")
                token = re.search(r'name="token" value="([0-9a-f]+)"', answer.text)
                confirmed = step == "confirm" and answer.status_code < 400
                if step == "preview":
                    if not token:
                        steps.append("no confirm form in the preview page")
                        break
                    form = {"csrf_token": csrf(answer.text), "token": token.group(1), "filename": "vendors.csv"}
            # Stored when confirmed, or later by a background job: wait for it within the budget.
            while (imported := count()) < rows and confirmed and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            running.clear()
            loop.join()
    worst = max(waits, default=0.0)
    ok = imported == rows and worst <= 2.0 and not problems
    trouble = ", ".join(f"{n} {what}" for what, n in problems.items())
    return ok, (f"{rows}-row vendor CSV on A: {'; '.join(steps)}; {imported} rows stored. Meanwhile {len(waits)} "
                f"sign-ins on B: worst {worst:.2f} s{' (timed out)' if 'ReadTimeout' in problems else ''} (limit 2 s), "
                f"median {statistics.median(waits) if waits else 0:.2f} s, idle median {statistics.median(idle):.2f} s"
                f"{'; ' + trouble if trouble else ''}")


CHECKS = {
    "a": ("a session made through A is valid on B", check_a),
    "b": ("a file uploaded through A downloads through B", check_b),
    "c": ("a form opened on A and saved after B's save is refused as stale", check_c),
    "d": ("parallel wrong passwords across both servers lock the account", check_d),
    "e": ("`flask remind` on both at once sends each reminder once", check_e),
    "f": ("a large import on A does not stall sign-ins on B", check_f),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(CHECKS), help="checks to run, e.g. a,b (default: all)")
    parser.add_argument("--keep", action="store_true", help="leave everything running until Ctrl+C")
    parser.add_argument("--pg-port", type=int, default=25432)
    parser.add_argument("--port", type=int, default=25480, help="nginx; A, B and the SMTP sink take the next three")
    parser.add_argument("--rows", type=int, default=3000, help="rows of the vendor import in check f")
    parser.add_argument("--import-budget", type=float, default=60,
                        help="seconds check f waits for the import (preview, confirm, rows stored)")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    if unknown := [name for name in chosen if name not in CHECKS]:
        parser.error(f"unknown check(s): {', '.join(unknown)} (choose from {', '.join(CHECKS)})")

    for port in (args.pg_port, *range(args.port, args.port + 4)):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is no conflict
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                parser.error(f"port {port} is in use: choose others with --pg-port and --port")
    tmp = Path(tempfile.mkdtemp(prefix="itaku-scaleout-"))
    tmp.chmod(0o755)  # the postgres user and nginx's workers must reach their folders
    stack = Stack()
    stack.cleanups.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
    atexit.register(stack.stop)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    failed = []
    try:
        started = time.monotonic()
        cluster = Cluster(stack, tmp, args.pg_port, args.port)
        phases = ", ".join(f"{what} {seconds:.1f} s" for what, seconds in cluster.phases.items())
        print(f"started in {time.monotonic() - started:.1f} s ({phases}): PostgreSQL :{args.pg_port}, "
              f"A {cluster.servers['A']}, B {cluster.servers['B']}, nginx {cluster.nginx} ({tmp})", flush=True)
        for name in chosen:
            title, check = CHECKS[name]
            started = time.monotonic()
            try:
                ok, detail = check(cluster, args.rows, args.import_budget) if name == "f" else check(cluster)
            except Exception as error:  # a check that breaks is a failed check, and the others still run
                ok, detail = False, f"{type(error).__name__}: {error}"
            if not ok:
                failed.append(name)
            print(f"{'PASS' if ok else 'FAIL'} {name}  {title} ({time.monotonic() - started:.1f} s): {detail}",
                  flush=True)
        print(f"{len(chosen) - len(failed)} of {len(chosen)} checks passed"
              f"{'' if not failed else ': failed ' + ', '.join(failed)}")
        if args.keep:
            print(f"--keep: running until Ctrl+C; logs in {tmp}; "
                  f"psql {cluster.pg_url}; sign in as admin / {PASSWORD}", flush=True)
            try:
                signal.pause()
            except KeyboardInterrupt:
                pass
    finally:
        stack.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
