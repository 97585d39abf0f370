"""The OpenAPI 3.1 document of the JSON API (core.api), built with apispec
from the routes themselves: each route carries its :class:`Operation`,
and each register's schemas come from its fields (``Field.schema``), so
the document cannot drift from the code."""
from __future__ import annotations

from dataclasses import dataclass

from apispec import APISpec

from core.auth import AccessRule
from core.registers import Register

# The API's limits, stated here as part of its contract.
MAX_ID = 2**31 - 1  # ids and pages beyond this do not exist (and would overflow a database integer)
DEFAULT_PER_PAGE, MAX_PER_PAGE = 20, 100

LIST, READ, CREATE, UPDATE, RETIRE, DASHBOARD, DOCUMENT = (
    "list", "read", "create", "update", "retire", "dashboard", "openapi")


@dataclass(frozen=True)
class Operation:
    """One route of the API as the document describes it."""

    kind: str
    method: str
    path: str  # OpenAPI's form: /api/v1/vendors/{record_id}
    rule: AccessRule
    register: Register | None = None


PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details; `errors` lists each invalid field or parameter.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            "required": ["field", "message"], "additionalProperties": False}},
    },
    "required": ["type", "title", "status", "detail"],
    "additionalProperties": False,
}
# Status → (component name, description) of the problem answers.
PROBLEMS = {
    400: ("BadRequest", "Malformed request: a query parameter out of range, or a body that is not JSON."),
    401: ("Unauthorized", "No token, or a token that is unknown, revoked or whose user is deactivated."),
    403: ("Forbidden", "The token's user has no role that may do this."),
    404: ("NotFound", "No such record."),
    409: ("Conflict", "Someone else saved the record at the same moment (read it again), or the first request "
                      "with this Idempotency-Key is still running (retry after Retry-After)."),
    412: ("PreconditionFailed", "The record is no longer at the version If-Match names."),
    413: ("ContentTooLarge", "The body is larger than 1 MiB."),
    415: ("UnsupportedMediaType", "The body is not sent as application/json."),
    422: ("UnprocessableContent", "The body is not an object, names unknown or read-only fields, or fails "
                                  "the register's rules (the same as its form's); nothing was written."),
    500: ("ServerError", "An unexpected error; nothing was written."),
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
    "description": "A key of the client's (e.g. a UUID) that makes a retry safe: the same key with the same "
                   "request (method, path, body) within 24 hours gets the first success's answer again instead "
                   "of doing the work twice; with another request it is a 422; while the first is still running, "
                   "a 409 with Retry-After. Refusals are not kept, so a corrected request may reuse the key.",
}
ANSWERS = {  # which problems each kind of route may answer with (401 unless public)
    LIST: (400, 403), READ: (403, 404), CREATE: (400, 403, 413, 415, 422),
    UPDATE: (400, 403, 404, 409, 412, 413, 415, 422), RETIRE: (403, 404, 409), DASHBOARD: (), DOCUMENT: (),
}
TILE = {
    "type": "object",
    "properties": {"label": {"type": "string"}, "count": {"type": "integer"},
                   "alert": {"type": "boolean", "description": "needs attention"},
                   "url": {"type": "string", "description": "the page listing what is counted"}},
    "required": ["label", "count", "alert", "url"], "additionalProperties": False,
}
DASHBOARD_SCHEMA = {
    "type": "object",
    "properties": {
        "scope": {"type": ["string", "null"], "description": "the unit counted, or null for every unit"},
        "notices": {"type": "array", "items": "Tile", "description": "urgent items shown above all panels"},
        "panels": {"type": "array", "items": {
            "type": "object",
            "properties": {"title": {"type": "string"}, "url": {"type": "string"},
                           "tiles": {"type": "array", "items": "Tile"}},
            "required": ["title", "url", "tiles"], "additionalProperties": False}},
    },
    "required": ["scope", "notices", "panels"], "additionalProperties": False,
}


def _object(properties: dict, required: list[str]) -> dict:
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def _name(register: Register) -> str:
    return register.model.__name__


def _register_schemas(spec: APISpec, register: Register, writable: bool) -> None:
    """The record as read, a page of the list and, if the API writes the
    register, what creating (its form's required fields) and changing take."""
    name = _name(register)
    spec.components.schema(name, _object({f.key: f.schema() for f in register.fields},
                                         [f.key for f in register.fields]))
    spec.components.schema(f"{name}Page", _object({
        "items": {"type": "array", "items": name},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        "total": {"type": "integer", "minimum": 0},
    }, ["items", "page", "per_page", "total"]))
    if writable:
        fields = register.writable_fields()
        spec.components.schema(f"{name}Create", _object({f.key: f.schema() for f in fields},
                                                        [f.key for f in fields if f.required]))
        spec.components.schema(f"{name}Update", _object({f.key: f.schema() for f in fields}, []))


