"""Snapshot the HTML of a fixed set of pages, to prove a refactor changed none of them.

    .venv/bin/python scripts/snapshot_pages.py record DIR    # before the refactor
    .venv/bin/python scripts/snapshot_pages.py compare DIR   # after it: exit 1 on any difference

Each run builds a fresh SQLite database in a temporary folder (the migrations, then the
demo data), with the clock frozen (time-machine) at 2026-06-15 10:00 JST, so dates, fiscal
years, due states and audit times are the same on every run.  With Flask's test client it
signs in as each of ROLES, in Japanese and then in English, and GETs:

- every GET route of the app without arguments;
- every GET route whose only argument is a record id named in ID_MODELS, once with the
  lowest and once with the highest id of that model in the demo data;

except the routes skipped by ``skip_reason`` (the JSON API, static files, downloads), which
are printed with the reason.  A page's HTML goes to DIR/<role>-<lang>/<path>.html; every
response (HTML or not, redirects included) gets a line in DIR/pages.tsv with its status,
content type and redirect target, so a change of access rules shows up too (the HTML of
403 and 404 pages is written as well; redirects are only listed).  The flash messages left
in the session are dropped before each GET, so a page does not depend on the ones before it.

Normalised before writing (and nothing else):
- CSRF token values: random per session (Flask-WTF draws the session's raw token from
  os.urandom).  The signed token of the client's session is replaced by ``CSRF-TOKEN``.

Made reproducible rather than replaced:
- the storage keys of the demo's files (core.files draws them with secrets.token_hex): they
  enter the audit trail, so the hash chain's latest hash on /audit/verify changed with them.
  During the run core.files draws them from a seeded generator instead.

``compare DIR`` records into a temporary folder and compares byte for byte with DIR.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import difflib
import filecmp
import importlib
import io
import os
import random
import re
import shutil
import sys
import tempfile
import time
import types
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import time_machine  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from itsdangerous import URLSafeTimedSerializer  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from core import demo, files, timeutil  # noqa: E402
from core.db import db  # noqa: E402

FROZEN_AT = dt.datetime(2026, 6, 15, 10, 0, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
PASSWORD = "snapshot-demo-password"
# Every demo user (one per role: admin and auditor see nearly everything, the others open
# the forms of their registers that those two cannot), and None: a stranger, who gets the
# sign-in page and is sent there by every other page.
ROLES = ("admin", "auditor", "procurement", "verifier", "social", "approver", None)
LANGS = ("ja", "en")
CSRF_PLACEHOLDER = "CSRF-TOKEN"
MANIFEST = "pages.tsv"

# Route argument name → (module, model) whose demo records fill it.
ID_MODELS = {
    "vendor_id": ("vendors.models", "Vendor"),
    "contract_id": ("contracts.models", "Contract"),
    "clause_id": ("contracts.models", "Clause"),
    "verification_id": ("contracts.models", "Verification"),
    "finding_id": ("contracts.models", "Finding"),
    "service_id": ("cloud.models", "CloudService"),
    "account_id": ("social.models", "SocialAccount"),
    "incident_id": ("social.models", "Incident"),
    "unit_id": ("core.models", "OrgUnit"),
    "user_id": ("core.models", "User"),
}
DOWNLOAD_SUFFIXES = (".pdf", ".ics", ".csv", ".xlsx", ".json")


def skip_reason(rule) -> str | None:
    """Why a route is not snapshotted (None: it is)."""
    if "GET" not in rule.methods:
        return "no GET"
    if rule.rule.startswith("/api/"):
        return "JSON API, not a page"
    if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
        return "static files"
    if rule.rule.endswith(DOWNLOAD_SUFFIXES) or ".<" in rule.rule:
        return "a download, not a page"
    args = sorted(rule.arguments)
    if len(args) > 1:
        return f"more than one argument ({', '.join(args)})"
    if args and args[0] not in ID_MODELS:
        return f"<{args[0]}> is not a record id named in ID_MODELS"
    return None


def page_paths(app) -> tuple[list[str], list[tuple[str, str]]]:
    """The paths to GET, in a fixed order, and the (rule, reason) of the routes skipped."""

    paths, skipped = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        reason = skip_reason(rule)
        if reason:
            skipped.append((rule.rule, reason))
            continue
        if not rule.arguments:
            paths.append(rule.build({})[1])
            continue
        (arg,) = rule.arguments
        module, name = ID_MODELS[arg]
        model = getattr(importlib.import_module(module), name)
        low, high = db.session.execute(select(func.min(model.id), func.max(model.id))).one()
        if low is None:
            skipped.append((rule.rule, f"the demo has no {name}"))
            continue
        paths.extend(rule.build({arg: ident})[1] for ident in sorted({low, high}))
    return paths, skipped


def file_name(path: str) -> str:
    return (re.sub(r"[^A-Za-z0-9._-]", "_", path.strip("/")) or "index") + ".html"


def csrf_normaliser(app, client):
    """Replace the signed CSRF token of the client's current session by a placeholder."""

    field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key

    def normalise(html: str) -> str:
        with client.session_transaction() as session:
            raw = session.get(field)
        if raw:
            signed = URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)
            html = html.replace(signed, CSRF_PLACEHOLDER).replace(raw, CSRF_PLACEHOLDER)
        return html

    return normalise


def form_token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not match:
        raise SystemExit(f"no CSRF token on {path}")
    return match.group(1)


