"""Show the SQL each benchmarked page runs, its time and its plan.

    ITAKU_INSTANCE_PATH=DIR .venv/bin/python scripts/explain.py [--slow-ms 0]

Against the SQLite database of an instance (one built by ``flask gen-data``
or scripts/bench.py), signed in as the auditor through the test client:
for every statement of every page, the milliseconds it took and SQLite's
EXPLAIN QUERY PLAN (on PostgreSQL, EXPLAIN).  A plan line that says SCAN
over a big table without an index is what to look for.  docs/performance.md
records the result.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select  # noqa: E402

from app import create_app  # noqa: E402
from contracts.models import Contract  # noqa: E402
from core.db import db  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow-ms", type=float, default=0.0, help="only statements slower than this")
    args = parser.parse_args()

    app = create_app({"WTF_CSRF_ENABLED": False})
    with app.app_context():
        engine = db.engine
        unit = db.session.execute(select(Contract.unit_id, func.count()).group_by(Contract.unit_id)
                                  .order_by(func.count().desc())).first()[0]
        contract = db.session.scalar(select(func.max(Contract.id)))
    client = app.test_client()
    client.post("/login", data={"username": "auditor", "password": app.config["DEMO_PASSWORD"]})
    pages = ["/vendors/", "/vendors/?q=旭川", f"/contracts/?unit={unit}&status=in_force", f"/contracts/{contract}",
             "/", "/audit/"]
    captured: list[tuple[str, object, float]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["started"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters, (time.perf_counter() - conn.info["started"]) * 1000))

    for page in pages:
        client.get(page)  # warm caches
        captured.clear()
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        started = time.perf_counter()
        client.get(page)
        total = (time.perf_counter() - started) * 1000
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        print(f"\n=== {page}: {total:.0f} ms, {len(captured)} statements, "
              f"{sum(ms for _s, _p, ms in captured):.0f} ms in SQL")
        with engine.connect() as conn:
            for statement, parameters, ms in captured:
                if ms < args.slow_ms:
                    continue
                flat = re.sub(r"\s+", " ", statement)[:300]
                print(f"\n-- {ms:.1f} ms: {flat}")
                if engine.dialect.name == "sqlite":
                    for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters):
                        print(f"   {row[-1]}")
                else:
                    for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters):
                        print(f"   {row[0]}")


if __name__ == "__main__":
    main()
