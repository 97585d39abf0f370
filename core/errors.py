"""Error pages in the site's layout and the user's language, no trace;
under /api/, problem documents (core.problems) instead of pages."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from core import problems
from core.auth import is_api
from core.db import db

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
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, _l("フォームの有効期限が切れたか、不正な送信です。画面を開き直してから送信してください。"))

    @app.errorhandler(StaleDataError)
    def stale(error):
        db.session.rollback()
        return problems.response(409) if is_api(request.path) else render_error(409)

    @app.errorhandler(problems.Problem)
    def problem(error):
        return problems.response(error.status, error.detail, error.errors)

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
