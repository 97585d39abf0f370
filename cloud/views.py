"""外部サービス: the register, its usage rules and the approval workflow.
Load → authorise (the access rule) → validate → cloud.services → commit →
redirect."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cloud import checklist, documents, rules, services
from cloud.forms import (
    DecisionForm,
    DeletionForm,
    InformationForm,
    ResubmitForm,
    RetireForm,
    UsageRulesForm,
    service_form,
)
from cloud.lists import LIST
from cloud.models import (
    IN_USE,
    Agreement,
    CloudInformation,
    CloudService,
    CloudServiceUnit,
    DeletionMethod,
    InformationState,
    ServiceStatus,
    Track,
)
from core import approvals, audit, files, pdf
from core.approvals import ApprovalError
from core.auth import ALL_ROLES, access
from core.dashboard import Panel, Tile, scope_unit, statement, status_panel
from core.db import db
from core.forms import (
    STALE_MESSAGE,
    CSRFForm,
    ReviewForm,
    classification_levels,
    level_choices,
    unit_choices,
)
from core.i18n import locale_code
from core.models import ClassificationLevel, OrgUnit, Role
from core.parts import record_end_of_life
from core.timeutil import today

bp = Blueprint("cloud", __name__, url_prefix="/cloud")

# Who registers services and asks for their approval, and who decides.
WRITERS = Role.PROCUREMENT
DECIDERS = rules.DECIDERS


@bp.route("/")
@access(ALL_ROLES)
def index():
    pagination, state = LIST.apply(
        select(CloudService).outerjoin(CloudService.vendor).options(
            selectinload(CloudService.vendor), selectinload(CloudService.ceiling)))
    return render_template(
        "cloud/index.html", pagination=pagination, state=state,
        flags=rules.FLAGS.of_ids([s.id for s in pagination.items]), flag_set=rules.FLAGS, class2=rules.class2_rank(),
        statuses=ServiceStatus.choices(), agreements=Agreement.choices(), tracks=Track.choices(),
        flag_choices=rules.FLAGS.choices(), units=unit_choices(include_blank=False),
        can_write=current_user.has_role(WRITERS))


def _service(service_id: int) -> CloudService:
    return db.get_or_404(CloudService, service_id, options=[
        selectinload(CloudService.information).selectinload(CloudInformation.classification),
        selectinload(CloudService.unit_links).selectinload(CloudServiceUnit.unit).selectinload(OrgUnit.parent),
        selectinload(CloudService.rule_versions)])


@bp.route("/register.pdf")
@access(ALL_ROLES)
def register_pdf():
    with force_locale("ja"):
        section = documents.register_section()
        rendered = pdf.render(section.title, [section], user=current_user)
    pdf.record_print(rendered, document="cloud_register", object_type="cloud_services")
    db.session.commit()
    return pdf.send(rendered, "外部サービス台帳.pdf")


@bp.route("/<int:service_id>")
@access(ALL_ROLES)
def detail(service_id: int):
    return _detail(_service(service_id))


def _detail(service: CloudService, *, info_form=None, resubmit_form=None, review_form=None, retire_form=None,
            status_code=200):
    history = rules.approvals_for(service)
    previous = rules.last_granted(service) if service.status is ServiceStatus.REQUESTED else None
    info_form = info_form or InformationForm()
    info_form.classification_id.choices = level_choices(blank=_("（選択してください）"))
    levels = {level.code: level for level in classification_levels()}
    return render_template(
        "cloud/detail.html", service=service, flags=rules.flags(service), track=rules.track(service),
        blockers=rules.blockers(service), warning_codes=rules.warnings(service), warning_texts=rules.WARNINGS,
        approvals=history, pending=next((a for a in history if a.decision.value == "pending"), None),
        previous=previous, levels=levels, info_form=info_form, locale=locale_code(),
        resubmit_form=resubmit_form or ResubmitForm(), review_form=review_form or ReviewForm(reviewed_on=today()),
        retire_form=retire_form or RetireForm(), checklist_items=checklist.BY_CODE,
        answers={answer.value: answer.label for answer in checklist.Answer}, can_write=current_user.has_role(WRITERS),
        can_decide=current_user.has_role(*DECIDERS), in_use=service.status in IN_USE,
        held_classified=rules.held_classified(service),
        audit_entries=audit.history(service, *service.information, *service.rule_versions, service.deletion, *history),
    ), status_code


@bp.route("/new", methods=["GET", "POST"])
@access(WRITERS)
def new():
    form = service_form()
    if request.method == "GET":
        form.unit_ids.data = [current_user.unit_id] if current_user.unit_id else []
    if form.validate_on_submit():
        service = services.save(form, CloudService(), current_user)
        if service:
            db.session.commit()
            flash(_("外部サービス「%(name)s」の利用を申請しました。次に取り扱う情報と利用規定を登録してください。",
                    name=service.name), "success")
            return redirect(url_for("cloud.detail", service_id=service.id))
    return render_template("cloud/form.html", form=form, service=None), 400 if form.errors else 200


@bp.route("/<int:service_id>/edit", methods=["GET", "POST"])
@access(WRITERS)
def edit(service_id: int):
    service = _service(service_id)
    if service.status is ServiceStatus.RETIRED:
        flash(_("廃止したサービスは変更できません。"), "warning")
        return redirect(url_for("cloud.detail", service_id=service.id))
    form = service_form(service, version=service.version)
    if form.validate_on_submit():
        if form.is_stale(service):
            flash(STALE_MESSAGE, "warning")
            form = service_form(service, version=service.version, formdata=None)
            form.unit_ids.data = [link.unit_id for link in service.unit_links]
            return render_template("cloud/form.html", form=form, service=service), 409
        status = service.status
        if services.save(form, service, current_user):
            db.session.commit()
            flash(_("外部サービス「%(name)s」を更新しました。", name=service.name), "success")
            if status is not service.status:
                flash(_("承認済みの内容が変わったため、申請中に戻りました。改めて承認を受けてください。"), "warning")
            return redirect(url_for("cloud.detail", service_id=service.id))
    return render_template("cloud/form.html", form=form, service=service), 400 if form.errors else 200


# --- information kinds, usage rules ---------------------------------------------------

def _refused(service: CloudService, error: Exception, **forms):
    db.session.rollback()
    flash(str(error), "danger")
    return _detail(_service(service.id), status_code=409, **forms)


def _turned_back(service_id: int, error: Exception):
    """A refused action that has no form to correct: the reason flashed, and
    back to the service's page (Post/Redirect/Get: reloading posts nothing)."""
    db.session.rollback()
    flash(str(error), "danger")
    return redirect(url_for("cloud.detail", service_id=service_id), code=303)


