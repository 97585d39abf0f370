"""The self-inspection item catalogue as data (issue 18): the domains' built-in
items from the registry with their source and general-practice mark, the
body's own items and retirements (admins), and facts with links."""
from __future__ import annotations

import re

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from contracts.models import ContractStatus
from core import inspection, inspection_items, plugins
from core.db import db
from core.inspection import Fact, Scope
from core.inspection_items import InspectionItem, Item
from core.models import AuditEntry, Role
from core.timeutil import fiscal_year, today
from tests import factories
from tests.conftest import login_as, read_pdf

NEW = "/admin/inspection-items/new"
PAGE = "/admin/inspection-items"


def codes(items) -> list[str]:
    return [item.code for item in items]


def admin_client(app):
    client = app.test_client()
    login_as(client, "admin")
    return client


def own(**values) -> dict:
    return {"code": "PHY-01", "text_ja": "サーバ室の入退室記録を確認したか", "text_en": "Server-room entry log reviewed",
            "area": "__new__", "new_area_code": "PHY", "new_area_name_ja": "物理的セキュリティ",
            "new_area_name_en": "Physical security", "frequency_ja": "四半期ごと", "frequency_en": "Quarterly",
            "source": "", "source_kind": "body", "sort_order": "0", **values}


# --- the built-in items, from the registry -------------------------------------------------

def test_the_domains_add_their_items_through_the_registry_with_source_and_gp(app):
    with app.test_request_context():
        areas = plugins.registry().inspection_areas
        assert [(area.code, area.name_ja) for area in areas] == [
            ("OUT", "業務委託"), ("CLD", "外部サービス"), ("SNS", "ソーシャルメディア"), ("CLS", "情報資産の分類")]
        items = inspection.active_items()
        assert codes(items) == [*(f"OUT-0{n}" for n in range(1, 7)), *(f"CLD-0{n}" for n in range(1, 7)),
                                *(f"SNS-0{n}" for n in range(1, 7)), "CLS-01"]
        by_code = {item.code: item for item in items}
        # DOMAIN.md §5.2 marks these GP (general practice), no other.
        assert {code for code, item in by_code.items() if item.general_practice} == {"OUT-04", "SNS-03", "SNS-04"}
        assert by_code["SNS-01"].source.startswith("基本方針 6(8)") and by_code["SNS-01"].source_kind == "policy"
        assert by_code["SNS-06"].source_kind == "policy"
        assert by_code["CLD-04"].source_kind == "mic" and "総行サ第42号" in by_code["CLD-04"].source
        assert by_code["CLS-01"].source_kind == "mic" and by_code["CLS-01"].area == "CLS"
        assert all(item.source and item.frequency and item.frequency_en and item.builtin for item in items)
        assert by_code["SNS-04"].frequency == "毎月" and by_code["SNS-04"].frequency_text("en") == "Monthly"
        assert by_code["SNS-04"].text("en") == "Impersonation scan"
        assert inspection.areas() == [(area.code, area.name_ja) for area in areas]


def test_a_code_is_added_to_the_registry_once():
    house = plugins.Registry()
    item = Item("X-01", "項目", "Item", "X", "毎年度")
    house.add_inspection_items(10, "X", "区分", "Area", [item])
    with pytest.raises(ValueError):
        house.add_inspection_items(20, "Y", "別の区分", "Other", [Item("X-01", "項目", "Item", "Y", "毎年度")])
    with pytest.raises(ValueError):  # an item of another area
        house.add_inspection_items(20, "Y", "別の区分", "Other", [Item("Y-01", "項目", "Item", "X", "毎年度")])
    # a later list for the same area joins the first, which names it
    house.add_inspection_items(50, "X", "ignored", "ignored", [Item("X-02", "項目2", "Item 2", "X", "毎月")])
    [area] = house.inspection_areas
    assert area.name_ja == "区分" and [i.code for i in area.items] == ["X-01", "X-02"]


# --- the body's own items --------------------------------------------------------------------

