"""Recorded self-inspections (issue 18): recording, the four-eyes sign-off,
frozen after approval, corrections as new versions, measures opened from
不適合 answers, retired items kept, the inbox entries."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from assurance import inspections as service
from assurance.inspection_models import AnswerResult, Inspection, InspectionAnswer, InspectionStatus
from core import inbox
from core.approvals import Approval, Decision
from core.db import db
from core.measures import Measure, MeasureStatus
from core.models import Role, User
from tests import factories
from tests.conftest import login_as as _login_as
from tests.conftest import read_pdf

YEAR = 2026


def login_as(client, role) -> None:
    """Sign in as another user (signing out first)."""
    client.post("/logout")
    _login_as(client, role)


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def _ids(app, made) -> tuple[int, dict[str, int]]:
    return made.id, {a.code: a.id for a in made.answers}


def _answer(client, inspection_id, answer_id, result, **extra):
    data = {f"a{answer_id}-result": result, f"a{answer_id}-comment": extra.pop("comment", "確認した")}
    data.update({f"a{answer_id}-{key}": value for key, value in extra.items()})
    return client.post(f"/inspections/{inspection_id}/answers/{answer_id}", data=data)


# --- recording ------------------------------------------------------------------------

def test_staff_start_an_inspection_naming_the_responsible_person(app, client, users):
    login_as(client, "procurement")
    response = client.post("/inspections/new", data={"fiscal_year": YEAR, "unit_id": "",
                                                     "responsible_id": users["social"], "summary": "年次点検"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "全組織" in page and "social user" in page
    assert "業務委託" in page and "OUT-01" in page and "CLS-01" in page  # items grouped by area
    assert "アプリの記録（参考）" in page
    listing = client.get(f"/inspections/?year={YEAR}").get_data(as_text=True)
    assert "点検中" in listing


def test_an_auditor_neither_starts_nor_answers(app, client, users):
    with app.app_context():
        made = factories.inspection(YEAR)
        db.session.commit()
        inspection_id, answers = _ids(app, made)
    login_as(client, "auditor")
    assert client.post("/inspections/new", data={"fiscal_year": YEAR, "responsible_id": users["auditor"]}
                       ).status_code == 403
    assert _answer(client, inspection_id, answers["OUT-01"], "conforming").status_code == 403
    page = client.get(f"/inspections/{inspection_id}").get_data(as_text=True)
    assert "回答を記録" not in page


def test_the_responsible_person_answers_whatever_their_role(app, client, users):
    with app.app_context():
        made = factories.inspection(YEAR, responsible=_user("approver"))
        db.session.commit()
        inspection_id, answers = _ids(app, made)
    login_as(client, "approver")
    response = _answer(client, inspection_id, answers["OUT-01"], "conforming")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(InspectionAnswer, answers["OUT-01"]).result is AnswerResult.CONFORMING


def test_the_facts_are_a_suggestion_with_links_never_the_answer(app, client, users):
    from core import plugins
    from core.inspection import Fact

    plugins.registry(app).add_facts(lambda scope: {"OUT-02": Fact("有効な契約 4件中 2件に必須条項の不足",
                                                                  [("契約 K-1", "/contracts/1")])}, order=99)
    with app.app_context():
        made = factories.inspection(YEAR)
        db.session.commit()
        inspection_id = made.id
    login_as(client, "procurement")
    page = client.get(f"/inspections/{inspection_id}").get_data(as_text=True)
    assert "有効な契約 4件中 2件に必須条項の不足" in page
    assert 'href="/contracts/1"' in page and "契約 K-1" in page
    with app.app_context():
        assert all(a.result is None and a.comment is None for a in db.session.get(Inspection, inspection_id).answers)


def test_a_signed_off_inspection_shows_its_answers_not_todays_facts(app, client, users):
    """The facts are today's: beside last year's approved inspection they
    would read as what its inspector knew."""
    from core import plugins
    from core.inspection import Fact

    plugins.registry(app).add_facts(lambda scope: {"OUT-02": Fact("今日の事実 4件中 2件", [])}, order=99)
    with app.app_context():
        done = factories.approved_inspection(YEAR - 1)
        db.session.commit()
        inspection_id = done.id
    login_as(client, "procurement")
    page = client.get(f"/inspections/{inspection_id}").get_data(as_text=True)
    assert "適合" in page and "今日の事実" not in page and "アプリの記録（参考）" not in page


def test_a_nonconforming_answer_needs_its_measure_owner_and_due_date(app, client, users):
    with app.app_context():
        made = factories.inspection(YEAR, by=_user("procurement"))
        db.session.commit()
        inspection_id, answers = _ids(app, made)
    login_as(client, "procurement")
    response = _answer(client, inspection_id, answers["SNS-04"], "nonconforming")
    assert response.status_code == 409
    assert "改善措置の内容を入力してください" in response.get_data(as_text=True)
    response = _answer(client, inspection_id, answers["SNS-04"], "partial", measure="毎月点検する",
                       owner_id=str(users["social"]))
    assert "改善措置の期限を入力してください" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(InspectionAnswer, answers["SNS-04"]).result is None
    response = _answer(client, inspection_id, answers["SNS-04"], "nonconforming", measure="毎月点検する",
                       owner_id=str(users["social"]), due_on="2027-03-31")
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(InspectionAnswer, answers["SNS-04"])
        assert (row.result, row.measure, row.measure_owner_id) == (AnswerResult.NONCONFORMING, "毎月点検する",
                                                                     users["social"])


def test_evidence_files_are_kept_per_answer(app, client, users):
    import io
    with app.app_context():
        made = factories.inspection(YEAR, by=_user("procurement"))
        db.session.commit()
        inspection_id, answers = _ids(app, made)
    login_as(client, "procurement")
    answer_id = answers["OUT-01"]
    response = client.post(f"/inspections/{inspection_id}/answers/{answer_id}", data={
        f"a{answer_id}-result": "conforming",
        f"a{answer_id}-files": [(io.BytesIO(b"%PDF-1.4 evidence"), "選定記録.pdf")]},
        content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get(f"/inspections/{inspection_id}").get_data(as_text=True)
    assert "選定記録.pdf" in page
    with app.app_context():
        evidence = db.session.get(InspectionAnswer, answer_id).evidence[0]
        evidence_id = evidence.id
    download = client.get(f"/inspections/{inspection_id}/evidence/{evidence_id}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 evidence"
    download.close()
    assert client.get(f"/inspections/{inspection_id + 1}/evidence/{evidence_id}").status_code == 404


def test_submit_needs_every_item_answered(app, client, users):
    with app.app_context():
        made = factories.inspection(YEAR, by=_user("procurement"))
        db.session.commit()
        inspection_id, answers = _ids(app, made)
    login_as(client, "procurement")
    response = client.post(f"/inspections/{inspection_id}/submit")
    assert response.status_code == 409
    assert "未回答の項目があります" in response.get_data(as_text=True)
    for answer_id in answers.values():
        _answer(client, inspection_id, answer_id, "conforming")
    response = client.post(f"/inspections/{inspection_id}/submit", follow_redirects=True)
    assert "点検済・確認待ち" in response.get_data(as_text=True)


def test_one_open_inspection_per_year_and_unit(app, client, users):
    with app.app_context():
        factories.inspection(YEAR)
        db.session.commit()
    login_as(client, "procurement")
    response = client.post("/inspections/new", data={"fiscal_year": YEAR, "responsible_id": users["procurement"]},
                           follow_redirects=True)
    assert "承認前の自己点検が既にあります" in response.get_data(as_text=True)
    # another unit, or another year, is another inspection
    assert client.post("/inspections/new", data={"fiscal_year": YEAR + 1, "responsible_id": users["procurement"]}
                       ).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Inspection)) == 2


# --- four eyes ------------------------------------------------------------------------

def _submitted(app, inspector="procurement", **kwargs) -> int:
    with app.app_context():
        made = factories.inspection(YEAR, by=_user(inspector), result=AnswerResult.CONFORMING, **kwargs)
        service.submit(made, user=_user(inspector))
        db.session.commit()
        return made.id


def _status(app, inspection_id) -> InspectionStatus:
    with app.app_context():
        return db.session.get(Inspection, inspection_id).status


def test_the_inspector_does_not_check_their_own_inspection(app, client, users):
    with app.app_context():
        factories.user("both", Role.PROCUREMENT, Role.LEAD)
        db.session.commit()
    inspection_id = _submitted(app, inspector="both")
    client.post("/logout")
    client.post("/login", data={"username": "both", "password": factories.PASSWORD})
    response = client.post(f"/inspections/{inspection_id}/check", data={"decision": "approve"})
    assert response.status_code == 409
    assert "点検者本人は確認できません" in response.get_data(as_text=True)
    assert _status(app, inspection_id) is InspectionStatus.SUBMITTED


def test_one_who_recorded_an_answer_does_not_check(app, client, users):
    with app.app_context():
        made = factories.inspection(YEAR, by=_user("procurement"), result=AnswerResult.CONFORMING)
        service.record_answer(made.answers[0], service.AnswerInput(AnswerResult.CONFORMING), user=_user("lead"))
        service.submit(made, user=_user("procurement"))
        db.session.commit()
        inspection_id = made.id
    login_as(client, "lead")
    response = client.post(f"/inspections/{inspection_id}/check", data={"decision": "approve"})
    assert "回答を記録した人は確認できません" in response.get_data(as_text=True)
    assert _status(app, inspection_id) is InspectionStatus.SUBMITTED


def test_the_checker_does_not_approve_even_holding_both_roles(app, client, users):
    with app.app_context():
        factories.user("twohats", Role.APPROVER, Role.LEAD)
        db.session.commit()
    inspection_id = _submitted(app)
    client.post("/logout")
    client.post("/login", data={"username": "twohats", "password": factories.PASSWORD})
    assert client.post(f"/inspections/{inspection_id}/check", data={"decision": "approve"}).status_code == 302
    assert _status(app, inspection_id) is InspectionStatus.CHECKED
    response = client.post(f"/inspections/{inspection_id}/approve", data={"decision": "approve"})
    assert "確認者本人は承認できません" in response.get_data(as_text=True)
    assert _status(app, inspection_id) is InspectionStatus.CHECKED


def test_roles_that_neither_check_nor_approve(app, client, users):
    inspection_id = _submitted(app)
    login_as(client, "verifier")
    assert client.post(f"/inspections/{inspection_id}/check", data={"decision": "approve"}).status_code == 403
    login_as(client, "admin")  # admin checks, but approving is for the lead or an approver
    assert client.post(f"/inspections/{inspection_id}/approve", data={"decision": "approve"}).status_code == 403


def test_three_people_sign_off_and_the_inspection_is_frozen(app, client, users):
    inspection_id = _submitted(app)
    login_as(client, "admin")
    client.post(f"/inspections/{inspection_id}/check", data={"decision": "approve", "comment": "確認済"})
    login_as(client, "lead")
    response = client.post(f"/inspections/{inspection_id}/approve", data={"decision": "approve"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "承認済" in page and "変更できません" in page
    with app.app_context():
        row = db.session.get(Inspection, inspection_id)
        assert (row.inspector.username, row.checker.username, row.approver.username) == ("procurement", "admin", "lead")
        answer_id = row.answers[0].id
        decided = db.session.scalars(select(Approval).where(Approval.subject_id == inspection_id,
                                                            Approval.subject_type == "inspections")).all()
        assert sorted((a.kind, a.decision) for a in decided) == [
            ("inspection_approval", Decision.APPROVED), ("inspection_check", Decision.APPROVED)]
    login_as(client, "procurement")
    response = _answer(client, inspection_id, answer_id, "nonconforming")
    assert response.status_code == 409
    assert "承認済みの自己点検は変更できません" in response.get_data(as_text=True)
    response = client.post(f"/inspections/{inspection_id}/summary", data={"summary": "書き換え"})
    assert "承認済みの自己点検は変更できません" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Inspection, inspection_id).summary is None


def test_a_return_needs_a_comment_and_goes_back_to_draft(app, client, users):
    inspection_id = _submitted(app)
    login_as(client, "approver")
    response = client.post(f"/inspections/{inspection_id}/check", data={"decision": "return"})
    assert "差し戻す理由をコメントに入力してください" in response.get_data(as_text=True)
    assert _status(app, inspection_id) is InspectionStatus.SUBMITTED
    client.post(f"/inspections/{inspection_id}/check", data={"decision": "return", "comment": "証拠が不足"})
    assert _status(app, inspection_id) is InspectionStatus.DRAFT
    # answered again and submitted again: a new check is asked
    login_as(client, "procurement")
    assert client.post(f"/inspections/{inspection_id}/submit").status_code == 302
    assert _status(app, inspection_id) is InspectionStatus.SUBMITTED


def test_the_approver_may_return_it_to_draft(app, client, users):
    inspection_id = _submitted(app)
    login_as(client, "admin")
    client.post(f"/inspections/{inspection_id}/check", data={"decision": "approve"})
    login_as(client, "approver")
    client.post(f"/inspections/{inspection_id}/approve", data={"decision": "return", "comment": "要再点検"})
    assert _status(app, inspection_id) is InspectionStatus.DRAFT


# --- measures -------------------------------------------------------------------------

def test_approval_opens_a_measure_for_each_nonconforming_answer_once(app, client, users):
    with app.app_context():
        made = factories.approved_inspection(YEAR, by=_user("procurement"), answered={
            "SNS-04": AnswerResult.NONCONFORMING, "OUT-03": AnswerResult.PARTIAL})
        db.session.commit()
        inspection_id = made.id
        measures = db.session.scalars(select(Measure).where(Measure.source_type == "inspection_answer")).all()
        assert len(measures) == 2
        assert {m.status for m in measures} == {MeasureStatus.OPEN}
        assert all(m.due_on == dt.date(YEAR + 1, 3, 31) for m in measures)
        service.open_measures(made, user=_user("lead"))  # again: nothing new
        db.session.flush()
        assert db.session.scalar(select(func.count()).select_from(Measure)) == 2
    login_as(client, "procurement")
    page = client.get(f"/inspections/{inspection_id}").get_data(as_text=True)
    assert page.count('class="col-sm-9 measure-status"') == 2 and "未着手" in page


# --- corrections ----------------------------------------------------------------------

def test_a_correction_is_a_new_version_that_supersedes_the_approved_one(app, client, users):
    with app.app_context():
        made = factories.approved_inspection(YEAR, by=_user("procurement"),
                                             answered={"SNS-04": AnswerResult.NONCONFORMING})
        db.session.commit()
        original_id = made.id
    login_as(client, "procurement")
    response = client.post(f"/inspections/{original_id}/correct")
    assert response.status_code == 302
    with app.app_context():
        copy = db.session.scalar(select(Inspection).where(Inspection.corrects_id == original_id))
        copy_id, answers = copy.id, {a.code: a.id for a in copy.answers}
        assert copy.edition == 2 and copy.status is InspectionStatus.DRAFT
        assert {a.code: a.result for a in copy.answers}["SNS-04"] is AnswerResult.NONCONFORMING
        assert db.session.get(Inspection, original_id).status is InspectionStatus.APPROVED  # until approved
    page = client.get(f"/inspections/{copy_id}").get_data(as_text=True)
    assert "版の履歴" in page and "第1版を訂正するもの" in page
    # a second correction while one is open is refused
    response = client.post(f"/inspections/{original_id}/correct", follow_redirects=True)
    assert "承認前の自己点検が既にあります" in response.get_data(as_text=True)
    _answer(client, copy_id, answers["OUT-01"], "partial", measure="記録様式を整える",
            owner_id=str(users["procurement"]), due_on="2027-02-28")
    client.post(f"/inspections/{copy_id}/submit")
    login_as(client, "approver")
    client.post(f"/inspections/{copy_id}/check", data={"decision": "approve"})
    login_as(client, "lead")
    client.post(f"/inspections/{copy_id}/approve", data={"decision": "approve"})
    with app.app_context():
        assert db.session.get(Inspection, original_id).status is InspectionStatus.SUPERSEDED
        assert db.session.get(Inspection, copy_id).status is InspectionStatus.APPROVED
        # SNS-04 keeps the measure the first version opened; OUT-01 opens its own
        assert db.session.scalar(select(func.count()).select_from(Measure)) == 2
    old = client.get(f"/inspections/{original_id}").get_data(as_text=True)
    assert "訂正により失効" in old and f'href="/inspections/{copy_id}"' in old


def test_an_auditor_does_not_correct(app, client, users):
    with app.app_context():
        made = factories.approved_inspection(YEAR)
        db.session.commit()
        inspection_id = made.id
    login_as(client, "auditor")
    assert client.post(f"/inspections/{inspection_id}/correct").status_code == 403


# --- retired items --------------------------------------------------------------------

def test_a_retired_item_stays_in_a_past_inspection(app, client, users):
    with app.app_context():
        made = factories.approved_inspection(YEAR - 1)
        made.answers.append(InspectionAnswer(position=99, code="OLD-01", text_ja="廃止された点検項目の文言",
                                             area="OLD", area_name="旧分野", result=AnswerResult.CONFORMING))
        db.session.commit()
        inspection_id = made.id
        from core import inspection as catalogue
        assert "OLD-01" not in {item.code for item in catalogue.active_items()}
    login_as(client, "lead")
    page = client.get(f"/inspections/{inspection_id}").get_data(as_text=True)
    assert "OLD-01" in page and "廃止された点検項目の文言" in page and "旧分野" in page
    _pages, text = read_pdf(client.get(f"/inspections/{inspection_id}/pdf"))
    assert "OLD-01" in text and "廃止された点検項目の文言" in text


# --- the inbox ------------------------------------------------------------------------

def _entries(app, username) -> list:
    with app.test_request_context():
        return [e for e in inbox.entries(_user(username)) if e.endpoint == "inspections.detail"]


def test_the_inbox_shows_each_sign_off_to_who_may_give_it(app, users):
    inspection_id = _submitted(app)
    waiting = {name: len(_entries(app, name)) for name in ("admin", "procurement", "verifier", "social", "auditor",
                                                             "approver", "lead")}
    assert waiting == {"admin": 1, "approver": 1, "lead": 1, "procurement": 0, "verifier": 0, "social": 0,
                       "auditor": 0}
    with app.app_context():
        service.check(db.session.get(Inspection, inspection_id), user=_user("approver"), approve=True)
        db.session.commit()
    waiting = {name: len(_entries(app, name)) for name in ("admin", "procurement", "approver", "lead")}
    assert waiting == {"admin": 0, "procurement": 0, "approver": 0, "lead": 1}  # never the checker
    entry = _entries(app, "lead")[0]
    assert entry.params == {"inspection_id": inspection_id} and "自己点検" in entry.description


def test_the_inbox_skips_a_checker_who_recorded_answers(app, users):
    with app.app_context():
        made = factories.inspection(YEAR, by=_user("lead"), result=AnswerResult.CONFORMING)
        service.submit(made, user=_user("lead"))
        db.session.commit()
    assert _entries(app, "lead") == []
    assert len(_entries(app, "approver")) == 1


# --- 人事異動 -------------------------------------------------------------------------

def test_a_leaver_hands_over_the_inspections_they_are_responsible_for(app, users):
    from core import accounts, handover
    with app.test_request_context():
        leaver = factories.user("insp-leaver", Role.SOCIAL)
        done = factories.approved_inspection(YEAR - 1, responsible=leaver)
        open_ = factories.inspection(YEAR, responsible=leaver)
        db.session.commit()
        import pytest
        with pytest.raises(handover.HandoverRefusal, match="自己点検"):
            accounts.set_active(leaver, False)
        db.session.rollback()
        handover.hand_over(db.session.get(User, leaver.id), _user("verifier"))
        assert db.session.get(Inspection, open_.id).responsible.username == "verifier"
        assert db.session.get(Inspection, done.id).responsible_id == leaver.id  # as it was signed


def test_the_inspection_page_in_english_escapes_what_users_typed(app, client, users):
    with app.app_context():
        made = factories.inspection(YEAR, by=_user("procurement"))
        made.summary = "<script>alert(1)</script>"
        db.session.commit()
        inspection_id = made.id
    login_as(client, "procurement")
    client.post("/language", data={"lang": "en"})
    page = client.get(f"/inspections/{inspection_id}").get_data(as_text=True)
    assert "The app&#39;s records (for reference)" in page or "The app's records (for reference)" in page
    assert "Selection criteria recorded" in page  # the item's English text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_a_measure_names_the_item_it_came_from(app, users):
    from flask import url_for
    with app.test_request_context():
        made = factories.approved_inspection(YEAR, answered={"SNS-04": AnswerResult.NONCONFORMING})
        measure = db.session.scalar(select(Measure))
        item = service.measure_sources([measure.source_id])[measure.source_id]
        assert "SNS-04" in item.description and "2026年度 自己点検" in item.description
        assert url_for(item.endpoint, **item.params) == f"/inspections/{made.id}#item-SNS-04"


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_the_answer_form_drawn_on_the_page_posts_with_its_token_and_shows_the_answer(app, client, users):
    """Issue 21: the answer rows are plain markup, not WTForms fields; what the
    page draws still posts (CSRF token included) and shows the recorded answer
    back in the fields."""
    with app.app_context():
        made = factories.inspection(YEAR, responsible=_user("approver"))
        db.session.commit()
        inspection_id, answers = _ids(app, made)
    login_as(client, "approver")
    answer_id = answers["OUT-01"]
    page = client.get(f"/inspections/{inspection_id}").get_data(as_text=True)
    token = re.search(rf'name="a{answer_id}-csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "the answer's form carries its CSRF token"
    assert f'<label class="form-label" for="a{answer_id}-owner_id">' in page
    response = client.post(f"/inspections/{inspection_id}/answers/{answer_id}", data={
        f"a{answer_id}-csrf_token": token.group(1), f"a{answer_id}-result": "partial",
        f"a{answer_id}-comment": "<一部> 未確認", f"a{answer_id}-measure": "手順を見直す",
        f"a{answer_id}-owner_id": str(users["procurement"]), f"a{answer_id}-due_on": "2026-12-24"})
    assert response.status_code == 302
    page = client.get(f"/inspections/{inspection_id}").get_data(as_text=True)
    form = page[page.index(f'name="a{answer_id}-result"'):]
    form = form[:form.index("</form>")]
    assert '<option selected value="partial">' in form
    assert "&lt;一部&gt; 未確認</textarea>" in form and "手順を見直す</textarea>" in form
    assert f'<option selected value="{users["procurement"]}">' in form and 'value="2026-12-24"' in form
    assert client.post(f"/inspections/{inspection_id}/answers/{answer_id}", data={
        f"a{answer_id}-result": "conforming"}).status_code == 400  # no token: refused, nothing saved
    with app.app_context():
        assert db.session.get(InspectionAnswer, answer_id).result is AnswerResult.PARTIAL