def _returned_to_request(service: CloudService, status: ServiceStatus) -> None:
    if status is not service.status and service.status is ServiceStatus.REQUESTED:
        flash(_("承認済みの内容が変わったため、申請中に戻りました。改めて承認を受けてください。"), "warning")


@bp.route("/<int:service_id>/information", methods=["POST"])
@access(WRITERS)
def information_add(service_id: int):
    service = _service(service_id)
    form = InformationForm()
    form.classification_id.choices = level_choices(blank="")
    if not form.validate_on_submit():
        return _detail(service, info_form=form, status_code=400)
    status = service.status
    try:
        services.add_information(service, current_user, name=form.info_name.data,
                              classification=db.session.get(ClassificationLevel, form.classification_id.data),
                              state=InformationState(form.state.data), note=form.note.data,
                              personal=form.personal.data)
    except rules.CloudRuleError as error:
        return _refused(service, error)
    db.session.commit()
    flash(_("取り扱う情報を追加しました。"), "success")
    _returned_to_request(service, status)
    if rules.over_ceiling(service):
        flash(_("取扱上限を超える情報があります。このままでは承認できません。"), "danger")
    return redirect(url_for("cloud.detail", service_id=service.id) + "#information")


@bp.route("/<int:service_id>/information/<int:info_id>/delete", methods=["POST"])
@access(WRITERS)
def information_delete(service_id: int, info_id: int):
    service = _service(service_id)
    info = db.get_or_404(CloudInformation, info_id)
    if info.service_id != service.id:
        abort(404)
    if not CSRFForm().validate_on_submit():
        abort(400)
    status = service.status
    try:
        services.remove_information(service, current_user, info)
    except rules.CloudRuleError as error:
        return _turned_back(service_id, error)
    db.session.commit()
    flash(_("取り扱う情報を削除しました。"), "success")
    _returned_to_request(service, status)
    return redirect(url_for("cloud.detail", service_id=service.id) + "#information")


