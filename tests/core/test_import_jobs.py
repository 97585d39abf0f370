"""Large imports run as jobs off the request path (issue 15, section 4): the
upload and the confirmation answer at once, the page polls the job, the
preview writes nothing, the confirmation is all or nothing and happens
once, a job whose process died is run again, and ``flask jobs run`` runs
what is waiting."""
from __future__ import annotations

import datetime as dt
import io
import re
import time

import pytest
from sqlalchemy import func, select

from core import audit, jobs
from core.db import db
from core.models import AuditEntry, ImportJob, User
from tests.conftest import login_as
from vendors.models import Vendor

pytestmark = pytest.mark.config(IMPORT_INLINE_ROWS=20)
ROWS = 60


def vendor_csv(rows: int = ROWS, prefix: str = "ジョブ試験") -> bytes:
    lines = ["名称,法人番号,担当組織,状態"] + [f"{prefix}{i}株式会社,,総務課,候補" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def signed_in(app):
    client = app.test_client()
    login_as(client, "procurement")
    return client


def timed(call, *args, **kwargs):
    started = time.monotonic()
    response = call(*args, **kwargs)
    assert time.monotonic() - started < 5, "a request of a large import took more than a few seconds"
    return response


def poll(client, url: str, seconds: float = 120):
    """Follow the job's page until it stops refreshing itself."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        response = timed(client.get, url)
        if "Refresh" not in response.headers:
            return response
        assert "内容を確認しています" in response.get_data(as_text=True) or "取り込んでいます" in response.get_data(
            as_text=True)
        time.sleep(0.2)
    raise AssertionError("the job did not finish")


def counts(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Vendor)),
                db.session.scalar(select(func.max(AuditEntry.seq))))


def test_a_large_import_runs_as_a_job_that_the_page_polls(app, users):
    client = signed_in(app)
    before = counts(app)
    upload = timed(client.post, "/vendors/import", data={"file": (io.BytesIO(vendor_csv()), "big.csv")},
                   content_type="multipart/form-data")
    assert upload.status_code == 303 and "/vendors/import/job/" in upload.headers["Location"]
    job_url = upload.headers["Location"]
    preview = poll(client, job_url)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and f"この内容で取り込む（{ROWS}行）" in html
    assert counts(app) == before  # the preview wrote nothing, not even to the trail
    token = re.search(r'name="token" value="([0-9a-f]+)"', html).group(1)

    confirmed = timed(client.post, "/vendors/import/confirm", data={"token": token, "filename": "big.csv"})
    assert confirmed.status_code == 303 and confirmed.headers["Location"].endswith(job_url)
    again = timed(client.post, "/vendors/import/confirm", data={"token": token, "filename": "big.csv"})
    assert again.status_code in (302, 303)  # a second click: the same job, not a second import
    done = poll(client, job_url)
    assert done.status_code == 302 and done.headers["Location"].endswith("/vendors/")
    listed = client.get("/vendors/").get_data(as_text=True)
    assert f"取り込みました: 新規 {ROWS}件" in listed

    vendors, seq = counts(app)
    assert vendors == before[0] + ROWS
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.seq > before[1])).all()
        assert [e.action for e in entries].count("create") == ROWS
        assert [e.action for e in entries][-1] == "import"
        assert {e.username for e in entries} == {"procurement"}
        assert audit.verify_chain(db.session.connection()).ok


def test_a_confirmation_whose_data_changed_writes_nothing(app, users):
    client = signed_in(app)
    upload = client.post("/vendors/import", data={"file": (io.BytesIO(vendor_csv()), "big.csv")},
                         content_type="multipart/form-data")
    job_url = upload.headers["Location"]
    html = poll(client, job_url).get_data(as_text=True)
    token = re.search(r'name="token" value="([0-9a-f]+)"', html).group(1)
    # Meanwhile the unit the file names is renamed: every row now fails.
    with app.app_context():
        from core.models import OrgUnit

        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.name == "総務課"))
        unit.name = "総務部"
        db.session.commit()
    before = counts(app)
    client.post("/vendors/import/confirm", data={"token": token, "filename": "big.csv"})
    refused = poll(client, job_url)
    assert refused.status_code == 409
    assert "確認の後にデータが変わったため、取り込みませんでした" in refused.get_data(as_text=True)
    assert counts(app) == before


def _waiting_job(app, phase: str = "preview", status: str = "queued", lease=None) -> str:
    token = "ab" * 16
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "procurement"))
        path = jobs.pending_path(user.id, token)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(vendor_csv())
        db.session.add(ImportJob(token=token, register="vendors", user_id=user.id, phase=phase, status=status,
                                 lease_until=lease, filename="big.csv", locale="ja", rows=ROWS))
        db.session.commit()
    return token


def test_a_job_whose_process_died_is_run_again(app, users):
    """A confirmation that was running when its process was killed (its
    transaction rolled back by the database, its lease run out) is claimed
    again by the next poll and imports every row once."""
    from core.timeutil import utcnow

    token = _waiting_job(app, phase="confirm", status="running", lease=utcnow() - dt.timedelta(seconds=1))
    client = signed_in(app)
    before = counts(app)
    done = poll(client, f"/vendors/import/job/{token}")
    assert done.status_code == 302
    assert counts(app)[0] == before[0] + ROWS


def test_a_job_is_claimed_once(app, users):
    token = _waiting_job(app)
    with app.app_context():
        first = jobs.claim()
        assert first is not None and first.token == token
    with app.app_context():
        assert jobs.claim() is None  # running, its heartbeat fresh


def test_flask_jobs_run_runs_what_waits(app, users):
    token = _waiting_job(app)
    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 0 and "1" in result.output, result.output
    with app.app_context():
        job = db.session.scalar(select(ImportJob).where(ImportJob.token == token))
        assert job.status == "done" and len(job.result["outcomes"]) == ROWS


@pytest.mark.config(IMPORT_INLINE_ROWS=20, IMPORT_CHUNK_SECONDS=0.0001)
def test_in_chunks_an_import_is_whole_and_the_trail_valid(app, users):
    """In chunks (SQLite's way: here one row each), the preview still writes
    nothing and the confirmation imports every row once."""
    client = signed_in(app)
    before = counts(app)
    upload = client.post("/vendors/import", data={"file": (io.BytesIO(vendor_csv()), "big.csv")},
                         content_type="multipart/form-data")
    html = poll(client, upload.headers["Location"]).get_data(as_text=True)
    assert f"この内容で取り込む（{ROWS}行）" in html and counts(app) == before
    token = re.search(r'name="token" value="([0-9a-f]+)"', html).group(1)
    client.post("/vendors/import/confirm", data={"token": token, "filename": "big.csv"})
    assert poll(client, upload.headers["Location"]).status_code == 302
    assert counts(app)[0] == before[0] + ROWS
    with app.app_context():
        assert audit.verify_chain(db.session.connection()).ok
        last = db.session.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
        assert last.action == "import" and last.changes["new"] == ROWS


@pytest.mark.config(IMPORT_INLINE_ROWS=20, IMPORT_CHUNK_SECONDS=0.0001)
def test_a_chunked_confirmation_resumes_after_its_last_committed_chunk(app, users):
    from core.timeutil import utcnow

    token = _waiting_job(app, phase="confirm", status="running", lease=utcnow() - dt.timedelta(seconds=1))
    with app.app_context():
        job = db.session.scalar(select(ImportJob).where(ImportJob.token == token))
        job.result = {"next": 45, "counts": {"new": 45, "changed": 0, "unchanged": 0}}
        db.session.commit()
    before = counts(app)
    assert poll(signed_in(app), f"/vendors/import/job/{token}").status_code == 302
    assert counts(app)[0] == before[0] + ROWS - 45
    with app.app_context():
        names = set(db.session.scalars(select(Vendor.name).where(Vendor.name.like("ジョブ試験%"))))
        assert names == {f"ジョブ試験{i}株式会社" for i in range(45, ROWS)}


@pytest.mark.parametrize(("chunk_seconds", "says"), [
    (0.5, "少しずつ書き込み、止まっても続きから再開します"),  # SQLite's way
    (0, "終わるまで何も書き込まれません"),  # one transaction: PostgreSQL's way
])
def test_a_running_confirmation_says_truly_whether_rows_are_written_as_it_goes(app, users, chunk_seconds, says):
    from core.timeutil import utcnow

    app.config["IMPORT_CHUNK_SECONDS"] = chunk_seconds
    token = _waiting_job(app, phase="confirm", status="running", lease=utcnow() + dt.timedelta(minutes=5))
    page = signed_in(app).get(f"/vendors/import/job/{token}")
    html = page.get_data(as_text=True)
    assert "Refresh" in page.headers and says in html
    other = {"少しずつ書き込み、止まっても続きから再開します", "終わるまで何も書き込まれません"} - {says}
    assert other.pop() not in html


@pytest.mark.config(IMPORT_INLINE_ROWS=20, IMPORT_CHUNK_SECONDS=0.0001)
def test_a_chunked_confirmation_that_fails_part_way_says_which_rows_are_in(app, users, monkeypatch):
    """SQLite commits a confirmation chunk by chunk: when it then fails, the
    page must not claim that nothing was written."""
    token = _waiting_job(app, phase="confirm")

    def fails_after_a_chunk(job):
        job.result = {"next": 45, "counts": {"new": 45, "changed": 0, "unchanged": 0}}
        db.session.commit()
        raise RuntimeError("the disk is full")

    monkeypatch.setitem(app.extensions, jobs.RUNNER, fails_after_a_chunk)
    assert jobs.run_claimable(app) == 1
    page = signed_in(app).get(f"/vendors/import/job/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and "何も書き込んでいません" not in html
    assert "47行目より前の行は取り込み済みです（新規 45件、変更 0件）" in html
