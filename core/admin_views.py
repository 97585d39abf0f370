"""管理: users, roles and organisational units (admin only)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core import accounts, api_tokens, classification, handover, inspection_items
from core.auth import access
from core.db import db
from core.forms import (
    STALE_MESSAGE,
    CSRFForm,
    HandoverForm,
    InspectionItemForm,
    NewUserForm,
    ResetPasswordForm,
    UnitForm,
    UserForm,
    select_choices,
    successor_choices,
    unit_choices,
)
from core.i18n import locale_code
from core.lists import ListView, id_filter
from core.models import ROLE_LABELS, ApiToken, ClassificationLevel, OrgUnit, Role, User

bp = Blueprint("admin", __name__, url_prefix="/admin")

USERS = ListView(
    search=[User.username, User.display_name, User.email],
    filters={
        "role": lambda s, v: s.where(User.roles.contains(v)) if v in {r.value for r in Role} else s,
        "unit": id_filter(User.unit_id),
        "active": lambda s, v: s.where(User.active == (v == "1")),
    },
    sorts={"username": User.username, "display_name": User.display_name, "last_login": User.last_login_at},
    default_sort="username",
)


def _role_choices():
    return [(r.value, str(ROLE_LABELS[r])) for r in Role]


def _prepare(form: UserForm) -> UserForm:
    form.unit_id.choices = select_choices(unit_choices())
    form.roles.choices = select_choices(_role_choices())
    return form


def _username_taken(username: str, exclude_id: int | None = None) -> bool:
    stmt = select(User.id).where(func.lower(User.username) == username.strip().lower())
    if exclude_id:
        stmt = stmt.where(User.id != exclude_id)
    return db.session.scalar(stmt) is not None


@bp.route("/")
@access(Role.ADMIN)
def index():
    return redirect(url_for("admin.users"))


@bp.route("/users")
@access(Role.ADMIN)
def users():
    pagination, state = USERS.apply(select(User).options(selectinload(User.unit).selectinload(OrgUnit.parent)))
    return render_template("admin/users.html", pagination=pagination, state=state,
                           units=unit_choices(include_blank=False), roles=_role_choices(), form=CSRFForm())


@bp.route("/users/new", methods=["GET", "POST"])
@access(Role.ADMIN)
def user_new():
    form = _prepare(NewUserForm())
    if form.validate_on_submit():
        if _username_taken(form.username.data):
            form.username.errors.append(_("このユーザー名は既に使われています。"))
        else:
            user = accounts.create_user(
                username=form.username.data, display_name=form.display_name.data, password=form.new_password.data,
                roles=form.roles.data, unit=db.session.get(OrgUnit, form.unit_id.data), email=form.email.data,
                locale=form.locale.data, must_change=True)
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                form.username.errors.append(_("このユーザー名は既に使われています。"))
            else:
                flash(_("利用者 %(name)s を登録しました。", name=user.username), "success")
                return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=None), 400 if form.errors else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = _prepare(UserForm(obj=user, version=user.version))
    if not form.is_submitted():
        form.roles.data = [r.value for r in user.role_set]
    elif form.validate():
        if form.is_stale(user):
            flash(STALE_MESSAGE, "warning")
            form = _prepare(UserForm(obj=user, version=user.version, formdata=None))
            form.roles.data = [r.value for r in user.role_set]
            return _user_page(form=form, user=user, reset=ResetPasswordForm(prefix="reset"), actions=CSRFForm()), 409
        if _username_taken(form.username.data, exclude_id=user.id):
            form.username.errors.append(_("このユーザー名は既に使われています。"))
        elif user.id == current_user.id and Role.ADMIN.value not in form.roles.data:
            form.roles.errors.append(_("自分自身から管理者の役割を外すことはできません。"))
        else:
            user.username = form.username.data.strip()
            user.display_name = form.display_name.data.strip()
            user.email = form.email.data or None
            user.unit = db.session.get(OrgUnit, form.unit_id.data)
            user.set_roles(form.roles.data)
            user.locale = form.locale.data
            db.session.commit()
            flash(_("利用者 %(name)s を更新しました。", name=user.username), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    status = 400 if form.errors else 200
    return _user_page(form=form, user=user, reset=ResetPasswordForm(prefix="reset"), actions=CSRFForm()), status


def _user_page(**context):
    """An existing user's page, with the user's live API tokens and what the
    user is still responsible for (人事異動: handed over before deactivation)."""
    user = context["user"]
    if "handover_form" not in context:
        context["handover_form"] = HandoverForm(prefix="handover", formdata=None)
    context["handover_form"].successor_id.choices = successor_choices(user)
    return render_template("admin/user_form.html", tokens=api_tokens.active_tokens(user),
                           responsibilities=handover.responsibilities(user), **context)


def _edit_form(user: User) -> UserForm:
    form = _prepare(UserForm(obj=user, version=user.version, formdata=None))
    form.roles.data = [r.value for r in user.role_set]
    return form


@bp.route("/users/<int:user_id>/handover", methods=["POST"])
@access(Role.ADMIN)
def user_handover(user_id: int):
    """人事異動: hand every open responsibility of the user to one successor,
    all or nothing (core.handover.hand_over), so the user can be deactivated."""
    user = db.get_or_404(User, user_id)
    form = HandoverForm(prefix="handover")
    form.successor_id.choices = successor_choices(user)
    if form.validate_on_submit():
        try:
            moved = handover.hand_over(user, db.session.get(User, form.successor_id.data))
        except handover.HandoverRefusal as error:
            db.session.rollback()
            form.successor_id.errors.append(str(error))
        else:
            successor = db.session.get(User, form.successor_id.data)
            db.session.commit()
            flash(_("%(name)s さんの担当事項（%(count)s件）を %(successor)s さんに引き継ぎました。",
                    name=user.display_name, count=sum(len(items) for items in moved.values()),
                    successor=successor.display_name), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id) + "#responsibilities")
    return _user_page(form=_edit_form(user), user=user, reset=ResetPasswordForm(prefix="reset"), actions=CSRFForm(),
                      handover_form=form), 400


@bp.route("/users/<int:user_id>/tokens/<int:token_id>/revoke", methods=["POST"])
@access(Role.ADMIN)
def user_token_revoke(user_id: int, token_id: int):
    """An administrator ends any user's API token (a leaked one, a script
    no longer used); audited as the administrator's act."""
    token = db.get_or_404(ApiToken, token_id)
    if token.user_id != user_id:
        abort(404)
    if CSRFForm().validate_on_submit():
        api_tokens.revoke(token)
        db.session.commit()
        flash(_("APIトークン「%(name)s」を無効にしました。", name=token.name), "success")
    return redirect(url_for("admin.user_edit", user_id=user_id) + "#api-tokens")


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@access(Role.ADMIN)
def user_reset_password(user_id: int):
    user = db.get_or_404(User, user_id)
    reset = ResetPasswordForm(prefix="reset")
    reset.policy_username = user.username
    if reset.validate_on_submit():
        accounts.set_password(user, reset.new_password.data, action="password_reset", must_change=True)
        db.session.commit()
        flash(_("%(name)s のパスワードを再設定しました。本人のセッションは終了しました。", name=user.username), "success")
        return redirect(url_for("admin.user_edit", user_id=user.id))
    form = _prepare(UserForm(obj=user, version=user.version, formdata=None))
    form.roles.data = [r.value for r in user.role_set]
    return _user_page(form=form, user=user, reset=reset, actions=CSRFForm()), 400


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@access(Role.ADMIN)
def user_unlock(user_id: int):
    user = db.get_or_404(User, user_id)
    if CSRFForm().validate_on_submit():
        accounts.unlock(user)
        db.session.commit()
        flash(_("%(name)s のロックを解除しました。", name=user.username), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@access(Role.ADMIN)
def user_toggle_active(user_id: int):
    """Deactivate or reactivate; users are never deleted (records point to them)."""
    user = db.get_or_404(User, user_id)
    if CSRFForm().validate_on_submit():
        if user.id == current_user.id:
            flash(_("自分自身を無効にすることはできません。"), "warning")
        else:
            try:
                accounts.set_active(user, not user.active)
            except handover.HandoverRefusal as error:  # still responsible for something (人事異動)
                db.session.rollback()
                flash(str(error), "warning")
                return redirect(url_for("admin.user_edit", user_id=user.id) + "#responsibilities")
            db.session.commit()
            flash(_("%(name)s を有効にしました。", name=user.username) if user.active
                  else _("%(name)s を無効にしました。", name=user.username), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


# --- organisational units -----------------------------------------------------

@bp.route("/units")
@access(Role.ADMIN)
def units():
    units = db.session.scalars(select(OrgUnit).order_by(OrgUnit.sort_order, OrgUnit.id)).all()
    counts = dict(db.session.execute(select(User.unit_id, func.count()).group_by(User.unit_id)).all())
    return render_template("admin/units.html", units=units, counts=counts)


def _unit_form(unit: OrgUnit | None = None, **kwargs) -> UnitForm:
    form = UnitForm(obj=unit, **kwargs)
    form.parent_id.choices = select_choices([("", _("（なし）"))] + [
        (value, label) for value, label in unit_choices(include_blank=False) if not unit or value != unit.id])
    return form


def _unit_name_taken(name: str, exclude_id: int | None = None) -> bool:
    stmt = select(OrgUnit.id).where(OrgUnit.name == name.strip())
    if exclude_id:
        stmt = stmt.where(OrgUnit.id != exclude_id)
    return db.session.scalar(stmt) is not None


def _apply_unit(form: UnitForm, unit: OrgUnit) -> None:
    unit.name = form.name.data.strip()
    unit.name_en = (form.name_en.data or "").strip() or None
    unit.parent_id = form.parent_id.data
    unit.sort_order = form.sort_order.data or 0
    unit.active = form.active.data


@bp.route("/units/new", methods=["GET", "POST"])
@access(Role.ADMIN)
def unit_new():
    form = _unit_form()
    if form.validate_on_submit():
        if _unit_name_taken(form.name.data):
            form.name.errors.append(_("この名称の組織は既にあります。"))
        else:
            unit = OrgUnit()
            _apply_unit(form, unit)
            db.session.add(unit)
            db.session.commit()
            flash(_("組織 %(name)s を登録しました。", name=unit.name), "success")
            return redirect(url_for("admin.units"))
    return render_template("admin/unit_form.html", form=form, unit=None), 400 if form.errors else 200


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
def unit_edit(unit_id: int):
    unit = db.get_or_404(OrgUnit, unit_id)
    form = _unit_form(unit, version=unit.version)
    if form.validate_on_submit():
        if form.is_stale(unit):
            flash(STALE_MESSAGE, "warning")
            form = _unit_form(unit, version=unit.version, formdata=None)
            return render_template("admin/unit_form.html", form=form, unit=unit), 409
        if _unit_name_taken(form.name.data, exclude_id=unit.id):
            form.name.errors.append(_("この名称の組織は既にあります。"))
        elif form.parent_id.data is not None and _is_descendant(form.parent_id.data, unit):
            form.parent_id.errors.append(_("自分の下位組織を上位組織にはできません。"))
        else:
            _apply_unit(form, unit)
            db.session.commit()
            flash(_("組織 %(name)s を更新しました。", name=unit.name), "success")
            return redirect(url_for("admin.units"))
    return render_template("admin/unit_form.html", form=form, unit=unit), 400 if form.errors else 200


def _is_descendant(candidate_id: int, unit: OrgUnit) -> bool:
    node = db.session.get(OrgUnit, candidate_id)
    while node is not None:
        if node.id == unit.id:
            return True
        node = node.parent
    return False


# --- classification: the minimum level per kind of data ----------------------------

@bp.route("/classification", methods=["GET", "POST"])
@access(Role.ADMIN)
def classification_table():
    """The confidentiality levels and, per kind of data, the lowest level it
    may be classified at, with its source (core.classification)."""
    levels = db.session.scalars(select(ClassificationLevel).where(ClassificationLevel.axis == "confidentiality")
                                .order_by(ClassificationLevel.rank.desc())).all()
    rows = classification.minimums()
    form, errors = CSRFForm(), {}
    if form.validate_on_submit():
        for row in rows:
            level_id = request.form.get(f"level-{row.id}", "")
            level = db.session.get(ClassificationLevel, int(level_id)) if level_id.isascii() and level_id.isdigit() \
                else None
            try:
                classification.set_minimum(row, level=level, source=request.form.get(f"source-{row.id}"),
                                           general_practice=bool(request.form.get(f"gp-{row.id}")))
            except classification.ClassificationRefusal as error:
                errors[row.id] = str(error)
        if not errors:
            db.session.commit()
            flash(_("データの種類ごとの最低区分を保存しました。"), "success")
            return redirect(url_for("admin.classification_table"))
        db.session.rollback()
        rows = classification.minimums()
    return render_template("admin/classification.html", levels=levels, rows=rows, form=form, errors=errors,
                           labels=classification.KIND_LABELS, locale=locale_code()), 400 if errors else 200


# --- the self-inspection item catalogue (issue 18) ---------------------------------------

NEW_AREA = "__new__"


def _item_form(row=None, **kwargs) -> InspectionItemForm:
    form = InspectionItemForm(obj=row, **kwargs)
    language = locale_code()
    form.area.choices = select_choices([(area.code, f"{area.code} {area.name(language)}")
                                        for area in inspection_items.all_areas()] + [(NEW_AREA, _("新しい区分"))])
    form.source_kind.choices = select_choices([(kind, str(label)) for kind, label in
                                               inspection_items.SOURCE_KINDS.items()])
    return form


def _item_values(form: InspectionItemForm) -> dict:
    values = dict(form.data)
    if values.get("area") == NEW_AREA:
        values["area"] = ""
    return values


def _item_page(form, row=None, status: int = 200):
    return render_template("admin/inspection_item_form.html", form=form, row=row, new_area=NEW_AREA), status


@bp.route("/inspection-items")
@access(Role.ADMIN)
def inspection_items_index():
    """The catalogue by area: built-in and own items, retired ones greyed."""
    found = inspection_items.catalogue()
    return render_template("admin/inspection_items.html", areas=found.areas, items=found.items,
                           locale=locale_code(), actions=CSRFForm())


@bp.route("/inspection-items/new", methods=["GET", "POST"])
@access(Role.ADMIN)
def inspection_item_new():
    form = _item_form()
    if form.validate_on_submit():
        try:
            row = inspection_items.add_item(_item_values(form), user=current_user)
        except inspection_items.CatalogueRefusal as error:
            (form[error.field].errors if error.field in form else form.form_errors).append(str(error))
        else:
            db.session.commit()
            flash(_("点検項目 %(code)s を登録しました。", code=row.code), "success")
            return redirect(url_for("admin.inspection_items_index"))
    return _item_page(form, status=400 if form.errors or form.form_errors else 200)


@bp.route("/inspection-items/<int:item_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
def inspection_item_edit(item_id: int):
    row = db.get_or_404(inspection_items.InspectionItem, item_id)
    if row.builtin:
        abort(404)  # a built-in item is changed in its domain's code; it can be retired or restored
    form = _item_form(row, version=row.version)
    if request.method == "GET":
        form.area.data = row.area
    if form.validate_on_submit():
        if form.is_stale(row):
            flash(STALE_MESSAGE, "warning")
            return _item_page(_item_form(row, version=row.version, formdata=None), row, 409)
        try:
            inspection_items.edit_item(row, _item_values(form))
        except inspection_items.CatalogueRefusal as error:
            (form[error.field].errors if error.field in form else form.form_errors).append(str(error))
        else:
            db.session.commit()
            flash(_("点検項目 %(code)s を更新しました。", code=row.code), "success")
            return redirect(url_for("admin.inspection_items_index"))
    return _item_page(form, row, 400 if form.errors or form.form_errors else 200)


@bp.route("/inspection-items/<code>/retire", methods=["POST"])
@access(Role.ADMIN)
def inspection_item_retire(code: str):
    """Take an item (built-in or own) out of use; past inspections keep it."""
    if inspection_items.item(code) is None:
        abort(404)
    if CSRFForm().validate_on_submit():
        try:
            inspection_items.retire(code, user=current_user)
        except inspection_items.CatalogueRefusal as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(_("点検項目 %(code)s を廃止しました。新しい点検・点検表には含まれません。", code=code), "success")
    return redirect(url_for("admin.inspection_items_index"))


@bp.route("/inspection-items/<int:item_id>/restore", methods=["POST"])
@access(Role.ADMIN)
def inspection_item_restore(item_id: int):
    row = db.get_or_404(inspection_items.InspectionItem, item_id)
    if CSRFForm().validate_on_submit():
        try:
            inspection_items.restore(row)
        except inspection_items.CatalogueRefusal as error:
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(_("点検項目 %(code)s を再び使用します。", code=row.code), "success")
    return redirect(url_for("admin.inspection_items_index"))
