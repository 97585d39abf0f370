"""Sign in and out, the user's own page, the language switch."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from core import accounts, api_tokens, audit
from core.auth import access
from core.db import db
from core.forms import ApiTokenForm, ChangePasswordForm, CSRFForm, LoginForm
from core.i18n import LOCALES
from core.models import ApiToken

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute or scheme-relative URL.
    Control characters and backslashes are refused too: a CR/LF cannot go
    into the Location header (it was a 500), and browsers drop tabs and
    newlines and read ``\\`` as ``/``, so ``/\\evil.example`` or
    ``/<TAB>/evil.example`` would lead off the site."""
    if target and not any(ch < " " or ch in "\x7f\\" for ch in target):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("dashboard.index")


@bp.route("/login", methods=["GET", "POST"])
@access(public=True)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data, form.password.data)
        chosen = session.get("lang")
        if user is not None and chosen in LOCALES and chosen != user.locale:
            user.locale = chosen  # the language picked on the sign-in page stays the user's
        db.session.commit()  # failures and lockouts are recorded too
        if user is not None:
            session.clear()
            login_user(user)
            session.permanent = True
            flash(_("ログインしました。"), "success")
            return redirect(_safe_next(request.args.get("next")))
        # One message for every refusal: it never tells whether the user
        # name exists or the account is locked.
        form.password.errors.append(_("ユーザー名またはパスワードが正しくないか、アカウントが一時的にロックされています。"))
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@access(any_user=True)
def logout():
    if CSRFForm().validate_on_submit():
        user = current_user._get_current_object()
        audit.log("logout", user)
        accounts.end_sessions(user)
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("ログアウトしました。"), "success")
    return redirect(url_for("auth.login"))


def _password_form(user) -> ChangePasswordForm:
    form = ChangePasswordForm()
    form.policy_username = user.username
    return form


def _account_page(user, form: ChangePasswordForm, token_form: ApiTokenForm | None = None, new_token=None,
                  calendar_url: str | None = None):
    """The user's own page; ``new_token`` is (token, secret) right after
    creating one, ``calendar_url`` the calendar's secret URL right after
    making it: the only times either is shown."""
    return render_template("auth/account.html", form=form, user=user,
                           token_form=token_form or ApiTokenForm(prefix="token", formdata=None),
                           tokens=api_tokens.active_tokens(user), new_token=new_token, calendar_url=calendar_url)


def account_page(user, calendar_url: str | None = None):
    """The user's own page as first shown (core.calendar_views uses it)."""
    return _account_page(user, _password_form(user), calendar_url=calendar_url)


@bp.route("/account", methods=["GET", "POST"])
@access(any_user=True)
def account():
    user = current_user._get_current_object()
    form = _password_form(user)
    if form.validate_on_submit() and _change_password(user, form):
        flash(_("パスワードを変更しました。ほかの端末のセッションは終了しました。"), "success")
        return redirect(url_for("auth.account"))
    status = 400 if form.errors else 200
    return _account_page(user, form), status


def _change_password(user, form: ChangePasswordForm) -> bool:
    """The user's own change (core.accounts.change_own_password), committed;
    False with the reason beside its field."""
    try:
        changed = accounts.change_own_password(user, form.current_password.data, form.new_password.data)
    except accounts.SamePassword as refusal:
        form.new_password.errors.append(str(refusal))
        return False
    if not changed:
        form.current_password.errors.append(_("現在のパスワードが正しくありません。"))
        return False
    db.session.commit()
    login_user(user)  # this session carries the new token; others end
    return True


@bp.route("/account/password", methods=["GET", "POST"])
@access(any_user=True)
def password():
    """The new password a user chooses after an administrator created the
    account or reset its password (issue 20): until then every page leads
    here (core.auth)."""
    user = current_user._get_current_object()
    if not user.must_change_password:
        return redirect(url_for("auth.account"))
    form = _password_form(user)
    if form.validate_on_submit() and _change_password(user, form):
        flash(_("パスワードを設定しました。"), "success")
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/password.html", form=form, user=user), 400 if form.errors else 200


@bp.route("/account/tokens", methods=["POST"])
@access(any_user=True)
def token_create():
    """A new API token.  Its secret is on this answer (not stored, not put
    in the session cookie, not cached) and never shown again."""
    user = current_user._get_current_object()
    token_form = ApiTokenForm(prefix="token")
    if not token_form.validate_on_submit():
        return _account_page(user, _password_form(user), token_form), 400
    token, secret = api_tokens.issue(user, token_form.name.data)
    db.session.commit()
    return _account_page(user, _password_form(user), new_token=(token, secret)), 200, {"Cache-Control": "no-store"}


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@access(any_user=True)
def token_revoke(token_id: int):
    token = db.get_or_404(ApiToken, token_id)
    if token.user_id != current_user.id:
        abort(404)
    if not CSRFForm().validate_on_submit():
        abort(400)
    api_tokens.revoke(token)
    db.session.commit()
    flash(_("APIトークン「%(name)s」を無効にしました。", name=token.name), "success")
    return redirect(url_for("auth.account") + "#api-tokens")


@bp.route("/language", methods=["POST"])
@access(public=True)
def set_language():
    lang = request.form.get("lang", "")
    if CSRFForm().validate_on_submit() and lang in LOCALES:
        session["lang"] = lang
        if current_user.is_authenticated and current_user.locale != lang:
            current_user.locale = lang
            db.session.commit()
    return redirect(_safe_next(request.form.get("next")))
