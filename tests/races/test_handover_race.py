"""People change (人事異動, issue 17) under parallel requests: a
responsibility given to a user at the same moment as the user is deactivated
is never lost.  Either the deactivation goes first and the assignment is
refused (the assignee's row is read under lock: core.handover.inactive_among),
or the assignment goes first and the deactivation, which locks the user's row
before it looks (core.handover.check_free), sees it and is refused."""
from __future__ import annotations

import requests
from sqlalchemy import select

from contracts.models import Contract
from core.db import db
from core.models import Role, User
from tests import factories
from tests.conftest import api_token
from tests.served import together

ROUNDS = 4


def test_an_assignment_at_the_moment_of_deactivation_is_never_lost(app, users, served_app):
    cases = []
    with app.app_context():
        for n in range(ROUNDS):
            leaver = factories.user(f"leaver{n}", Role.PROCUREMENT)
            contract = factories.contract(officer=db.session.get(User, users["procurement"]),
                                          unit=factories.unit("総務課"))
            cases.append((leaver.id, f"leaver{n}", contract.id))
        db.session.commit()
    token = api_token(app, "procurement")
    admin = served_app.session()
    served_app.login(admin, "admin")
    csrf = served_app.csrf(admin, f"/admin/users/{cases[0][0]}")
    url = served_app.url
    answers = []
    for leaver_id, username, contract_id in cases:
        def deactivate(leaver_id=leaver_id):
            return admin.post(f"{url}/admin/users/{leaver_id}/active", data={"csrf_token": csrf},
                              allow_redirects=False, timeout=60).status_code

        def assign(contract_id=contract_id, username=username):
            return requests.patch(f"{url}/api/v1/contracts/{contract_id}", json={"officer": username}, timeout=60,
                                  headers={"Authorization": f"Bearer {token}"}).status_code
        answers.append(together([deactivate, assign]))
    # both sides took part, and each won at least once or was refused cleanly
    assert all(pair[1] in (200, 409, 422) for pair in answers), answers
    assert not [status for pair in answers for status in pair if status >= 500], (
        answers, served_app.log.read_text()[-3000:])
    with app.app_context():
        for leaver_id, _username, contract_id in cases:
            leaver = db.session.get(User, leaver_id)
            officer = db.session.scalar(select(Contract.officer_id).where(Contract.id == contract_id))
            # one of the two won; never a deactivated user still in charge of a live contract
            assert leaver.active != (officer != leaver_id), (leaver.active, officer, answers)
