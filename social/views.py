from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import audit
from core.auth import SOCIAL_READERS, access
from core.dashboard import Panel, panel, status_panel
from core.db import db
from core.lists import ListView, enum_filter
from social.models import AccountStatus, Platform, SocialAccount

bp = Blueprint("social", __name__, url_prefix="/social")

LIST = ListView(
    search=[SocialAccount.name, SocialAccount.handle, SocialAccount.url],
    filters={
        "status": enum_filter(SocialAccount.status, AccountStatus),
        "platform": enum_filter(SocialAccount.platform, Platform),
    },
    sorts={"name": SocialAccount.name, "platform": SocialAccount.platform, "last_post": SocialAccount.last_post_on},
    default_sort="name",
)


@bp.route("/")
@access(SOCIAL_READERS)
def index():
    pagination, state = LIST.apply(select(SocialAccount).options(selectinload(SocialAccount.responsible)))
    return render_template("social/index.html", pagination=pagination, state=state,
                           statuses=AccountStatus.choices(), platforms=Platform.choices())


@bp.route("/<int:account_id>")
@access(SOCIAL_READERS)
def detail(account_id: int):
    account = db.get_or_404(SocialAccount, account_id)
    return render_template("social/detail.html", account=account, audit_entries=audit.history(account))


@panel(40)
def dashboard_panel(user) -> Panel:
    return status_panel(_l("SNS公式アカウント"), SocialAccount.status, AccountStatus, "social.index")
