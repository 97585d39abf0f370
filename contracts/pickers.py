"""The contract picker's source (core.pickers, issue 20): a contract is
found by its number, title or vendor, folded (core.textkey), in number
order; readable by those who read the contract list."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import or_, select

from contracts.models import Contract
from core import pickers
from core.auth import CONTRACT_READERS
from core.db import db
from vendors.models import Vendor


def _choice(contract: Contract) -> pickers.Choice:
    return pickers.Choice(contract.id, f"{contract.number} {contract.title}", contract.vendor.name)


def search(query: str, limit: int) -> list[pickers.Choice]:
    contracts = db.session.scalars(
        select(Contract).join(Vendor, Contract.vendor_id == Vendor.id)
        .where(or_(pickers.key_matches(Contract.search_key, query), pickers.key_matches(Vendor.search_key, query)))
        .order_by(Contract.number, Contract.id).limit(limit)).all()
    return [_choice(contract) for contract in contracts]


def get(contract_id: int) -> pickers.Choice | None:
    contract = db.session.get(Contract, contract_id)
    return _choice(contract) if contract is not None else None


def init_app(app: Flask) -> None:
    pickers.add_source(app, pickers.Source("contracts", CONTRACT_READERS, search, get))
