"""改善措置 (improvement measures, issue 18): the pages of the measures any
finding opens (core.measures.Measure) — the list and one measure's page with
its steps — and what they add to the dashboard, the due items (reminders,
calendar), the inbox and the handover (人事異動).

Every staff role reads them; the steps are the measure's own rules
(core.measures.rules_for: its owner starts and reports it, someone else
confirms it).  A contract finding's measure keeps its page under
verification.finding; both draw the same macros (_macros/measure.html)."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core import audit, due, files, inbox, measures, plugins
from core.auth import access
from core.dashboard import Panel, Tile, scope_unit, statement
from core.db import db
from core.due import DueItem
from core.forms import STALE_MESSAGE, CSRFForm, MeasureForm, ReportDoneForm
from core.lists import ListView, enum_filter
from core.measures import Measure, MeasureStatus
from core.models import Role
from core.timeutil import today

bp = Blueprint("measures", __name__, url_prefix="/measures")

READERS = frozenset(Role)  # every staff role, the auditor and the security lead among them
YES = [("yes", _l("はい"))]


def _mine(stmt, value):
    return stmt.where(Measure.owner_id == current_user.id) if value == "yes" else stmt


def _overdue(stmt, value):
    return stmt.where(measures.overdue(Measure)) if value == "yes" else stmt


def _open(stmt, value):
    return stmt.where(Measure.status.in_(measures.OPEN_STATUSES)) if value == "yes" else stmt


def _source(stmt, value):
    return stmt.where(Measure.source_type == value)


MEASURES = ListView(
    search=[Measure.title, Measure.measure],
    filters={"mine": _mine, "open": _open, "overdue": _overdue, "status": enum_filter(Measure.status, MeasureStatus),
             "source": _source},
    sorts={"due": Measure.due_on, "status": Measure.status, "title": Measure.title},
    default_sort="due",
)


@bp.get("")
@access(READERS)
def index():
    pagination, state = MEASURES.apply(select(Measure).options(selectinload(Measure.owner)))
    sources = [(source.source_type, str(source.label)) for source in plugins.registry().measure_sources]
    return render_template("measures/index.html", pagination=pagination, state=state, yes=YES,
                           statuses=MeasureStatus.choices(), sources=sources, today=today(),
                           source_label=measures.source_label)


def _may(row) -> dict:
    rules = measures.rules_for(row)
    return {"edit": rules.may_edit(current_user, row), "begin": rules.may_begin(current_user, row),
            "report": rules.may_report(current_user, row), "accept": rules.may_accept(current_user, row)}


def _page(row: Measure, *, measure_form=None, report_form=None, status_code=200):
    if measure_form is None:
        measure_form = MeasureForm(obj=row, version=row.version)
    link = measures.source_link(row)
    return render_template(
        "measures/detail.html", row=row, measure_form=measure_form, report_form=report_form or ReportDoneForm(),
        decision_form=CSRFForm(), pending=measures.pending_closure(row), may=_may(row), today=today(),
        source_label=measures.source_label(row), source_url=url_for(link[0], **link[1]) if link else None,
        audit_entries=audit.history(row)), status_code


def _back(row: Measure):
    return redirect(url_for("measures.detail", measure_id=row.id))


@bp.get("/<int:measure_id>")
@access(READERS)
def detail(measure_id: int):
    return _page(db.get_or_404(Measure, measure_id))


@bp.post("/<int:measure_id>/edit")
@access(any_user=True)  # the one who opened it, the security lead, administrators (Rules.may_edit)
def edit(measure_id: int):
    row = db.get_or_404(Measure, measure_id)
    if not measures.rules_for(row).may_edit(current_user, row):
        abort(403)
    form = MeasureForm()
    if not form.validate_on_submit():
        return _page(row, measure_form=form, status_code=400)
    if form.is_stale(row):
        flash(STALE_MESSAGE, "warning")
        return _page(row, status_code=409)
    try:
        measures.update(row, measure=form.measure.data, owner_id=form.owner_id.data, due_on=form.due_on.data)
    except measures.MeasureRefusal as error:
        db.session.rollback()
        flash(str(error), "danger")
        return _page(row, status_code=409)
    db.session.commit()
    flash(_("措置を更新しました。"), "success")
    return _back(row)


@bp.post("/<int:measure_id>/begin")
@access(any_user=True)  # the owner, the security lead, administrators (Rules.may_begin)
def begin(measure_id: int):
    """着手: 未着手 → 対応中."""
    row = db.get_or_404(Measure, measure_id)
    if not measures.rules_for(row).may_begin(current_user, row):
        abort(403)
    if not CSRFForm().validate_on_submit():
        abort(400)
    try:
        measures.begin(row, user=current_user)
    except measures.MeasureRefusal as error:
        db.session.rollback()
        flash(str(error), "warning")
        return _back(row)
    db.session.commit()
    flash(_("措置に着手しました。"), "success")
    return _back(row)


@bp.post("/<int:measure_id>/report")
@access(any_user=True)  # the owner, the security lead, administrators (Rules.may_report)
def report(measure_id: int):
    """完了報告 with an evidence file: someone other than the reporter confirms it."""
    row = db.get_or_404(Measure, measure_id)
    if not measures.rules_for(row).may_report(current_user, row):
        abort(403)
    form = ReportDoneForm()
    if form.validate_on_submit():
        try:
            evidence = files.store(form.evidence.data, allowed=files.EVIDENCE_TYPES,
                                   max_bytes=files.MAX_EVIDENCE_BYTES, user=current_user)
            measures.report(row, note=form.note.data, evidence=evidence, user=current_user)
        except files.FileRejected as error:
            db.session.rollback()
            form.evidence.errors.append(str(error))
        except measures.MeasureRefusal as error:
            db.session.rollback()
            flash(str(error), "danger")
            return _page(row, status_code=409)
        else:
            db.session.commit()
            flash(_("完了報告を登録しました。報告者以外の確認者が確認します。"), "success")
            return _back(row)
    return _page(row, report_form=form, status_code=400)


@bp.post("/<int:measure_id>/<any(accept, return):decision>")
@access(any_user=True)  # the source's acceptors, never the reporter (Rules.may_accept, four-eyes)
def decide(measure_id: int, decision: str):
    """確認 or 差戻し of a completion report."""
    row = db.get_or_404(Measure, measure_id)
    if not measures.rules_for(row).may_accept(current_user, row):
        abort(403)
    if not CSRFForm().validate_on_submit():
        abort(400)
    try:
        measures.decide_closure(row, user=current_user, accept=decision == "accept",
                                comment=request.form.get("comment", "")[:2000])
    except measures.MeasureRefusal as error:
        db.session.rollback()
        flash(str(error), "danger")
        return _page(db.get_or_404(Measure, measure_id), status_code=409)
    db.session.commit()
    flash(_("措置の完了を確認しました。") if decision == "accept" else _("措置を差し戻しました。"), "success")
    return _back(row)


@bp.get("/<int:measure_id>/evidence")
@access(READERS)
def evidence(measure_id: int):
    row = db.get_or_404(Measure, measure_id)
    if row.closure_evidence is None:
        abort(404)
    return files.send(row.closure_evidence)


# --- the dashboard, due items, the inbox ------------------------------------------------

def dashboard_panel(user) -> Panel:
    unit = scope_unit(user)
    counted = select(func.count()).select_from(Measure)
    if unit:
        counted = counted.where(Measure.unit_id == unit)

    def count(name, condition):
        return statement(("measures", *name, unit), lambda: counted.where(condition()))
    by_status = [Tile(status.label, count(("status", status.value), lambda status=status: Measure.status == status),
                      "measures.index", {"status": status.value}) for status in MeasureStatus]
    return Panel(_l("改善措置"), "measures.index", [
        Tile(_l("期限を過ぎた改善措置"), count(("overdue",), lambda: measures.overdue(Measure)), "measures.index",
             {"overdue": "yes"}, alert=True),
        Tile(_l("未完了の改善措置"), count(("open",), lambda: Measure.status.in_(measures.OPEN_STATUSES)),
             "measures.index", {"open": "yes"}, in_chart=False),
        *by_status,
    ])


def _due_statements(scope: due.DueScope) -> list:
    stmt = select(Measure.id, Measure.title, Measure.measure, Measure.due_on, Measure.owner_id).where(
        Measure.status.in_(measures.OPEN_STATUSES))
    owners = scope.owners()
    return [stmt] if owners is None else [stmt.where(due.owned(Measure.owner_id, owner)) for owner in owners]


def due_items(scope: due.DueScope = due.EVERYONE) -> list[DueItem]:
    """The open improvement measures in ``scope``, by their owner."""
    return [DueItem(key=f"improvement:{measure_id}:{due_on.isoformat()}", kind="measure",
                    title=f"改善措置期限 {title}: {measure[:60]}", due_on=due_on, owner_id=owner_id,
                    endpoint="measures.detail", params={"measure_id": measure_id})
            for stmt in _due_statements(scope)
            for measure_id, title, measure, due_on, owner_id in db.session.execute(
                due.window(scope, stmt, Measure.due_on, Measure.id))]


def due_count(scope: due.DueScope = due.EVERYONE) -> int:
    return due.tally_all(scope, [(stmt, Measure.due_on, dt.timedelta()) for stmt in _due_statements(scope)])


def inbox_entries(user) -> list[inbox.Entry]:
    """The completion reports ``user`` may confirm (never their own)."""
    if not user.has_role(*measures.acceptor_roles()):
        return []
    return [inbox.request_entry(_l("改善措置の完了確認"), request,
                                _("%(title)s の改善措置の完了報告", title=row.title),
                                "measures.detail", {"measure_id": row.id})
            for request, row in inbox.pending(measures.CLOSURE, Measure)
            if row is not None and measures.may_confirm(user, row) and inbox.may_decide(request, user)]


def init_app(app) -> None:
    app.register_blueprint(bp)
    house = plugins.registry(app)
    house.add_panel(27, dashboard_panel)
    house.add_due(due_items, labels={"measure": _l("措置期限")}, count=due_count)
    house.add_inbox(inbox_entries)
    measures.add_responsibilities(house)
