"""Deny by default: every route × anonymous and every role."""
from __future__ import annotations

import pytest

from core.auth import rule_for
from core.models import Role
from tests.conftest import DEMO_PASSWORD, api_token, login_as

ANY = "any signed-in user"
PUBLIC = "public"
CONTRACT_READERS = {Role.ADMIN, Role.PROCUREMENT, Role.VERIFIER, Role.AUDITOR, Role.LEAD}
PROCUREMENT = {Role.PROCUREMENT}

# Who may use each page: written out here, independently of the rules
# declared on the views, so a wrong declaration fails this test.  An
# endpoint's own entry wins over its blueprint's.
EXPECTED = {
    "auth.login": PUBLIC,
    "auth.set_language": PUBLIC,
    "auth.logout": ANY,
    "auth.account": ANY,
    "auth.password": ANY,  # the forced change of a password an administrator set (issue 20)
    "inbox.index": ANY,
    "dashboard": ANY,
    "vendors": PROCUREMENT,  # every change to the vendor register
    # the pickers' JSON lists (issue 20): read like the lists they mirror; people and units by any user
    "pick_vendors": CONTRACT_READERS,
    "pick_contracts": CONTRACT_READERS,
    "pick_users": ANY,
    "pick_units": ANY,
    "vendors.index": CONTRACT_READERS,
    "vendors.detail": CONTRACT_READERS,
    "vendors.certification_file": CONTRACT_READERS,
    # a 選定 with a 不適合 criterion: its justification decided by these (never the recorder)
    "vendors.justifications": {Role.ADMIN, Role.APPROVER, Role.LEAD},
    "vendors.justification_decide": {Role.ADMIN, Role.APPROVER, Role.LEAD},
    "contracts": PROCUREMENT,  # every change to the contract register
    "contracts.index": CONTRACT_READERS,
    "contracts.detail": CONTRACT_READERS,
    "contracts.document": CONTRACT_READERS,
    "contracts.disposal_evidence": CONTRACT_READERS,
    # A subcontractor request is decided by another person: an administrator, an approver or the security lead,
    # who reads the requests awaiting a decision and their approval documents.
    "contracts.subcontractor_decide": {Role.ADMIN, Role.APPROVER, Role.LEAD},
    "contracts.subcontractor_requests": {Role.ADMIN, Role.APPROVER, Role.LEAD},
    "contracts.subcontractor_document": CONTRACT_READERS | {Role.APPROVER},
    "contracts.catalogue": CONTRACT_READERS,
    "contracts.exception_decide": {Role.ADMIN, Role.LEAD},
    "contracts.amendment_detail": CONTRACT_READERS,
    "contracts.amendment_document": CONTRACT_READERS,
    "contracts.amendment_decide": {Role.ADMIN, Role.PROCUREMENT, Role.LEAD},  # never the author (issue 17)
    "contracts.clause_new": {Role.ADMIN},
    "contracts.clause_edit": {Role.ADMIN},
    "verification": {Role.VERIFIER},  # recording verifications and measures
    "verification.index": CONTRACT_READERS,
    "verification.detail": CONTRACT_READERS,
    "verification.evidence": CONTRACT_READERS,
    "verification.findings": CONTRACT_READERS,
    "verification.finding": CONTRACT_READERS,
    "verification.finding_evidence": CONTRACT_READERS,
    "verification.cycles": {Role.ADMIN},
    # The measure's owner (担当者) reports and starts it whatever their role: any
    # signed-in user passes the gate (and CSRF), then the view refuses a user who
    # is neither the owner nor a verifier (nor, to start it, an administrator) with
    # 403 (tests/contracts/test_verification_rules.py).
    "verification.report": ANY,
    "verification.begin": ANY,
    "verification.decide": {Role.VERIFIER, Role.ADMIN, Role.LEAD},  # confirms completion
    "calendar.feed": PUBLIC,  # the secret in the URL is the key
    "calendar": ANY,
    "cloud": PROCUREMENT,  # requesting services, their information and usage rules
    "cloud.index": set(Role),
    "cloud.detail": set(Role),
    "cloud.rules_history": set(Role),
    "cloud.deletion_evidence": set(Role),
    "cloud.decide": {Role.ADMIN, Role.APPROVER},
    "social": {Role.SOCIAL},  # every change to the account register, the pre-post check
    "social.index": {Role.ADMIN, Role.SOCIAL, Role.AUDITOR, Role.APPROVER, Role.LEAD},
    "social.detail": {Role.ADMIN, Role.SOCIAL, Role.AUDITOR, Role.APPROVER, Role.LEAD},
    "social.procedures": {Role.ADMIN, Role.SOCIAL, Role.AUDITOR, Role.APPROVER, Role.LEAD},
    "social.incident": {Role.ADMIN, Role.SOCIAL, Role.AUDITOR, Role.APPROVER, Role.LEAD},  # → incidents.detail
    # Anyone signed in records an incident and reads those without personal data; only its handlers
    # act on one (refused inside the view); personal-data incidents: tests/incidents/test_incidents.py.
    "incidents": ANY,
    "incidents.index": ANY,
    "incidents.new": ANY,
    "incidents.detail": ANY,
    "incidents.report_pdf": ANY,  # 事故報告書: whoever reads the incident
    "incidents.evidence_file": ANY,  # whoever reads the incident (the demo's have no files: 404)
    # its handlers only (refused inside the view with 403; a POST without CSRF token: 400 first)
    "incidents.action": ANY,
    "incidents.checklist": ANY,
    "incidents.close": ANY,
    "incidents.evidence": ANY,
    # correcting: its handlers; anyone else is sent back to the incident's page (incidents.access.may_handle)
    "incidents.edit": ANY,
    # the response checklists per kind (administration)
    "incidents.checklist_items": {Role.ADMIN},
    "incidents.checklist_item_new": {Role.ADMIN},
    "incidents.checklist_item_edit": {Role.ADMIN},
    "incidents.checklist_item_retire": {Role.ADMIN},
    "incidents.checklist_item_restore": {Role.ADMIN},
    # /api/v1/incidents: anyone with a token records one and reads those it may (a personal-data
    # incident is a 404 to others: tests/incidents/test_api.py); never changed through the API.
    "exchange.incidents_export": set(Role),
    "api.incidents_list": set(Role),
    "api.incidents_read": set(Role),
    "api.incidents_create": set(Role),
    "social.procedure_decide": {Role.ADMIN, Role.APPROVER},
    "social.opening_decide": {Role.ADMIN, Role.APPROVER},  # never the requester (core.approvals)
    "social.public_list": PUBLIC,  # off unless configured: 404
    "checklists": set(Role),
    "checklists.self_inspection_pdf": {Role.ADMIN, Role.AUDITOR, Role.LEAD},
    "checklists.pack_pdf": {Role.ADMIN, Role.AUDITOR, Role.LEAD},
    "contracts.checklist_pdf": CONTRACT_READERS,
    "contracts.sheet_pdf": CONTRACT_READERS,
    "vendors.summary_pdf": CONTRACT_READERS,
    "cloud.register_pdf": set(Role),
    "social.register_pdf": {Role.ADMIN, Role.SOCIAL, Role.AUDITOR, Role.APPROVER, Role.LEAD},
    "audit": {Role.ADMIN, Role.AUDITOR, Role.LEAD},
    "admin": {Role.ADMIN},
    # the self-inspection item catalogue (issue 18): the body's own items, retiring and restoring
    "admin.inspection_items_index": {Role.ADMIN},
    "admin.inspection_item_new": {Role.ADMIN},
    "admin.inspection_item_edit": {Role.ADMIN},
    "admin.inspection_item_retire": {Role.ADMIN},
    "admin.inspection_item_restore": {Role.ADMIN},
    # spreadsheets: each register's readers export, its writers import
    "exchange.vendors_export": CONTRACT_READERS,
    "exchange.vendors_template": PROCUREMENT,
    "exchange.vendors_import": PROCUREMENT,
    "exchange.vendors_confirm": PROCUREMENT,
    "exchange.vendors_job": PROCUREMENT,
    "exchange.contracts_export": CONTRACT_READERS,
    "exchange.contracts_template": PROCUREMENT,
    "exchange.contracts_import": PROCUREMENT,
    "exchange.contracts_confirm": PROCUREMENT,
    "exchange.contracts_job": PROCUREMENT,
    "exchange.verifications_export": CONTRACT_READERS,
    "exchange.findings_export": CONTRACT_READERS,
    "exchange.cloud_export": set(Role),
    "exchange.cloud_template": PROCUREMENT,
    "exchange.cloud_import": PROCUREMENT,
    "exchange.cloud_confirm": PROCUREMENT,
    "exchange.cloud_job": PROCUREMENT,
    "exchange.social_export": {Role.ADMIN, Role.SOCIAL, Role.AUDITOR, Role.APPROVER, Role.LEAD},
    "exchange.social_template": {Role.SOCIAL},
    "exchange.social_import": {Role.SOCIAL},
    "exchange.social_confirm": {Role.SOCIAL},
    "exchange.social_job": {Role.SOCIAL},
    "exchange.audit_export": {Role.ADMIN, Role.AUDITOR, Role.LEAD},
    # the user's own API tokens
    "auth.token_create": ANY,
    "auth.token_revoke": ANY,
    # the JSON API (a token, never the session): each register's readers read, its writers write
    "api.openapi": PUBLIC,
    "api.dashboard": ANY,
    "api.vendors_list": CONTRACT_READERS,
    "api.vendors_read": CONTRACT_READERS,
    "api.vendors_create": PROCUREMENT,
    "api.vendors_update": PROCUREMENT,
    "api.vendors_retire": PROCUREMENT,
    "api.verifications_list": CONTRACT_READERS,
    "api.verifications_read": CONTRACT_READERS,
    "api.findings_list": CONTRACT_READERS,
    "api.findings_read": CONTRACT_READERS,
    "api.contracts_list": CONTRACT_READERS,
    "api.contracts_read": CONTRACT_READERS,
    "api.contracts_create": PROCUREMENT,
    "api.contracts_update": PROCUREMENT,
    "api.contracts_retire": PROCUREMENT,
    "api.cloud_list": set(Role),
    "api.cloud_read": set(Role),
    "api.cloud_create": PROCUREMENT,
    "api.cloud_update": PROCUREMENT,
    "api.cloud_retire": PROCUREMENT,
    "api.social_list": {Role.ADMIN, Role.SOCIAL, Role.AUDITOR, Role.APPROVER, Role.LEAD},
    "api.social_read": {Role.ADMIN, Role.SOCIAL, Role.AUDITOR, Role.APPROVER, Role.LEAD},
    "api.social_create": {Role.SOCIAL},
    "api.social_update": {Role.SOCIAL},
    "api.social_retire": {Role.SOCIAL},
    "api.audit_list": {Role.ADMIN, Role.AUDITOR, Role.LEAD},
    "api.audit_read": {Role.ADMIN, Role.AUDITOR, Role.LEAD},
    # 改善措置 (core.measures): every staff role reads them; each step passes any
    # signed-in user's gate, then the measure's rules refuse with 403 one who may
    # not take it: edit — its opener, the lead, administrators; 着手・完了報告 — its
    # owner, the lead, administrators; 確認・差戻し — its source's acceptors
    # (approver, lead, administrators; an audit finding's: auditors only), never
    # the reporter (tests/core/test_measures.py).
    "measures": ANY,
    "measures.index": set(Role),
    "measures.detail": set(Role),
    "measures.evidence": set(Role),
    # recorded self-inspections (issue 18): everyone reads; staff start one; the responsible
    # person or staff answer, submit and correct (the view refuses others, and any auditor,
    # with 403: tests/assurance/test_inspections.py); checks and approvals by their deciders
    "inspections": ANY,
    "inspections.new": {Role.ADMIN, Role.PROCUREMENT, Role.VERIFIER, Role.SOCIAL, Role.LEAD},
    "inspections.check": {Role.ADMIN, Role.APPROVER, Role.LEAD},
    "inspections.approve": {Role.APPROVER, Role.LEAD},
    "exchange.inspections_export": set(Role),
    "api.inspections_list": set(Role),
    "api.inspections_read": set(Role),
    # 情報セキュリティ監査 (issue 18): auditors and administrators write plans and findings; the audited
    # party (any role: the view refuses a non-party with 403) responds; an auditor of the plan closes
    "audits": {Role.ADMIN, Role.AUDITOR},
    "audits.index": {Role.ADMIN, Role.AUDITOR, Role.LEAD},
    "audits.plan": {Role.ADMIN, Role.AUDITOR, Role.LEAD},
    "audits.finding": ANY,
    "audits.finding_respond": ANY,
    "audits.finding_close": {Role.AUDITOR},
    "exchange.audit-findings_export": {Role.ADMIN, Role.AUDITOR, Role.LEAD},
    "api.audit-findings_list": {Role.ADMIN, Role.AUDITOR, Role.LEAD},
    "api.audit-findings_read": {Role.ADMIN, Role.AUDITOR, Role.LEAD},
    # the annual report to the CISO and the committee (issue 18): those who report and those reported to
    "report": {Role.ADMIN, Role.LEAD, Role.AUDITOR, Role.APPROVER},
}
# Downloads answer 404 where the demo record has no file attached.
DOWNLOADS = {"vendors.certification_file", "contracts.document", "contracts.disposal_evidence",
             "contracts.subcontractor_document",
             "contracts.amendment_document",
             "verification.evidence", "verification.finding_evidence", "cloud.deletion_evidence",
             "calendar.feed",  # and the feed, for a token nobody holds
             "social.public_list",  # and the public account list, off by default
             "measures.evidence",  # and a measure's, which the demo's do not have
             "inspections.evidence",
             "incidents.evidence_file"}
