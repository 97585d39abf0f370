"""Account rules: sign-in with lockout, passwords and sessions.

Services change and flush and write the audit trail; the caller commits.
"""
from __future__ import annotations

import datetime as dt
import secrets

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from core import api_tokens, audit, handover
from core.db import db
from core.models import User
from core.refusals import Refusal
from core.timeutil import utcnow

# Checked when the user name is unknown, so the answer takes as long as for
# a known one and tells nothing about which names exist.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    """werkzeug's scrypt by default (PASSWORD_HASH_METHOD; the test suite
    lowers the cost to stay quick)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def authenticate(username: str, password: str) -> User | None:
    """Sign-in rule (foundation issue): after MAX failures in a row the
    account is locked for LOCK minutes; every failure, lockout and sign-in
    is in the audit trail; the caller shows one message for every refusal."""
    now = utcnow()
    user = find_user(username)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        audit.log("login_failed", object_type="users", changes={"username": username[:64], "reason": "unknown user"})
        return None
    if not user.active:
        check_password_hash(_DUMMY_HASH, password)
        audit.log("login_failed", user, changes={"reason": "deactivated"})
        return None
    if user.is_locked(now):
        check_password_hash(_DUMMY_HASH, password)
        audit.log("login_failed", user, changes={"reason": "locked"})
        return None
    if not check_password_hash(user.password_hash, password):
        _count_failure(user, now)
        return None
    # Only while still unlocked: a lock taken meanwhile by parallel failures holds.
    if _bookkeep(user, now, failed_logins=0, locked_until=None, last_login_at=now) is None:
        audit.log("login_failed", user, changes={"reason": "locked"})
        return None
    audit.log("login", user, actor=audit.Actor(user.id, user.username))
    return user


def _unlocked(now: dt.datetime):
    return or_(User.locked_until.is_(None), User.locked_until <= now)


def _count_failure(user: User, now: dt.datetime) -> None:
    """Count one wrong password in the database itself, so failures sent
    at the same moment to several workers or servers all count: one UPDATE
    adds one and, when that reaches the limit, locks in the same statement.
    Only the request whose UPDATE crossed the limit sees ``locked_until``
    set in what it RETURNs, so only it writes the ``lockout`` entry; one
    that finds the account already locked matches no row."""
    cfg = current_app.config
    failures = User.failed_logins + 1
    reached = failures >= cfg["LOGIN_MAX_FAILURES"]
    locked_until = now + dt.timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
    row = db.session.execute(
        update(User).where(User.id == user.id, _unlocked(now))
        .values(failed_logins=case((reached, 0), else_=failures),
                locked_until=case((reached, locked_until), else_=User.locked_until))
        .returning(User.failed_logins, User.locked_until)
        .execution_options(synchronize_session=False)).one_or_none()
    if row is None:
        audit.log("login_failed", user, changes={"reason": "locked"})
        return
    locked = row.locked_until is not None and row.locked_until > now
    audit.log("login_failed", user, changes={
        "reason": "wrong password", "failed_logins": cfg["LOGIN_MAX_FAILURES"] if locked else row.failed_logins})
    if locked:
        audit.log("lockout", user, changes={"locked_until": locked_until})


def _bookkeep(user: User, now: dt.datetime, **values):
    """Update sign-in bookkeeping, if the account is not locked, without
    touching the record's version: a user signing in must not make an
    administrator's open edit form stale.  (The events themselves are in
    the audit trail through audit.log.)  None when it was locked."""
    return db.session.execute(update(User).where(User.id == user.id, _unlocked(now)).values(**values)
                              .returning(User.id).execution_options(synchronize_session=False)).scalar()


def set_password(user: User, password: str, *, action: str = "password_change", must_change: bool = False) -> None:
    """Store a new password (werkzeug's scrypt) and end every other session
    of the user by rotating the token their login cookies carry.  A password
    an administrator sets (``must_change``) is for the first sign-in only:
    the user then chooses their own (issue 20; the flag is in the audit
    entry)."""
    user.must_change_password = must_change
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.session_token = secrets.token_hex(16)
    user.failed_logins = 0
    user.locked_until = None
    audit.label(user, action)
    db.session.flush()


def end_sessions(user: User) -> None:
    """Sign-out (issue 15 §6): end the session on the server, not only in
    the browser, by rotating the token every login cookie of the user
    carries (core.auth._load_user compares it), so a copy of the cookie is
    worth nothing afterwards.  This ends the user's other sessions too: the
    price of keeping no per-session record, and in an office where each
    person signs in from one desk a sign-out meaning "out everywhere" is
    what one expects.  An UPDATE of its own: the record's version stays, so
    an administrator's open edit form of the user does not go stale."""
    db.session.execute(update(User).where(User.id == user.id).values(session_token=secrets.token_hex(16))
                       .execution_options(synchronize_session=False))


def set_active(user: User, active: bool) -> None:
    """Deactivate or reactivate.  Deactivation ends every session and
    revokes every API token of the user, so re-activating brings none of
    them back: the user signs in afresh and issues new tokens.  A user still
    responsible for something is not deactivated (core.handover, 人事異動):
    HandoverRefusal lists what to hand over first."""
    if not active and user.active:
        handover.check_free(user)
    user.active = active
    if not active:
        user.session_token = secrets.token_hex(16)
    audit.label(user, "activate" if active else "deactivate")
    db.session.flush()  # the user's own entry first, under its label
    if not active:
        for token in api_tokens.active_tokens(user):
            api_tokens.revoke(token)


def unlock(user: User) -> None:
    user.locked_until = None
    user.failed_logins = 0
    audit.label(user, "unlock")
    db.session.flush()


def create_user(*, username: str, display_name: str, password: str, roles, unit=None,
                email: str | None = None, locale: str = "ja", must_change: bool = False) -> User:
    """A new account.  One an administrator creates gets ``must_change``:
    its first password is known to the administrator too, so the user must
    choose their own at the first sign-in (issue 20)."""
    user = User(username=username.strip(), display_name=display_name.strip(), email=email or None,
                unit=unit, locale=locale, password_hash=hash_password(password),
                password_changed_at=utcnow())
    if must_change:
        user.must_change_password = True
    user.set_roles(roles)
    db.session.add(user)
    db.session.flush()
    return user


class SamePassword(Refusal):
    """The new password is the one the user has now."""

    def __init__(self):
        super().__init__(_("新しいパスワードには、現在のパスワードと異なるものを指定してください。"),
                         field="new_password")


def change_own_password(user: User, current: str, new: str) -> bool:
    """The user's own change of password (the account page, and the forced
    change after an administrator set one): the current password must be
    right, and the new one must differ from it — else an administrator's
    password would simply be typed again (issue 20).  False when the
    current password is wrong; SamePassword when the new one equals it."""
    if not check_password_hash(user.password_hash, current):
        return False
    if check_password_hash(user.password_hash, new):
        raise SamePassword()
    set_password(user, new, action="password_change")
    return True
