"""The vendor picker's source (core.pickers, issue 20): a vendor is found by
its name, kana or corporate number, folded (core.textkey), in kana order;
readable by those who read the vendor list."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from core import pickers
from core.auth import CONTRACT_READERS
from core.db import db
from core.textkey import reading_order
from vendors.models import Vendor


def _choice(vendor: Vendor) -> pickers.Choice:
    hint = "・".join(str(part) for part in (vendor.kana, vendor.corporate_number, vendor.status.label) if part)
    return pickers.Choice(vendor.id, vendor.name, hint)


def search(query: str, limit: int) -> list[pickers.Choice]:
    vendors = db.session.scalars(select(Vendor).where(pickers.key_matches(Vendor.search_key, query))
                                 .order_by(*reading_order(Vendor.kana, Vendor.name), Vendor.id).limit(limit)).all()
    return [_choice(vendor) for vendor in vendors]


def get(vendor_id: int) -> pickers.Choice | None:
    vendor = db.session.get(Vendor, vendor_id)
    return _choice(vendor) if vendor is not None else None


def init_app(app: Flask) -> None:
    pickers.add_source(app, pickers.Source("vendors", CONTRACT_READERS, search, get))