def _list_parameters(register: Register) -> list[dict]:
    view = register.list_view
    parameters = [
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID, "default": 1}},
        {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                                                        "default": DEFAULT_PER_PAGE}},
    ]
    if view.search:
        parameters.append({"name": "q", "in": "query", "description": "words searched as on the list page",
                           "schema": {"type": "string"}})
    if view.sorts:
        default = {"default": view.default_sort} if view.default_sort in view.sorts else {}
        parameters += [
            {"name": "sort", "in": "query", "schema": {"type": "string", "enum": list(view.sorts), **default}},
            {"name": "dir", "in": "query", "schema": {"type": "string", "enum": ["asc", "desc"],
                                                      "default": "desc" if view.default_desc else "asc"}},
        ]
    parameters += [{"name": name, "in": "query", "description": "filter, as on the list page",
                    "schema": {"type": "string"}} for name in view.filters]
    return parameters


def _json(schema) -> dict:
    return {"application/json": {"schema": schema}}


def _success(op: Operation) -> tuple[str, dict]:
    name = _name(op.register) if op.register else ""
    record = {"description": "The record; its ETag is its version.", "content": _json(name),
              "headers": {"ETag": {"schema": {"type": "string"}}}}
    if op.kind == LIST:
        return "200", {"description": "One page of the list.", "content": _json(f"{name}Page")}
    if op.kind == CREATE:
        return "201", {**record, "headers": {**record["headers"], "Location": {"schema": {"type": "string"}}}}
    if op.kind == DASHBOARD:
        return "200", {"description": "The dashboard's counts, as the user sees them.", "content": _json("Dashboard")}
    if op.kind == DOCUMENT:
        return "200", {"description": "This document.", "content": _json({"type": "object"})}
    return "200", record


def _operation(op: Operation) -> dict:
    register = op.register
    status, success = _success(op)
    problems = {*ANSWERS[op.kind], *(() if op.rule.public else (401,)), 500}
    if op.method == "POST":
        problems |= {400, 409, 422}  # a malformed key; its first request still running; another request's key
    operation = {
        "operationId": f"{register.name}_{op.kind}" if register else op.kind,
        "tags": [register.name] if register else ["general"],
        "responses": {status: success, **{str(code): PROBLEMS[code][0] for code in sorted(problems)}},
    }
    if op.kind == LIST:
        operation["parameters"] = _list_parameters(register)
    if op.kind in (CREATE, UPDATE):
        operation["requestBody"] = {"required": True, "content": _json(
            _name(register) + ("Create" if op.kind == CREATE else "Update"))}
    if op.kind == UPDATE:
        operation["parameters"] = [{"name": "If-Match", "in": "header", "schema": {"type": "string"},
                                    "description": "save only while the record's ETag is still this"}]
    if op.method == "POST":
        operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
    if op.rule.public:
        operation["security"] = []
    elif op.rule.roles:
        operation["description"] = "Roles: " + ", ".join(sorted(role.value for role in op.rule.roles))
    return operation


def document(operations: list[Operation]) -> dict:
    spec = APISpec(
        title="Itaku API", version="1", openapi_version="3.1.0",
        info={"description": "Itaku's registers as JSON. Sign in with `Authorization: Bearer <token>` (a token "
                             "from the account page); the session cookie is not accepted. Messages come in the "
                             "token user's language."},
        security=[{"bearer": []}])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "description": "a personal API token (itaku_…)"})
    spec.components.schema("Problem", PROBLEM)
    for component, description in PROBLEMS.values():
        spec.components.response(component, {"description": description,
                                             "content": {"application/problem+json": {"schema": "Problem"}}})
    spec.components.schema("Tile", TILE)
    spec.components.schema("Dashboard", DASHBOARD_SCHEMA)
    kinds: dict[str, set[str]] = {}
    for op in operations:
        if op.register:
            kinds.setdefault(op.register.name, set()).add(op.kind)
    for op in operations:
        if op.kind == LIST:
            _register_schemas(spec, op.register, writable=CREATE in kinds[op.register.name])
    paths: dict[str, dict] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    record_id = {"name": "record_id", "in": "path", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
    for path, path_operations in paths.items():
        spec.path(path=path, operations=path_operations, parameters=[record_id] if "{record_id}" in path else None)
    return spec.to_dict()
