"""Spreadsheet export and import for every register (core.registers).

Each register gets its own routes (so the access rule of each is declared
like any page's): ``/<name>/export.csv|xlsx`` for its readers (what the list
shows for the same query string), and for its writers
``/<name>/import`` (upload → preview), ``/<name>/import/confirm`` and
``/<name>/import/template.csv|xlsx``.

An import is planned in a transaction that is rolled back for the preview
and committed on confirmation: the very same code decides both, so what
the preview says is what happens.  The upload waits between the two under
STORAGE_PATH/imports (no state in the process), named for its user.  The
trail's entries of an import are appended in one step at its commit
(``audit.deferred``).  An import of more than IMPORT_INLINE_ROWS rows (300)
runs both steps as a job off the request path (core.jobs), whose page
``/<name>/import/job/<token>`` polls it.
"""
from __future__ import annotations

import functools
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select, update

from core import audit, jobs, registers, tabular
from core.auth import access
from core.db import db, savepoint
from core.forms import CSRFForm, choices_kept
from core.i18n import locale_code
from core.models import ImportJob
from core.registers import Register
from core.timeutil import utcnow

NEW, CHANGED, UNCHANGED, ERROR = "new", "changed", "unchanged", "error"


@dataclass
class Outcome:
    line: int  # the row's line in the file (the header is line 1)
    state: str
    label: str
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, message)
    changed: list[str] = field(default_factory=list)  # the columns a changed row changes


@dataclass
class Plan:
    outcomes: list[Outcome]
    end: int = 0  # the index of the first row not planned (a chunk's end)

    def count(self, state: str) -> int:
        return sum(1 for o in self.outcomes if o.state == state)

    @property
    def ok(self) -> bool:
        return not any(o.state == ERROR for o in self.outcomes)

    def to_json(self) -> list[dict]:
        return [{"line": o.line, "state": o.state, "label": o.label, "errors": o.errors, "changed": o.changed}
                for o in self.outcomes]

    @classmethod
    def from_json(cls, outcomes: list[dict]) -> Plan:
        return cls([Outcome(o["line"], o["state"], o["label"], [tuple(e) for e in o["errors"]], o["changed"])
                    for o in outcomes])


def _args():
    return {k: v for k, v in request.args.items() if k not in ("page", "per_page")}


def export(register: Register, fmt: str):
    # A register may export more than its fields (the audit trail: a readable column).
    fields = register.export_fields() if hasattr(register, "export_fields") else register.fields
    rows = register.export_rows(request.args) if hasattr(register, "export_rows") else register.rows(request.args)
    return tabular.export_response(fields, rows, fmt=fmt, filename=f"itaku-{register.name}", title=register.name)


def template(register: Register, fmt: str):
    return tabular.export_response(register.writable_fields(), list, fmt=fmt,
                                   filename=f"itaku-{register.name}-template", title=register.name)


# --- import ---------------------------------------------------------------------------

def plan(register: Register, sheet: tabular.Sheet, positions: dict[str, int],
         progress: Callable[[int], None] | None = None, *, start: int = 0, seconds: float | None = None,
         touched: dict[int, int] | None = None) -> Plan:
    """Validate and apply every row inside savepoints, in the caller's
    transaction (which commits or rolls back; the caller runs it in
    ``audit.deferred()``, so the trail is locked only at a commit).
    ``progress(rows done)`` is called every 50 rows.  A chunk of the rows:
    from index ``start``, stopping after ``seconds`` (the plan's ``end`` is
    the index of the first row not done), ``touched`` carried from chunk to
    chunk."""
    with choices_kept():
        return _plan(register, sheet, positions, progress or (lambda _done: None), start,
                     None if seconds is None else time.monotonic() + seconds, {} if touched is None else touched)