DEFAULT_RULES = {
    "users": _l("利用部署の職員のうち、外部サービス管理者が利用を認めた者"),
    "purposes": _l("登録した利用目的の業務に限る"),
    "prohibited": _l("取扱上限を超える機密性の情報、個人情報（特に認めたものを除く）、パスワード等の認証情報"),
    "accounts": _l("組織が管理するアカウントだけを使い、個人で取得したアカウントでの利用を禁止する。"
                   "異動・退職時は速やかにアカウントを削除する。"),
}


@bp.route("/<int:service_id>/rules")
@access(ALL_ROLES)
def rules_history(service_id: int):
    service = _service(service_id)
    return render_template("cloud/rules.html", service=service, can_write=current_user.has_role(WRITERS))


@bp.route("/<int:service_id>/rules/new", methods=["GET", "POST"])
@access(WRITERS)
def rules_new(service_id: int):
    service = _service(service_id)
    if service.status is ServiceStatus.RETIRED:
        flash(_("廃止したサービスは変更できません。"), "warning")
        return redirect(url_for("cloud.detail", service_id=service.id))
    current = service.current_rules
    form = UsageRulesForm(obj=current, version=service.version, data=None if current else {key: str(text) for key, text in DEFAULT_RULES.items()})
    if form.validate_on_submit():
        if form.is_stale(service):
            flash(STALE_MESSAGE, "warning")
            return redirect(url_for("cloud.rules_new", service_id=service.id))
        status = service.status
        try:
            version = services.add_rules(service, current_user, users=form.users.data, purposes=form.purposes.data,
                                         prohibited=form.prohibited.data, accounts=form.accounts.data,
                                         other=form.other.data)
            db.session.commit()
        except rules.CloudRuleError as error:
            db.session.rollback()
            flash(str(error), "danger")
            return redirect(url_for("cloud.detail", service_id=service.id))
        flash(_("利用規定 第%(number)s版を登録しました。", number=version.number), "success")
        _returned_to_request(service, status)
        return redirect(url_for("cloud.detail", service_id=service.id) + "#rules")
    return render_template("cloud/rules_form.html", service=service, form=form, current=current), \
        400 if form.errors else 200


# --- decisions -------------------------------------------------------------------------

@bp.route("/<int:service_id>/decide", methods=["GET", "POST"])
@access(DECIDERS)
def decide(service_id: int):
    service = _service(service_id)
    approval = rules.pending(service)
    if approval is None:
        flash(_("承認待ちの申請はありません。"), "info")
        return redirect(url_for("cloud.detail", service_id=service.id))
    items = checklist.items_for(service.agreement is Agreement.TERMS)
    form = DecisionForm()
    if request.method == "GET":
        for item in items:
            form.checklist.append_entry({"code": item.code, "answer": checklist.Answer.NOT_CHECKED.value})
    rows = list(zip(form.checklist, items, strict=False))
    status_code = 200
    if form.validate_on_submit():
        answers = {row.form.code.data: row.form for row in form.checklist}
        try:
            services.decide(service, approval, current_user, outcome=form.outcome.data, comment=form.comment.data,
                         answers={code: (row.answer.data, row.comment.data) for code, row in answers.items()},
                         acknowledged=form.acknowledged.data)
        except (rules.CloudRuleError, ApprovalError) as error:
            db.session.rollback()
            flash(str(error), "danger")
            service = _service(service_id)
            status_code = 409
        else:
            db.session.commit()
            flash(_("「%(name)s」を%(decision)sとしました。", name=service.name, decision=service.status.label),
                  "success")
            return redirect(url_for("cloud.detail", service_id=service.id) + "#approvals")
    elif form.is_submitted():
        status_code = 400
    return render_template(
        "cloud/decide.html", service=service, approval=approval, form=form, rows=rows,
        blockers=rules.blockers(service), warning_codes=rules.warnings(service), warning_texts=rules.WARNINGS,
        track=rules.track(service), flags=rules.flags(service), locale=locale_code(),
        self_request=approval.requested_by_id == current_user.id,
        self_edited=approvals.edited_by(approval, current_user)), status_code


