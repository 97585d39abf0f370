"""Issue 20, the selection form: it starts with no decision chosen (a
required choice); a 選定 with a 不適合 criterion is warned about first and
saved only once confirmed (a second POST, no JavaScript needed); the decider
is chosen from the users and is the person saving by default."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from core.db import db
from core.models import User
from tests import factories
from tests.vendors.test_selection_justification import REASON, form_data
from tests.vendors.test_vendor_register import register_vendor
from vendors.models import Selection


def saved(app, vendor_id: int) -> list[Selection]:
    with app.app_context():
        found = db.session.scalars(select(Selection).where(Selection.vendor_id == vendor_id)).all()
        db.session.expunge_all()
        return found


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def test_the_form_starts_with_no_decision_and_the_saver_as_decider(buyer, app):
    vendor_id = register_vendor(buyer)
    html = buyer.get(f"/vendors/{vendor_id}/selection/new").get_data(as_text=True)
    radios = re.findall(r'<input[^>]*name="decision"[^>]*>', html)
    assert len(radios) == 2 and not any("checked" in radio for radio in radios)
    assert "<legend" in html and "決定者" in html
    me = user_id(app, "procurement")
    assert re.search(rf'<option value="{me}"[^>]* selected>', html.split('id="decided_by_id"')[1])
    assert "確認したうえで" not in html  # the confirmation is asked only when it is needed


def test_no_decision_is_refused_with_a_message(buyer, app):
    vendor_id = register_vendor(buyer)
    data = form_data(app, not_met=None)
    del data["decision"]
    response = buyer.post(f"/vendors/{vendor_id}/selection/new", data=data)
    assert response.status_code == 400 and "決定を選択してください。" in response.get_data(as_text=True)
    assert saved(app, vendor_id) == []


def test_a_not_met_selection_is_warned_about_then_saved_once_confirmed(buyer, app):
    vendor_id = register_vendor(buyer)
    first = buyer.post(f"/vendors/{vendor_id}/selection/new",
                       data=form_data(app, justification=REASON, confirm=False))
    html = first.get_data(as_text=True)
    assert first.status_code == 400
    assert "「不適合」の評価がある事業者を「選定する」と決定しようとしています" in html
    assert 'name="confirm_not_met"' in html and REASON in html  # what was typed stays
    assert saved(app, vendor_id) == []
    second = buyer.post(f"/vendors/{vendor_id}/selection/new", data=form_data(app, justification=REASON))
    assert second.status_code == 302
    [selection] = saved(app, vendor_id)
    assert selection.justification == REASON


def test_not_selecting_with_a_not_met_criterion_needs_no_confirmation(buyer, app):
    vendor_id = register_vendor(buyer)
    response = buyer.post(f"/vendors/{vendor_id}/selection/new",
                          data=form_data(app, decision="not_selected", confirm=False))
    assert response.status_code == 302 and len(saved(app, vendor_id)) == 1


def test_the_decider_is_chosen_from_the_users(buyer, app):
    vendor_id = register_vendor(buyer)
    lead = user_id(app, "lead")
    response = buyer.post(f"/vendors/{vendor_id}/selection/new",
                          data={**form_data(app, not_met=None), "decided_by_id": str(lead)})
    assert response.status_code == 302
    [selection] = saved(app, vendor_id)
    assert selection.decided_by_id == lead
    # Left out (an older client), the person saving decided.
    other = register_vendor(buyer, name="株式会社別事業者", corporate_number="")
    assert buyer.post(f"/vendors/{other}/selection/new", data=form_data(app, not_met=None)).status_code == 302
    assert saved(app, other)[0].decided_by_id == user_id(app, "procurement")


def test_an_inactive_or_unknown_decider_is_refused(buyer, app):
    vendor_id = register_vendor(buyer)
    with app.app_context():
        gone = factories.user("gone", "procurement")
        gone.active = False
        db.session.commit()
        gone_id = gone.id
    for value in (str(gone_id), "99999"):
        response = buyer.post(f"/vendors/{vendor_id}/selection/new",
                              data={**form_data(app, not_met=None), "decided_by_id": value})
        assert response.status_code == 400, value
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Selection)) == 0