def test_an_admin_adds_an_own_item_in_a_new_area(app, users):
    client = admin_client(app)
    form = client.get(NEW).get_data(as_text=True)
    assert 'value="本団体の対策基準"' in form  # the default source
    response = client.post(NEW, data=own(), follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "点検項目 PHY-01 を登録しました。" in page
    assert "物理的セキュリティ" in page and "サーバ室の入退室記録を確認したか" in page
    with app.test_request_context():
        item = inspection_items.item("PHY-01")
        assert item in inspection.active_items() and not item.builtin
        assert item.source == "本団体の対策基準" and item.source_kind == "body"
        assert ("PHY", "物理的セキュリティ") in inspection.areas()
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "inspection_items",
                                                          AuditEntry.action == "create")) is not None
    # the checklists page and a new printed sheet list it, with its source
    auditor = app.test_client()
    login_as(auditor, "auditor")
    listing = auditor.get("/checklists/").get_data(as_text=True)
    assert "PHY-01" in listing and "本団体の対策基準" in listing
    _pages, text = read_pdf(auditor.get("/checklists/self-inspection.pdf"))
    compact = re.sub(r"\s+", "", text)
    assert "物理的セキュリティ" in compact and "PHY-01" in compact and "根拠" in compact
    assert "基本方針6(8)" in compact and "（一般的な実務）" in compact  # SNS-01's source, SNS-03's mark


def test_an_own_item_joins_an_existing_area_and_is_edited_but_keeps_its_code(app, users):
    client = admin_client(app)
    response = client.post(NEW, data=own(code="SNS-90", area="SNS", new_area_code="", new_area_name_ja=""))
    assert response.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(InspectionItem).where(InspectionItem.code == "SNS-90"))
        row_id, version = row.id, row.version
        assert row.area == "SNS" and row.area_name_ja == "ソーシャルメディア"
    with app.test_request_context():
        assert codes(inspection.active_items())[18] == "SNS-90"  # after the built-in SNS items
    response = client.post(f"{PAGE}/{row_id}", data=own(code="ZZZ-99", area="SNS", text_ja="変更後の項目",
                                                        version=str(version)))
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(InspectionItem, row_id)
        assert row.code == "SNS-90" and row.text_ja == "変更後の項目"
    # a stale form is refused, the newer values shown
    stale = client.post(f"{PAGE}/{row_id}", data=own(area="SNS", text_ja="古い画面から", version=str(version)))
    assert stale.status_code == 409


@pytest.mark.parametrize("code", ["ｓｎｓ－０３", "sns-03", " CLS-01 "])
def test_a_built_in_code_cannot_be_added(app, users, code):
    response = admin_client(app).post(NEW, data=own(code=code))
    assert response.status_code == 400
    assert "このコードの点検項目は既にあります" in response.get_data(as_text=True)


def test_codes_are_folded_upper_case_and_never_reused(app, users):
    client = admin_client(app)
    assert client.post(NEW, data=own(code="ｐｈｙ－０１")).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(InspectionItem.code)) == "PHY-01"
    again = client.post(NEW, data=own(code="phy-01"))
    assert again.status_code == 400 and "このコードの点検項目は既にあります" in again.get_data(as_text=True)
    # retired, the code is still taken: an answer recorded against it keeps its meaning
    assert client.post(f"{PAGE}/PHY-01/retire").status_code == 302
    again = client.post(NEW, data=own(code="PHY-01", text_ja="別の意味の項目"))
    assert again.status_code == 400 and "廃止した項目のコードも再利用できません" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(InspectionItem.text_ja)) == "サーバ室の入退室記録を確認したか"


@pytest.mark.parametrize("values, message", [
    ({"code": "1-X"}, "コードは英大文字・数字をハイフンでつないで"),
    ({"code": "PHY"}, "コードは英大文字・数字をハイフンでつないで"),
    ({"code": ""}, "コードは英大文字・数字をハイフンでつないで"),
    ({"text_ja": "   "}, "This field is required"),
    ({"new_area_code": "物理"}, "区分のコードは英大文字で始まる"),
    ({"new_area_name_ja": ""}, "新しい区分の名称を入力してください。"),
    ({"source_kind": "law"}, "Not a valid choice"),
])
def test_bad_input_is_refused_with_a_clear_message(app, users, values, message):
    response = admin_client(app).post(NEW, data=own(**values))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page or {"This field is required": "入力してください",
                               "Not a valid choice": "選択"}.get(message, "\0") in page
    with app.app_context():
        assert db.session.scalar(select(InspectionItem.id)) is None


