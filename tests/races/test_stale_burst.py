"""Simultaneous saves of one record (issue 15 §3): one wins, and every
refused save shows the form again with both versions — the newer stored
values in the fields and the user's own typing beside them — never the
generic error page, whichever moment the conflict is found at."""
from __future__ import annotations

import re

from sqlalchemy import select

from core.db import db
from core.models import OrgUnit
from tests.served import together
from vendors.models import Vendor, VendorStatus

SAVES = 8


def test_a_burst_of_saves_refuses_with_the_form(app, users, served_app):
    with app.app_context():
        unit_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.name == "総務課"))
        vendor = Vendor(name="元の名称", unit_id=unit_id, status=VendorStatus.CANDIDATE)
        db.session.add(vendor)
        db.session.commit()
        vendor_id = vendor.id
    path = f"/vendors/{vendor_id}/edit"
    calls = []
    for n in range(SAVES):
        browser = served_app.session()
        served_app.login(browser, "procurement")
        html = browser.get(served_app.url + path, timeout=30).text
        version = re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)
        data = {"csrf_token": served_app.csrf(browser, path), "version": version, "name": f"保存{n}番の名称",
                "status": "candidate", "unit_id": str(unit_id), "notes": f"{n}番の人が書いた備考"}
        calls.append(lambda browser=browser, data=data: browser.post(served_app.url + path, data=data,
                                                                    allow_redirects=False, timeout=60))

    answers = together(calls)
    assert not [a.status_code for a in answers if a.status_code >= 500], served_app.log.read_text()[-3000:]
    winners = [n for n, a in enumerate(answers) if a.status_code == 302]
    assert len(winners) >= 1
    with app.app_context():
        stored = db.session.get(Vendor, vendor_id)
        assert stored.name in {f"保存{n}番の名称" for n in winners}
    for n, answer in enumerate(answers):
        if n in winners:
            continue
        assert answer.status_code == 409, answer.status_code
        html = answer.text
        assert 'name="version"' in html and "これは他の利用者が先に更新しました" in html, f"save {n}: not the form"
        # The newer stored values are in the fields (some other save's name)…
        shown = re.search(r'name="name"[^>]*value="([^"]*)"', html).group(1)
        assert shown != "元の名称" and shown != f"保存{n}番の名称"
        # …and this user's typing is kept on the page.
        assert f"保存{n}番の名称" in html and f"{n}番の人が書いた備考" in html, f"save {n}: typing lost"
