"""The JSON API: who may read and write, lists with the
list pages' paging, filters, search and sort, writes held to the form's
rules and audited as the token's user, problem documents for every error,
verifications, findings and the dashboard."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from core import registers, timeutil
from core.db import db
from core.models import AuditEntry, Role, User
from tests import factories
from tests.conftest import api_token
from vendors.models import Vendor, VendorStatus
from vendors.services import VendorRuleError

PROBLEM = "application/problem+json"


@pytest.fixture
def api(app, users):
    """A client and a token header per user of the ``users`` fixture."""
    client = app.test_client()
    headers = {name: {"Authorization": f"Bearer {api_token(app, name)}"}
               for name in ("admin", "procurement", "verifier", "social", "auditor")}
    return client, headers


@pytest.fixture
def vendors(app, users):
    """Five vendors, their ids by key: two active (one of 総務課, the
    procurement user's unit), one selected, one ended and one candidate
    without a selection record; two of them found by ソラチ."""
    with app.app_context():
        general = db.session.get(User, users["procurement"]).unit
        by = db.session.get(User, users["procurement"])
        made = {
            "dohoku": factories.vendor("株式会社道央情報システム", kana="ドウオウジョウホウシステム",
                                       corporate_number="3430001012345", unit=factories.unit("通信指令課"),
                                       decided_by=by),
            "sorachi": factories.vendor("空知ネットワーク株式会社", kana="ソラチネットワーク", unit=general, decided_by=by),
            "minato": factories.vendor("株式会社みなとウェブ制作", kana="ミナトウェブセイサク", unit=general,
                                       status=VendorStatus.SELECTED, decided_by=by),
            "ended": factories.vendor("有限会社いしかりデータ消去", kana="イシカリデータショウキョ", unit=general,
                                      status=VendorStatus.ENDED, decided_by=by),
            "candidate": factories.vendor("合同会社そらちAI研究所", kana="ソラチエーアイケンキュウジョ",
                                          corporate_number="9443003078901", unit=factories.unit("警防課"),
                                          status=VendorStatus.CANDIDATE, selected=False),
        }
        db.session.commit()
        return {key: vendor.id for key, vendor in made.items()}


def vendor_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Vendor))


def last_entry(app, action: str) -> AuditEntry:
    with app.app_context():
        return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                  .order_by(AuditEntry.seq.desc())).first()


def problem_fields(response) -> dict[str, str]:
    assert response.mimetype == PROBLEM, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == response.status_code and body["type"] == "about:blank" and body["title"]
    return {error["field"]: error["message"] for error in body.get("errors", [])}


# --- reading ---------------------------------------------------------------------------

def test_a_list_is_paged_with_its_total(app, api, vendors):
    client, token = api
    first = client.get("/api/v1/vendors?per_page=2", headers=token["auditor"]).get_json()
    assert first["total"] == vendor_count(app) == 5 and first["page"] == 1 and first["per_page"] == 2
    assert len(first["items"]) == 2
    third = client.get("/api/v1/vendors?per_page=2&page=3", headers=token["auditor"]).get_json()
    assert len(third["items"]) == 1
    everything = client.get("/api/v1/vendors?per_page=100", headers=token["auditor"]).get_json()["items"]
    assert {v["id"] for v in everything} == set(vendors.values())
    assert set(everything[0]) == {"id", "name", "kana", "corporate_number", "address", "representative", "website",
                                  "unit", "status", "notes", "certifications", "updated_at"}


def test_a_list_takes_the_list_pages_filters_search_and_sort(api, vendors):
    client, token = api

    def names(query):
        response = client.get(f"/api/v1/vendors?{query}", headers=token["procurement"])
        assert response.status_code == 200
        return [v["name"] for v in response.get_json()["items"]]

    active = client.get("/api/v1/vendors?status=active", headers=token["procurement"]).get_json()
    assert active["total"] == 2 and {v["status"] for v in active["items"]} == {"active"}
    assert names("q=ソラチ") == ["合同会社そらちAI研究所", "空知ネットワーク株式会社"]  # found and sorted by kana
    assert names("q=ソラチ&sort=name&dir=desc") == ["空知ネットワーク株式会社", "合同会社そらちAI研究所"]
    assert names("status=active&q=ソラチ") == ["空知ネットワーク株式会社"]


@pytest.mark.parametrize("query, field", [("per_page=101", "per_page"), ("per_page=0", "per_page"),
                                          ("page=0", "page"), ("page=x", "page"), ("page=１", "page"),
                                          ("sort=price", "sort"), ("dir=up", "dir")])
def test_bad_paging_and_sorting_are_400_problems(api, query, field):
    client, token = api
    response = client.get(f"/api/v1/vendors?{query}", headers=token["auditor"])
    assert response.status_code == 400
    assert field in problem_fields(response)


@pytest.mark.parametrize("query", ["unit=%C2%B2", "unit=99999999999999999999999", "q=a%00b", "status=%00"])
def test_odd_filter_values_filter_nothing(api, vendors, query):
    client, token = api
    response = client.get(f"/api/v1/vendors?{query}", headers=token["auditor"])
    assert response.status_code == 200 and response.get_json()["total"] in (0, len(vendors))


def test_one_record_with_its_version_as_etag(api, vendors):
    client, token = api
    response = client.get(f"/api/v1/vendors/{vendors['dohoku']}", headers=token["verifier"])
    assert response.status_code == 200 and response.headers["ETag"] == '"1"'
    vendor = response.get_json()
    assert vendor["name"] == "株式会社道央情報システム" and vendor["status"] == "active" and vendor["unit"] == "通信指令課"
    assert vendor["updated_at"].endswith("+00:00")
    missing = client.get("/api/v1/vendors/999", headers=token["verifier"])
    assert missing.status_code == 404 and missing.mimetype == PROBLEM
    for method in ("GET", "PATCH"):  # found by schemathesis: a PATCH to an id beyond any database integer was a 405
        response = client.open("/api/v1/vendors/99999999999", method=method, json={}, headers=token["procurement"])
        assert response.status_code == 404


# --- who may ------------------------------------------------------------------------

def test_auditor_reads_but_changes_nothing(app, api, vendors):
    client, token = api
    one = vendors["dohoku"]
    assert client.get("/api/v1/vendors", headers=token["auditor"]).status_code == 200
    for response in (client.post("/api/v1/vendors", json={"name": "x"}, headers=token["auditor"]),
                     client.patch(f"/api/v1/vendors/{one}", json={"notes": "x"}, headers=token["auditor"]),
                     client.post(f"/api/v1/vendors/{one}/retire", headers=token["auditor"])):
        assert response.status_code == 403 and response.mimetype == PROBLEM
    with app.app_context():
        assert db.session.get(Vendor, one).status is VendorStatus.ACTIVE and db.session.get(Vendor, one).notes is None


def test_social_media_staff_do_not_read_vendors(api, vendors):
    client, token = api
    response = client.get(f"/api/v1/vendors/{vendors['dohoku']}", headers=token["social"])
    assert response.status_code == 403 and problem_fields(response) == {}


# --- writing ----------------------------------------------------------------------------

NEW_VENDOR = {"name": "株式会社テスト開発", "kana": "テストカイハツ", "unit": "総務課", "status": "candidate",
              "website": "https://test.example.jp", "corporate_number": None}


def test_procurement_creates_a_vendor_audited_as_themselves(app, api):
    client, token = api
    response = client.post("/api/v1/vendors", json=NEW_VENDOR, headers=token["procurement"])
    assert response.status_code == 201, response.get_json()
    vendor = response.get_json()
    assert response.headers["Location"] == f"/api/v1/vendors/{vendor['id']}"
    assert vendor["name"] == "株式会社テスト開発" and vendor["unit"] == "総務課" and vendor["notes"] is None
    assert client.get(response.headers["Location"], headers=token["auditor"]).get_json() == vendor
    entry = last_entry(app, "create")
    assert (entry.object_type, entry.object_id) == ("vendors", str(vendor["id"]))
    with app.app_context():
        assert entry.username == "procurement" and entry.user_id == db.session.scalar(
            select(User.id).where(User.username == "procurement"))


def test_the_forms_validation_refuses_and_nothing_is_written(app, api, vendors):
    client, token = api
    before = vendor_count(app)
    response = client.post("/api/v1/vendors", headers=token["procurement"], json={
        **NEW_VENDOR, "name": "", "kana": "ひらがな", "website": "not a url", "corporate_number": "1234567890123"})
    assert response.status_code == 422
    fields = problem_fields(response)
    assert set(fields) == {"name", "kana", "website", "corporate_number"}
    assert fields["corporate_number"] == "法人番号のチェックデジットが正しくありません。番号を確認してください。"
    assert vendor_count(app) == before


@pytest.mark.parametrize("changes, field, message", [
    ({"status": "active"}, "status", "選定済・取引中にするには、先に選定記録（選定する）を登録してください。"),
    ({"corporate_number": "3430001012345"}, "corporate_number", "この法人番号の事業者は既に登録されています。"),
])
def test_the_registers_rules_are_the_pages_rules(app, api, vendors, changes, field, message):
    client, token = api
    created = client.post("/api/v1/vendors", json={**NEW_VENDOR, **changes}, headers=token["procurement"])
    assert created.status_code == 422 and problem_fields(created) == {field: message}
    # …and for a change of the candidate, which has no selection record
    candidate = vendors["candidate"]
    changed = client.patch(f"/api/v1/vendors/{candidate}", json=changes, headers=token["procurement"])
    assert changed.status_code == 422 and problem_fields(changed) == {field: message}
    with app.app_context():
        assert db.session.get(Vendor, candidate).status is VendorStatus.CANDIDATE
        assert db.session.get(Vendor, candidate).corporate_number == "9443003078901"


def test_unknown_read_only_and_mistyped_fields_are_listed(app, api, vendors):
    client, token = api
    response = client.post("/api/v1/vendors", headers=token["procurement"], json={
        **NEW_VENDOR, "colour": "red", "id": 99, "name": 5, "unit": "存在しない課", "status": ["candidate"],
        "notes": "a\x00b"})
    assert response.status_code == 422
    fields = problem_fields(response)
    assert set(fields) == {"colour", "id", "name", "unit", "status", "notes"}
    assert fields["colour"] == "この項目はありません。" and fields["id"] == "変更できない項目です。"
    assert fields["unit"] == "「存在しない課」は登録されていません。"
    assert vendor_count(app) == len(vendors)


@pytest.mark.parametrize("data, content_type, status", [
    ('{"name": ', "application/json", 400),
    ("[]", "application/json", 422),
    ("null", "application/json", 422),
    ("[" * 5000 + "]" * 5000, "application/json", 400),
    ("name=x", "application/x-www-form-urlencoded", 415),
    ('{"name": "x"}', "text/plain", 415),
    ('{"notes": "' + "x" * (1024 * 1024) + '"}', "application/json", 413),
])
def test_a_body_that_is_not_a_json_object_is_a_4xx_problem(app, api, vendors, data, content_type, status):
    client, token = api
    response = client.post("/api/v1/vendors", data=data, content_type=content_type, headers=token["procurement"])
    assert response.status_code == status and response.mimetype == PROBLEM
    assert vendor_count(app) == len(vendors)


def test_a_change_is_partial_and_audited_field_by_field(app, api, vendors):
    client, token = api
    minato = vendors["minato"]
    before = client.get(f"/api/v1/vendors/{minato}", headers=token["procurement"]).get_json()
    response = client.patch(f"/api/v1/vendors/{minato}", json={"notes": "APIから", "website": "https://minato.example.jp"},
                            headers=token["procurement"])
    assert response.status_code == 200 and response.headers["ETag"] == '"2"'  # the factory's version 1, changed
    after = response.get_json()
    assert after["notes"] == "APIから" and after["website"] == "https://minato.example.jp"
    assert {k: v for k, v in after.items() if k not in ("notes", "website", "updated_at")} == \
        {k: v for k, v in before.items() if k not in ("notes", "website", "updated_at")}
    entry = last_entry(app, "update")
    assert entry.object_id == str(minato) and entry.username == "procurement"
    assert set(entry.changes) - {"updated_at", "version"} == {"notes", "website"}


def test_if_match_saves_only_the_version_it_names(api, vendors):
    client, token = api
    minato = vendors["minato"]
    stale = client.patch(f"/api/v1/vendors/{minato}", json={"notes": "古い"},
                         headers={**token["procurement"], "If-Match": '"0"'})
    assert stale.status_code == 412 and stale.mimetype == PROBLEM
    current = client.patch(f"/api/v1/vendors/{minato}", json={"notes": "新しい"},
                           headers={**token["procurement"], "If-Match": '"1"'})
    assert current.status_code == 200 and current.get_json()["notes"] == "新しい"


def test_retiring_ends_the_vendor_and_is_audited(app, api, vendors):
    client, token = api
    sorachi = vendors["sorachi"]
    response = client.post(f"/api/v1/vendors/{sorachi}/retire", headers=token["procurement"])
    assert response.status_code == 200 and response.get_json()["status"] == "ended"
    entry = last_entry(app, "retire")
    assert (entry.object_type, entry.object_id, entry.username) == ("vendors", str(sorachi), "procurement")
    assert client.post("/api/v1/vendors/999/retire", headers=token["procurement"]).status_code == 404


# --- verifications, findings, dashboard ------------------------------------------------

@pytest.fixture
def checked(app, users):
    """Two submitted verifications (ids by key) of two contracts: one with a
    partly conforming C05 checked 100 days ago, its measure now overdue."""
    from contracts.models import Result

    with app.app_context():
        late = factories.verification(performed_on=timeutil.today() - dt.timedelta(days=100),
                                      results={"C05": Result.PARTLY})
        clean = factories.verification()
        db.session.commit()
        return {"late": late.id, "late_contract": late.contract_id, "clean": clean.id,
                "clean_contract": clean.contract_id, "finding": late.findings[0].id}


def test_verifications_are_read_with_their_filters(api, checked):
    client, token = api
    listed = client.get(f"/api/v1/verifications?contract={checked['clean_contract']}",
                        headers=token["auditor"]).get_json()
    assert listed["total"] == 1 and listed["items"][0]["contract_id"] == checked["clean_contract"]
    assert client.get("/api/v1/verifications?status=draft", headers=token["auditor"]).get_json()["total"] == 0
    one = client.get(f"/api/v1/verifications/{checked['late']}", headers=token["procurement"]).get_json()
    assert one["status"] == "submitted" and one["method"] and all(":" in r for r in one["results"])
    assert client.post("/api/v1/verifications", json={}, headers=token["verifier"]).status_code == 405
    assert client.get("/api/v1/verifications", headers=token["social"]).status_code == 403


def test_findings_are_read_with_their_filters(api, checked):
    client, token = api
    overdue = client.get("/api/v1/findings?overdue=yes", headers=token["verifier"]).get_json()
    assert overdue["total"] == 1 and overdue["items"][0]["overdue"] is True
    assert client.get("/api/v1/findings?status=accepted", headers=token["verifier"]).get_json()["total"] == 0
    finding = client.get(f"/api/v1/findings/{checked['finding']}", headers=token["verifier"]).get_json()
    assert finding["status"] == "open" and finding["contract_id"] == checked["late_contract"] and finding["clause"]


def test_the_dashboard_counts_as_the_user_sees_them(app, api, vendors):
    client, token = api
    with app.app_context():
        factories.unit("総務課").parent = factories.unit("消防本部")
        db.session.commit()
    admin = client.get("/api/v1/dashboard", headers=token["admin"]).get_json()
    assert admin["scope"] is None
    panel = next(p for p in admin["panels"] if p["title"] == "委託事業者")
    tiles = {tile["label"]: tile["count"] for tile in panel["tiles"]}
    assert tiles["取引中"] == 2 and tiles["候補"] == 1
    assert next(t for t in panel["tiles"] if t["label"] == "取引中")["url"] == "/vendors/?status=active"
    procurement = client.get("/api/v1/dashboard", headers=token["procurement"]).get_json()
    assert procurement["scope"] == "消防本部 › 総務課"
    mine = next(p for p in procurement["panels"] if p["title"] == "委託事業者")
    assert {t["label"]: t["count"] for t in mine["tiles"]}["取引中"] == 1  # only 総務課's
    social = client.get("/api/v1/dashboard", headers=token["social"]).get_json()
    assert "委託事業者" not in [p["title"] for p in social["panels"]]


# --- errors -------------------------------------------------------------------------

def test_errors_under_the_api_are_problems_never_pages(api, vendors):
    client, token = api
    for response in (client.get("/api/v1/nothing-here", headers=token["admin"]),
                     client.get("/api/nothing-here"),
                     client.delete(f"/api/v1/vendors/{vendors['dohoku']}", headers=token["procurement"])):
        assert response.mimetype == PROBLEM and b"<html" not in response.data
    assert client.delete(f"/api/v1/vendors/{vendors['dohoku']}", headers=token["procurement"]).headers["Allow"]


def test_an_unexpected_error_is_a_500_problem_without_a_trace(app, api, monkeypatch):
    from core import api as api_module

    client, token = api
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(register):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(api_module, "list_records", broken)
    response = client.get("/api/v1/vendors", headers=token["admin"])
    assert response.status_code == 500 and response.mimetype == PROBLEM
    assert b"secret detail" not in response.data and b"Traceback" not in response.data


def test_messages_come_in_the_token_users_language(app, api):
    client, token = api
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "social")).locale = "en"
        db.session.commit()
    detail = client.get("/api/v1/vendors", headers=token["social"]).get_json()["detail"]
    assert detail.isascii() and detail


def test_every_register_is_served_and_retiring_keeps_the_domain_rules(app, api):
    """Contracts, cloud services and accounts through the same API; a
    contract that handled classified information may not end before its
    disposal is recorded, and a retired service cannot retire again."""
    from cloud.models import ServiceStatus
    from contracts.models import Contract, ContractStatus

    client, headers = api
    with app.app_context():
        contract = factories.contract("R8-001", status=ContractStatus.IN_FORCE, classification="C3B")
        factories.contract()  # another, not found by the search
        service = factories.cloud_service(status=ServiceStatus.RETIRED)
        social = factories.user("social2", Role.SOCIAL)
        for _ in range(2):
            factories.social_account(responsible=social)
        db.session.commit()
        contract_id, service_id = contract.id, service.id
    listed = client.get("/api/v1/contracts?q=R8-001", headers=headers["procurement"]).get_json()
    assert [item["number"] for item in listed["items"]] == ["R8-001"]
    refused = client.post(f"/api/v1/contracts/{contract_id}/retire", headers=headers["procurement"])
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert "返却・廃棄" in refused.get_json()["detail"]
    with app.app_context():
        assert db.session.get(Contract, contract_id).status.value == "in_force"
    again = client.post(f"/api/v1/cloud/{service_id}/retire", headers=headers["procurement"])
    assert again.status_code == 409 and "既に廃止" in again.get_json()["detail"]
    accounts = client.get("/api/v1/social", headers=headers["social"]).get_json()
    assert accounts["total"] == 2 and all("responsible" in item for item in accounts["items"])



@pytest.mark.parametrize("raised", [VendorRuleError("この委託事業者は終了できません。"),
                                    ValueError("invalid literal for int(): internal detail")])
def test_only_a_rule_s_refusal_is_a_409_never_a_programming_error(app, users, vendors, raised):
    """A domain rule's refusal (core.refusals.Refusal) is a 409 problem with
    its message; any other ValueError is a bug and is never shown to the
    client as if it were a rule: it propagates (a plain 500 in production)."""
    import dataclasses

    from flask import g

    from core import api as api_module
    from core.problems import Problem

    def retire(record, user):
        raise raised

    sorachi = vendors["sorachi"]
    with app.test_request_context(f"/api/v1/vendors/{sorachi}/retire", method="POST"):
        g._login_user = db.session.scalar(select(User).where(User.username == "procurement"))
        register = next(r for r in registers.all_registers() if r.name == "vendors")
        if isinstance(raised, VendorRuleError):
            with pytest.raises(Problem) as refused:
                api_module.retire(dataclasses.replace(register, retire=retire), sorachi)
            assert refused.value.status == 409 and "終了できません" in refused.value.detail
        else:
            with pytest.raises(ValueError, match="internal detail"):
                api_module.retire(dataclasses.replace(register, retire=retire), sorachi)