# --- retiring and restoring ------------------------------------------------------------------

def test_a_retired_built_in_item_leaves_new_sheets_but_stays_readable(app, users):
    client = admin_client(app)
    response = client.post(f"{PAGE}/SNS-04/retire", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "点検項目 SNS-04 を廃止しました。" in page
    row = re.search(r'<tr class="text-body-secondary retired" id="item-SNS-04">.*?</tr>', page, re.S).group(0)
    assert "廃止" in row and "令和" in row and "再び使用する" in row  # greyed, with its date (和暦)
    with app.test_request_context():
        assert "SNS-04" not in codes(inspection.active_items())
        retired = inspection_items.item("SNS-04")
        assert retired in inspection.all_items() and retired.retired_on == today()
        assert retired.text_ja == "なりすましアカウントを点検したか" and retired.general_practice
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "inspection_items"))
        assert entry.action == "retire"
    auditor = app.test_client()
    login_as(auditor, "auditor")
    _pages, text = read_pdf(auditor.get("/checklists/self-inspection.pdf"))
    assert "SNS-04" not in text and "SNS-03" in text
    assert "SNS-04" not in auditor.get("/checklists/").get_data(as_text=True)
    # twice is refused with a message, never a 500
    again = client.post(f"{PAGE}/SNS-04/retire", follow_redirects=True)
    assert "この点検項目は既に廃止されています。" in again.get_data(as_text=True)
    # restored, it is asked again
    with app.app_context():
        row_id = db.session.scalar(select(InspectionItem.id).where(InspectionItem.code == "SNS-04"))
    client.post(f"{PAGE}/{row_id}/restore")
    with app.test_request_context():
        assert "SNS-04" in codes(inspection.active_items())
        assert [e.action for e in db.session.scalars(select(AuditEntry).where(
            AuditEntry.object_type == "inspection_items").order_by(AuditEntry.id))] == ["retire", "restore"]


def test_a_retired_own_item_and_its_area_leave_new_sheets(app, users):
    with app.test_request_context():
        factories.inspection_item("OWN-01", retired=True)
        factories.inspection_item("LIV-01", area="LIV", area_name="使用中の区分")
        db.session.commit()
        assert codes(inspection.active_items())[-1] == "LIV-01"
        assert "OWN-01" in codes(inspection.all_items())
        assert "OWN" not in dict(inspection.areas()) and "LIV" in dict(inspection.areas())
    page = admin_client(app).get(PAGE).get_data(as_text=True)
    assert "OWN-01" in page and "本団体の区分" in page


def test_unknown_codes_answer_404(app, users):
    client = admin_client(app)
    assert client.post(f"{PAGE}/NOPE-01/retire").status_code == 404
    assert client.get(f"{PAGE}/999").status_code == 404


# --- who may, and in English -------------------------------------------------------------------

@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_only_administrators_change_the_catalogue(app, users, role):
    client = app.test_client()
    login_as(client, role)
    assert client.get(PAGE).status_code == 403
    assert client.post(NEW, data=own()).status_code == 403
    assert client.post(f"{PAGE}/SNS-04/retire").status_code == 403
    with app.test_request_context():
        assert "SNS-04" in codes(inspection.active_items())


def test_the_admin_page_in_english(app, users):
    client = admin_client(app)
    client.post("/language", data={"lang": "en", "next": PAGE})
    page = client.get(PAGE).get_data(as_text=True)
    assert '<html lang="en">' in page
    for text in ("Self-inspection items", "Impersonation scan", "Monthly", "General practice", "Social media",
                 "Basic policy", "Retire"):
        assert text in page, text
    form = client.get(NEW).get_data(as_text=True)
    assert "Item (Japanese)" in form and "New area" in form


def test_the_admin_tabs_lead_to_the_catalogue(app, users):
    page = admin_client(app).get("/admin/units").get_data(as_text=True)
    assert f'href="{PAGE}"' in page