# Values for URL arguments that are not record ids.
ARGUMENTS = {"contracts.exception_decide": {"decision": "approve"}, "vendors.justification_decide": {"decision": "approve"},
             "contracts.subcontractor_decide": {"decision": "approve"}, "verification.decide": {"decision": "accept"},
             "contracts.amendment_decide": {"decision": "approve"}, "contracts.amendment_action": {"action": "submit"},
             "measures.decide": {"decision": "accept"},
             "social.procedure_decide": {"decision": "approve"}, "social.opening_decide": {"decision": "approve"},
             "report.pdf_report": {"year": 2025}}
DEFAULT_ARGUMENTS = {"fmt": "csv"}


def expected_for(endpoint: str):
    if endpoint in EXPECTED:
        return EXPECTED[endpoint]
    blueprint = endpoint.split(".")[0]
    assert blueprint in EXPECTED, f"{endpoint}: add it or its blueprint to EXPECTED in this test"
    return EXPECTED[blueprint]


def routes(app):
    """(endpoint, method, url) for every route but static files; URL
    arguments are filled with id 1, which the demo data has for every kind."""
    found = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        values = {argument: ARGUMENTS.get(rule.endpoint, {}).get(argument, DEFAULT_ARGUMENTS.get(argument, 1)) for argument in rule.arguments}
        url = adapter.build(rule.endpoint, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, url))
    return found