def _plan(register: Register, sheet: tabular.Sheet, positions: dict[str, int],
          progress: Callable[[int], None], start: int, deadline: float | None, touched: dict[int, int]) -> Plan:
    outcomes: list[Outcome] = []  # touched: record id → the line that wrote it
    writable = register.writable_fields()
    for line, row in enumerate(sheet.rows[start:], start=start + 2):
        if deadline is not None and outcomes and time.monotonic() > deadline:
            return Plan(outcomes, end=line - 2)
        if line % 50 == 0:
            progress(line - 2)
        values = {key: row[index] for key, index in positions.items()}
        existing = register.match(values)
        outcome = Outcome(line, NEW if existing is None else UNCHANGED,
                          " / ".join(values.get(f.key, "") for f in writable[:2] if values.get(f.key)))
        outcomes.append(outcome)
        if existing is not None and existing.id in touched:
            outcome.state = ERROR
            outcome.errors.append((str(register.key_label),
                                   _("%(line)s行目と同じ記録を指しています。", line=touched[existing.id])))
            continue
        formdata, problems = register.formdata(values, existing)
        outcome.errors += [(f.ja, message) for f, message in problems]
        if outcome.errors:
            outcome.state = ERROR
            continue
        before = {f.key: f.cell(existing) for f in writable} if existing is not None else None
        record = existing if existing is not None else register.model()
        form = register.form(existing, formdata=formdata, meta={"csrf": False})
        saved = None
        with savepoint() as nested:
            if form.validate():
                saved = register.save(form, record)
            if saved is None:
                nested.rollback()
        if saved is None:
            outcome.state = ERROR
            labels = {f.field: f.ja for f in register.fields if f.field}
            outcome.errors += [(labels.get(name, name), str(message))
                               for name, messages in form.errors.items() for message in messages]
            continue
        touched[saved.id] = line
        if before is not None:
            outcome.changed = [f.ja for f in writable if f.cell(saved) != before[f.key]]
            outcome.state = CHANGED if outcome.changed else UNCHANGED
        # Written (flushed) and done with: out of the session, whose every
        # savepoint and flush would otherwise look through all the rows so far.
        db.session.expunge(saved)
    return Plan(outcomes, end=len(sheet.rows))


def _pending_path(token: str) -> Path:
    return jobs.pending_path(current_user.id, token)


def _read_upload() -> tuple[bytes, str]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise tabular.FileProblem(_("ファイルを選んでください。"))
    data = upload.read(tabular.MAX_IMPORT_BYTES + 1)
    return data, Path(upload.filename).name[-200:]


def _prepare(register: Register, data: bytes):
    # The register's columns and a few more (a file's own notes columns):
    # a wider header is refused before its rows cost memory.
    sheet = tabular.read(data, max_columns=len(register.fields) + 20)
    positions, missing = tabular.header_map(sheet, register.writable_fields())
    if missing:
        raise tabular.FileProblem(_("必要な列がありません: %(columns)s（テンプレートの見出しを使ってください）",
                                    columns="、".join(missing)))
    return sheet, positions


def _ignored(sheet: tabular.Sheet, positions: dict[str, int]) -> list[str]:
    return [h for i, h in enumerate(sheet.headers) if i not in positions.values() and h]


def _inline_rows() -> int:
    """Up to this many rows an import is checked and applied within the
    request; a larger one runs as a job (core.jobs) that the page polls."""
    return current_app.config["IMPORT_INLINE_ROWS"]


def import_page(register: Register):
    form = CSRFForm()
    if request.method == "GET":
        return render_template("exchange/import.html", register=register, form=form)
    if not form.validate_on_submit():
        flash(_("フォームの有効期限が切れました。もう一度お試しください。"), "warning")
        return render_template("exchange/import.html", register=register, form=form), 400
    try:
        data, filename = _read_upload()
        sheet, positions = _prepare(register, data)
    except tabular.FileProblem as error:
        flash(str(error), "danger")
        return render_template("exchange/import.html", register=register, form=form), 400
    token = secrets.token_hex(16)
    path = _pending_path(token)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if len(sheet.rows) > _inline_rows():
        db.session.add(ImportJob(token=token, register=register.name, user_id=current_user.id, phase="preview",
                                 status="queued", filename=filename, locale=locale_code()[:10],
                                 rows=len(sheet.rows)))
        db.session.commit()
        jobs.kick()
        return redirect(url_for(f"exchange.{register.name}_job", token=token), 303)
    with audit.deferred():  # rolled back: the trail's head is never locked
        result = plan(register, sheet, positions)
        db.session.rollback()  # a preview writes nothing
    return render_template("exchange/import.html", register=register, form=form, plan=result, token=token,
                           filename=filename, encoding=sheet.encoding, ignored=_ignored(sheet, positions))


