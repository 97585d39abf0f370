"""A large, realistic data set for measuring Itaku at a prefecture's scale
(``flask gen-data``, scripts/bench.py, scripts/bench_pdf.py).

Bulk Core inserts (thousands of rows per statement), not the ORM: what the
ORM does per record (change capture for the audit trail, version checks)
is what the benchmark then measures on the pages.  The audit trail still
gets one hash-chained "create" entry per vendor, contract and verification,
written through core.audit, so the chain verifies and the trail's pages
have realistic volume.  Every status of every register occurs.
"""
from __future__ import annotations

import datetime as dt
import functools
import random
import time
from typing import Callable, Iterator

from sqlalchemy import Date, DateTime, bindparam, func, select, text
from sqlalchemy import Enum as SAEnum

from core import audit
from core.db import db
from core.timeutil import today, utcnow

PLACES = ("札幌", "旭川", "函館", "釧路", "帯広", "北見", "小樽", "室蘭", "苫小牧", "岩見沢", "滝川", "砂川",
          "深川", "名寄", "稚内", "網走", "留萌", "富良野", "千歳", "江別", "石狩", "空知", "十勝", "道北")
TRADES = ("情報システム", "データサービス", "通信工業", "ソフト開発", "防災設備", "ネットワーク", "電算センター",
          "メディカル", "ビジネスサポート", "クラウド", "セキュリティ", "印刷")
FORMS = ("株式会社{}{}", "{}{}株式会社", "有限会社{}{}", "合同会社{}{}")
WORKS = ("保守", "運用", "開発", "点検", "賃貸借", "データ入力", "監視", "移行", "構築")
SYSTEMS = ("消防指令システム", "財務会計システム", "文書管理システム", "庁内ネットワーク", "住民向けサイト",
           "救急搬送支援システム", "人事給与システム", "グループウェア", "防災情報システム", "ファイルサーバ")
BATCH = 5000


def _batches(rows: Iterator[dict], size: int = BATCH) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@functools.lru_cache(maxsize=4096)
def _sqlite_datetime(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")  # how SQLAlchemy stores it in SQLite


def _converter(column, sqlite: bool):
    """How a column's values go to the driver as SQLAlchemy would send them
    (None: as they are)."""
    kind = column.type
    if isinstance(kind, SAEnum):
        return lambda value: None if value is None else value.value
    if sqlite and isinstance(kind, DateTime):
        return lambda value: None if value is None else _sqlite_datetime(value)
    if sqlite and isinstance(kind, Date):
        return lambda value: None if value is None else value.isoformat()
    return None


def _default(column):
    """A column's Python-side default (what SQLAlchemy would fill in)."""
    default = column.default
    if default is None:
        return None
    return default.arg if default.is_scalar else default.arg(None)


def _insert(model, rows: Iterator[dict]) -> int:
    """executemany straight through the driver: millions of rows go in
    several times faster than through SQLAlchemy's per-row processing."""
    connection = db.session.connection()
    sqlite = connection.dialect.name == "sqlite"
    count = 0
    for batch in _batches(rows):
        columns = list(batch[0])
        compiled = model.__table__.insert().values({c: bindparam(c) for c in columns}).compile(
            dialect=connection.dialect)
        defaults = {name: _default(model.__table__.c[name]) for name in compiled.params if name not in batch[0]}
        batch = [{**defaults, **row} for row in batch] if defaults else batch
        order = compiled.positiontup if connection.dialect.paramstyle == "qmark" else list(batch[0])
        convert = [(name, _converter(model.__table__.c[name], sqlite)) for name in order]
        values = [[row[name] if to is None else to(row[name]) for name, to in convert] for row in batch]
        params = [tuple(v) for v in values] if connection.dialect.paramstyle == "qmark" else [
            dict(zip(order, v, strict=True)) for v in values]
        connection.exec_driver_sql(str(compiled), params)
        count += len(batch)
    return count


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def _created(object_type: str, ids: range, actor: audit.Actor) -> None:
    """One hash-chained audit entry per new record."""
    connection = db.session.connection()
    for start in range(ids.start, ids.stop, BATCH):
        audit._append(connection, [{"action": "create", "object_type": object_type, "object_id": str(i)}
                                   for i in range(start, min(start + BATCH, ids.stop))], actor)


def gather_statistics() -> None:
    """After a bulk load: the planner's statistics (without them SQLite
    prefers a one-column index to a covering one, docs/performance.md) and,
    on PostgreSQL, the visibility map too (VACUUM), without which a count
    from an index alone still reads every row.  VACUUM runs outside a
    transaction."""
    postgres = db.engine.dialect.name == "postgresql"
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))


