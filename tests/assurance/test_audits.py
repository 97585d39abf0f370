"""情報セキュリティ監査 (issue 18, policy §7): plans and their scope, the
independence warning, findings numbered per plan, the audited party's
response, closure by an auditor of the plan only, follow-up measures, the
inbox, the pack, the report and the API."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from assurance import audit_parts, audits
from assurance.audit_models import AuditFinding, AuditPlan, FindingStatus, Severity
from core.db import db
from core.measures import Measure, MeasureStatus
from core.models import Role, User
from core.timeutil import fiscal_year, today, wareki
from tests import factories
from tests.conftest import api_token, login_as, read_pdf


def _user_id(username: str) -> int:
    return db.session.scalar(select(User.id).where(User.username == username))


@pytest.fixture
def scene(app, users):
    """An SNS account of ``social`` in 予防課 and a contract of
    ``procurement``; a plan of ``auditor`` naming both, with one finding on
    the account."""
    with app.app_context():
        unit = factories.unit("予防課")
        social = db.session.get(User, users["social"])
        social.unit_id = unit.id
        account = factories.social_account("○○消防 公式", responsible=social, unit=unit)
        contract = factories.contract(officer=db.session.get(User, users["procurement"]))
        auditor = db.session.get(User, users["auditor"])
        plan, _warnings = factories.audit_plan(auditors=(auditor,), units=(unit,),
                                               targets=(("social", account.id), ("contracts", contract.id)))
        finding = factories.audit_finding(plan, target=("social", account.id), unit=unit,
                                          condition="二要素認証が無効である。")
        db.session.commit()
        return {"plan": plan.id, "finding": finding.id, "account": account.id, "contract": contract.id,
                "unit": unit.id}


# --- plans and independence ------------------------------------------------------------

def test_an_auditor_records_a_plan_with_its_scope(app, client, users):
    with app.app_context():
        unit = factories.unit("警防課")
        account = factories.social_account("○○消防 防災LINE")
        db.session.commit()
        unit_id, account_id = unit.id, account.id
    login_as(client, "auditor")
    response = client.post("/audits/new", data={
        "fiscal_year": fiscal_year(today()), "title": "令和8年度 内部監査", "method": "書面監査・実地監査",
        "period_start": "2026-10-01", "period_end": "2026-11-30", "auditor_ids": [users["auditor"]],
        "unit_ids": [unit_id], "registers": ["contracts"], "targets": [f"social:{account_id}"]})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "監査計画を保存しました" in page
    for text in ("令和8年度 内部監査", "書面監査・実地監査", "警防課", "○○消防 防災LINE", "契約", "SNS公式アカウント", "計画"):
        assert text in page, text
    assert "独立性" not in page  # the auditor is responsible for nothing audited, and not of 警防課
    with app.app_context():
        plan = db.session.scalar(select(AuditPlan))
        assert plan.registers == ["contracts", "social"] and plan.independence_note is None


def test_a_plan_needs_auditors_holding_the_auditor_role(app, client, users):
    login_as(client, "auditor")
    response = client.post("/audits/new", data={
        "fiscal_year": 2026, "title": "監査", "method": "書面監査", "period_start": "2026-10-01",
        "period_end": "2026-11-30", "auditor_ids": [users["procurement"]]})
    assert response.status_code == 200
    assert "入力内容に誤りがあります" in response.get_data(as_text=True)  # not among the choices
    with app.app_context():
        assert db.session.scalar(select(AuditPlan)) is None
        with pytest.raises(audits.AuditRefusal, match="監査人は監査担当の役割を持つ利用者から選んでください"):
            audits.save_plan(None, user=db.session.get(User, users["auditor"]), fiscal_year=2026, title="監査",
                             method="書面監査", period_start=today(), period_end=today(), registers=[], unit_ids=[],
                             auditor_ids=[users["procurement"]], targets=[])


def test_an_auditor_responsible_for_an_audited_record_is_warned_on_saving_and_on_the_plan(app, client, users):
    with app.app_context():
        both = factories.user("kansa-sns", Role.AUDITOR, Role.SOCIAL, display_name="監査 兼 広報")
        account = factories.social_account("○○消防 予防広報", responsible=both)
        db.session.commit()
        both_id, account_id = both.id, account.id
    login_as(client, "auditor")
    response = client.post("/audits/new", data={
        "fiscal_year": 2026, "title": "SNS監査", "method": "ヒアリング", "period_start": "2026-10-01",
        "period_end": "2026-11-30", "auditor_ids": [users["auditor"], both_id], "targets": [f"social:{account_id}"]},
        follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "監査計画を保存しました" in page  # saving is still allowed
    warning = "監査 兼 広報 は監査対象「SNS公式アカウント: ○○消防 予防広報」の責任者・所属職員です"
    assert page.count(warning) == 2  # flashed on saving, and on the plan's page
    with app.app_context():
        plan = db.session.scalar(select(AuditPlan))
        assert warning in plan.independence_note
        plan_id = plan.id
    page = client.get(f"/audits/{plan_id}").get_data(as_text=True)
    assert page.count(warning) == 1 and "監査人の独立性" in page
    assert "⚠ 独立性" in client.get("/audits/").get_data(as_text=True)


def test_an_auditor_of_an_audited_unit_is_warned(app, users):
    with app.app_context():
        unit = factories.unit("総務課")
        auditor = factories.user("kansa-soumu", Role.AUDITOR, unit=unit, display_name="監査 総務")
        _plan, warnings = factories.audit_plan(auditors=(auditor,), units=(unit,))
        assert [str(w) for w in warnings] == ["監査 総務 は監査対象「総務課」の責任者・所属職員です（独立性）。"]


def test_the_plan_moves_from_planned_to_in_progress_to_reported(app, client, scene):
    login_as(client, "auditor")
    for label in ("実施中", "報告済"):
        page = client.post(f"/audits/{scene['plan']}/status", follow_redirects=True).get_data(as_text=True)
        assert f"監査計画の状態を「{label}」にしました" in page
    page = client.get(f"/audits/{scene['plan']}/edit", follow_redirects=True).get_data(as_text=True)
    assert "報告済みの監査計画は変更できません" in page


# --- findings --------------------------------------------------------------------------

def test_findings_are_numbered_within_their_plan(app, client, scene):
    login_as(client, "auditor")
    for n in (2, 3):
        response = client.post(f"/audits/{scene['plan']}/findings/new", data={
            "severity": "minor", "criterion_code": "SNS-03", "condition": f"事実{n}", "recommendation": "",
            "target": f"contracts:{scene['contract']}", "unit_id": ""}, follow_redirects=True)
        assert f"指摘 {n} を登録しました" in response.get_data(as_text=True)
    with app.app_context():
        other, _w = factories.audit_plan()
        assert factories.audit_finding(other).number == 1  # each plan counts from 1
        db.session.commit()
        numbers = db.session.scalars(select(AuditFinding.number).where(AuditFinding.plan_id == scene["plan"])
                                     .order_by(AuditFinding.number)).all()
    assert numbers == [1, 2, 3]
    page = client.get(f"/audits/{scene['plan']}").get_data(as_text=True)
    assert "指摘3" in page and "SNS-03" in page


def test_a_number_taken_meanwhile_makes_the_finding_take_the_next(app, scene, monkeypatch):
    """Two findings saved at once read the same highest number: the unique
    (plan, number) index refuses the second, which takes the next one."""
    real = audits._next_number
    calls = []

    def stale(plan):
        calls.append(1)
        return 1 if len(calls) == 1 else real(plan)  # 1 is taken already

    monkeypatch.setattr(audits, "_next_number", stale)
    with app.app_context():
        plan = db.session.get(AuditPlan, scene["plan"])
        finding = factories.audit_finding(plan)
        db.session.commit()
        assert finding.number == 2 and len(calls) == 2


def test_a_finding_needs_a_criterion_and_a_record_of_the_plan(app, client, scene):
    login_as(client, "auditor")
    page = client.post(f"/audits/{scene['plan']}/findings/new", data={
        "severity": "minor", "criterion_code": "", "criterion_text": "", "condition": "事実"}).get_data(as_text=True)
    assert "判断基準（点検項目・条項または記述）を入力してください" in page
    page = client.post(f"/audits/{scene['plan']}/findings/new", data={
        "severity": "minor", "criterion_text": "基準", "condition": "事実", "target": "social:999"}).get_data(as_text=True)
    assert "入力内容に誤りがあります" in page  # not among the plan's records
    with app.app_context():
        plan = db.session.get(AuditPlan, scene["plan"])
        with pytest.raises(audits.AuditRefusal, match="対象の記録は監査計画で選んだものから選んでください"):
            audits.add_finding(plan, user=plan.auditors[0], severity=Severity.MINOR, condition="事実",
                               recommendation=None, criterion_code=None, criterion_text="基準",
                               target=("social", 999), unit_id=None)


def test_only_auditors_and_administrators_write_plans_and_findings(client, scene):
    login_as(client, "procurement")
    assert client.get("/audits/new").status_code == 403
    assert client.post(f"/audits/{scene['plan']}/findings/new", data={"severity": "minor"}).status_code == 403


# --- response and closure --------------------------------------------------------------

def test_the_audited_party_responds(app, client, scene):
    url = f"/audits/findings/{scene['finding']}"
    login_as(client, "social")  # the account's responsible person
    assert "回答を登録" in client.get(url).get_data(as_text=True)
    page = client.post(url + "/respond", data={"response": "二要素認証を設定しました。"},
                       follow_redirects=True).get_data(as_text=True)
    assert "回答を登録しました" in page and "二要素認証を設定しました。" in page and "回答済" in page
    assert url + "/close" not in page  # the audited party does not close
    assert "指摘を完了にするのは、被監査部署ではなく監査人です" in page


@pytest.mark.parametrize("who", ["procurement", "auditor", "admin"])
def test_others_do_not_respond(app, client, scene, who):
    """Not a party (procurement, admin), nor the plan's auditor."""
    login_as(client, who)
    url = f"/audits/findings/{scene['finding']}"
    assert "回答を登録" not in client.get(url).get_data(as_text=True)
    assert client.post(url + "/respond", data={"response": "対応済み"}).status_code == 403
    with app.app_context():
        assert db.session.get(AuditFinding, scene["finding"]).response is None


