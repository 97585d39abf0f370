"""The JSON API at /api/v1/: every register (core.registers) listed, read,
created, changed and retired, the dashboard's counts, and the OpenAPI
document that describes them (core.openapi).

A request signs in with ``Authorization: Bearer <token>`` (core.api_tokens)
and nothing else: the session cookie is not read under /api/ (core.auth),
so the blueprint needs no CSRF token.  Each route declares its access rule
like a page — a register's readers read, its writers write — and the
global check enforces it.  A write goes through the register's own form
and save rule, so the API is held to exactly what the pages are held to,
and is audited as its token's user.  Errors are problem documents
(core.problems).
"""
from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core import hygiene, idempotency, openapi, registers
from core.auth import access
from core.dashboard import Tile, scope_unit, visible_panels
from core.db import db
from core.i18n import locale_code
from core.lists import int_arg
from core.openapi import (
    CREATE,
    DASHBOARD,
    DEFAULT_PER_PAGE,
    DOCUMENT,
    LIST,
    MAX_ID,
    MAX_PER_PAGE,
    READ,
    RETIRE,
    UPDATE,
    Operation,
)
from core.problems import Problem
from core.refusals import Refusal
from core.registers import Field, Register

PREFIX = "/api/v1"
MAX_BODY_BYTES = 1024 * 1024


def init_app(app) -> Blueprint:
    """The API's routes for every register (a blueprint per application:
    tests build many); returned so the app can exempt it from CSRF."""
    bp = Blueprint("api", __name__, url_prefix=PREFIX)
    bp.before_request(_limit_body)
    _add(bp, DOCUMENT, "GET", "/openapi.json", access(public=True), lambda: jsonify(openapi.document(operations())))
    _add(bp, DASHBOARD, "GET", "/dashboard", access(any_user=True), dashboard)
    for register in registers.all_registers(app):
        _register_routes(bp, register)
    app.register_blueprint(bp)
    return bp


def operations() -> list[Operation]:
    """The API's routes in this application, in the order they were added."""
    return [view.itaku_operation for endpoint, view in current_app.view_functions.items()
            if endpoint.startswith("api.")]


def _add(bp: Blueprint, kind: str, method: str, path: str, allow: Callable, view: Callable,
         register: Register | None = None) -> None:
    """Route ``view`` with its access rule (``allow``) and its description."""
    view = allow(idempotency.idempotent(view) if method == "POST" else view)
    view.itaku_operation = Operation(kind, method, PREFIX + path, view.itaku_access, register)
    endpoint = f"{register.name}_{kind}" if register else kind
    bp.add_url_rule(path.replace("{record_id}", "<int:record_id>"), endpoint, view, methods=[method])


def _register_routes(bp: Blueprint, register: Register) -> None:
    base = f"/{register.name}"
    readers = access(register.readers)
    _add(bp, LIST, "GET", base, readers, lambda: list_records(register), register)
    _add(bp, READ, "GET", base + "/{record_id}", readers, lambda record_id: read(register, record_id), register)
    if not register.writers:
        return
    writers = access(register.writers)
    if register.form is not None and register.save is not None:
        _add(bp, CREATE, "POST", base, writers, lambda: create(register), register)
    if register.form is not None and register.save is not None and register.updatable:
        _add(bp, UPDATE, "PATCH", base + "/{record_id}", writers, lambda record_id: update(register, record_id),
             register)
    if register.retire is not None:
        _add(bp, RETIRE, "POST", base + "/{record_id}/retire", writers, lambda record_id: retire(register, record_id),
             register)


def _limit_body() -> None:
    request.max_content_length = MAX_BODY_BYTES  # a record is small; larger bodies are refused with 413


# --- reading --------------------------------------------------------------------------

def _item(register: Register, record) -> dict[str, Any]:
    return {f.key: f.json(record) for f in register.fields}


def _record_response(register: Register, record, status: int = 200):
    response = jsonify(_item(register, record))
    response.status_code = status
    if getattr(record, "version", None) is not None:
        response.set_etag(str(record.version))
    return response


def _load(register: Register, record_id: int):
    # Ids beyond MAX_ID are refused here, not by the URL converter: for a
    # number its converter refuses, werkzeug answers a PATCH with 405 (as if
    # GET would take it) instead of 404.
    record = None
    if record_id <= MAX_ID:
        record = db.session.scalar(register.query().where(register.model.id == record_id))
    if record is None:
        raise Problem(404)
    return record


def _number_arg(name: str, default: int, maximum: int) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    number = int_arg(text, minimum=1, maximum=maximum)
    if number is None:
        raise Problem(400, errors=[{"field": name, "message": _("1から%(max)sまでの整数で指定してください。", max=maximum)}])
    return number


def _choice_arg(name: str, choices) -> None:
    text = request.args.get(name)
    if text is not None and text not in choices:
        raise Problem(400, errors=[{"field": name, "message": _("次のいずれかで指定してください: %(choices)s",
                                                                 choices=", ".join(choices))}])


