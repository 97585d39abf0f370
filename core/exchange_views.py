"""Spreadsheet export and import for every register (core.registers).

Each register gets its own routes (so the access rule of each is declared
like any page's): ``/<name>/export.csv|xlsx`` for its readers (what the list
shows for the same query string), and for its writers
``/<name>/import`` (upload → preview), ``/<name>/import/confirm`` and
``/<name>/import/template.csv|xlsx``.

An import is planned in a transaction that is rolled back for the preview
and committed on confirmation: the very same code decides both, so what
the preview says is what happens.  The upload waits between the two under
STORAGE_PATH/imports (no state in the process), named for its user.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import audit, registers, tabular
from core.auth import access
from core.db import db, savepoint
from core.forms import CSRFForm
from core.registers import Register

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

    def count(self, state: str) -> int:
        return sum(1 for o in self.outcomes if o.state == state)

    @property
    def ok(self) -> bool:
        return not any(o.state == ERROR for o in self.outcomes)


def _args():
    return {k: v for k, v in request.args.items() if k not in ("page", "per_page")}


def export(register: Register, fmt: str):
    return tabular.export_response(register.fields, register.rows(request.args), fmt=fmt,
                                   filename=f"itaku-{register.name}", title=register.name)


def template(register: Register, fmt: str):
    return tabular.export_response(register.writable_fields(), list, fmt=fmt,
                                   filename=f"itaku-{register.name}-template", title=register.name)


# --- import ---------------------------------------------------------------------------

def plan(register: Register, sheet: tabular.Sheet, positions: dict[str, int]) -> Plan:
    """Validate and apply every row inside savepoints, in the caller's
    transaction (which commits or rolls back)."""
    outcomes: list[Outcome] = []
    touched: dict[int, int] = {}  # record id → the line that wrote it
    writable = register.writable_fields()
    for line, row in enumerate(sheet.rows, start=2):
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
    return Plan(outcomes)


def _pending_path(token: str) -> Path:
    return Path(current_app.config["STORAGE_PATH"]) / "imports" / f"{current_user.id}-{token}"


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
    with audit.deferred():  # rolled back: the trail's head is never locked
        result = plan(register, sheet, positions)
        db.session.rollback()  # a preview writes nothing
    token = secrets.token_hex(16)
    path = _pending_path(token)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return render_template("exchange/import.html", register=register, form=form, plan=result, token=token,
                           filename=filename, encoding=sheet.encoding,
                           ignored=[h for i, h in enumerate(sheet.headers) if i not in positions.values() and h])


def confirm(register: Register):
    form = CSRFForm()
    token = request.form.get("token", "")
    path = _pending_path(token) if token.isalnum() and len(token) == 32 else None
    if not form.validate_on_submit() or path is None or not path.is_file():
        flash(_("取り込むファイルが見つかりません。もう一度アップロードしてください。"), "warning")
        return redirect(url_for(f"exchange.{register.name}_import"))
    data = path.read_bytes()
    filename = request.form.get("filename", "")[:200]
    try:
        sheet, positions = _prepare(register, data)
    except tabular.FileProblem as error:
        flash(str(error), "danger")
        return redirect(url_for(f"exchange.{register.name}_import"))
    with audit.deferred():  # the entries are appended in one step at the commit
        result = plan(register, sheet, positions)
        return _finish(register, form, result, data, sheet, token, filename, path)


def _finish(register, form, result, data, sheet, token, filename, path):
    if not result.ok:
        # The data changed since the preview: nothing is written, the new findings are shown.
        db.session.rollback()
        flash(_("確認の後にデータが変わったため、取り込みませんでした。内容を確かめてください。"), "danger")
        return render_template("exchange/import.html", register=register, form=form, plan=result, token=token,
                               filename=filename, encoding=sheet.encoding, ignored=[]), 409
    audit.log("import", None, object_type=register.model.__tablename__, changes={
        "file": filename, "sha256": hashlib.sha256(data).hexdigest(), "rows": len(result.outcomes),
        "new": result.count(NEW), "changed": result.count(CHANGED), "unchanged": result.count(UNCHANGED)})
    db.session.commit()
    path.unlink(missing_ok=True)
    flash(_("取り込みました: 新規 %(new)s件、変更 %(changed)s件、変更なし %(unchanged)s件。",
            new=result.count(NEW), changed=result.count(CHANGED), unchanged=result.count(UNCHANGED)), "success")
    return redirect(url_for(register.list_endpoint))


def init_app(app) -> None:
    """Give every register its export (and, if importable, import) routes
    (a blueprint per application: tests build many)."""
    bp = Blueprint("exchange", __name__)
    for register in registers.all_registers():
        _routes(bp, register)
    app.register_blueprint(bp)


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

    bp.add_url_rule(f"{prefix}/import/template.<any(csv, xlsx):fmt>", f"{name}_template",
                    access(register.writers)(do_template))
    bp.add_url_rule(f"{prefix}/import", f"{name}_import", access(register.writers)(do_import),
                    methods=["GET", "POST"])
    bp.add_url_rule(f"{prefix}/import/confirm", f"{name}_confirm", access(register.writers)(do_confirm),
                    methods=["POST"])
