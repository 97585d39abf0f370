"""The recorded self-inspection elsewhere (issue 18): year on year (page and
PDF), the annual audit pack, the report to the CISO, the API, the demo."""
from __future__ import annotations

from sqlalchemy import select

from assurance import inspection_documents as documents
from assurance import inspections as service
from assurance.inspection_models import AnswerResult, Inspection, InspectionAnswer, InspectionStatus
from core.db import db
from core.models import User
from tests import factories
from tests.conftest import api_token, login_as, read_pdf

YEAR = 2026
A, P, N, X = (AnswerResult.CONFORMING, AnswerResult.PARTIAL, AnswerResult.NONCONFORMING,
              AnswerResult.NOT_APPLICABLE)


# --- year on year ---------------------------------------------------------------------

def _answer(code, result):
    return InspectionAnswer(code=code, text_ja=code, area="X", result=result)


def test_each_item_is_classified_between_the_years():
    assert service.classify(_answer("a", N), _answer("a", A)) == service.IMPROVED
    assert service.classify(_answer("a", P), _answer("a", A)) == service.IMPROVED
    assert service.classify(_answer("a", A), _answer("a", N)) == service.WORSE
    assert service.classify(_answer("a", X), _answer("a", P)) == service.WORSE
    assert service.classify(_answer("a", N), _answer("a", P)) == service.STILL_OPEN
    assert service.classify(_answer("a", P), _answer("a", P)) == service.STILL_OPEN
    assert service.classify(_answer("a", A), _answer("a", A)) == service.SAME
    assert service.classify(_answer("a", X), _answer("a", A)) == service.SAME
    assert service.classify(None, _answer("a", A)) == service.NEW
    assert service.classify(_answer("a", A), None) == service.RETIRED


def _two_years(app):
    """Last year approved (SNS-04 不適合, OUT-03 一部不適合, CLD-05 適合, and an
    item since retired); this year in progress (SNS-04 適合, OUT-03 一部不適合,
    CLD-05 不適合, and an item added this year)."""
    with app.app_context():
        last = factories.approved_inspection(YEAR - 1, answered={"SNS-04": N, "OUT-03": P})
        last.answers.append(InspectionAnswer(position=99, code="OLD-01", text_ja="廃止した項目", area="OLD",
                                             area_name="旧分野", result=A))
        this = factories.inspection(YEAR, answered={"OUT-03": P, "CLD-05": N})
        this.answers.append(InspectionAnswer(position=98, code="NEW-01", text_ja="今年度からの項目", area="CLS",
                                             result=A))
        db.session.commit()
        return last.id, this.id


def test_the_comparison_page_shows_improved_worse_and_still_open(app, client, users):
    _two_years(app)
    login_as(client, "auditor")
    page = client.get(f"/inspections/compare?year={YEAR}").get_data(as_text=True)
    rows = {code: page[page.index(f'id="row-{code}"') - 40:page.index(f'id="row-{code}"')]
            for code in ("SNS-04", "OUT-03", "CLD-05", "OLD-01", "NEW-01", "OUT-01")}
    assert "change-improved" in rows["SNS-04"]
    assert "change-still_open" in rows["OUT-03"]
    assert "change-worse" in rows["CLD-05"]
    assert "change-retired" in rows["OLD-01"]
    assert "change-new" in rows["NEW-01"]
    assert "change-same" in rows["OUT-01"]
    counts = page[page.index('id="counts"'):page.index("</ul>", page.index('id="counts"'))]
    assert "改善 1" in counts and "悪化 1" in counts and "継続して未解決 1" in counts
    assert "新規項目 1" in counts and "廃止項目 1" in counts


def test_the_comparison_prefers_the_approved_version_of_a_year(app, users):
    with app.app_context():
        approved = factories.approved_inspection(YEAR, answered={"SNS-04": N})
        service.correct(approved, user=db.session.get(User, approved.editors[0]))
        factories.approved_inspection(YEAR - 1)
        assert service.compare(YEAR).current.id == approved.id


def test_the_comparison_pdf(app, client, users):
    _two_years(app)
    login_as(client, "lead")
    _pages, text = read_pdf(client.get(f"/inspections/compare.pdf?year={YEAR}"))
    assert "自己点検の経年比較" in text
    assert "改善" in text and "悪化" in text and "継続して未解決" in text and "廃止項目" in text
    assert "SNS-04" in text and "OLD-01" in text


def test_without_two_years_there_is_nothing_to_compare(app, client, users):
    login_as(client, "lead")
    page = client.get(f"/inspections/compare?year={YEAR}").get_data(as_text=True)
    assert "比較できる自己点検がありません" in page


# --- the annual audit pack ------------------------------------------------------------

