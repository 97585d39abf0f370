from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cloud.models import Agreement, CloudService, ServiceStatus
from core import audit
from core.auth import ALL_ROLES, access
from core.dashboard import Panel, panel, status_panel
from core.db import db
from core.lists import ListView, enum_filter

bp = Blueprint("cloud", __name__, url_prefix="/cloud")

LIST = ListView(
    search=[CloudService.name, CloudService.provider_name],
    filters={
        "status": enum_filter(CloudService.status, ServiceStatus),
        "agreement": enum_filter(CloudService.agreement, Agreement),
    },
    sorts={"name": CloudService.name, "status": CloudService.status, "review": CloudService.next_review_on},
    default_sort="name",
)


@bp.route("/")
@access(ALL_ROLES)
def index():
    pagination, state = LIST.apply(select(CloudService).options(
        selectinload(CloudService.vendor), selectinload(CloudService.ceiling)))
    return render_template("cloud/index.html", pagination=pagination, state=state,
                           statuses=ServiceStatus.choices(), agreements=Agreement.choices())


@bp.route("/<int:service_id>")
@access(ALL_ROLES)
def detail(service_id: int):
    service = db.get_or_404(CloudService, service_id)
    return render_template("cloud/detail.html", service=service, audit_entries=audit.history(service))


@panel(30)
def dashboard_panel(user) -> Panel:
    return status_panel(_l("外部サービス"), CloudService.status, ServiceStatus, "cloud.index")
