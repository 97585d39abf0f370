from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from contracts.models import Contract, ContractKind, ContractStatus
from core import audit
from core.auth import CONTRACT_READERS, access
from core.dashboard import Panel, panel, status_panel
from core.db import db
from core.lists import ListView, enum_filter, id_filter
from vendors.models import Vendor

bp = Blueprint("contracts", __name__, url_prefix="/contracts")

LIST = ListView(
    search=[Contract.number, Contract.title, Vendor.name],
    filters={
        "status": enum_filter(Contract.status, ContractStatus),
        "kind": enum_filter(Contract.kind, ContractKind),
        "unit": id_filter(Contract.unit_id),
        "vendor": id_filter(Contract.vendor_id),
    },
    sorts={"number": Contract.number, "title": Contract.title, "vendor": Vendor.kana,
           "end": Contract.end_on, "status": Contract.status},
    default_sort="number",
)

# Contracts whose contractor must be checked periodically (policy §6(8)).
UNDER_VERIFICATION = (ContractStatus.SIGNED, ContractStatus.IN_FORCE)


@bp.route("/")
@access(CONTRACT_READERS)
def index():
    from core.forms import unit_choices

    pagination, state = LIST.apply(select(Contract).join(Contract.vendor))
    return render_template("contracts/index.html", pagination=pagination, state=state,
                           statuses=ContractStatus.choices(), kinds=ContractKind.choices(),
                           units=unit_choices(include_blank=False))


@bp.route("/<int:contract_id>")
@access(CONTRACT_READERS)
def detail(contract_id: int):
    contract = db.get_or_404(Contract, contract_id)
    return render_template("contracts/detail.html", contract=contract, audit_entries=audit.history(contract))


@bp.route("/verification")
@access(CONTRACT_READERS)
def verification():
    """確認: the contracts whose contractors are to be checked."""
    contracts = db.session.scalars(
        select(Contract).join(Contract.vendor).where(Contract.status.in_(UNDER_VERIFICATION))
        .order_by(Contract.end_on)).all()
    return render_template("contracts/verification.html", contracts=contracts)


@panel(20)
def dashboard_panel(user) -> Panel:
    return status_panel(_l("契約"), Contract.status, ContractStatus, "contracts.index")
