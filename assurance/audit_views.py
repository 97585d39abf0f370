"""監査 (policy §7): audit plans and findings, at /audits (the audit trail is
/audit).  Load → authorise → validate → assurance.audits → commit → redirect.

The auditor role writes here and nowhere else: it still changes no register
(tests/assurance/test_audits_probe.py)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from assurance import audit_parts, audits
from assurance.audit_forms import METHODS, CloseForm, FindingForm, MeasureForm, PlanForm, ResponseForm
from assurance.audit_models import AuditFinding, AuditPlan, AuditPlanAuditor, FindingStatus, PlanStatus
from core import inspection, plugins
from core.auth import AUDIT_READERS, access, can_view
from core.db import db
from core.forms import STALE_MESSAGE, CSRFForm, select_choices, show_refusal, unit_choices
from core.i18n import locale_code
from core.measures import measures_for
from core.models import Role
from core.refusals import Refusal
from core.timeutil import fiscal_year, fiscal_year_label, today

bp = Blueprint("audits", __name__, url_prefix="/audits")

WRITERS = audits.WRITERS


def _plan_or_404(plan_id: int) -> AuditPlan:
    plan = db.session.scalar(select(AuditPlan).where(AuditPlan.id == plan_id).options(
        selectinload(AuditPlan.unit_links), selectinload(AuditPlan.auditor_links).selectinload(AuditPlanAuditor.user),
        selectinload(AuditPlan.targets)))
    if plan is None:
        abort(404)
    return plan


def _finding_or_404(finding_id: int) -> AuditFinding:
    finding = db.session.get(AuditFinding, finding_id)
    if finding is None:
        abort(404)
    return finding


def _flash_refusal(error: Refusal) -> None:
    flash(str(error), "danger")


def _warn(warnings) -> None:
    for warning in warnings:
        flash(str(warning), "warning")


# --- plans -----------------------------------------------------------------------------

@bp.get("/")
@access(AUDIT_READERS)
def index():
    plans = db.session.scalars(select(AuditPlan).order_by(AuditPlan.fiscal_year.desc(), AuditPlan.id.desc())).all()
    counts = {(plan_id, status): n for plan_id, status, n in db.session.execute(
        select(AuditFinding.plan_id, AuditFinding.status, func.count()).group_by(AuditFinding.plan_id,
                                                                                 AuditFinding.status))}
    return render_template("audits/index.html", plans=plans, counts=counts, statuses=list(FindingStatus),
                           fy_label=fiscal_year_label)


def _plan_form(plan: AuditPlan | None) -> PlanForm:
    form = PlanForm(obj=plan) if plan is not None else PlanForm(fiscal_year=fiscal_year(today()),
                                                                   method=METHODS[0])
    house = plugins.registry()
    form.auditor_ids.choices = select_choices(audits.auditor_choices())
    form.unit_ids.choices = select_choices(unit_choices(include_blank=False))
    form.registers.choices = select_choices([(source.kind, source.label) for source in house.auditables])
    form.targets.choices = select_choices([(f"{source.kind}:{record_id}", f"{source.label}: {text}")
                                           for source in house.auditables for record_id, text in source.choices()])
    if plan is not None and request.method == "GET":
        form.auditor_ids.data = sorted(plan.auditor_ids)
        form.unit_ids.data = [link.unit_id for link in plan.unit_links]
        form.registers.data = list(plan.registers or [])
        form.targets.data = [target.key for target in plan.targets]
        form.version.data = plan.version
    return form


def _targets(values) -> list[tuple[str, int]]:
    found = []
    for value in values or []:
        kind, _sep, record_id = str(value).partition(":")
        if record_id.isdigit():
            found.append((kind, int(record_id)))
    return found


def _save_plan(plan: AuditPlan | None):
    form = _plan_form(plan)
    if form.validate_on_submit():
        if plan is not None and form.is_stale(plan):
            flash(STALE_MESSAGE, "warning")
            return redirect(url_for("audits.plan_edit", plan_id=plan.id))
        try:
            plan, warnings = audits.save_plan(
                plan, user=current_user, fiscal_year=form.fiscal_year.data, title=form.title.data,
                method=form.method.data, period_start=form.period_start.data, period_end=form.period_end.data,
                registers=form.registers.data or [], unit_ids=form.unit_ids.data or [],
                auditor_ids=form.auditor_ids.data or [], targets=_targets(form.targets.data))
        except Refusal as error:
            db.session.rollback()
            show_refusal(form, error)
        else:
            db.session.commit()
            flash(_("監査計画を保存しました。"), "success")
            _warn(warnings)
            return redirect(url_for("audits.plan", plan_id=plan.id))
    return render_template("audits/plan_form.html", form=form, plan=plan, methods=METHODS)


@bp.route("/new", methods=["GET", "POST"])
@access(*WRITERS)
def plan_new():
    return _save_plan(None)


@bp.route("/<int:plan_id>/edit", methods=["GET", "POST"])
@access(*WRITERS)
def plan_edit(plan_id: int):
    plan = _plan_or_404(plan_id)
    if plan.status is PlanStatus.REPORTED:
        flash(_("報告済みの監査計画は変更できません。"), "warning")
        return redirect(url_for("audits.plan", plan_id=plan.id))
    return _save_plan(plan)


@bp.get("/<int:plan_id>")
@access(AUDIT_READERS)
def plan(plan_id: int):
    plan = _plan_or_404(plan_id)
    names = audits.describe_targets([(t.kind, t.record_id) for t in plan.targets])
    house = plugins.registry()
    return render_template("audits/plan.html", plan=plan, warnings=audits.independence_warnings(plan),
                           targets=[(t, names[(t.kind, t.record_id)], house.auditable(t.kind)) for t in plan.targets],
                           labels={source.kind: source.label for source in house.auditables},
                           may_write=current_user.has_role(*WRITERS), next_status=audits.NEXT_STATUS.get(plan.status),
                           status_form=CSRFForm(), fy_label=fiscal_year_label)


@bp.post("/<int:plan_id>/status")
@access(*WRITERS)
def plan_status(plan_id: int):
    plan = _plan_or_404(plan_id)
    form = CSRFForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        audits.advance(plan, current_user)
    except Refusal as error:
        db.session.rollback()
        _flash_refusal(error)
    else:
        db.session.commit()
        flash(_("監査計画の状態を「%(status)s」にしました。", status=plan.status.label), "success")
    return redirect(url_for("audits.plan", plan_id=plan_id))


# --- findings --------------------------------------------------------------------------

def _trim(text: str, limit: int = 50) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _finding_form(plan: AuditPlan) -> FindingForm:
    form = FindingForm()
    form.criterion_code.choices = select_choices(
        [("", _("（点検項目を選ばない）"))] + [(item.code, f"{item.code} {_trim(item.text(locale_code()))}") for item in inspection.active_items()])
    names = audits.describe_targets([(t.kind, t.record_id) for t in plan.targets])
    form.target.choices = select_choices([("", _("（記録を特定しない）"))] + [
        (t.key, names[(t.kind, t.record_id)]) for t in plan.targets])
    units = [(link.unit_id, link.unit.path) for link in plan.unit_links] or unit_choices(include_blank=False)
    form.unit_id.choices = select_choices([("", _("（選択してください）"))] + list(units))
    return form


@bp.route("/<int:plan_id>/findings/new", methods=["GET", "POST"])
@access(*WRITERS)
def finding_new(plan_id: int):
    plan = _plan_or_404(plan_id)
    form = _finding_form(plan)
    if form.validate_on_submit():
        targets = _targets([form.target.data]) if form.target.data else []
        try:
            finding = audits.add_finding(
                plan, user=current_user, severity=audits.Severity(form.severity.data), condition=form.condition.data,
                recommendation=form.recommendation.data, criterion_code=form.criterion_code.data or None,
                criterion_text=form.criterion_text.data, target=targets[0] if targets else None,
                unit_id=form.unit_id.data)
        except Refusal as error:
            db.session.rollback()
            show_refusal(form, error)
        else:
            db.session.commit()
            flash(_("指摘 %(number)s を登録しました。", number=finding.number), "success")
            return redirect(url_for("audits.finding", finding_id=finding.id))
    return render_template("audits/finding_form.html", form=form, plan=plan)


@bp.get("/findings/<int:finding_id>")
@access(any_user=True)
def finding(finding_id: int):
    finding = _finding_or_404(finding_id)
    return _finding_page(finding)


def _finding_page(finding: AuditFinding, *, response_form=None, close_form=None, measure_form=None, status=200):
    plan = finding.plan
    house = plugins.registry()
    record = None
    if finding.record_kind:
        key = (finding.record_kind, finding.record_id)
        source = house.auditable(finding.record_kind)
        text = audits.describe_targets([key])[key]
        link = (url_for(source.endpoint, **{source.param: finding.record_id})
                if source is not None and can_view(source.endpoint) else None)
        record = (text, link)
    responsible = audits.responsible_ids(finding)
    may_write = current_user.has_role(*WRITERS)
    if measure_form is None and may_write:
        measure_form = MeasureForm()
    if measure_form is not None:
        if request.method == "GET" and responsible:
            measure_form.owner_id.data = min(responsible)
    return render_template(
        "audits/finding.html", finding=finding, plan=plan, record=record,
        measures=measures_for(audits.SOURCE, [finding.id])[finding.id],
        may_read_plan=current_user.has_role(*AUDIT_READERS),
        may_respond=audits.may_respond(current_user, finding), may_close=audits.may_close(current_user, finding),
        may_measure=may_write and finding.severity.needs_measure and finding.is_open,
        is_party=audits.is_audited_party(current_user, finding, responsible),
        response_form=response_form or ResponseForm(obj=finding), close_form=close_form or CloseForm(),
        measure_form=measure_form, today=today()), status


@bp.post("/findings/<int:finding_id>/respond")
@access(any_user=True)  # the audited party, whatever their role: the rule is checked below (403)
def finding_respond(finding_id: int):
    finding = _finding_or_404(finding_id)
    if not audits.may_respond(current_user, finding) and finding.is_open:
        abort(403)
    form = ResponseForm()
    if not form.validate_on_submit():
        return _finding_page(finding, response_form=form, status=400)
    try:
        audits.respond(finding, user=current_user, text=form.response.data)
    except Refusal as error:
        db.session.rollback()
        _flash_refusal(error)
    else:
        db.session.commit()
        flash(_("回答を登録しました。"), "success")
    return redirect(url_for("audits.finding", finding_id=finding_id))


@bp.post("/findings/<int:finding_id>/close")
@access(Role.AUDITOR)
def finding_close(finding_id: int):
    finding = _finding_or_404(finding_id)
    form = CloseForm()
    if not form.validate_on_submit():
        return _finding_page(finding, close_form=form, status=400)
    try:
        audits.close(finding, user=current_user, note=form.closure_note.data or "")
    except Refusal as error:
        db.session.rollback()
        _flash_refusal(error)
    else:
        db.session.commit()
        flash(_("指摘 %(number)s を完了にしました。", number=finding.number), "success")
    return redirect(url_for("audits.finding", finding_id=finding_id))


@bp.post("/findings/<int:finding_id>/measures")
@access(*WRITERS)
def finding_measure(finding_id: int):
    finding = _finding_or_404(finding_id)
    form = MeasureForm()
    if not form.validate_on_submit():
        return _finding_page(finding, measure_form=form, status=400)
    try:
        audits.open_finding_measure(finding, user=current_user, measure=form.measure.data, due_on=form.due_on.data,
                                    owner_id=form.owner_id.data)
    except Refusal as error:
        db.session.rollback()
        _flash_refusal(error)
    else:
        db.session.commit()
        flash(_("改善措置を登録しました。"), "success")
    return redirect(url_for("audits.finding", finding_id=finding_id))


def init_app(app) -> None:
    app.register_blueprint(bp)
    audit_parts.init_app(app)
