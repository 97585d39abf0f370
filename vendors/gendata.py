"""The generated data set's vendors (core/gendata.py runs this generator
first): every status, most with a certification."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.db import db
from core.gendata import PLACES, Plan, insert, next_id
from vendors.models import Certification, CertificationKind, Selection, SelectionDecision, Vendor, VendorStatus

TRADES = ("情報システム", "データサービス", "通信工業", "ソフト開発", "防災設備", "ネットワーク", "電算センター",
          "メディカル", "ビジネスサポート", "クラウド", "セキュリティ", "印刷")
FORMS = ("株式会社{}{}", "{}{}株式会社", "有限会社{}{}", "合同会社{}{}")


def generate(plan: Plan) -> None:
    rng, on, stamps = plan.rng, plan.on, plan.stamps
    first_vendor = next_id(Vendor)
    statuses = [VendorStatus.ACTIVE] * 6 + [VendorStatus.SELECTED, VendorStatus.CANDIDATE, VendorStatus.SUSPENDED,
                                            VendorStatus.ENDED]
    plan.tick("vendors", insert(Vendor, (
        {"name": rng.choice(FORMS).format(rng.choice(PLACES), rng.choice(TRADES)) + f" {i:05d}",
         "kana": f"カブシキガイシャ{i:05d}", "corporate_number": None, "address": f"{rng.choice(PLACES)}市中央{i % 9 + 1}条",
         "status": rng.choice(statuses), "unit_id": rng.choice(plan.units), **stamps} for i in range(plan.vendors))))
    vendor_ids = plan.ids["vendors"] = range(first_vendor, first_vendor + plan.vendors)
    kinds = [CertificationKind.ISMS, CertificationKind.PMARK, CertificationKind.ISMAP, CertificationKind.ISO27017]
    plan.tick("certifications", insert(Certification, (
        {"vendor_id": vid, "kind": rng.choice(kinds), "number": f"IS {rng.randint(100000, 999999)}",
         "issuer": "認証機関", "valid_until": on + dt.timedelta(days=rng.randint(-200, 900)), **stamps}
        for vid in vendor_ids if rng.random() < 0.6)))
    # a positive selection (選定) of every vendor but the candidates, decided within the year: the
    # contracts generator links its signed contracts to them (selection per contract, issue 17)
    chosen = list(db.session.scalars(select(Vendor.id).where(
        Vendor.id >= first_vendor, Vendor.status != VendorStatus.CANDIDATE).order_by(Vendor.id)))
    first_selection = next_id(Selection)
    plan.tick("selections", insert(Selection, (
        {"vendor_id": vid, "decided_on": on - dt.timedelta(days=rng.randint(0, 300)),
         "decision": SelectionDecision.SELECTED, "decided_by_id": rng.choice(plan.people),
         "notes": "選定基準により評価", **stamps} for vid in chosen)))
    plan.ids["selections"] = dict(zip(chosen, range(first_selection, first_selection + len(chosen)), strict=True))
    plan.created("vendors", vendor_ids)