def test_staff_of_the_audited_unit_respond_whatever_their_role(app, client, scene):
    with app.app_context():
        factories.user("yobou-staff", Role.VERIFIER, unit=db.session.get(factories.OrgUnit, scene["unit"]))
        db.session.commit()
    login_as(client, "yobou-staff")
    response = client.post(f"/audits/findings/{scene['finding']}/respond", data={"response": "是正しました。"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(AuditFinding, scene["finding"]).status is FindingStatus.RESPONDED


def _respond(app, finding_id: int, username: str = "social") -> None:
    with app.app_context():
        finding = db.session.get(AuditFinding, finding_id)
        audits.respond(finding, user=db.session.get(User, _user_id(username)), text="対応しました。")
        db.session.commit()


def test_an_auditor_of_the_plan_closes_an_answered_finding(app, client, scene):
    url = f"/audits/findings/{scene['finding']}"
    login_as(client, "auditor")
    page = client.post(url + "/close", data={"closure_note": "確認した。"}, follow_redirects=True).get_data(as_text=True)
    assert "被監査部署の回答がまだありません" in page
    _respond(app, scene["finding"])
    page = client.post(url + "/close", data={"closure_note": "設定画面で確認した。"},
                       follow_redirects=True).get_data(as_text=True)
    assert "指摘 1 を完了にしました" in page and "設定画面で確認した。" in page
    with app.app_context():
        finding = db.session.get(AuditFinding, scene["finding"])
        assert finding.status is FindingStatus.CLOSED and finding.closed_by_id == _user_id("auditor")


def test_the_audited_party_and_non_auditors_cannot_close(app, client, scene):
    _respond(app, scene["finding"])
    url = f"/audits/findings/{scene['finding']}/close"
    for who in ("social", "admin", "procurement"):
        client = app.test_client()
        login_as(client, who)
        assert client.post(url, data={}).status_code == 403, who
    # An auditor who is not an auditor of this plan.
    with app.app_context():
        factories.user("other-auditor", Role.AUDITOR)
        db.session.commit()
    client = app.test_client()
    login_as(client, "other-auditor")
    page = client.post(url, data={}, follow_redirects=True).get_data(as_text=True)
    assert "指摘を完了できるのは、この監査の監査人（監査対象の責任者でない者）だけです" in page
    with app.app_context():
        assert db.session.get(AuditFinding, scene["finding"]).status is FindingStatus.RESPONDED


def test_an_auditor_responsible_for_the_record_cannot_close(app, scene):
    with app.app_context():
        both = factories.user("kansa-owner", Role.AUDITOR, Role.SOCIAL)
        account = factories.social_account(responsible=both)
        plan, warnings = factories.audit_plan(auditors=(both, db.session.get(User, _user_id("auditor"))),
                                              targets=(("social", account.id),))
        assert warnings  # not independent of the account
        finding = factories.audit_finding(plan, target=("social", account.id), by=both)
        finding.status = FindingStatus.RESPONDED  # answered (the response's own rules are tested above)
        with pytest.raises(audits.AuditRefusal):
            audits.close(finding, user=both, note="")
        audits.close(finding, user=db.session.get(User, _user_id("auditor")), note="")  # the other auditor may
        assert finding.status is FindingStatus.CLOSED


# --- measures --------------------------------------------------------------------------

def test_a_finding_opens_a_measure_confirmed_by_an_auditor(app, client, scene, users):
    url = f"/audits/findings/{scene['finding']}"
    login_as(client, "auditor")
    due = (today() + dt.timedelta(days=30)).isoformat()
    page = client.post(url + "/measures", data={"measure": "二要素認証を設定する。", "owner_id": users["social"],
                                                "due_on": due}, follow_redirects=True).get_data(as_text=True)
    assert "改善措置を登録しました" in page and "二要素認証を設定する。" in page and "未着手" in page
    with app.app_context():
        measure = db.session.scalar(select(Measure).where(Measure.source_type == "audit_finding"))
        assert measure.source_id == scene["finding"] and measure.owner_id == users["social"]
        assert measure.due_on.isoformat() == due and measure.unit_id == scene["unit"]
        social, auditor, lead = (db.session.get(User, users[name]) for name in ("social", "auditor", "lead"))
        assert audits.may_accept(auditor, measure)
        assert not audits.may_accept(social, measure) and not audits.may_accept(lead, measure)
    _respond(app, scene["finding"])
    page = client.post(url + "/close", data={}, follow_redirects=True).get_data(as_text=True)
    assert "改善措置がまだ確認されていません" in page  # the finding waits for its measure
    with app.app_context():
        db.session.get(Measure, measure.id).status = MeasureStatus.ACCEPTED
        db.session.commit()
    assert "を完了にしました" in client.post(url + "/close", data={}, follow_redirects=True).get_data(as_text=True)


def test_an_observation_opens_no_measure(app, client, scene, users):
    with app.app_context():
        plan = db.session.get(AuditPlan, scene["plan"])
        observation = factories.audit_finding(plan, severity=Severity.OBSERVATION)
        db.session.commit()
        observation_id = observation.id
    login_as(client, "auditor")
    assert "改善措置を追加" not in client.get(f"/audits/findings/{observation_id}").get_data(as_text=True)
    page = client.post(f"/audits/findings/{observation_id}/measures", data={
        "measure": "x", "owner_id": users["social"], "due_on": today().isoformat()},
        follow_redirects=True).get_data(as_text=True)
    assert "所見には改善措置を設けません" in page
    # ... and is closed without an answer.
    assert "を完了にしました" in client.post(f"/audits/findings/{observation_id}/close", data={},
                                            follow_redirects=True).get_data(as_text=True)


# --- inbox -----------------------------------------------------------------------------

def _inbox(app, who: str) -> str:
    client = app.test_client()
    login_as(client, who)
    return client.get("/inbox").get_data(as_text=True)


def test_the_inbox_lists_the_response_for_the_audited_party_and_the_closure_for_the_auditor(app, scene):
    with app.app_context():
        factories.user("other-auditor", Role.AUDITOR)
        db.session.commit()
    awaiting = "監査指摘への回答"
    assert awaiting in _inbox(app, "social")
    for who in ("auditor", "procurement", "admin", "lead", "other-auditor"):
        assert awaiting not in _inbox(app, who), who
    _respond(app, scene["finding"])
    closing = "監査指摘の完了確認"
    assert closing in _inbox(app, "auditor")
    for who in ("social", "procurement", "admin", "lead", "other-auditor"):
        page = _inbox(app, who)
        assert closing not in page and awaiting not in page, who


# --- pack, report, API ------------------------------------------------------------------

def test_the_pack_shows_the_years_audit_findings(app, client, scene):
    with app.app_context():
        old, _w = factories.audit_plan(fiscal_year=fiscal_year(today()) - 1, title="前年度の監査")
        factories.audit_finding(old, condition="前年度の指摘事項。")
        db.session.commit()
        plan = db.session.get(AuditPlan, scene["plan"])
        closed = factories.audit_finding(plan, severity=Severity.OBSERVATION, condition="良好事例の所見。")
        audits.close(closed, user=plan.auditors[0], note="")
        db.session.commit()
    _respond(app, scene["finding"])
    login_as(client, "auditor")
    _pages, text = read_pdf(client.get(f"/checklists/pack.pdf?fy={fiscal_year(today())}"))
    flat = text.replace("\n", "")
    assert "情報セキュリティ監査の指摘" in flat
    for expected in ("二要素認証が無効である。", "対応しました。", "回答済", "中", "良好事例の所見。", "完了"):
        assert expected in flat, expected
    assert f"完了 {wareki(today())}" in text  # the closing date in 和暦, whole on its line
    assert "前年度の指摘事項" not in flat


def test_the_report_counts_findings_by_severity_and_raises_overdue_serious_ones(app, scene, users):
    with app.app_context():
        plan = db.session.get(AuditPlan, scene["plan"])
        serious = factories.audit_finding(plan, severity=Severity.SERIOUS, condition="重大な不備。")
        audits.open_finding_measure(serious, user=plan.auditors[0], measure="是正する。",
                                    due_on=today() - dt.timedelta(days=1), owner_id=users["social"])
        fresh = factories.audit_finding(plan, severity=Severity.SERIOUS, condition="新しい重大な不備。")
        db.session.commit()
        (table,) = audit_parts.report_tables(plan.fiscal_year)
        rows = {row[0]: row[1:] for row in table.rows}
        assert rows["重大"] == ["2", "2", "0"] and rows["中"] == ["1", "1", "0"] and rows["計"] == ["3", "3", "0"]
        decisions = audit_parts.decisions(plan.fiscal_year)
        assert [d.params for d in decisions] == [{"finding_id": serious.id}]
        assert "重大な不備" in decisions[0].text and fresh.id not in [d.params["finding_id"] for d in decisions]


def test_the_api_lists_and_reads_audit_findings(app, client, scene):
    headers = {"Authorization": f"Bearer {api_token(app, 'auditor')}"}
    listed = client.get("/api/v1/audit-findings", headers=headers)
    assert listed.status_code == 200
    body = listed.get_json()
    assert body["total"] == 1 and body["items"][0]["severity"] == "moderate"
    assert body["items"][0]["condition"] == "二要素認証が無効である。"
    one = client.get(f"/api/v1/audit-findings/{scene['finding']}", headers=headers).get_json()
    assert one["number"] == 1 and one["status"] == "open" and one["record_kind"] == "social"
    refused = client.get("/api/v1/audit-findings", headers={"Authorization": f"Bearer {api_token(app, 'social')}"})
    assert refused.status_code == 403
    assert client.post("/api/v1/audit-findings", headers=headers, json={}).status_code == 405


def test_the_demo_has_an_audit_with_findings_of_each_state(app, demo, client):
    with app.app_context():
        findings = db.session.scalars(select(AuditFinding).order_by(AuditFinding.number)).all()
        assert [(f.severity, f.status) for f in findings] == [
            (Severity.SERIOUS, FindingStatus.OPEN), (Severity.MODERATE, FindingStatus.RESPONDED),
            (Severity.OBSERVATION, FindingStatus.CLOSED)]
        assert db.session.scalar(select(Measure).where(Measure.source_type == "audit_finding")).is_open
    from tests.conftest import DEMO_PASSWORD
    login_as(client, "auditor", DEMO_PASSWORD)
    assert "監査指摘の完了確認" in client.get("/inbox").get_data(as_text=True)