def _job_of(register: Register, token: str) -> ImportJob | None:
    if not (token.isalnum() and len(token) == 32):
        return None
    return db.session.scalar(select(ImportJob).where(
        ImportJob.token == token, ImportJob.user_id == current_user.id, ImportJob.register == register.name))


def confirm(register: Register):
    form = CSRFForm()
    token = request.form.get("token", "")
    path = _pending_path(token) if token.isalnum() and len(token) == 32 else None
    if not form.validate_on_submit() or path is None or not path.is_file():
        flash(_("取り込むファイルが見つかりません。もう一度アップロードしてください。"), "warning")
        return redirect(url_for(f"exchange.{register.name}_import"))
    job = _job_of(register, token)
    if job is not None:
        # A large import: its job goes on to the confirmation, once (a second
        # click, or a second tab, finds it already past its preview).
        db.session.execute(update(ImportJob).where(
            ImportJob.id == job.id, ImportJob.phase == "preview", ImportJob.status == "done",
        ).values(phase="confirm", status="queued", result=None, lease_until=None))
        db.session.commit()
        jobs.kick()
        return redirect(url_for(f"exchange.{register.name}_job", token=token), 303)
    data = path.read_bytes()
    filename = request.form.get("filename", "")[:200]
    try:
        sheet, positions = _prepare(register, data)
    except tabular.FileProblem as error:
        flash(str(error), "danger")
        return redirect(url_for(f"exchange.{register.name}_import"))
    with audit.deferred():  # the entries are appended in one step at the commit
        result = plan(register, sheet, positions)
        if not result.ok:
            # The data changed since the preview: nothing is written, the new findings are shown.
            db.session.rollback()
            flash(_CHANGED_SINCE(), "danger")
            return render_template("exchange/import.html", register=register, form=form, plan=result,
                                   token=token, filename=filename, encoding=sheet.encoding, ignored=[]), 409
        _log_import(register, filename, data, result)
        db.session.commit()
    path.unlink(missing_ok=True)
    flash(_imported(result.count(NEW), result.count(CHANGED), result.count(UNCHANGED)), "success")
    return redirect(url_for(register.list_endpoint))


def _CHANGED_SINCE() -> str:
    return _("確認の後にデータが変わったため、取り込みませんでした。内容を確かめてください。")


def _imported(new: int, changed: int, unchanged: int) -> str:
    return _("取り込みました: 新規 %(new)s件、変更 %(changed)s件、変更なし %(unchanged)s件。",
             new=new, changed=changed, unchanged=unchanged)


def _log_import(register: Register, filename: str, data: bytes, result: Plan) -> None:
    audit.log("import", None, object_type=register.model.__tablename__, changes={
        "file": filename, "sha256": hashlib.sha256(data).hexdigest(), "rows": len(result.outcomes),
        "new": result.count(NEW), "changed": result.count(CHANGED), "unchanged": result.count(UNCHANGED)})


