"""Sign-in lockout under parallel wrong passwords (issue 15 §3): real
requests at the same moment to four gunicorn workers."""
from __future__ import annotations

from sqlalchemy import func, select

from core.db import db
from core.models import AuditEntry, User
from tests.conftest import PASSWORD
from tests.served import together


def test_parallel_wrong_passwords_lock_the_account_once(app, users, served_app):
    attempts = app.config["LOGIN_MAX_FAILURES"] + 3
    browsers = [served_app.session() for _ in range(attempts)]
    tokens = [served_app.csrf(browser, "/login") for browser in browsers]

    def wrong(browser, token):
        return lambda: browser.post(served_app.url + "/login", allow_redirects=False, timeout=60, data={
            "username": "admin", "password": "wrong-password-123", "csrf_token": token}).status_code

    statuses = together([wrong(b, t) for b, t in zip(browsers, tokens, strict=True)])
    assert statuses == [401] * attempts

    # The right password is refused now: the account is locked.
    answer = served_app.login_attempt(served_app.session(), "admin", PASSWORD)
    assert answer.status_code == 401
    with app.app_context():
        assert db.session.scalar(select(User.locked_until).where(User.username == "admin")) is not None
        lockouts = db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "lockout"))
        assert lockouts == 1
