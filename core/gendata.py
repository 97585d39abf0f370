"""A large, realistic data set for measuring Itaku at a prefecture's scale
(``flask gen-data``, scripts/bench.py, scripts/bench_pdf.py).

Core sets up a :class:`Plan` (the sizes, one seeded random generator, the
reference data's ids) and runs the generators the domains registered
(``plugins.registry().generators``, in their order); each builds its own
domain's rows.  Bulk Core inserts (thousands of rows per statement,
:func:`insert`), not the ORM: what the ORM does per record (change capture
for the audit trail, version checks) is what the benchmark then measures
on the pages.  The audit trail still gets one hash-chained "create" entry
per vendor, contract and verification (:meth:`Plan.created`), so the chain
verifies and the trail's pages have realistic volume.  Every status of
every register occurs.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import random
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from sqlalchemy import JSON, Date, DateTime, bindparam, func, select, text
from sqlalchemy import Enum as SAEnum

from core import audit, plugins
from core.db import db
from core.measures import MeasureStatus
from core.models import ClassificationLevel, OrgUnit, User
from core.textkey import Searchable, search_key
from core.timeutil import today, utcnow

# Place names for generated records (vendors' names and addresses, social accounts).
PLACES = ("札幌", "旭川", "函館", "釧路", "帯広", "北見", "小樽", "室蘭", "苫小牧", "岩見沢", "滝川", "砂川",
          "深川", "名寄", "稚内", "網走", "留萌", "富良野", "千歳", "江別", "石狩", "空知", "十勝", "道北")
# their readings (よみ), for the names made from them (the lists sort by reading, issue 20)
PLACE_READINGS = dict(zip(PLACES, (
    "サッポロ", "アサヒカワ", "ハコダテ", "クシロ", "オビヒロ", "キタミ", "オタル", "ムロラン", "トマコマイ", "イワミザワ", "タキカワ",
    "スナガワ", "フカガワ", "ナヨロ", "ワッカナイ", "アバシリ", "ルモイ", "フラノ", "チトセ", "エベツ", "イシカリ", "ソラチ", "トカチ",
    "ドウホク"), strict=True))
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
    if isinstance(kind, JSON):
        return lambda value: None if value is None else json.dumps(value)
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


def insert(model, rows: Iterator[dict]) -> int:
    """executemany straight through the driver: millions of rows go in
    several times faster than through SQLAlchemy's per-row processing.
    The flush hook that keeps a record's search key is bypassed too, so the
    key of a searchable model's rows is made here (core.textkey)."""
    if issubclass(model, Searchable):
        parts = model.__search_parts__
        rows = ({**row, "search_key": search_key(*(row.get(part) for part in parts))[:1000]} for row in rows)
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


def next_id(model) -> int:
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


@dataclass
class Plan:
    """What a domain's generator is handed: how many records to make, one
    random generator (seeded: the same data set each run), the reference
    data's ids, and the ids earlier generators made (``ids["vendors"]``…)."""
    vendors: int
    contracts: int
    verifications: int
    rng: random.Random
    units: list[int]
    people: list[int]
    levels: dict[str, int]
    actor: audit.Actor
    report: Callable[[str], None]
    now: dt.datetime = field(default_factory=utcnow)
    on: dt.date = field(default_factory=today)
    ids: dict[str, range] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    audited: int = 0
    started: float = field(default_factory=time.perf_counter)

    @property
    def stamps(self) -> dict:
        """The columns every versioned row has."""
        return {"created_at": self.now, "updated_at": self.now, "version": 1}

    @property
    def confidentiality(self) -> list[int]:
        """Classification levels to draw from, the common ones more often."""
        return [self.levels[c] for c in ("C1", "C2", "C2", "C2", "C3C", "C3B") if c in self.levels]

    def tick(self, what: str, n: int) -> None:
        self.counts[what] = n
        self.report(f"  {what}: {n:,} rows ({time.perf_counter() - self.started:.1f} s)")

    def created(self, object_type: str, ids: range) -> None:
        """One hash-chained audit entry per new record."""
        _created(object_type, ids, self.actor)
        self.audited += len(ids)


MEASURE_TEXTS = ("手順書を改訂し、担当者に周知する", "持出し記録の点検を毎月行う", "委託先への立入検査を実施する",
                 "点検記録の様式を定め、引き継ぐ")


def measure_row(plan: Plan, source_type: str, source_id: int, title: str, unit_id: int | None,
                opened_on: dt.date, opened_by: int | None) -> dict:
    """An improvement measure's row (core.measures.Measure) opened on
    ``opened_on`` by a finding (``source_type``/``source_id``), in a status
    its age makes likely: a measure opened long ago is mostly confirmed
    closed (by someone other than its owner: four eyes), a recent one in any
    status."""
    rng = plan.rng
    due = opened_on + dt.timedelta(days=rng.randint(30, 120))
    old = (plan.on - opened_on).days > 180
    status = (rng.choice([MeasureStatus.ACCEPTED] * 8 + [MeasureStatus.REPORTED, MeasureStatus.IN_PROGRESS]) if old
              else rng.choice(list(MeasureStatus)))
    owner = rng.choice(plan.people)
    reported = status in (MeasureStatus.REPORTED, MeasureStatus.ACCEPTED)
    accepted = status is MeasureStatus.ACCEPTED
    done = dt.datetime.combine(min(due, plan.on), dt.time(1)) if reported else None
    return {"source_type": source_type, "source_id": source_id, "title": title[:300], "unit_id": unit_id,
            "opened_by_id": opened_by, "measure": rng.choice(MEASURE_TEXTS), "due_on": due, "status": status,
            "owner_id": owner, "reported_at": done, "reported_by_id": owner if reported else None,
            "closure_note": "措置を完了し、記録を提出した" if reported else None, "closure_evidence_id": None,
            "accepted_at": done if accepted else None,
            "accepted_by_id": rng.choice([p for p in plan.people if p != owner] or plan.people) if accepted else None,
            **plan.stamps}


def domain_of(generate_domain: Callable) -> str:
    """The package a generator belongs to ("vendors", "incidents", "assurance"…):
    the names ``flask gen-data --only`` takes."""
    return generate_domain.__module__.split(".")[0]


def generate(vendors: int, contracts: int, verifications: int, *, seed: int = 7,
             report: Callable[[str], None] = print, only: set[str] | None = None) -> dict[str, int]:
    """Add the data set to the current database (its reference data —
    units, users, clauses, levels — must exist: run ``flask demo`` first)
    and commit.  Returns the counts of rows written per table.

    ``only``: run just those domains' generators (``domain_of``) on a data
    set that already has the others' records — e.g. the registers added
    after it was generated; the sizes still scale them (incidents by
    contracts)."""
    units = list(db.session.scalars(select(OrgUnit.id)))
    people = list(db.session.scalars(select(User.id)))
    if not units or not people:
        raise RuntimeError("load the reference data first (flask demo)")
    plan = Plan(vendors=vendors, contracts=contracts, verifications=verifications, rng=random.Random(seed),
                units=units, people=people,
                levels={lv.code: lv.id for lv in db.session.scalars(select(ClassificationLevel))},
                actor=audit.Actor(None, "gen-data"), report=report)
    for generate_domain in plugins.registry().generators:
        if only is None or domain_of(generate_domain) in only:
            generate_domain(plan)
    plan.tick("audit_entries", plan.audited)
    db.session.commit()
    gather_statistics()
    report(f"done in {time.perf_counter() - plan.started:.1f} s")
    return plan.counts
