"""ソーシャルメディア: the account register, operating procedures, incidents,
the pre-post check and the public list of official accounts.  Load →
authorise (the access rule) → validate → social.services → commit →
redirect."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import audit, pdf
from core.auth import SOCIAL_READERS, access
from core.dashboard import Panel, Tile, scope_unit, statement, status_panel
from core.db import db
from core.forms import (
    STALE_MESSAGE,
    CSRFForm,
    ReviewForm,
    classification_levels,
    select_choices,
    unit_choices,
)
from core.i18n import locale_code
from core.lists import int_arg
from core.models import OrgUnit, Role
from core.timeutil import today
from social import documents, prepost, rules, services
from social.forms import (
    ClosureStepForm,
    OpeningDecisionForm,
    PrePostForm,
    ProcedureDecisionForm,
    ProcedureForm,
    account_form,
)
from social.lists import LIST
from social.models import (
    OPEN,
    AccountMember,
    AccountStatus,
    ClosureStep,
    OperatingProcedure,
    Platform,
    SocialAccount,
)

bp = Blueprint("social", __name__, url_prefix="/social")

WRITERS = Role.SOCIAL
DECIDERS = rules.DECIDERS


# The list's filter menu starts with the procedure (the badges, the most urgent).
FLAG_MENU = ("no_procedure", "mfa_off", "dormant", "review_overdue", "open_incident")


@bp.route("/")
@access(SOCIAL_READERS)
def index():
    pagination, state = LIST.apply(select(SocialAccount).options(selectinload(SocialAccount.responsible)))
    return render_template("social/index.html", pagination=pagination, state=state,
                           flags=rules.FLAGS.of_ids([a.id for a in pagination.items]), flag_set=rules.FLAGS,
                           statuses=AccountStatus.choices(), platforms=Platform.choices(),
                           units=unit_choices(include_blank=False), flag_choices=rules.FLAGS.choices(FLAG_MENU),
                           can_write=current_user.has_role(WRITERS),
                           public_list=bool(current_app.config.get("PUBLIC_ACCOUNT_LIST")))


def _account(account_id: int) -> SocialAccount:
    return db.get_or_404(SocialAccount, account_id, options=[
        selectinload(SocialAccount.members).selectinload(AccountMember.user),
        selectinload(SocialAccount.procedures), selectinload(SocialAccount.incidents),
        selectinload(SocialAccount.unit).selectinload(OrgUnit.parent)])


@bp.route("/register.pdf")
@access(SOCIAL_READERS)
def register_pdf():
    with force_locale("ja"):
        section = documents.register_section()
        rendered = pdf.render(section.title, [section], user=current_user)
    pdf.record_print(rendered, document="social_register", object_type="social_accounts")
    db.session.commit()
    return pdf.send(rendered, "SNS公式アカウント台帳.pdf")


@bp.route("/<int:account_id>")
@access(SOCIAL_READERS)
def detail(account_id: int):
    return _detail(_account(account_id))


def _detail(account: SocialAccount, *, review_form=None, closure_form=None, status_code=200):
    pending = [p for p in account.procedures if p.approved_at is None and _pending(p)]
    requests = rules.opening_requests(account)
    return render_template(
        "social/detail.html", account=account, flags=rules.FLAGS.of(account),
        dormant_days=rules.dormant_days(), locale=locale_code(), pending=pending,
        review_form=review_form or ReviewForm(reviewed_on=today()), can_write=current_user.has_role(WRITERS),
        opening_requests=requests, pending_opening=next((a for a in requests if a.decision.value == "pending"), None),
        can_decide=current_user.has_role(*DECIDERS), decision_form=OpeningDecisionForm(),
        closure_form=closure_form or ClosureStepForm(done_on=today()), closure_steps=list(ClosureStep),
        open_statuses=OPEN,
        audit_entries=audit.history(account, *account.procedures, *account.incidents, *account.closure_records,
                                    *requests),
    ), status_code


def _pending(procedure: OperatingProcedure) -> bool:
    approval = rules.procedure_approval(procedure)
    return approval is not None and approval.decision.value == "pending"


DEFAULT_POSTING = {
    "allowed_content": _l("自治体機密性1の情報（公表済みの情報、防災・火災予防の啓発、イベントの案内）"),
    "forbidden_content": _l("個人情報、未公表の内部情報、著作権・肖像権を侵害するもの、誤解を招く表現"),
}


@bp.route("/new", methods=["GET", "POST"])
@access(WRITERS)
def new():
    form = account_form()
    if request.method == "GET":
        form.unit_id.data = current_user.unit_id
        form.responsible_id.data = current_user.id
        c1 = next((lv for lv in classification_levels() if lv.code == "C1"), None)
        form.posting_ceiling_id.data = c1.id if c1 else None
        for name, value in DEFAULT_POSTING.items():
            getattr(form, name).data = str(value)
    if form.validate_on_submit():
        account = services.save(form, SocialAccount(), current_user)
        if account:
            db.session.commit()
            flash(_("アカウント「%(name)s」の開設を申請しました。申請者以外の管理者・承認者が承認すると運用中になります。"
                    "あわせて運用手順を作成し、承認を受けてください。", name=account.name), "success")
            return redirect(url_for("social.detail", account_id=account.id))
    return render_template("social/form.html", form=form, account=None), 400 if form.errors else 200


@bp.route("/<int:account_id>/edit", methods=["GET", "POST"])
@access(WRITERS)
def edit(account_id: int):
    account = _account(account_id)
    form = account_form(account, version=account.version)
    if form.validate_on_submit():
        if form.is_stale(account):
            flash(STALE_MESSAGE, "warning")
            form = account_form(account, version=account.version, formdata=None)
            form.operator_ids.data = [u.id for u in account.operators]
            form.holder_ids.data = [u.id for u in account.holders]
            return render_template("social/form.html", form=form, account=account), 409
        if services.save(form, account, current_user):
            db.session.commit()
            flash(_("アカウント「%(name)s」を更新しました。", name=account.name), "success")
            return redirect(url_for("social.detail", account_id=account.id))
    return render_template("social/form.html", form=form, account=account), 400 if form.errors else 200


@bp.route("/<int:account_id>/review", methods=["POST"])
@access(WRITERS)
def review(account_id: int):
    account = _account(account_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        return _detail(account, review_form=form, status_code=400)
    try:
        services.record_review(account, on=form.reviewed_on.data)
    except rules.SocialRuleError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return _detail(_account(account_id), status_code=409)
    db.session.commit()
    flash(_("見直しを記録しました。次回見直し日は %(date)s です。", date=account.next_review_on.isoformat()), "success")
    return redirect(url_for("social.detail", account_id=account.id))


# --- opening and closing the account (issue 17) ------------------------------------------

def _turned_back(account_id: int, error: rules.SocialRuleError):
    """A refused action that has no form to correct: the reason flashed, and
    back to the account's page (Post/Redirect/Get: reloading posts nothing)."""
    db.session.rollback()
    flash(str(error), "danger")
    return redirect(url_for("social.detail", account_id=account_id), code=303)