def generate(vendors: int, contracts: int, verifications: int, *, seed: int = 7,
             report: Callable[[str], None] = print) -> dict[str, int]:
    """Add the data set to the current database (its reference data —
    units, users, clauses, levels — must exist: run ``flask demo`` first)
    and commit.  Returns the counts of rows written per table."""
    from cloud.models import Agreement, CloudService, IsmapListing, ServiceModel, ServiceStatus
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
    from core.models import ClassificationLevel, OrgUnit, User
    from social.models import AccountStatus, Platform, SocialAccount
    from vendors.models import Certification, CertificationKind, Vendor, VendorStatus

    rng = random.Random(seed)
    started = time.perf_counter()
    now, on = utcnow(), today()
    stamps = {"created_at": now, "updated_at": now, "version": 1}
    units = list(db.session.scalars(select(OrgUnit.id)))
    people = list(db.session.scalars(select(User.id)))
    if not units or not people:
        raise RuntimeError("load the reference data first (flask demo)")
    actor = audit.Actor(None, "gen-data")
    levels = {lv.code: lv.id for lv in db.session.scalars(select(ClassificationLevel))}
    confidentiality = [levels[c] for c in ("C1", "C2", "C2", "C2", "C3C", "C3B") if c in levels]
    clauses = db.session.scalars(select(Clause).where(Clause.active).order_by(Clause.sort_order)).all()
    counts: dict[str, int] = {}

    def tick(what: str, n: int) -> None:
        counts[what] = n
        report(f"  {what}: {n:,} rows ({time.perf_counter() - started:.1f} s)")

    # vendors (every status), with certifications
    first_vendor = _next_id(Vendor)
    statuses = [VendorStatus.ACTIVE] * 6 + [VendorStatus.SELECTED, VendorStatus.CANDIDATE, VendorStatus.SUSPENDED,
                                            VendorStatus.ENDED]
    tick("vendors", _insert(Vendor, (
        {"name": rng.choice(FORMS).format(rng.choice(PLACES), rng.choice(TRADES)) + f" {i:05d}",
         "kana": f"カブシキガイシャ{i:05d}", "corporate_number": None, "address": f"{rng.choice(PLACES)}市中央{i % 9 + 1}条",
         "status": rng.choice(statuses), "unit_id": rng.choice(units), **stamps} for i in range(vendors))))
    vendor_ids = range(first_vendor, first_vendor + vendors)
    kinds = [CertificationKind.ISMS, CertificationKind.PMARK, CertificationKind.ISMAP, CertificationKind.ISO27017]
    tick("certifications", _insert(Certification, (
        {"vendor_id": vid, "kind": rng.choice(kinds), "number": f"IS {rng.randint(100000, 999999)}",
         "issuer": "認証機関", "valid_until": on + dt.timedelta(days=rng.randint(-200, 900)), **stamps}
        for vid in vendor_ids if rng.random() < 0.6)))

    # contracts (every status and kind) with their clause matrices
    first_contract = _next_id(Contract)
    contract_statuses = ([ContractStatus.IN_FORCE] * 5 + [ContractStatus.SIGNED] * 2
                         + [ContractStatus.DRAFT, ContractStatus.ENDED, ContractStatus.TERMINATED])

    def contract_rows():
        for i in range(contracts):
            start = on - dt.timedelta(days=rng.randint(0, 1500))
            yield {"number": f"G{i:07d}", "title": f"{rng.choice(SYSTEMS)}{rng.choice(WORKS)}業務委託",
                   "vendor_id": rng.choice(vendor_ids), "kind": rng.choice(list(ContractKind)),
                   "unit_id": rng.choice(units), "officer_id": rng.choice(people), "start_on": start,
                   "end_on": start + dt.timedelta(days=rng.choice((364, 729, 1094))),
                   "classification_id": rng.choice(confidentiality), "handles_personal_info": rng.random() < 0.3,
                   "handles_my_number": False, "subcontracting": rng.choice(list(Subcontracting)),
                   "status": rng.choice(contract_statuses), **stamps}

    tick("contracts", _insert(Contract, contract_rows()))
    contract_ids = range(first_contract, first_contract + contracts)

    def clause_rows():
        for cid in contract_ids:
            for n, clause in enumerate(clauses):
                roll = rng.random()
                state = (ClauseState.INCLUDED if n < 12 or roll < 0.55
                         else ClauseState.NOT_INCLUDED if roll < 0.7 else ClauseState.NOT_APPLICABLE)
                yield {"contract_id": cid, "clause_id": clause.id, "state": state,
                       "article": f"第{n + 5}条" if state is ClauseState.INCLUDED else None,
                       "reason": "業務内容から該当しない" if state is ClauseState.NOT_APPLICABLE else None, **stamps}

    tick("contract_clauses", _insert(ContractClause, clause_rows()))
    gaps.refresh(db.session.connection(), set(contract_ids))  # bulk rows pass no ORM event

    # verifications (mostly submitted, some drafts), results and findings
    first_verification = _next_id(Verification)
    verification_contracts = [rng.choice(contract_ids) for _ in range(verifications)]

    def verification_rows():
        for cid in verification_contracts:
            draft = rng.random() < 0.05
            yield {"contract_id": cid, "performed_on": on - dt.timedelta(days=rng.randint(0, 1400)),
                   "method": rng.choice(list(Method)), "verifier_id": rng.choice(people),
                   "status": VerificationStatus.DRAFT if draft else VerificationStatus.SUBMITTED,
                   "submitted_at": None if draft else now, **stamps}

    tick("verifications", _insert(Verification, verification_rows()))
    due.refresh(db.session.connection(), set(contract_ids))
    checked = clauses[:10]
    first_result = _next_id(VerificationResult)

    def result_rows():
        for offset in range(verifications):
            for clause in checked:
                roll = rng.random()
                result = (Result.CONFORMS if roll < 0.95 else Result.PARTLY if roll < 0.985
                          else Result.DOES_NOT if roll < 0.99 else Result.NOT_APPLICABLE)
                yield {"verification_id": first_verification + offset, "clause_id": clause.id, "result": result,
                       "comment": None if result is Result.CONFORMS else "記録の一部が未提出"}

    tick("verification_results", _insert(VerificationResult, result_rows()))
    bad = db.session.execute(select(VerificationResult.id, VerificationResult.verification_id,
                                    VerificationResult.clause_id)
                             .where(VerificationResult.id >= first_result,
                                    VerificationResult.result.in_((Result.PARTLY, Result.DOES_NOT)))).all()
    measure_statuses = [MeasureStatus.OPEN] * 3 + list(MeasureStatus)
    tick("findings", _insert(Finding, (
        {"verification_id": vid, "result_id": rid,
         "contract_id": verification_contracts[vid - first_verification], "clause_id": clause_id,
         "severity": Result.PARTLY, "measure": "未提出の記録を提出し、手順を見直すこと",
         "owner_id": rng.choice(people), "due_on": on + dt.timedelta(days=rng.randint(-90, 120)),
         "status": rng.choice(measure_statuses), **stamps} for rid, vid, clause_id in bad)))

    # cloud services and social accounts (a prefecture's worth: every status)
    services = max(20, vendors // 20)
    tick("cloud_services", _insert(CloudService, (
        {"name": f"{rng.choice(SYSTEMS)}クラウド {i:04d}", "vendor_id": rng.choice(vendor_ids),
         "service_model": rng.choice(list(ServiceModel)), "agreement": rng.choice(list(Agreement)),
         "ceiling_id": rng.choice(confidentiality), "administrator_id": rng.choice(people), "purpose": "業務での利用",
         "status": rng.choice(list(ServiceStatus)), "ismap_listing": rng.choice(list(IsmapListing)),
         "ismap_valid_until": on + dt.timedelta(days=rng.randint(-100, 700)), "review_cycle_months": 12,
         "next_review_on": on + dt.timedelta(days=rng.randint(-60, 360)), **stamps} for i in range(services))))
    accounts = max(10, vendors // 100)
    tick("social_accounts", _insert(SocialAccount, (
        {"platform": rng.choice(list(Platform)), "name": f"{rng.choice(PLACES)}消防 公式 {i:04d}",
         "handle": f"@fire_{i:04d}", "url": f"https://social.example.jp/fire_{i:04d}", "purpose": "防災情報の発信",
         "unit_id": rng.choice(units), "responsible_id": rng.choice(people),
         "status": rng.choice(list(AccountStatus)), "last_post_on": on - dt.timedelta(days=rng.randint(0, 400)),
         "review_cycle_months": 12, "next_review_on": on + dt.timedelta(days=rng.randint(-60, 360)),
         "posting_ceiling_id": levels.get("C1"), "mfa_enabled": rng.random() < 0.8, **stamps}
        for i in range(accounts))))

    # the audit trail: one chained entry per vendor, contract and verification
    _created("vendors", vendor_ids, actor)
    _created("contracts", contract_ids, actor)
    _created("verifications", range(first_verification, first_verification + verifications), actor)
    tick("audit_entries", vendors + contracts + verifications)
    db.session.commit()
    gather_statistics()
    report(f"done in {time.perf_counter() - started:.1f} s")
    return counts
