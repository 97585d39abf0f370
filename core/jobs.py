"""Large spreadsheet imports off the request path (issue 15, section 4).

A job is a row of ``import_jobs`` (core.models.ImportJob): no queue
server, no state in a process, so it works the same with SQLite and with
several app servers on one PostgreSQL.  A job is *claimed* with one
conditional UPDATE (``… WHERE status = 'queued'``, or a running job whose
lease ran out), so exactly one process runs it.  Two things run jobs:

- the app itself: the request that queues a job, and every poll of its
  page that finds it unclaimed, starts a thread in that process which runs
  whatever can be claimed (gunicorn keeps the worker process alive after the
  response; the thread is not a request, so gunicorn's timeout never ends it);
- ``flask jobs run`` (for cron or a systemd timer), which runs whatever can
  be claimed and exits: a backstop when no one polls.

A job runs the whole import in **one transaction** (a preview's is rolled
back, a confirmation's commits together with the job's result), so an
import stays all or nothing, also when its process is killed: the
transaction is rolled back by the database, the lease runs out, and the
next poll runs the job again from the start.  The page polls every two
seconds; the running job writes how far it got to a small file next to
the upload (its heartbeat): a running job whose heartbeat stopped for a
minute is claimed again before its lease ends.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import and_, or_, select, update

from core import audit
from core.db import db
from core.models import ImportJob, User
from core.timeutil import utcnow

LEASE = dt.timedelta(minutes=10)
HEARTBEAT_STALE_SECONDS = 60
log = logging.getLogger(__name__)


def pending_path(user_id: int, token: str) -> Path:
    """Where an upload waits between its preview and its confirmation."""
    return Path(current_app.config["STORAGE_PATH"]) / "imports" / f"{user_id}-{token}"


def _heartbeat_path(job: ImportJob) -> Path:
    return _progress_path(job.user_id, job.token)


def _progress_path(user_id: int, token: str) -> Path:
    return pending_path(user_id, token).with_name(f"{user_id}-{token}.progress")


def report_progress(user_id: int, token: str, done: int) -> None:
    """How far the running job got (read by its page; also its heartbeat)."""
    _progress_path(user_id, token).write_text(str(done))


def progress(job: ImportJob) -> int:
    try:
        return int(_heartbeat_path(job).read_text() or 0)
    except (OSError, ValueError):
        return 0


def _stale(job: ImportJob, now: dt.datetime) -> bool:
    if job.status == "queued":
        return True
    if job.status != "running":
        return False
    if job.lease_until is None or job.lease_until < now:
        return True
    try:
        beat = _heartbeat_path(job).stat().st_mtime
    except OSError:
        beat = job.updated_at.replace(tzinfo=dt.UTC).timestamp()
    return time.time() - beat > HEARTBEAT_STALE_SECONDS


def claim() -> ImportJob | None:
    """Claim one job that is waiting (or whose process died); commit the
    claim.  Atomic across processes and servers: the UPDATE's condition
    repeats what was read, so of two claimers only one changes the row."""
    now = utcnow()
    candidates = db.session.scalars(
        select(ImportJob).where(or_(ImportJob.status == "queued", ImportJob.status == "running"))
        .order_by(ImportJob.id)).all()
    for job in candidates:
        if not _stale(job, now):
            continue
        seen = ImportJob.lease_until.is_(None) if job.lease_until is None else ImportJob.lease_until == job.lease_until
        claimed = db.session.execute(
            update(ImportJob).where(and_(ImportJob.id == job.id, ImportJob.status == job.status, seen))
            .values(status="running", lease_until=now + LEASE, updated_at=now)).rowcount
        db.session.commit()
        if claimed == 1:
            job = db.session.get(ImportJob, job.id)
            report_progress(job.user_id, job.token, 0)
            return job
    db.session.rollback()
    return None


RUNNER = "itaku.job_runner"


def init_app(app: Flask, runner) -> None:
    """Name the function that runs a claimed job (the import's,
    core.exchange_views.run_job), kept on the app: this module needs no
    import of the views that use it."""
    app.extensions[RUNNER] = runner


def run_claimable(app: Flask) -> int:
    """Run jobs until none can be claimed; how many ran."""
    runner = app.extensions[RUNNER]
    ran = 0
    while True:
        with app.app_context():
            job = claim()
            if job is None:
                return ran
            job_id, locale = job.id, job.locale
        with app.test_request_context(headers={"Accept-Language": locale}):
            job = db.session.get(ImportJob, job_id)
            user = db.session.get(User, job.user_id)
            g._login_user = user  # the save rules act as the user who imports (Flask-Login's current_user)
            audit.set_actor(audit.Actor(user.id, user.username))
            try:
                runner(job)
            except Exception:  # the job fails with a message; the worker goes on
                log.exception("import job %s failed", job_id)
                db.session.rollback()
                # A chunked confirmation (SQLite) may have committed some chunks: keep how far it
                # got, so its page says which rows are in.
                done = db.session.get(ImportJob, job_id).result or {}
                kept = {key: done[key] for key in ("next", "counts") if done.get("next")}
                db.session.execute(update(ImportJob).where(ImportJob.id == job_id).values(
                    status="failed", result={"error": "internal", **kept}, updated_at=utcnow()))
                db.session.commit()
            finally:
                db.session.remove()
        ran += 1


def kick() -> None:
    """Run claimable jobs in a thread of this process (after the response)."""
    app = current_app._get_current_object()
    threading.Thread(target=run_claimable, args=(app,), name="itaku-import-jobs", daemon=True).start()


def kick_if_stale(job: ImportJob) -> None:
    if _stale(job, utcnow()):
        kick()
