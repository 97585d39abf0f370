"""Personal API tokens: issued and revoked by their user on the account
page, presented as ``Authorization: Bearer <token>`` to the JSON API.

The secret is shown once and never stored: the database keeps its
SHA-256, and the audit trail records the token's name, never the secret
(nor its hash).  A token acts as its user with the roles the user has at
each request; a revoked token, or one whose user is deactivated, is
refused.  Services flush and audit; the caller commits.

One write is this module's own: when a token was last used (shown on the
account page).  :func:`note_use` makes it, in one place, for the reason its
docstring gives.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import g
from sqlalchemy import or_, select, update

from core import audit
from core.db import db
from core.models import ApiToken, User
from core.timeutil import utcnow

PREFIX = "itaku_"  # tells a leaked token apart in logs and secret scanners
# "Last used" is written at most this often, so reading the API does not
# make every request a write.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; the secret comes back once, to be shown."""
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name.strip(), token_hash=_hash(secret))
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke(token: ApiToken) -> None:
    if token.revoked_at is None:
        audit.label(token, "revoke")
        token.revoked_at = utcnow()
        db.session.flush()


def active_tokens(user: User) -> list[ApiToken]:
    return db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                              .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()


def user_for(authorization: str) -> User | None:
    """The active user whose live token an ``Authorization`` header carries
    (it only reads; the request's token is kept for :func:`note_use`)."""
    scheme, _, secret = authorization.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(secret),
                                                     ApiToken.revoked_at.is_(None)))
    if token is None or not token.user.active:
        return None
    g.itaku_api_token = (token.id, token.last_used_at)
    return token.user


def note_use() -> None:
    """Write down when the request's token was last used, the one write a
    read-only API request makes (core.auth calls this once per request,
    before the access check and the request's work).

    Why it commits, unlike the services: "last used" is bookkeeping, not
    part of the request's work.  It counts even when the request is refused
    or fails, and it must not hold the write lock while a read works.  So it
    is its own short transaction, committed at once, with nothing of the
    request in it yet.  At most once a minute per token
    (``LAST_USED_PRECISION``), so most requests write nothing; one UPDATE,
    whose condition lets only one of two workers that race write it."""
    use = g.pop("itaku_api_token", None)
    if use is None:
        return
    token_id, last_used_at = use
    now = utcnow()
    if last_used_at is not None and now - last_used_at < LAST_USED_PRECISION:
        return
    db.session.execute(update(ApiToken)
                       .where(ApiToken.id == token_id,
                              or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - LAST_USED_PRECISION))
                       .values(last_used_at=now))
    db.session.commit()
