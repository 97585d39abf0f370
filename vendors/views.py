from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import audit
from core.auth import CONTRACT_READERS, access
from core.dashboard import Panel, panel, status_panel
from core.db import db
from core.lists import ListView, enum_filter, id_filter
from vendors.models import Vendor, VendorStatus

bp = Blueprint("vendors", __name__, url_prefix="/vendors")

LIST = ListView(
    search=[Vendor.name, Vendor.kana, Vendor.corporate_number],
    filters={
        "status": enum_filter(Vendor.status, VendorStatus),
        "unit": id_filter(Vendor.unit_id),
    },
    sorts={"name": Vendor.kana, "status": Vendor.status, "updated": Vendor.updated_at},
    default_sort="name",
)


@bp.route("/")
@access(CONTRACT_READERS)
def index():
    from core.forms import unit_choices

    pagination, state = LIST.apply(select(Vendor))
    return render_template("vendors/index.html", pagination=pagination, state=state,
                           statuses=VendorStatus.choices(), units=unit_choices(include_blank=False))


@bp.route("/<int:vendor_id>")
@access(CONTRACT_READERS)
def detail(vendor_id: int):
    from contracts.models import Contract  # contracts depend on vendors, not the reverse at import time

    vendor = db.get_or_404(Vendor, vendor_id)
    contracts = db.session.scalars(select(Contract).where(Contract.vendor_id == vendor.id)
                                   .order_by(Contract.start_on.desc())).all()
    return render_template("vendors/detail.html", vendor=vendor, contracts=contracts, audit_entries=audit.history(vendor))


@panel(10)
def dashboard_panel(user) -> Panel:
    return status_panel(_l("委託事業者"), Vendor.status, VendorStatus, "vendors.index")