def job_page(register: Register, token: str):
    """A large import's page while its job runs (it reloads itself every two
    seconds), then the preview or the outcome."""
    form = CSRFForm()
    job = _job_of(register, token)
    if job is None:
        flash(_("取り込むファイルが見つかりません。もう一度アップロードしてください。"), "warning")
        return redirect(url_for(f"exchange.{register.name}_import"))
    if job.status in ("queued", "running"):
        jobs.kick_if_stale(job)
        response = make_response(render_template("exchange/import_job.html", register=register, job=job,
                                                 done=min(jobs.progress(job), job.rows),
                                                 chunked=_chunk_seconds() is not None))
        response.headers["Refresh"] = "2"
        return response
    result = job.result or {}
    if job.status == "failed":
        if result.get("next"):  # a chunked confirmation that failed after committing some chunks
            flash(_("取り込みの処理が途中で失敗しました。%(line)s行目より前の行は取り込み済みです（新規 %(new)s件、"
                    "変更 %(changed)s件）。同じファイルをもう一度取り込むと、取り込み済みの行は「変更なし」になります。",
                    line=result["next"] + 2, new=result["counts"]["new"], changed=result["counts"]["changed"]),
                  "danger")
        else:
            flash(result.get("message") or _("取り込みの処理に失敗しました。何も書き込んでいません。もう一度お試しください。"),
                  "danger")
        return render_template("exchange/import.html", register=register, form=form), 400
    if job.phase == "preview" or result.get("conflict"):
        if result.get("partial"):
            flash(_("確認の後にデータが変わったため、%(line)s行目から先は取り込みませんでした。それより前の行は"
                    "取り込み済みです（新規 %(new)s件、変更 %(changed)s件）。ファイルを直してもう一度取り込むと、"
                    "取り込み済みの行は「変更なし」になります。", line=result["outcomes"][0]["line"],
                    new=result["partial"]["new"], changed=result["partial"]["changed"]), "danger")
        elif result.get("conflict"):
            flash(_CHANGED_SINCE(), "danger")
        status = 409 if result.get("conflict") else 200
        return render_template("exchange/import.html", register=register, form=form,
                               plan=Plan.from_json(result["outcomes"]), token=token, filename=job.filename,
                               encoding=result.get("encoding", ""), ignored=result.get("ignored", [])), status
    flash(_imported(result["new"], result["changed"], result["unchanged"]), "success")
    return redirect(url_for(register.list_endpoint))


def _chunk_seconds() -> float | None:
    """How long a job works in one transaction (None: the whole import in
    one).  SQLite has one writer at a time: there a job works in chunks of
    about half a second, so others' saves and sign-ins wait that long at
    most.  PostgreSQL locks rows, not the database: there the whole import
    is one transaction, all or nothing."""
    configured = current_app.config.get("IMPORT_CHUNK_SECONDS")
    if configured is not None:
        return float(configured) or None
    return 0.5 if db.engine.dialect.name == "sqlite" else None