@bp.route("/<int:service_id>/resubmit", methods=["POST"])
@access(WRITERS)
def resubmit(service_id: int):
    service = _service(service_id)
    form = ResubmitForm()
    if not form.validate_on_submit():
        return _detail(service, resubmit_form=form, status_code=400)
    try:
        services.resubmit(service, current_user, form.reason.data)
    except rules.CloudRuleError as error:
        return _turned_back(service_id, error)
    db.session.commit()
    flash(_("再申請しました。申請者以外の承認者が決定します。"), "success")
    return redirect(url_for("cloud.detail", service_id=service.id) + "#approvals")


@bp.route("/<int:service_id>/review", methods=["POST"])
@access(WRITERS)
def review(service_id: int):
    service = _service(service_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        return _detail(service, review_form=form, status_code=400)
    try:
        services.record_review(service, on=form.reviewed_on.data)
    except rules.CloudRuleError as error:
        return _turned_back(service_id, error)
    db.session.commit()
    flash(_("見直しを記録しました。次回見直し日は %(date)s です。", date=service.next_review_on.isoformat()), "success")
    return redirect(url_for("cloud.detail", service_id=service.id))


@bp.route("/<int:service_id>/deletion", methods=["GET", "POST"])
@access(WRITERS)
def deletion(service_id: int):
    """データの消去・返却 (issue 17): date, method and evidence, before retiring."""
    service = _service(service_id)
    form = DeletionForm()
    if request.method == "GET":
        form.done_on.data = today()
    done = record_end_of_life(
        form, lambda: services.record_deletion(service, done_on=form.done_on.data,
                                               method=DeletionMethod.parse(form.method.data), detail=form.detail.data,
                                               upload=form.evidence.data, user=current_user),
        done=_("データの消去・返却を記録しました。"),
        back=url_for("cloud.detail", service_id=service.id) + "#deletion")
    if done:
        return done
    return render_template("cloud/deletion.html", form=form, service=service), 400 if form.errors else 200


@bp.route("/<int:service_id>/deletion/evidence")
@access(ALL_ROLES)
def deletion_evidence(service_id: int):
    service = _service(service_id)
    if service.deletion is None:
        abort(404)
    return files.send(service.deletion.evidence)


@bp.route("/<int:service_id>/retire", methods=["POST"])
@access(WRITERS)
def retire(service_id: int):
    service = _service(service_id)
    form = RetireForm()
    if not form.validate_on_submit():
        return _detail(service, retire_form=form, status_code=400)
    try:
        services.retire(service, current_user, form.retire_reason.data.strip())
    except rules.CloudRuleError as error:
        return _turned_back(service_id, error)
    db.session.commit()
    flash(_("「%(name)s」を廃止しました。記録は残ります。", name=service.name), "success")
    return redirect(url_for("cloud.detail", service_id=service.id))


# --- dashboard -----------------------------------------------------------------------

def dashboard_panel(user) -> Panel:
    unit = scope_unit(user)
    scoped = {"unit": unit} if unit else {}
    result = status_panel(_l("外部サービス"), CloudService.status, ServiceStatus, "cloud.index", unit_id=unit,
                          unit_condition=rules.used_by_unit_expr)
    rank = rules.class2_rank()  # the flags' SQL depends on it (the level from which a service is T-A)
    for flag in rules.FLAGS:
        count = statement(("cloud.flag", flag.name, unit, rank),
                          lambda name=flag.name: rules.FLAGS.count_query(name, unit))
        result.tiles.append(Tile(flag.label, count, "cloud.index",
                                 {"flag": flag.name, **scoped}, alert=True))
    return result