def record(out: Path, quiet: bool = False) -> None:
    """Build the database and write every page of every role and language into ``out``."""

    seeded = random.Random(0)
    reproducible_secrets = types.SimpleNamespace(token_hex=lambda n: seeded.randbytes(n).hex())
    with tempfile.TemporaryDirectory(prefix="itaku-snapshot-") as work, \
            time_machine.travel(FROZEN_AT, tick=False), \
            mock.patch.object(files, "secrets", reproducible_secrets):
        work = Path(work)
        # The developer's own settings (ITAKU_*, instance/config.py) stay out.
        for name in [n for n in os.environ if n.startswith("ITAKU_")]:
            del os.environ[name]
        os.environ["ITAKU_INSTANCE_PATH"] = str(work / "instance")

        app = create_app({
            "SECRET_KEY": "snapshot-secret-key",
            "DATABASE_URL": f"sqlite:///{work / 'itaku.db'}",
            "STORAGE_PATH": str(work / "files"),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # the real default (scrypt) is slow by design
        })
        with app.app_context():
            if (timeutil.utcnow(), timeutil.today()) != (FROZEN_AT.astimezone(dt.UTC).replace(tzinfo=None),
                                                         FROZEN_AT.date()):
                raise SystemExit(f"the clock is not frozen: utcnow() is {timeutil.utcnow()}")
            log = io.StringIO()
            try:
                with contextlib.redirect_stderr(log):  # Alembic's lines about each migration
                    upgrade()
            except BaseException:
                print(log.getvalue(), file=sys.stderr)
                raise
            demo.load(PASSWORD)
            db.session.commit()
            paths, skipped = page_paths(app)
            db.session.remove()
        if not quiet:
            for rule, reason in skipped:
                if reason != "no GET":
                    print(f"skipped {rule}: {reason}")
            print(f"skipped {sum(reason == 'no GET' for _, reason in skipped)} routes that take no GET")

        if out.exists() and any(out.iterdir()):
            if not (out / MANIFEST).is_file():
                raise SystemExit(f"{out} is not empty and holds no snapshot; choose another folder")
            shutil.rmtree(out)
        out.mkdir(parents=True, exist_ok=True)
        manifest = []
        for role in ROLES:
            client = app.test_client()
            normalise = csrf_normaliser(app, client)
            if role:
                answer = client.post("/login", data={"username": role, "password": PASSWORD,
                                                     "csrf_token": form_token(client, "/login")})
                if answer.status_code != 302:
                    raise SystemExit(f"sign-in as {role} refused ({answer.status_code})")
            for lang in LANGS:
                if lang != "ja":
                    token = form_token(client, "/" if role else "/login")
                    client.post("/language", data={"lang": lang, "csrf_token": token})
                client.get("/")  # shows (and so clears) the sign-in message
                folder = out / f"{role or 'anonymous'}-{lang}"
                folder.mkdir(exist_ok=True)
                for path in paths:
                    with client.session_transaction() as session:
                        session.pop("_flashes", None)  # each page as if opened on its own
                    response = client.get(path)
                    kind = response.mimetype
                    manifest.append(f"{folder.name}\t{path}\t{response.status_code}\t{kind}\t"
                                    f"{response.headers.get('Location', '')}")
                    if kind == "text/html" and not 300 <= response.status_code < 400:
                        name = folder / file_name(path)
                        name.write_bytes(normalise(response.get_data(as_text=True)).encode())
                    if response.status_code >= 500:
                        print(f"warning: {folder.name} {path} answered {response.status_code}", file=sys.stderr)
        (out / MANIFEST).write_text("\n".join(manifest) + "\n", encoding="utf-8")
        with app.app_context():
            db.engine.dispose()
    if not quiet:
        counts = {}
        for line in manifest:
            folder, _, status, kind, _ = line.split("\t")
            if kind == "text/html" and status == "200":
                counts[folder] = counts.get(folder, 0) + 1
        print(f"{len(paths)} paths; pages answered 200: "
              + ", ".join(f"{folder} {n}" for folder, n in counts.items()))


def differences(expected: Path, actual: Path) -> list[str]:
    """Relative names of the files that differ, or are in only one of the folders."""
    def files(root: Path) -> set[str]:
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}

    names = files(expected) | files(actual)
    return sorted(n for n in names if not ((expected / n).is_file() and (actual / n).is_file()
                                           and filecmp.cmp(expected / n, actual / n, shallow=False)))


def show_diff(expected: Path, actual: Path, name: str, limit: int = 30) -> None:
    def lines(path: Path) -> list[str]:
        return path.read_text(encoding="utf-8").splitlines() if path.is_file() else []

    diff = list(difflib.unified_diff(lines(expected / name), lines(actual / name),
                                     f"recorded/{name}", f"now/{name}", n=1, lineterm=""))
    if not diff:
        print("  (only in one of the folders)" if not (expected / name).is_file() or not (actual / name).is_file()
              else "  (differs in line endings or trailing bytes)")
    for line in diff[:limit]:
        print(f"  {line}")
    if len(diff) > limit:
        print(f"  … {len(diff) - limit} more diff lines")


def compare(expected: Path) -> int:
    if not (expected / MANIFEST).is_file():
        raise SystemExit(f"{expected} holds no snapshot (no {MANIFEST}); run `record` first")
    with tempfile.TemporaryDirectory(prefix="itaku-snapshot-now-") as now:
        now = Path(now)
        record(now, quiet=True)
        changed = differences(expected, now)
        for i, name in enumerate(changed):
            print(f"differs: {name}")
            if i < 3:
                show_diff(expected, now, name)
    print(f"{len(changed)} file(s) differ" if changed else "identical")
    return 1 if changed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("record", "compare"))
    parser.add_argument("dir", type=Path)
    args = parser.parse_args()
    started = time.monotonic()
    if args.action == "record":
        record(args.dir)
        code = 0
    else:
        code = compare(args.dir)
    print(f"{args.action} took {time.monotonic() - started:.1f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