def test_every_endpoint_declares_who_may_use_it(app):
    with app.test_request_context():
        missing = [endpoint for endpoint in app.view_functions if rule_for(endpoint) is None]
    assert missing == []


def test_a_route_without_a_rule_is_refused_even_to_admin(app, users):
    app.add_url_rule("/undeclared", "undeclared", lambda: "secret")
    client = app.test_client()
    login_as(client, "admin")
    response = client.get("/undeclared")
    assert response.status_code == 403
    assert b"secret" not in response.data


@pytest.mark.config(WTF_CSRF_ENABLED=True)
@pytest.mark.parametrize("who", [None, *Role], ids=lambda who: who.value if who else "anonymous")
def test_route_role_sweep(demo, who):
    """Every route as ``who`` sees it (one test per role, so that the sweep
    spreads over the workers)."""
    app = demo
    all_routes = routes(app)
    assert len(all_routes) > 20
    client = app.test_client()
    token = {}
    if who is not None:
        login_as(client, who, DEMO_PASSWORD)
        token = {"Authorization": f"Bearer {api_token(app, who.value)}"}
    failures = []
    for endpoint, method, url in all_routes:
        expected = expected_for(endpoint)
        api = endpoint.startswith("api.")
        if who is None:
            response = client.open(url, method=method)
            response.close()  # a streamed response holds its request context until closed
            if expected == PUBLIC:
                if response.status_code in (401, 403) or "/login?next" in response.headers.get("Location", ""):
                    failures.append(f"anonymous {method} {url}: {response.status_code}, should be public")
            elif api:
                if response.status_code != 401:
                    failures.append(f"anonymous {method} {url}: {response.status_code}, should be 401")
            elif not (response.status_code == 302 and "/login" in response.headers["Location"]):
                failures.append(f"anonymous {method} {url}: {response.status_code}, should go to login")
            continue
        allowed = expected in (PUBLIC, ANY) or who in expected
        if api and expected != PUBLIC:
            # A signed-in browser's cookie opens no API route: only a token does.
            response = client.open(url, method=method)
            response.close()
            if response.status_code != 401:
                failures.append(f"{who.value}'s session {method} {url}: {response.status_code}, should be 401")
        response = client.open(url, method=method, headers=token if api else {})
        response.close()
        if not allowed and response.status_code != 403:
            failures.append(f"{who.value} {method} {url}: {response.status_code}, should be 403")
        if allowed:
            # GET pages render; a POST without its CSRF token is refused
            # with 400 before it can change anything.  The API needs no
            # CSRF token: a write without a JSON body is refused with 415
            # (retiring takes no body: it is done, or refused by the
            # domain's rule with 409, e.g. a contract without its disposal record).
            if api:
                ok = {"GET": (200,), "POST": (200, 409) if endpoint.endswith("_retire") else (415,),
                      "PATCH": (415,)}
            else:
                ok = {"GET": (200, 302, 404) if endpoint in DOWNLOADS else (200, 302), "POST": (400,)}
            if response.status_code not in ok[method]:
                failures.append(f"{who.value} {method} {url}: {response.status_code}, expected {ok[method]}")
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("role, visible, hidden", [
    (Role.AUDITOR, ["/vendors/", "/audit/", "/checklists/", "/social/", "/audits/"], ["/admin/"]),
    (Role.SOCIAL, ["/social/", "/cloud/"], ["/vendors/", "/contracts/", "/audit/", "/admin/"]),
    (Role.PROCUREMENT, ["/vendors/", "/contracts/", "/verification/"], ["/social/", "/audit/", "/admin/", "/audits/"]),
    (Role.ADMIN, ["/vendors/", "/social/", "/audit/", "/admin/"], []),
])
def test_navigation_shows_only_what_the_role_may_use(client, users, role, visible, hidden):
    login_as(client, role)
    html = client.get("/").get_data(as_text=True)
    nav = html[html.index('id="main-nav"'):html.index("</nav>")]
    for href in visible:
        assert f'href="{href}"' in nav, href
    for href in hidden:
        assert f'href="{href}"' not in nav, href


