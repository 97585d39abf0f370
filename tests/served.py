"""The app served for real: gunicorn in a subprocess with several workers,
on the test's own database, for tests of races (requests that really run
at the same moment, in separate processes with their own connections).

In a test, take the ``served_app`` fixture (tests/conftest.py): it serves
the ``app`` fixture's database and yields a :class:`Served`::

    def test_x(served_app, users):
        browser = served_app.session()
        served_app.login(browser, "admin")
        answers = together([lambda: browser.get(served_app.url + "/")] * 8)

Outside pytest (scripts), use :func:`serve` as a context manager with the
``ITAKU_*`` settings to run with.  The server is stopped by its PID.
CSRF is on, as in production: :meth:`Served.csrf` reads a form's token.
"""
from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import requests

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Served:
    """A running server: its base URL and helpers for clients."""

    def __init__(self, url: str, log: Path):
        self.url = url
        self.log = log

    def session(self) -> requests.Session:
        return requests.Session()

    def csrf(self, browser: requests.Session, path: str) -> str:
        """The CSRF token of the form at ``path`` (for ``browser``'s session)."""
        html = browser.get(self.url + path, timeout=30).text
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
            r'id="csrf_token"[^>]*value="([^"]+)"', html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, browser: requests.Session, username: str, password: str | None = None) -> requests.Response:
        """Sign ``browser`` in; fail loudly if refused."""
        from tests.conftest import PASSWORD

        answer = self.login_attempt(browser, username, password or PASSWORD)
        assert answer.status_code == 302, f"login as {username} refused ({answer.status_code})"
        return answer

    def login_attempt(self, browser: requests.Session, username: str, password: str) -> requests.Response:
        data = {"username": username, "password": password, "csrf_token": self.csrf(browser, "/login")}
        return browser.post(self.url + "/login", data=data, allow_redirects=False, timeout=30)


def together(calls: list[Callable[[], T]]) -> list[T]:
    """Run the calls in threads released at the same moment (a barrier);
    their results in order.  Prepare everything (sessions, tokens) before."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


@contextlib.contextmanager
def serve(settings: dict[str, str], *, workers: int = 4, port: int | None = None,
          ready_timeout: float = 60) -> Iterator[Served]:
    """gunicorn serving ``create_app()`` with the ``ITAKU_*`` ``settings``
    (names without the prefix: ``{"DATABASE_URL": …, "SECRET_KEY": …}``),
    ``workers`` sync workers, its own control socket; stopped by PID."""
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="itaku-served-") as tmp:
        log = Path(tmp) / "gunicorn.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ITAKU_")}
        env.update({f"ITAKU_{k}": str(v) for k, v in settings.items()})
        command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                   "--control-socket", str(Path(tmp) / "gunicorn.ctl"), "--preload", "--timeout", "60",
                   "--graceful-timeout", "2", "--error-logfile", str(log), "app:create_app()"]
        with open(log, "ab") as out:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_ready(process, url, log, ready_timeout)
            yield Served(url, log)
        finally:
            _stop(process)


def _wait_ready(process: subprocess.Popen, url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{log.read_text()}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url + "/login", timeout=5).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen) -> None:
    """Quick shutdown (SIGQUIT): the test has its answers, and a graceful
    stop would wait out the graceful timeout for idle keep-alive workers."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGQUIT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def settings_of(app) -> dict[str, str]:
    """The ITAKU_* settings that make a served app match the test ``app``."""
    cfg = app.config
    return {
        "DATABASE_URL": cfg["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": cfg["SECRET_KEY"],
        "INSTANCE_PATH": app.instance_path,
        "STORAGE_PATH": cfg["STORAGE_PATH"],
        "PASSWORD_HASH_METHOD": cfg["PASSWORD_HASH_METHOD"],
        "LOGIN_MAX_FAILURES": str(cfg["LOGIN_MAX_FAILURES"]),
    }
