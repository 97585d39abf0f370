"""The generated data set's cloud services (core/gendata.py runs this
generator after the contracts'): a prefecture's worth, every status."""
from __future__ import annotations

import datetime as dt

from cloud.models import Agreement, CloudService, IsmapListing, ServiceModel, ServiceStatus
from contracts.gendata import SYSTEMS
from core.gendata import Plan, insert

READINGS = dict(zip(SYSTEMS, (
    "ショウボウシレイシステム", "ザイムカイケイシステム", "ブンショカンリシステム", "チョウナイネットワーク", "ジュウミンムケサイト",
    "キュウキュウハンソウシエンシステム", "ジンジキュウヨシステム", "グループウェア", "ボウサイジョウホウシステム", "ファイルサーバ"),
    strict=True))


def _named(systems, count: int):
    """(name, reading) of each service: a system's name and its reading (よみ)."""
    for i in range(count):
        system = next(systems)
        yield f"{system}クラウド {i:04d}", f"{READINGS[system]}クラウド {i:04d}"


def generate(plan: Plan) -> None:
    rng, on = plan.rng, plan.on
    services = max(20, plan.vendors // 20)
    systems = iter(lambda: rng.choice(SYSTEMS), None)
    plan.tick("cloud_services", insert(CloudService, (
        {"name": name, "reading": reading, "vendor_id": rng.choice(plan.ids["vendors"]),
         "service_model": rng.choice(list(ServiceModel)), "agreement": rng.choice(list(Agreement)),
         "ceiling_id": rng.choice(plan.confidentiality), "administrator_id": rng.choice(plan.people),
         "purpose": "業務での利用", "status": rng.choice(list(ServiceStatus)),
         "ismap_listing": rng.choice(list(IsmapListing)),
         "ismap_valid_until": on + dt.timedelta(days=rng.randint(-100, 700)), "review_cycle_months": 12,
         "next_review_on": on + dt.timedelta(days=rng.randint(-60, 360)), **plan.stamps}
        for name, reading in _named(systems, services))))