@pytest.mark.parametrize("who", list(Role), ids=lambda who: who.value)
def test_route_role_sweep_personal_data_incident(app, users, who):
    """The sweep's second URL for each incident page: one involving personal
    data, of a unit none of the users belong to and handled by nobody named.
    Only the lead and admins (who handle every incident) and auditors (who
    read) see it; to anyone else it does not exist (404), page, report and
    evidence alike."""
    import io

    from core import files
    from core.db import db
    from core.incidents import IncidentEvidence, IncidentKind
    from core.models import OrgUnit
    from tests import factories

    with app.app_context():
        elsewhere = OrgUnit(name="市民課")
        db.session.add(elsewhere)
        db.session.flush()
        secret = factories.incident(subject=(None, None), kind=IncidentKind.LEAK, personal_data=True,
                                    title="USBメモリの紛失", unit_id=elsewhere.id)
        from werkzeug.datastructures import FileStorage

        stored = files.store(FileStorage(io.BytesIO(b"%PDF-1.4 list"), filename="list.pdf"))
        db.session.add(IncidentEvidence(incident=secret, file=stored, added_by_id=users["admin"]))
        db.session.flush()
        iid, eid = secret.id, secret.evidence[0].id
        db.session.commit()
    client = app.test_client()
    login_as(client, who)
    reads = who in (Role.ADMIN, Role.LEAD, Role.AUDITOR)
    handles = who in (Role.ADMIN, Role.LEAD)
    expected = {f"/incidents/{iid}": 200 if reads else 404,
                f"/incidents/{iid}/report.pdf": 200 if reads else 404,
                f"/incidents/{iid}/evidence/{eid}": 200 if reads else 404,
                f"/incidents/{iid}/edit": 200 if handles else 302 if reads else 404}
    got = {}
    for url in expected:
        response = client.get(url)
        got[url] = response.status_code
        response.close()
    assert got == expected
    listing = client.get("/incidents/?status=all").get_data(as_text=True)
    assert ("USBメモリの紛失" in listing) is reads