def test_the_pack_shows_the_recorded_inspection_with_answers_and_sign_offs(app, client, users):
    with app.app_context():
        made = factories.approved_inspection(YEAR, answered={"SNS-04": N})
        made.answers[0].comment = "選定基準の記録を確認した"
        db.session.commit()
        names = (made.inspector.display_name, made.checker.display_name, made.approver.display_name)
    login_as(client, "auditor")
    _pages, text = read_pdf(client.get(f"/checklists/pack.pdf?fiscal_year={YEAR}"))
    assert "自己点検表（令和8年度・全組織・第1版）" in text.replace("\n", "")
    assert "選定基準の記録を確認した" in text
    assert "不適合" in text and "未着手" in text  # the answer and its measure's status
    for name in names:
        assert name in text
    assert "□適" not in text  # the blank sheet gives way to the recorded one


def test_the_pack_keeps_the_blank_sheet_when_none_is_recorded(app, client, users):
    login_as(client, "auditor")
    _pages, text = read_pdf(client.get(f"/checklists/pack.pdf?fiscal_year={YEAR}"))
    assert "□適" in text


# --- the report to the CISO -----------------------------------------------------------

def test_the_report_counts_the_year_s_approved_results_per_area(app, users):
    with app.test_request_context():
        factories.approved_inspection(YEAR, answered={"SNS-04": N, "SNS-03": P, "CLD-04": X})
        factories.inspection(YEAR + 1, result=N)  # another year, and not approved
        [table] = documents.report_tables(YEAR)
        assert table.title == "自己点検の結果（分野別）"
        assert table.headers == ["分野", "適合", "一部不適合", "不適合", "該当なし"]
        rows = {row[0]: row[1:] for row in table.rows}
        assert rows["ソーシャルメディア"] == ["4", "1", "1", "0"]
        assert rows["外部サービス"] == ["5", "0", "0", "1"]
        assert rows["業務委託"] == ["6", "0", "0", "0"]
        [empty] = documents.report_tables(YEAR - 1)
        assert empty.rows == [] and "承認された自己点検はありません" in empty.note


# --- the API --------------------------------------------------------------------------

def test_the_api_lists_inspections_and_reads_one_with_its_answers(app, client, users):
    with app.app_context():
        made = factories.approved_inspection(YEAR, answered={"SNS-04": N})
        factories.inspection(YEAR + 1)
        db.session.commit()
        inspection_id = made.id
    headers = {"Authorization": f"Bearer {api_token(app, 'auditor')}"}
    listing = client.get(f"/api/v1/inspections?year={YEAR}", headers=headers).get_json()
    assert listing["total"] == 1 and listing["items"][0]["status"] == "approved"
    one = client.get(f"/api/v1/inspections/{inspection_id}", headers=headers).get_json()
    assert one["fiscal_year"] == YEAR and one["unit"] is None and one["edition"] == 1
    answers = {a["code"]: a for a in one["answers"]}
    assert answers["SNS-04"]["result"] == "nonconforming" and answers["SNS-04"]["measure"] == "改善する"
    assert answers["OUT-01"]["text_ja"] == "選定時に選定基準への適合を記録したか"
    assert client.post("/api/v1/inspections", headers=headers, json={}).status_code == 405
    assert client.get("/api/v1/inspections").status_code == 401
    document = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/inspections/{record_id}" in document["paths"]


# --- the demo -------------------------------------------------------------------------

def test_the_demo_has_last_year_approved_and_this_year_waiting_for_its_checker(demo, client):
    from core.measures import Measure, MeasureStatus
    from core.timeutil import fiscal_year, today
    with demo.app_context():
        year = fiscal_year(today())
        rows = {row.fiscal_year: row for row in db.session.scalars(select(Inspection))}
        assert rows[year - 1].status is InspectionStatus.APPROVED
        assert rows[year].status is InspectionStatus.SUBMITTED
        [measure] = db.session.scalars(select(Measure).where(Measure.source_type == "inspection_answer")).all()
        assert measure.status is MeasureStatus.REPORTED  # reported done, waiting for its confirmation
        current_id = rows[year].id
    from tests.conftest import DEMO_PASSWORD
    login_as(client, "approver", DEMO_PASSWORD)
    page = client.get("/inbox").get_data(as_text=True)
    assert "自己点検の確認" in page and f"/inspections/{current_id}" in page


def test_a_year_out_of_range_shows_the_current_year(app, client, users):
    login_as(client, "lead")
    for path in ("/inspections/?year=99999999", "/inspections/compare?year=-1", "/inspections/?year=abc",
                 "/inspections/compare?year=2026&unit=x"):
        assert client.get(path).status_code == 200, path
