"""Benchmark the printed documents on a generated data set.

    .venv/bin/python scripts/bench_pdf.py [--contracts 1000] [--vendors 200]

Builds a throwaway SQLite database (migrations + the demo data), bulk-inserts
vendors and contracts with full clause matrices, one submitted verification
each (with results, some nonconforming, and their findings), then times the
contract checklist PDF and the annual audit pack for the current fiscal year
and prints seconds, pages and bytes.  Targets (issue 7 / 9): checklist ≤ 1 s,
pack for 1,000 contracts ≤ 10 s.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def generate(n_contracts: int, n_vendors: int) -> None:
    """Bulk-insert the data set (Core inserts: thousands of rows a second)."""
    from sqlalchemy import insert, select

    from contracts import due, gaps
    from contracts.models import (
        Clause,
        ClauseState,
        Contract,
        ContractClause,
        ContractKind,
        ContractStatus,
        Finding,
        MeasureStatus,
        Method,
        Result,
        Subcontracting,
        Verification,
        VerificationResult,
        VerificationStatus,
    )
    from core.db import db
    from core.models import ClassificationLevel, OrgUnit, User
    from core.timeutil import fiscal_year, fiscal_year_range, today, utcnow
    from vendors.models import Vendor, VendorStatus

    rng = random.Random(7)
    now = utcnow()
    stamps = {"created_at": now, "updated_at": now, "version": 1}
    units = list(db.session.scalars(select(OrgUnit.id)))
    officer = db.session.scalar(select(User.id).where(User.username == "procurement"))
    verifier = db.session.scalar(select(User.id).where(User.username == "verifier"))
    levels = {lv.code: lv.id for lv in db.session.scalars(select(ClassificationLevel))}
    clauses = db.session.scalars(select(Clause).where(Clause.active).order_by(Clause.sort_order)).all()
    start, end = fiscal_year_range(fiscal_year(today()))
    words = ("道北", "空知", "石狩", "北央", "中央", "日本", "東西", "北海", "大雪", "十勝")
    kinds = ("情報システム", "データサービス", "通信工業", "ソフト開発", "防災設備", "ネットワーク")
    base = db.session.scalar(select(Vendor.id).order_by(Vendor.id.desc())) or 0
    db.session.execute(insert(Vendor), [
        {"name": f"株式会社{rng.choice(words)}{rng.choice(kinds)}{i:05d}", "kana": f"カブシキガイシャ{i:05d}",
         "status": VendorStatus.ACTIVE, "unit_id": rng.choice(units), **stamps} for i in range(n_vendors)])
    vendor_ids = list(range(base + 1, base + n_vendors + 1))
    first = (db.session.scalar(select(Contract.id).order_by(Contract.id.desc())) or 0) + 1
    db.session.execute(insert(Contract), [
        {"number": f"B{i:06d}", "title": f"{rng.choice(words)}{rng.choice(('保守', '運用', '開発', '点検'))}業務委託 {i}",
         "vendor_id": rng.choice(vendor_ids), "kind": ContractKind.MAINTENANCE, "unit_id": rng.choice(units),
         "officer_id": officer, "start_on": start, "end_on": end,
         "classification_id": levels[rng.choice(("C2", "C2", "C3C", "C1"))], "handles_personal_info": rng.random() < .3,
         "handles_my_number": False, "subcontracting": Subcontracting.PROHIBITED, "status": ContractStatus.IN_FORCE,
         **stamps} for i in range(n_contracts)])
    contract_ids = range(first, first + n_contracts)
    rows = []
    for cid in contract_ids:
        for n, clause in enumerate(clauses):
            state = ClauseState.INCLUDED if n < 14 or rng.random() < .5 else ClauseState.NOT_APPLICABLE
            rows.append({"contract_id": cid, "clause_id": clause.id, "state": state,
                         "article": f"第{n + 5}条" if state is ClauseState.INCLUDED else None,
                         "reason": None if state is ClauseState.INCLUDED else "業務内容から該当しない", **stamps})
    db.session.execute(insert(ContractClause), rows)
    first_v = (db.session.scalar(select(Verification.id).order_by(Verification.id.desc())) or 0) + 1
    performed = today() - dt.timedelta(days=30)
    db.session.execute(insert(Verification), [
        {"contract_id": cid, "performed_on": performed, "method": Method.DOCUMENT, "verifier_id": verifier,
         "status": VerificationStatus.SUBMITTED, "submitted_at": now, **stamps} for cid in contract_ids])
    results, findings = [], []
    for offset, _cid in enumerate(contract_ids):
        for clause in clauses[:14]:
            result = Result.PARTLY if rng.random() < .03 else Result.CONFORMS
            results.append({"verification_id": first_v + offset, "clause_id": clause.id, "result": result,
                            "comment": "研修記録の一部が未提出" if result is Result.PARTLY else None})
    db.session.execute(insert(VerificationResult), results)
    partly = db.session.execute(select(VerificationResult.id, VerificationResult.verification_id,
                                       VerificationResult.clause_id)
                                .where(VerificationResult.result == Result.PARTLY,
                                       VerificationResult.verification_id >= first_v)).all()
    for result_id, verification_id, clause_id in partly:
        findings.append({"verification_id": verification_id, "result_id": result_id,
                         "contract_id": verification_id - first_v + first, "clause_id": clause_id,
                         "severity": Result.PARTLY, "measure": "未提出の研修記録を提出すること",
                         "due_on": today() + dt.timedelta(days=rng.randint(-20, 60)), "status": MeasureStatus.OPEN,
                         **stamps})
    if findings:
        db.session.execute(insert(Finding), findings)
    gaps.refresh(db.session.connection(), set(contract_ids))  # bulk rows pass no ORM event
    due.refresh(db.session.connection(), set(contract_ids))
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=1000)
    parser.add_argument("--vendors", type=int, default=200)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="itaku-bench-")
    os.environ["ITAKU_INSTANCE_PATH"] = workdir

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from app import create_app
    from contracts.models import Contract
    from core import inspection, pdf
    from core.db import db
    from core.demo import load
    from core.models import User
    from core.timeutil import fiscal_year, today

    app = create_app({"DATABASE_URL": f"sqlite:///{workdir}/bench.db", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        load("bench-password-2026")
        db.session.commit()
        started = time.perf_counter()
        generate(args.contracts, args.vendors)
        print(f"data set: {args.contracts} contracts, {args.vendors} vendors generated in "
              f"{time.perf_counter() - started:.1f} s")
    with app.test_request_context():
        from contracts.documents import checklist_sections

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
        out = Path(workdir) / "pack.pdf"
        out.write_bytes(pack.data)
        print(f"written to {out}")


if __name__ == "__main__":
    main()