def _refused(account_id: int, error: rules.SocialRuleError):
    db.session.rollback()
    flash(str(error), "danger")
    return _detail(_account(account_id), status_code=409)


@bp.route("/<int:account_id>/opening/<any(approve, reject):decision>", methods=["POST"])
@access(DECIDERS)
def opening_decide(account_id: int, decision: str):
    account = _account(account_id)
    form = OpeningDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.decide_opening(account, current_user, approve=decision == "approve", comment=form.comment.data)
    except rules.SocialRuleError as error:
        return _turned_back(account_id, error)
    db.session.commit()
    flash(_("アカウント「%(name)s」の開設を承認しました。", name=account.name) if decision == "approve"
          else _("アカウント「%(name)s」の開設を却下しました。", name=account.name), "success")
    return redirect(url_for("social.detail", account_id=account.id))


@bp.route("/<int:account_id>/opening/resubmit", methods=["POST"])
@access(WRITERS)
def opening_resubmit(account_id: int):
    account = _account(account_id)
    if not CSRFForm().validate_on_submit():
        abort(400)
    try:
        services.resubmit_opening(account, current_user)
    except rules.SocialRuleError as error:
        return _turned_back(account_id, error)
    db.session.commit()
    flash(_("開設を再申請しました。"), "success")
    return redirect(url_for("social.detail", account_id=account.id))


