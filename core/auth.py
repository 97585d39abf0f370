"""Who may use what: deny by default.

Every view declares its rule with :func:`access`.  One ``before_request``
hook enforces the rules for the whole app, and refuses any endpoint that has
none, so a route added without a rule is closed (and the route × role test
in tests/core/test_access.py fails until it gets one).

Pages sign in with the session cookie; the JSON API under ``/api/`` with a
bearer token (core.api_tokens) and nothing else: there the session is
neither read nor written, so a browser's cookie opens no API route and a
token opens no page.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Callable

from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, logout_user
from markupsafe import Markup  # the menu's type: what a Jinja macro returns
from sqlalchemy import select

from core import api_tokens
from core.db import db
from core.i18n import locale_code
from core.lists import id_url, int_arg
from core.models import Role, User

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("ログインしてください。")
login_manager.login_message_category = "info"

# Reading sets used by the domains.  The auditor reads everything and is in
# no writing set.
ALL_ROLES = frozenset(Role)
CONTRACT_READERS = frozenset({Role.ADMIN, Role.PROCUREMENT, Role.VERIFIER, Role.AUDITOR, Role.LEAD})
SOCIAL_READERS = frozenset({Role.ADMIN, Role.SOCIAL, Role.AUDITOR, Role.APPROVER, Role.LEAD})
AUDIT_READERS = frozenset({Role.ADMIN, Role.AUDITOR, Role.LEAD})


@dataclass(frozen=True)
class AccessRule:
    public: bool = False
    roles: frozenset[Role] = frozenset()  # empty and not public: any signed-in user


def access(*roles: Role | frozenset[Role], public: bool = False, any_user: bool = False) -> Callable:
    """Declare who may call a view:

    ``@access(public=True)`` — anyone, signed in or not;
    ``@access(any_user=True)`` — any signed-in user;
    ``@access(Role.ADMIN, …)`` or ``@access(CONTRACT_READERS)`` — those roles.
    """
    flat: set[Role] = set()
    for r in roles:
        flat |= set(r) if isinstance(r, frozenset) else {r}
    if not (public or any_user or flat) or (public and flat):
        raise ValueError("access(): name roles, or any_user=True, or public=True")

    def decorate(view: Callable) -> Callable:
        view.itaku_access = AccessRule(public=public, roles=frozenset(flat))
        return view

    return decorate


def rule_for(endpoint: str) -> AccessRule | None:
    if endpoint == "static" or endpoint.endswith(".static"):
        return AccessRule(public=True)
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "itaku_access", None)


def can(user, rule: AccessRule | None) -> bool:
    if rule is None:
        return False
    if rule.public:
        return True
    if not user.is_authenticated:
        return False
    return not rule.roles or user.has_role(*rule.roles)


def can_view(endpoint: str) -> bool:
    """For templates: show a link only to those who may follow it."""
    return can(current_user, rule_for(endpoint))


# The main menu's pages (templates/_macros/nav.html, main_menu).
MENU = ("dashboard.index", "vendors.index", "contracts.index", "verification.index", "cloud.index", "social.index",
        "incidents.index", "checklists.index", "inspections.index", "measures.index", "audits.index", "report.index",
        "audit.index", "admin.index")
MENU_KEPT = 4096  # drawn menus kept per app: (roles, language, page) combinations


def main_menu() -> Markup:
    """The header's menu, drawn once per set of roles, language, script
    root and current page and kept by the app: its links are the same for
    each (checking 14 rules, building 14 URLs and translating 16 labels was
    about a fifth of a short page's time, issue 21).  Only what is the same
    for all such users goes in it: no name, no token, no count."""
    key = (current_user.roles, locale_code(), request.script_root, request.endpoint)
    kept = current_app.extensions.setdefault("itaku_menu", {})
    menu = kept.get(key)
    if menu is None:
        visible = frozenset(endpoint for endpoint in MENU if can(current_user, rule_for(endpoint)))
        macro = current_app.jinja_env.get_template("_macros/nav.html").module.main_menu
        menu = macro(visible, request.endpoint, request.blueprint)  # markup: Jinja escaped what it drew
        if len(kept) >= MENU_KEPT:
            kept.clear()
        kept[key] = menu
    return menu


API_PATH = "/api/"

# What a signed-in user with ``must_change_password`` may still open (public
# endpoints — static files, the language switch — are open anyway).
OPEN_BEFORE_CHANGE = frozenset({"auth.password", "auth.logout"})


def is_api(path: str) -> bool:
    return path.startswith(API_PATH)


class _SessionsOutsideTheApi(SecureCookieSessionInterface):
    """The cookie session for pages; none (Flask's null session) for API
    requests, so only their token can sign them in."""

    def open_session(self, app, request):
        return None if is_api(request.path) else super().open_session(app, request)


# The last activity is written to the session (and so the cookie signed and
# sent again) at most once in this many seconds, not on every request; the
# idle limit is counted from it plus this step, so a session never ends
# before IDLE_TIMEOUT_MINUTES without a request, and at most this much after.
LAST_SEEN_STEP = 30


def _expire_idle_session() -> None:
    if not current_user.is_authenticated or is_api(request.path):  # a token request has no session
        return
    now = int(time.time())
    last_seen = session.get("last_seen")
    if last_seen is not None and now - last_seen > current_app.config["IDLE_TIMEOUT_MINUTES"] * 60 + LAST_SEEN_STEP:
        logout_user()
        session.clear()
        flash(_l("一定時間操作がなかったため、ログアウトしました。"), "info")
        return
    if last_seen is None or now - last_seen >= LAST_SEEN_STEP:
        session["last_seen"] = now


def _note_token_use():
    """An API request's token: its user is loaded (the request loader
    below), then its use is written down, before the access check may
    refuse the request (core.api_tokens.note_use says why there)."""
    if request.endpoint is None or not is_api(request.path):
        return
    if current_user.is_authenticated:
        api_tokens.note_use()


def _enforce():
    if request.endpoint is None:  # no such URL: let routing answer 404/405
        return None
    _expire_idle_session()
    rule = rule_for(request.endpoint)
    if rule is None:
        current_app.logger.error("endpoint %s declares no access rule", request.endpoint)
        abort(403)
    if rule.public:
        return None
    if not current_user.is_authenticated:
        if is_api(request.path):
            abort(401)
        return login_manager.unauthorized()
    if current_user.must_change_password and not is_api(request.path) and request.endpoint not in OPEN_BEFORE_CHANGE:
        # A password an administrator set: the user chooses their own first (issue 20).
        # A token request is not held back: only its owner, signed in, can have made the token.
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.password", next=target))
    if not can(current_user, rule):
        abort(403)
    return None


@login_manager.user_loader
def _load_user(cookie_id: str) -> User | None:
    text, _, token = cookie_id.partition(":")
    user_id = int_arg(text)
    if user_id is None or not token:
        return None
    user = db.session.scalar(select(User).where(User.id == user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


@login_manager.request_loader
def _load_token_user(req) -> User | None:
    """Flask-Login asks this when the session names nobody: on API
    requests (which have no session) it reads the bearer token."""
    if not is_api(req.path):
        return None
    return api_tokens.user_for(req.headers.get("Authorization", ""))


def init_app(app: Flask) -> None:
    app.session_interface = _SessionsOutsideTheApi()
    # The cookie is sent again only when the session changes (last_seen moves
    # on at most every LAST_SEEN_STEP seconds), so it lives that much longer
    # than the idle limit; the server still ends the session after it.
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    app.config["PERMANENT_SESSION_LIFETIME"] = (dt.timedelta(minutes=app.config["IDLE_TIMEOUT_MINUTES"])
                                                + dt.timedelta(seconds=LAST_SEEN_STEP))
    login_manager.init_app(app)
    # Registered before CSRFProtect, so a forbidden POST is a 403 whatever
    # its token.
    app.before_request(_note_token_use)
    app.before_request(_enforce)
    app.jinja_env.globals["can_view"] = can_view
    app.jinja_env.globals["main_menu"] = main_menu
    app.jinja_env.globals["id_url"] = id_url  # core.lists: the list pages' row links
    app.jinja_env.tests["viewable"] = can_view  # {{ links|selectattr("0", "viewable") }}
