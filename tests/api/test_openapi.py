"""The OpenAPI document: valid OpenAPI 3.1, public, generated from the
routes and the registers' fields, describing every route of the API."""
from __future__ import annotations

import re

from openapi_spec_validator import validate

from core.openapi import MAX_PER_PAGE


def document(app) -> dict:
    response = app.test_client().get("/api/v1/openapi.json")  # no token: the description is public
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(app):
    spec = document(app)
    assert spec["openapi"] == "3.1.0" and spec["info"]["title"] == "Itaku API"
    validate(spec)


def test_every_api_route_is_described_and_nothing_else(app):
    spec = document(app)
    routes = {(re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    described = {(path, method) for path, operations in spec["paths"].items()
                 for method in operations if method != "parameters"}
    assert described == routes
    assert ("/api/v1/vendors/{record_id}", "patch") in routes and ("/api/v1/dashboard", "get") in routes


def test_registers_are_described_from_their_fields(app):
    spec = document(app)
    schemas = spec["components"]["schemas"]
    vendor, create, update = schemas["Vendor"], schemas["VendorCreate"], schemas["VendorUpdate"]
    assert set(vendor["required"]) == set(vendor["properties"]) >= {"id", "name", "status", "updated_at"}
    assert vendor["properties"]["status"]["enum"] == ["candidate", "selected", "active", "suspended", "ended"]
    assert vendor["properties"]["updated_at"]["format"] == "date-time"
    assert sorted(create["required"]) == ["name", "status", "unit"]
    assert "id" not in create["properties"] and "certifications" not in create["properties"]
    assert "required" not in update and update["properties"] == create["properties"]
    assert not any(name.startswith(("VerificationCreate", "FindingCreate")) for name in schemas)


def test_list_parameters_are_the_list_pages(app):
    parameters = {p["name"]: p for p in document(app)["paths"]["/api/v1/vendors"]["get"]["parameters"]}
    assert set(parameters) == {"page", "per_page", "q", "sort", "dir", "status", "unit", "cert"}
    assert parameters["per_page"]["schema"]["maximum"] == MAX_PER_PAGE
    assert parameters["sort"]["schema"]["enum"] == ["name", "status", "updated"]
    findings = {p["name"] for p in document(app)["paths"]["/api/v1/findings"]["get"]["parameters"]}
    assert {"contract", "status", "overdue"} <= findings


def test_access_and_errors_are_declared(app):
    spec = document(app)
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "a personal API token (itaku_…)"}
    assert spec["security"] == [{"bearer": []}]
    assert spec["paths"]["/api/v1/openapi.json"]["get"]["security"] == []
    create = spec["paths"]["/api/v1/vendors"]["post"]
    assert create["description"] == "Roles: procurement"
    assert set(create["responses"]) == {"201", "400", "401", "403", "409", "413", "415", "422", "500"}  # 409: Idempotency-Key in use
    assert create["responses"]["422"] == {"$ref": "#/components/responses/UnprocessableContent"}
    problem = spec["components"]["responses"]["UnprocessableContent"]["content"]
    assert problem == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