def run_job(job: ImportJob) -> None:
    """Check (phase preview) or apply (phase confirm) a job's import and
    record the outcome (core.jobs runs this)."""
    register = next(r for r in registers.all_registers() if r.name == job.register)
    job_id, phase, filename, state = job.id, job.phase, job.filename, dict(job.result or {})
    path = jobs.pending_path(job.user_id, job.token)
    try:
        data = path.read_bytes()
        sheet, positions = _prepare(register, data)
    except (OSError, tabular.FileProblem) as error:
        message = str(error) if isinstance(error, tabular.FileProblem) else None
        _record(job_id, "failed", {"message": message})
        return
    progress = functools.partial(jobs.report_progress, job.user_id, job.token)
    seconds = _chunk_seconds()
    if phase == "preview":
        # Each chunk rolled back: nothing is written.  Records that exist
        # keep their ids from chunk to chunk; new ones do not.
        outcomes: list[Outcome] = []
        start, existing_touched = 0, {}
        while start < len(sheet.rows):
            with audit.deferred():
                touched = dict(existing_touched)
                result = plan(register, sheet, positions, progress, start=start, seconds=seconds, touched=touched)
                db.session.rollback()
            kept = {o.line for o in result.outcomes if o.state in (CHANGED, UNCHANGED)}
            existing_touched.update((k, v) for k, v in touched.items() if v in kept)
            outcomes += result.outcomes
            start = result.end
            _yield_to_others(seconds)
        _record(job_id, "done", {"outcomes": Plan(outcomes).to_json(), "encoding": sheet.encoding,
                                 "ignored": _ignored(sheet, positions)})
        return
    # The confirmation: one transaction, or (SQLite) one per chunk, each
    # committed with how far the job got, so a job whose process died
    # resumes after the last chunk committed.
    counts = state.get("counts") or {NEW: 0, CHANGED: 0, UNCHANGED: 0}
    start, touched = int(state.get("next", 0)), {}  # committed chunks' records keep their ids
    while True:
        with audit.deferred():
            result = plan(register, sheet, positions, progress, start=start, seconds=seconds, touched=touched)
            if not result.ok:
                db.session.rollback()  # this chunk writes nothing; earlier chunks (SQLite) stay
                if start:
                    _log_import_counts(register, filename, data, start, counts, partial=True)
                _record(job_id, "done", {"outcomes": result.to_json(), "encoding": sheet.encoding, "ignored": [],
                                         "conflict": True, "partial": counts if start else None})
                return
            for state_name in counts:
                counts[state_name] += result.count(state_name)
            if result.end < len(sheet.rows):
                # A chunk and how far the job got commit together.
                db.session.execute(update(ImportJob).where(ImportJob.id == job_id).values(
                    result={"next": result.end, "counts": counts}, updated_at=utcnow()))
                db.session.commit()
                start = result.end
                _yield_to_others(seconds)
                continue
            _log_import_counts(register, filename, data, len(sheet.rows), counts)
            # The job's outcome commits with the import (or its last chunk): both or neither.
            _record(job_id, "done", counts)
            break
    path.unlink(missing_ok=True)


def _log_import_counts(register: Register, filename: str, data: bytes, rows: int, counts: dict,
                       partial: bool = False) -> None:
    audit.log("import", None, object_type=register.model.__tablename__, changes={
        "file": filename, "sha256": hashlib.sha256(data).hexdigest(), "rows": rows, **counts,
        **({"partial": True} if partial else {})})


def _yield_to_others(seconds: float | None) -> None:
    if seconds is not None:
        time.sleep(0.05)  # between two chunks: writers waiting for SQLite's lock go first


def _record(job_id: int, status: str, result: dict) -> None:
    db.session.execute(update(ImportJob).where(ImportJob.id == job_id).values(
        status=status, result=result, lease_until=None, updated_at=utcnow()))
    db.session.commit()


def init_app(app) -> None:
    """Give every register its export (and, if importable, import) routes
    (a blueprint per application: tests build many)."""
    bp = Blueprint("exchange", __name__)
    for register in registers.all_registers(app):
        _routes(bp, register)
    app.register_blueprint(bp)
    jobs.init_app(app, run_job)


def _routes(bp: Blueprint, register: Register) -> None:
    name = register.name
    prefix = register.url_prefix or f"/{name}"

    def do_export(fmt: str):
        return export(register, fmt)

    bp.add_url_rule(f"{prefix}/export.<any(csv, xlsx):fmt>", f"{name}_export",
                    access(register.readers)(do_export))
    if not register.importable:
        return

    def do_template(fmt: str):
        return template(register, fmt)

    def do_import():
        return import_page(register)

    def do_confirm():
        return confirm(register)

    def do_job(token: str):
        return job_page(register, token)

    bp.add_url_rule(f"{prefix}/import/template.<any(csv, xlsx):fmt>", f"{name}_template",
                    access(register.writers)(do_template))
    bp.add_url_rule(f"{prefix}/import", f"{name}_import", access(register.writers)(do_import),
                    methods=["GET", "POST"])
    bp.add_url_rule(f"{prefix}/import/confirm", f"{name}_confirm", access(register.writers)(do_confirm),
                    methods=["POST"])
    bp.add_url_rule(f"{prefix}/import/job/<token>", f"{name}_job", access(register.writers)(do_job))