@bp.route("/<int:account_id>/closure", methods=["POST"])
@access(WRITERS)
def closure_step(account_id: int):
    account = _account(account_id)
    form = ClosureStepForm()
    if not form.validate_on_submit():
        return _detail(account, closure_form=form, status_code=400)
    try:
        services.record_closure_step(account, current_user, step=ClosureStep(form.step.data),
                                     done_on=form.done_on.data, note=form.note.data)
    except rules.SocialRuleError as error:
        if error.field is None:  # about the account (closed, a request): the form is not shown
            return _refused(account_id, error)
        db.session.rollback()
        form[error.field].errors.append(str(error))
        return _detail(_account(account_id), closure_form=form, status_code=409)
    db.session.commit()
    flash(_("廃止の手続きを記録しました。"), "success")
    return redirect(url_for("social.detail", account_id=account.id) + "#closure")


@bp.route("/<int:account_id>/close", methods=["POST"])
@access(WRITERS)
def close(account_id: int):
    account = _account(account_id)
    if not CSRFForm().validate_on_submit():
        abort(400)
    try:
        services.close(account, current_user)
    except rules.SocialRuleError as error:
        return _turned_back(account_id, error)
    db.session.commit()
    flash(_("アカウント「%(name)s」を廃止しました。", name=account.name), "success")
    return redirect(url_for("social.detail", account_id=account.id))


# --- operating procedures --------------------------------------------------------------

@bp.route("/<int:account_id>/procedures")
@access(SOCIAL_READERS)
def procedures(account_id: int):
    return _procedures_page(_account(account_id))


def _procedures_page(account: SocialAccount, status_code: int = 200):
    approvals = {p.id: rules.procedure_approval(p) for p in account.procedures}
    return render_template("social/procedures.html", account=account, approvals=approvals,
                           decision_form=ProcedureDecisionForm(), can_decide=current_user.has_role(*DECIDERS),
                           can_write=current_user.has_role(WRITERS)), status_code


@bp.route("/<int:account_id>/procedures/new", methods=["GET", "POST"])
@access(WRITERS)
def procedure_new(account_id: int):
    account = _account(account_id)
    if account.status is AccountStatus.CLOSED:
        flash(_("廃止したアカウントは変更できません。"), "warning")
        return redirect(url_for("social.detail", account_id=account.id))
    current = account.procedures[0] if account.procedures else None
    form = ProcedureForm(obj=current, version=account.version,
                         data=None if current else {k: str(v) for k, v in rules.DEFAULT_PROCEDURE.items()})
    if form.validate_on_submit():
        if form.is_stale(account):
            flash(STALE_MESSAGE, "warning")
            return redirect(url_for("social.procedure_new", account_id=account.id))
        procedure = services.add_procedure(account, current_user, **{name: getattr(form, name).data
                                                                     for name in rules.PROCEDURE_FIELDS})
        db.session.commit()
        flash(_("運用手順 第%(number)s版を作成しました。作成者以外の承認者（管理者・承認者）が承認します。",
                number=procedure.number), "success")
        return redirect(url_for("social.procedures", account_id=account.id))
    return render_template("social/procedure_form.html", account=account, form=form, current=current), \
        400 if form.errors else 200


@bp.route("/<int:account_id>/procedures/<int:procedure_id>/<any(approve, reject):decision>", methods=["POST"])
@access(DECIDERS)
def procedure_decide(account_id: int, procedure_id: int, decision: str):
    account = _account(account_id)
    procedure = db.get_or_404(OperatingProcedure, procedure_id)
    if procedure.account_id != account.id:
        abort(404)
    form = ProcedureDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.decide_procedure(procedure, current_user, approve=decision == "approve", comment=form.comment.data)
    except rules.SocialRuleError as error:
        db.session.rollback()
        flash(str(error), "danger")  # Post/Redirect/Get: back to the procedures, with the reason
        return redirect(url_for("social.procedures", account_id=account_id), code=303)
    db.session.commit()
    flash(_("運用手順 第%(number)s版を承認しました。", number=procedure.number) if decision == "approve"
          else _("運用手順 第%(number)s版を差し戻しました。", number=procedure.number), "success")
    return redirect(url_for("social.procedures", account_id=account.id))