def list_records(register: Register):
    """One page of the register's list: the list page's search, filters and
    sort (the same query-string names), in a stable order."""
    page = _number_arg("page", 1, MAX_ID)
    per_page = _number_arg("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    _choice_arg("sort", list(register.list_view.sorts))
    _choice_arg("dir", ["asc", "desc"])
    stmt, _state = register.list_view.statement(register.query(), request.args)
    pagination = db.paginate(stmt.order_by(register.model.id), page=page, per_page=per_page, error_out=False)
    return jsonify(items=[_item(register, record) for record in pagination.items], page=page, per_page=per_page,
                   total=pagination.total)


def read(register: Register, record_id: int):
    return _record_response(register, _load(register, record_id))


# --- writing --------------------------------------------------------------------------

TYPE_MESSAGES = {
    "many": _l("文字列の配列で指定してください。"),
    "boolean": _l("true か false で指定してください。"),
    "integer": _l("整数で入力してください。"),
    "text": _l("文字列で指定してください。"),
}


def _type_problem(f: Field, value) -> LazyString | None:
    """The message when a JSON value is not of the field's type (null
    stands for blank, as an empty cell does)."""
    if f.many:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return None if ok else TYPE_MESSAGES["many"]
    if f.kind == "boolean":
        return None if isinstance(value, bool) else TYPE_MESSAGES["boolean"]
    if value is None:
        return None
    if f.kind == "integer":
        return None if isinstance(value, int) and not isinstance(value, bool) else TYPE_MESSAGES["integer"]
    if not isinstance(value, str):
        return TYPE_MESSAGES["text"]
    return None


def _json_object() -> dict[str, Any]:
    try:
        body = request.get_json()  # 415 unless JSON, 400 unless it parses
    except RecursionError:
        raise Problem(400) from None
    if not isinstance(body, dict):
        raise Problem(422, _l("本文はJSONのオブジェクト（{…}）で送ってください。"))
    return body


def _save(register: Register, record, body: dict[str, Any]):
    """Validate ``body`` with the register's form and save rule; fields it
    does not name keep ``record``'s values.  Nothing is written on refusal;
    the caller commits, with its answer (core.idempotency.commit)."""
    writable = {f.key: f for f in register.writable_fields()}
    known = {f.key for f in register.fields}
    errors: list[dict[str, Any]] = []
    values = {}
    for key, value in body.items():
        if hygiene.in_json(key) or hygiene.in_json(value):  # the JSON layer's one check (core.hygiene)
            errors.append({"field": hygiene.shown(key), "message": hygiene.MESSAGE})
            continue
        if key in writable:
            problem = _type_problem(writable[key], value)
        else:
            problem = _l("変更できない項目です。") if key in known else _l("この項目はありません。")
        if problem is None:
            values[key] = value
        else:
            errors.append({"field": key, "message": problem})
    formdata, problems = register.formdata(values, record)
    errors += [{"field": f.key, "message": message} for f, message in problems]
    if errors:
        raise Problem(422, errors=errors)
    form = register.form(record, formdata=formdata, meta={"csrf": False})
    saved = register.save(form, record if record is not None else register.model()) if form.validate() else None
    if saved is None:
        db.session.rollback()
        keys = {f.field: f.key for f in register.fields if f.field}
        raise Problem(422, errors=[{"field": keys.get(name, name), "message": message}
                                   for name, messages in form.errors.items() for message in messages])
    return saved


def create(register: Register):
    record = _save(register, None, _json_object())
    response = _record_response(register, record, 201)
    response.headers["Location"] = url_for(f"api.{register.name}_{READ}", record_id=record.id)
    return idempotency.commit(response)


def update(register: Register, record_id: int):
    """A partial update; with ``If-Match`` only while the record is still at
    that version (its ETag)."""
    record = _load(register, record_id)
    if request.if_match and str(getattr(record, "version", "")) not in request.if_match:
        raise Problem(412)
    return idempotency.commit(_record_response(register, _save(register, record, _json_object())))


def retire(register: Register, record_id: int):
    """Retire (end, close) the record through its domain's rule; a rule's
    refusal (already retired, a contract that may not end yet…) is a 409
    with the rule's own message."""
    record = _load(register, record_id)
    try:
        register.retire(record, current_user._get_current_object())
    except Refusal as refusal:  # a rule's refusal, never any other error (that is a bug: a 500)
        db.session.rollback()
        raise Problem(refusal.status, str(refusal)) from refusal
    return idempotency.commit(_record_response(register, record))


# --- dashboard ------------------------------------------------------------------------

def _tile(tile: Tile) -> dict[str, Any]:
    return {"label": str(tile.label), "count": tile.count, "alert": tile.alert,
            "url": url_for(tile.endpoint, **tile.params)}


def dashboard():
    """The dashboard's panels and counts as the user sees them."""
    user = current_user._get_current_object()
    panels = visible_panels(user)
    return jsonify(
        scope=user.unit.path_in(locale_code()) if scope_unit(user) else None,
        notices=[_tile(notice) for panel in panels for notice in panel.notices],
        panels=[{"title": str(panel.title), "url": url_for(panel.endpoint), "tiles": [_tile(t) for t in panel.tiles]}
                for panel in panels])