# --- facts with links --------------------------------------------------------------------------

def test_facts_carry_links_to_the_records(app, users):
    with app.test_request_context():
        gap = factories.contract(classification="C1", left_out=("C07",))  # a draft without a base clause
        complete = factories.contract(classification="C1", status=ContractStatus.SIGNED)
        db.session.commit()
        gap_number, complete_number = gap.number, complete.number
        known = inspection.facts(Scope(fiscal_year(today())))
        out02 = known["OUT-02"]
        assert isinstance(out02, Fact) and out02 == "有効な契約 2件中 1件に必須条項の不足（C07: 1件）"
        assert str(out02) == out02.text and type(str(out02)) is str
        assert [(str(link.label), link.url) for link in out02.links] == [("必須条項の不足がある契約", "/contracts/?gaps=yes")]
        assert [link.url for link in known["CLD-02"].links] == ["/cloud/?flag=over", "/cloud/?flag=terms"]
        assert known["SNS-03"].links[0].url == "/social/?flag=mfa_off"
        scoped = inspection.facts(Scope(fiscal_year(today()), unit_id=1))
        assert scoped["OUT-02"].links[0].url == "/contracts/?gaps=yes&unit=1"
    # the link leads to the contracts with gaps, and only those
    client = app.test_client()
    login_as(client, "auditor")
    listing = client.get("/contracts/?gaps=yes").get_data(as_text=True)
    assert gap_number in listing and complete_number not in listing


def test_a_builder_may_still_answer_plain_texts(app):
    plugins.registry(app).add_facts(lambda scope: {"OWN-01": "本団体の記録 3件"}, order=99)
    with app.test_request_context():
        fact = inspection.facts(Scope(fiscal_year(today())))["OWN-01"]
        assert isinstance(fact, Fact) and fact == "本団体の記録 3件" and fact.links == ()
        link = inspection.FactLink.of(("一覧", "/contracts/"))
        assert link.url == "/contracts/"


# --- the migration -------------------------------------------------------------------------------

def test_the_migration_goes_down_and_up(app, users):
    with app.app_context():
        factories.inspection_item("OWN-01")
        db.session.commit()
        db.session.remove()
        downgrade(revision="0022")
        downgrade(revision="-1")  # to the revision before 0022, whichever it is
        with pytest.raises(DBAPIError):
            db.session.execute(select(InspectionItem.id)).all()
        db.session.rollback()
        db.session.remove()
        upgrade()
        assert db.session.scalar(select(InspectionItem.id)) is None
    with app.test_request_context():
        assert len(inspection.active_items()) == 19


def test_a_fact_shows_only_the_links_the_user_may_open(app, users):
    from flask import render_template_string

    from core.auth import ALL_ROLES, access

    @access(ALL_ROLES)
    def show():
        value = Fact("有効な契約 2件中 1件に必須条項の不足", [("必須条項の不足がある契約", "contracts.index", {"gaps": "yes"}),
                                                    ("<b>一覧</b>", "/cloud/")])
        return render_template_string('{% from "_macros/inspection.html" import fact %}{{ fact(value) }}|'
                                      '{{ fact(none) }}', value=value)

    app.add_url_rule("/fact-demo", "fact_demo", show)
    auditor, social = app.test_client(), app.test_client()
    login_as(auditor, "auditor")
    login_as(social, "social")
    page = auditor.get("/fact-demo").get_data(as_text=True)
    assert 'href="/contracts/?gaps=yes">必須条項の不足がある契約</a>' in page
    assert "&lt;b&gt;一覧&lt;/b&gt;" in page and "台帳からは判断できません" in page  # labels are escaped
    assert "/contracts/" not in social.get("/fact-demo").get_data(as_text=True)  # social reads no contracts


def test_the_demo_has_an_own_item_of_the_body(demo):
    from tests.conftest import DEMO_PASSWORD

    client = demo.test_client()
    login_as(client, "admin", DEMO_PASSWORD)
    page = client.get(PAGE).get_data(as_text=True)
    assert "PHY-01" in page and "物理的セキュリティ" in page and "本団体の区分" in page
