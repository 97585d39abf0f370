"""Errors of the JSON API as ``application/problem+json`` (RFC 9457): the
status, its HTTP phrase as the title, a detail in the caller's language
and, for invalid input, ``errors``: one ``{field, message}`` per problem.

core.errors answers every error under /api/ with :func:`response`, so no
API error is ever an HTML page; views raise :class:`Problem` for an
answer of their own.
"""
from __future__ import annotations

from flask import jsonify
from flask_babel import lazy_gettext as _l
from werkzeug.http import HTTP_STATUS_CODES

MEDIA_TYPE = "application/problem+json"

DETAILS = {  # the pages' wording where it fits a program too
    400: _l("リクエストが正しくありません"),
    401: _l("APIトークンが必要です（Authorization: Bearer <トークン>）。トークンが正しくないか、失効しているか、利用者が無効です。"),
    403: _l("この操作は許可されていません"),
    404: _l("URLが正しいか確認してください。"),
    405: _l("この方法では操作できません"),
    409: _l("他の利用者が先に更新しました。最新の内容を取得してから、もう一度送ってください。"),
    412: _l("記録が更新されています（If-Matchのバージョンが一致しません）。最新の内容を取得してください。"),
    413: _l("リクエストが大きすぎます。"),
    415: _l("本文はJSON（Content-Type: application/json）で送ってください。"),
    422: _l("入力内容に誤りがあります。"),
    500: _l("しばらくしてからもう一度お試しください。続く場合は管理者に連絡してください。"),
}


class Problem(Exception):
    """Raised by an API view to answer with a problem document."""

    def __init__(self, status: int, detail=None, errors: list[dict[str, str]] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.detail, self.errors, self.headers = status, detail, errors, headers


def response(status: int, detail=None, errors: list[dict[str, str]] | None = None, headers=None):
    body = {"type": "about:blank", "title": HTTP_STATUS_CODES.get(status, "Error"), "status": status,
            "detail": str(detail or DETAILS.get(status) or DETAILS[500 if status >= 500 else 400])}
    if errors:
        body["errors"] = [{"field": e["field"], "message": str(e["message"])} for e in errors]
    answer = jsonify(body)
    answer.status_code = status
    answer.mimetype = MEDIA_TYPE
    if status == 401:
        answer.headers["WWW-Authenticate"] = 'Bearer realm="itaku"'
    answer.headers.extend(headers or {})
    return answer
