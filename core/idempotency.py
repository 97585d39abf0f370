"""``Idempotency-Key`` on the API's POSTs (issue 15 §5): a client that sent a
create and lost the answer (a timeout, a dropped connection, a crash) sends
the same request again with the same key and gets the first answer, not a
second record.

* The key is the client's: 1–255 printable ASCII characters, unique per
  user (a UUID is a good choice).  It is kept with a fingerprint of the
  request (SHA-256 of method, path and body bytes) and, once done, the
  answer (status, body, Location/ETag).
* The first request with a key claims it: an insert, committed at once,
  that the unique (user, key) index lets only one request make.  The work
  and the stored answer then commit together in the view's one commit, so
  an answer is stored exactly when the work is.
* A retry with the same key and the same request gets the stored answer.
  The same key with another request is refused (422).  While the first
  request is still running, a second with its key gets 409 with
  ``Retry-After: 1`` (it does not wait: a worker is not held up for
  another's request); its retry gets the answer.  A claim left without an
  answer for over a minute (its worker was killed; its work rolled back)
  is taken over by the next retry, which does the work.
* Only successes are kept: a refused request (4xx) or an error releases its
  key, so the corrected request can be sent with the same key.
* Keys are kept 24 hours (:data:`TTL`); an older one counts as new.  Rows
  past that are dead weight only, removed by a later cleanup command.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from typing import Callable

from flask import Response, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from core.db import db
from core.models import IdempotencyKey
from core.problems import Problem
from core.timeutil import utcnow

HEADER = "Idempotency-Key"
TTL = dt.timedelta(hours=24)
# A claim without an answer older than this was left by a request that died
# (gunicorn kills a worker after its 30 s timeout): a retry takes it over.
ABANDONED = dt.timedelta(minutes=1)
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_KEPT_HEADERS = ("Content-Type", "Location", "ETag")


def _fingerprint() -> str:
    digest = hashlib.sha256(f"{request.method}\n{request.full_path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(record: IdempotencyKey) -> Response:
    response = Response(record.body, status=record.status)
    for name, value in (record.headers or {}).items():
        response.headers[name] = value
    return response


def _claim(key: str, fingerprint: str) -> IdempotencyKey | Response:
    """This request's claim on ``key``, or the answer to give instead."""
    user_id = current_user.id
    found = select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    record = db.session.scalar(found)
    now = utcnow()
    if record is not None and (record.created_at <= now - TTL
                               or (record.status is None and record.created_at <= now - ABANDONED)):
        # Expired, or claimed by a request that never finished (its worker
        # died; its work rolled back): the key is new again.  Of two retries
        # doing this at once, the unique index lets one claim it (below).
        db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == record.id))
        record = None
    if record is None:
        record = IdempotencyKey(user_id=user_id, key=key, fingerprint=fingerprint)
        db.session.add(record)
        try:
            db.session.commit()  # the claim stands on its own, before the work
            return record
        except IntegrityError:  # another request with this key claimed it first
            db.session.rollback()
            record = db.session.scalar(found)
            if record is None:  # …and released it again: let the client retry
                raise Problem(409, _IN_PROGRESS, headers={"Retry-After": "1"}) from None
    if record.fingerprint != fingerprint:
        raise Problem(422, _l("この Idempotency-Key は別のリクエストに使われています。リクエストごとに新しいキーを使ってください。"))
    if record.status is None:
        raise Problem(409, _IN_PROGRESS, headers={"Retry-After": "1"})
    return _replay(record)


_IN_PROGRESS = _l("同じ Idempotency-Key のリクエストを処理中です。少し待ってから再送してください。")


def _release(record: IdempotencyKey) -> None:
    db.session.rollback()
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == record.id))
    db.session.commit()


def idempotent(view: Callable) -> Callable:
    """Wrap an API POST view.  The view builds its answer and calls
    :func:`commit` (instead of ``db.session.commit``) so that the answer
    is stored in the same transaction as the work."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not _VALID_KEY.fullmatch(key):
            raise Problem(400, errors=[{"field": HEADER, "message": _l(
                "Idempotency-Key は1〜255文字の英数字・記号（ASCII）で指定してください。")}])
        claim = _claim(key, _fingerprint())
        if isinstance(claim, Response):
            return claim
        request.itaku_idempotency = claim
        try:
            response = view(*args, **kwargs)
        except BaseException:
            _release(claim)
            raise
        if claim.status is None:  # the view answered without storing (a refusal): keep nothing
            _release(claim)
        return response

    return wrapper


def commit(response: Response) -> Response:
    """Commit the view's work together with its answer, when the request
    came with a key; the answer is returned unchanged."""
    claim: IdempotencyKey | None = getattr(request, "itaku_idempotency", None)
    if claim is not None:
        claim.status = response.status_code
        claim.body = response.get_data(as_text=True)
        claim.headers = {name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers}
        db.session.add(claim)
    db.session.commit()
    return response

