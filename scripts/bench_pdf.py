"""Benchmark the printed documents on a generated data set.

    .venv/bin/python scripts/bench_pdf.py [--contracts 1000] [--vendors 200]
    .venv/bin/python scripts/bench_pdf.py --report-only --instance /tmp/copy-of-the-data-set


Builds a throwaway SQLite database (migrations + the demo data), adds the
generated data set of ``flask gen-data`` (core/gendata.py: vendors and
contracts in every status with their clause matrices, as many verifications
as contracts, with results and findings), then times the contract checklist PDF
and the annual audit pack for the current fiscal year and prints seconds,
pages and bytes.  Targets (issue 7 / 9): checklist ≤ 1 s,
pack for 1,000 contracts ≤ 10 s.

Then the annual report to the CISO (issue 18) for the current 年度, built
from nothing (no kept figures, core.snapshot) and rendered as the PDF;
target (issue 21): ≤ 10 s for a 50,000-contract year.  ``--instance``
measures it on an existing data set instead (e.g. a copy of the generated
prefecture: ``flask gen-data``); nothing is written to it (the print is not
recorded), and ``--report-only`` leaves out the checklist and the pack.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_babel import force_locale  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from assurance import report  # noqa: E402
from contracts.documents import checklist_sections  # noqa: E402
from contracts.models import Contract  # noqa: E402
from core import gendata, inspection, pdf, snapshot  # noqa: E402
from core.db import db  # noqa: E402
from core.demo import load  # noqa: E402
from core.models import User  # noqa: E402
from core.timeutil import fiscal_year, today  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=1000)
    parser.add_argument("--vendors", type=int, default=200)
    parser.add_argument("--instance", help="an existing instance folder (its itaku.db), read only")
    parser.add_argument("--report-only", action="store_true", help="only the annual report")
    args = parser.parse_args()
    if args.instance:
        os.environ["ITAKU_INSTANCE_PATH"] = args.instance
        app = create_app()
    else:
        workdir = tempfile.mkdtemp(prefix="itaku-bench-")
        os.environ["ITAKU_INSTANCE_PATH"] = workdir
        app = create_app({"DATABASE_URL": f"sqlite:///{workdir}/bench.db",
                          "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            load("bench-password-2026")
            db.session.commit()
            started = time.perf_counter()
            gendata.generate(args.vendors, args.contracts, args.contracts, report=lambda _line: None)
            print(f"data set: {args.contracts} contracts, {args.vendors} vendors generated in "
                  f"{time.perf_counter() - started:.1f} s")
    if not args.report_only:
        documents(app, Path(os.environ["ITAKU_INSTANCE_PATH"]))
    annual_report(app)


def annual_report(app) -> None:
    """The annual report of the current 年度: its figures built from nothing,
    then the PDF (Japanese, as served)."""
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == "auditor"))
        year = fiscal_year(today())
        in_db = db.session.scalar(select(func.count()).select_from(Contract))
        snapshot.forget()
        started, cpu = time.perf_counter(), time.process_time()
        with force_locale("ja"):
            built = report.build(year)
            figures = time.perf_counter() - started
            rendered = report.render(built, user=user, org=str(app.config["ORG_NAME"]))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"annual report {year}: {seconds:.2f} s ({cpu:.2f} s CPU; figures {figures:.2f} s), "
              f"{rendered.pages} pages, {len(rendered.data):,} bytes ({in_db:,} contracts in the database)")
        started = time.perf_counter()
        with force_locale("ja"):
            report.build(year)
        print(f"annual report {year}, figures again (kept until a record changes): "
              f"{(time.perf_counter() - started) * 1000:.1f} ms")
        db.session.rollback()


def documents(app, workdir: Path) -> None:
    """The contract checklist and the annual audit pack."""
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == "auditor"))
        contract_id = db.session.scalar(select(func.max(Contract.id)))
        started = time.perf_counter()
        sections = checklist_sections([contract_id])
        one = pdf.render(sections[0].title, sections, user=user)
        print(f"contract checklist: {time.perf_counter() - started:.2f} s, {one.pages} pages, {len(one.data):,} bytes")
        started, cpu = time.perf_counter(), time.process_time()
        pack = inspection.pack(inspection.Scope(fiscal_year(today())), user=user)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        in_scope = db.session.scalar(select(func.count()).select_from(Contract))
        # CPU time too: on a shared machine it varies far less than the clock.
        print(f"annual audit pack: {seconds:.2f} s ({cpu:.2f} s CPU), {pack.pages} pages, {len(pack.data):,} bytes "
              f"({in_scope} contracts in the database)")
        out = workdir / "pack.pdf"
        out.write_bytes(pack.data)
        print(f"written to {out}")


if __name__ == "__main__":
    main()
