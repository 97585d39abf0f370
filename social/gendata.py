"""The generated data set's official social-media accounts (core/gendata.py
runs this generator last): accounts opened before the request rule, in
operation, dormant or closed (requests need their approval records, which
the demo shows)."""
from __future__ import annotations

import datetime as dt

from core.gendata import PLACE_READINGS, PLACES, Plan, insert
from social.models import AccountStatus, Platform, SocialAccount

STATUSES = (AccountStatus.ACTIVE, AccountStatus.DORMANT, AccountStatus.CLOSED)


def _places(rng, count: int):
    """(i, the place an account is named after), drawn as the names always were."""
    for i in range(count):
        yield i, rng.choice(PLACES)


def generate(plan: Plan) -> None:
    rng, on = plan.rng, plan.on
    accounts = max(10, plan.vendors // 100)
    plan.tick("social_accounts", insert(SocialAccount, (
        {"platform": rng.choice(list(Platform)), "name": f"{place}消防 公式 {i:04d}",
         "reading": f"{PLACE_READINGS[place]}ショウボウ コウシキ {i:04d}",
         "handle": f"@fire_{i:04d}", "url": f"https://social.example.jp/fire_{i:04d}", "purpose": "防災情報の発信",
         "unit_id": rng.choice(plan.units), "responsible_id": rng.choice(plan.people),
         "status": rng.choice(STATUSES), "last_post_on": on - dt.timedelta(days=rng.randint(0, 400)),
         "review_cycle_months": 12, "next_review_on": on + dt.timedelta(days=rng.randint(-60, 360)),
         "posting_ceiling_id": plan.levels.get("C1"), "mfa_enabled": rng.random() < 0.8, **plan.stamps}
        for i, place in _places(rng, accounts))))
