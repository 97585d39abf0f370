"""The calendar feed: a user's due dates as iCalendar, for Outlook or any
calendar app.  The URL carries a secret; only its SHA-256 is stored, and the
user can revoke it from their page."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import Blueprint, Response, abort, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from icalendar import Calendar, Event
from sqlalchemy import select

from core.account_views import account_page
from core.auth import access
from core.db import db
from core.due import items_for
from core.files import content_disposition
from core.forms import CSRFForm
from core.models import User
from core.timeutil import utcnow

bp = Blueprint("calendar", __name__)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@bp.route("/calendar/<token>.ics")
@access(public=True)
def feed(token: str):
    if len(token) > 100:
        abort(404)
    user = db.session.scalar(select(User).where(User.calendar_token_hash == _hash(token)))
    if user is None or not user.active:
        abort(404)
    calendar = Calendar()
    calendar.add("prodid", "-//Itaku//委託管理//JA")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Itaku — {user.display_name}")
    stamp = utcnow().replace(tzinfo=dt.UTC)
    base = current_app.config["BASE_URL"].rstrip("/")
    for item in items_for(user):
        event = Event()
        event.add("uid", f"{item.key}@itaku")
        event.add("summary", item.title)
        event.add("dtstart", item.due_on)
        event.add("dtend", item.due_on + dt.timedelta(days=1))
        event.add("dtstamp", stamp)
        event.add("url", base + url_for(item.endpoint, **item.params))
        calendar.add_component(event)
    return Response(calendar.to_ical(), mimetype="text/calendar",
                    headers={"Content-Disposition": content_disposition("itaku.ics", "inline"), "Cache-Control": "no-store"})


@bp.route("/account/calendar", methods=["POST"])
@access(any_user=True)
def create_link():
    """A new secret URL; an older one stops working.  Shown once."""
    if not CSRFForm().validate_on_submit():
        abort(400)
    token = secrets.token_urlsafe(32)
    user = current_user._get_current_object()
    user.calendar_token_hash = _hash(token)
    db.session.commit()
    # Shown on this answer only (not cached), never flashed: a flash lands
    # in the session cookie, which is signed but not encrypted.
    return account_page(user, calendar_url=url_for("calendar.feed", token=token, _external=True)), 200, \
        {"Cache-Control": "no-store"}


@bp.route("/account/calendar/revoke", methods=["POST"])
@access(any_user=True)
def revoke_link():
    if not CSRFForm().validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    user.calendar_token_hash = None
    db.session.commit()
    flash(_("カレンダーのURLを無効にしました。"), "success")
    return redirect(url_for("auth.account"))