# --- incidents ---------------------------------------------------------------------------

@bp.route("/incidents/<int:incident_id>")
@access(SOCIAL_READERS)
def incident(incident_id: int):
    """Where an SNS incident was before the one register (issue 19): the same id there."""
    return redirect(url_for("incidents.detail", incident_id=incident_id))


# --- the pre-post check -------------------------------------------------------------------

@bp.route("/check", methods=["GET", "POST"])
@access(WRITERS)
def check():
    # Requests are offered too, so that choosing one says why it may not post.
    accounts = db.session.scalars(select(SocialAccount).where(SocialAccount.status.in_(
        (*OPEN, AccountStatus.REQUESTED, AccountStatus.REJECTED))).order_by(SocialAccount.name)).all()
    form = PrePostForm()
    form.account_id.choices = select_choices([("", _("（選択してください）"))] + [
        (a.id, f"{a.name}（{a.platform.label}）" + ("" if a.status in OPEN else f" — {a.status.label}"))
        for a in accounts])
    if request.method == "GET" and (account_id := int_arg(request.args.get("account"))) is not None:
        form.account_id.data = account_id
    hits = None
    # The account chosen (by the link's ?account= or the form): its
    # "approval before posting" is shown as a reminder.
    chosen = next((a for a in accounts if a.id == form.account_id.data), None)
    if form.validate_on_submit():
        account = db.session.get(SocialAccount, form.account_id.data)
        try:
            rules.check_can_post(account)
        except rules.SocialRuleError as error:
            form.account_id.errors.append(str(error))
            return render_template("social/check.html", form=form, hits=None, chosen=chosen), 409
        hits = prepost.check(form.draft.data, forbidden_words=account.forbidden_words,
                             public_phrases=account.public_phrases)
        services.record_prepost_check(account, form.draft.data, hits)
        db.session.commit()
    return render_template("social/check.html", form=form, hits=hits, chosen=chosen,
                           not_open=rules.NOT_OPEN_MESSAGE if chosen is not None and chosen.status not in OPEN
                           else None), 400 if form.errors else 200


# --- the public list of official accounts ------------------------------------------------------

@bp.route("/official")
@access(public=True)
def public_list():
    """The body's official accounts that still exist (運用中 and 休止, the
    latter marked), for citizens telling them from impersonators: a dormant
    account is still the body's.  Only when ITAKU_PUBLIC_ACCOUNT_LIST is on;
    it shows the platform, name, handle, URL and 休止, and nothing else."""
    if not current_app.config.get("PUBLIC_ACCOUNT_LIST"):
        abort(404)
    accounts = db.session.execute(
        select(SocialAccount.platform, SocialAccount.name, SocialAccount.handle, SocialAccount.url,
               SocialAccount.status)
        .where(SocialAccount.status.in_(OPEN))
        .order_by(SocialAccount.platform, SocialAccount.name)).all()
    return render_template("social/public.html", accounts=accounts)


# --- dashboard --------------------------------------------------------------------------------

def dashboard_panel(user) -> Panel:
    unit = scope_unit(user)
    scoped = {"unit": unit} if unit else {}
    result = status_panel(_l("SNS公式アカウント"), SocialAccount.status, AccountStatus, "social.index",
                          SocialAccount.unit_id, unit)
    for flag in rules.FLAGS:
        count = statement(("social.flag", flag.name, unit, rules.dormant_days()),
                          lambda name=flag.name: rules.FLAGS.count_query(name, unit))
        result.tiles.append(Tile(flag.label, count, "social.index",
                                 {"flag": flag.name, **scoped}, alert=True))
    return result

