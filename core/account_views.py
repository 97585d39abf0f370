"""Sign in and out, the user's own page, the language switch."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from core import accounts, audit
from core.auth import access
from core.db import db
from core.forms import ChangePasswordForm, CSRFForm, LoginForm
from core.i18n import LOCALES

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute or scheme-relative URL."""
    if target:
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
        audit.log("logout", current_user._get_current_object())
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("ログアウトしました。"), "success")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@access(any_user=True)
def account():
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    form.policy_username = user.username
    if form.validate_on_submit():
        from werkzeug.security import check_password_hash

        if not check_password_hash(user.password_hash, form.current_password.data):
            form.current_password.errors.append(_("現在のパスワードが正しくありません。"))
        else:
            accounts.set_password(user, form.new_password.data)
            db.session.commit()
            login_user(user)  # this session carries the new token; others end
            flash(_("パスワードを変更しました。ほかの端末のセッションは終了しました。"), "success")
            return redirect(url_for("auth.account"))
    status = 400 if form.errors else 200
    return render_template("auth/account.html", form=form, user=user), status


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
