"""Error pages in the site's layout and the user's language, no trace;
under /api/, problem documents (core.problems) instead of pages."""
from __future__ import annotations

from flask import Flask, current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from core import problems
from core.auth import is_api
from core.db import db
from core.forms import stale_input

MESSAGES = {
    400: (_l("リクエストが正しくありません"), _l("入力内容を確認して、もう一度お試しください。")),
    403: (_l("この操作は許可されていません"), _l("この画面を使う権限がありません。必要な場合は管理者に依頼してください。")),
    404: (_l("ページが見つかりません"), _l("URLが正しいか確認してください。")),
    405: (_l("この方法では操作できません"), _l("画面のボタンから操作してください。")),
    409: (_l("他の利用者が先に更新しました"), _l("画面を開き直して、最新の内容を確認してください。")),
    413: (_l("ファイルが大きすぎます"), _l("サイズの上限を確認してください。")),
    500: (_l("システムエラーが発生しました"), _l("しばらくしてからもう一度お試しください。続く場合は管理者に連絡してください。")),
}


def render_error(code: int, detail=None):
    title, hint = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, hint=detail or hint), code


def init_app(app: Flask) -> None:
    app.jinja_env.globals["stale_input"] = stale_input
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, _l("フォームの有効期限が切れたか、不正な送信です。画面を開き直してから送信してください。"))

    @app.errorhandler(StaleDataError)
    def stale(error):
        """Someone saved the record between this save's version check and its
        UPDATE (the version column refused it).  An edit form (one that
        posts the version it was opened at) is shown again exactly as when
        the view's own check finds it stale: the view runs once more, on
        the newer data, and its check now answers with the form (409), the
        newer values and the user's typing.  Anything else: the 409 page."""
        db.session.rollback()
        if is_api(request.path):
            return problems.response(409)
        if request.form.get("version", "").isdigit() and not g.get("itaku_stale_retried"):
            g.itaku_stale_retried = True
            view = current_app.view_functions[request.endpoint]
            return current_app.ensure_sync(view)(**(request.view_args or {}))
        return render_error(409)

    @app.errorhandler(problems.Problem)
    def problem(error):
        return problems.response(error.status, error.detail, error.errors, error.headers)

    @app.errorhandler(HTTPException)
    def http_error(error):
        if is_api(request.path):
            allowed = getattr(error, "valid_methods", None)
            return problems.response(error.code, headers={"Allow": ", ".join(allowed)} if allowed else None)
        if error.code in MESSAGES:
            return render_error(error.code)
        return error

    # Flask logs the exception and calls this for anything unhandled (tests
    # let exceptions propagate instead, so a bug fails its test loudly).
    @app.errorhandler(InternalServerError)
    def server_error(error):
        db.session.rollback()
        return problems.response(500) if is_api(request.path) else render_error(500)
