"""Personal API tokens, issued and revoked by their user on the account
page.

The secret is shown once and never stored: the database keeps its
SHA-256, and the audit trail records the token's name, never the secret
(nor its hash).  Services flush and audit; the caller commits.
"""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from core import audit
from core.db import db
from core.models import ApiToken, User
from core.timeutil import utcnow

PREFIX = "itaku_"  # tells a leaked token apart in logs and secret scanners


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

