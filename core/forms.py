"""Form building blocks shared by every domain."""
from __future__ import annotations

from contextlib import contextmanager

import wtforms.fields
from flask import current_app, flash, g, has_app_context, has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from core.db import db
from core.i18n import locale_code
from core.models import ClassificationLevel, OrgUnit, User
from core.pickers import PickerField, PickerSearchMixin
from core.refusals import Refusal


class CSRFForm(FlaskForm):
    """A form with nothing but its CSRF token, for POST buttons."""


class VersionedForm(PickerSearchMixin, FlaskForm):
    """Carries the version of the record it was opened with, so a save made
    after someone else's is refused (optimistic locking).  A picker's 検索
    (core.pickers, without JavaScript) shows the form again instead of saving."""

    version = HiddenField()

    def is_stale(self, obj) -> bool:
        """True when ``obj`` was saved by someone else since the form was
        opened.  The view then shows the form again with the newer stored
        values; what the user typed is kept for that page (see
        :func:`stale_input`), so both versions are on screen."""
        try:
            stale = int(self.version.data) != obj.version
        except (TypeError, ValueError):
            stale = True
        if stale and has_request_context() and request.method == "POST":
            g.itaku_stale_input = request.form.copy()
        return stale


_NOT_SHOWN = frozenset({"HiddenField", "PasswordField", "CSRFTokenField", "FileField", "MultipleFileField",
                        "SubmitField", "BooleanField"})


def stale_input(field) -> str | None:
    """What the user typed into ``field`` in a save refused as stale, when
    it differs from the newer value now in the field (for the field's
    macro, which shows it beside the field); None otherwise.  A choice
    shows its label."""
    typed = g.get("itaku_stale_input")
    if typed is None or field.type in _NOT_SHOWN or field.name not in typed:
        return None
    values = typed.getlist(field.name)
    if hasattr(field, "iter_choices"):
        choices = {str(value): str(label) for value, label, *_rest in field.iter_choices()}
        current = field.data if isinstance(field.data, list) else [field.data]
        if sorted(values) == sorted(str(v) for v in current if v not in (None, "")):
            return None
        return "、".join(choices.get(v, v) for v in values)
    text = values[0] if values else ""
    shown = field._value() if hasattr(field, "_value") else str(field.data or "")
    return None if text.strip() == (shown or "").strip() else text


STALE_MESSAGE = _l("これは他の利用者が先に更新しました。最新の内容を表示しています。必要なら改めて変更してください。")


def check_password_policy(password: str, username: str, min_length: int) -> str | None:
    """The password rule of the foundation issue; returns an error or None."""
    if len(password) < min_length:
        return _("パスワードは%(n)s文字以上にしてください。", n=min_length)
    if username and password.casefold() == username.casefold():
        return str(_l("パスワードにユーザー名は使えません。"))
    return None


class PasswordPolicy:
    """WTForms validator applying check_password_policy.  The user name is
    the form's ``username`` field when it has one, else ``form.policy_username``
    (set by the view for an existing user)."""

    def __call__(self, form, field):
        if "username" in form:
            username = form["username"].data or ""
        else:
            username = getattr(form, "policy_username", "")
        error = check_password_policy(field.data or "", username, current_app.config["PASSWORD_MIN_LENGTH"])
        if error:
            raise ValidationError(error)


def new_password_fields():
    """(new password, confirmation) fields with the password policy."""
    new = PasswordField(_l("新しいパスワード"), validators=[DataRequired(), Length(max=128), PasswordPolicy()],
                        description=_l("12文字以上。ユーザー名と同じものは使えません。"))
    confirm = PasswordField(_l("新しいパスワード（確認）"), validators=[
        DataRequired(), EqualTo("new_password", message=_l("確認用のパスワードが一致しません。"))])
    return new, confirm


class LoginForm(FlaskForm):
    username = StringField(_l("ユーザー名"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("パスワード"), validators=[DataRequired(), Length(max=128)],
                             render_kw={"autocomplete": "current-password"})


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("現在のパスワード"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password, confirm_password = new_password_fields()


class ApiTokenForm(FlaskForm):
    name = StringField(_l("トークンの名前"), validators=[DataRequired(), Length(max=100)],
                       description=_l("何に使うかがわかる名前（例: 月次集計スクリプト）。"))


# --- administration -----------------------------------------------------------

from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, SelectMultipleField  # noqa: E402
from wtforms.validators import Email, NumberRange, Optional, Regexp  # noqa: E402
from wtforms.widgets import CheckboxInput, ListWidget  # noqa: E402


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def select_choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as the option objects WTForms 3.3 wants."""
    return [SelectChoice(value, label) for value, label in pairs]


@contextmanager
def choices_kept():
    """Within this block the choice lists below are read once (an import
    builds a form for every row; the units and users do not change
    meanwhile)."""
    g.itaku_choices = {}
    try:
        yield
    finally:
        g.pop("itaku_choices", None)


def _kept(key, build):
    kept = g.get("itaku_choices") if has_app_context() else None
    if kept is None:
        return build()
    if key not in kept:
        kept[key] = build()
    return kept[key]


def unit_choices(include_blank: bool = True):
    """(id, path) of the active units, for filters; wrap with
    select_choices for a form field."""
    return _kept(("units", include_blank, locale_code()), lambda: _unit_choices(include_blank))


def _unit_choices(include_blank: bool):
    units = db.session.scalars(select(OrgUnit).where(OrgUnit.active).order_by(OrgUnit.sort_order, OrgUnit.id)).all()
    choices = [(u.id, u.path_in(locale_code())) for u in units]
    return ([("", _l("（選択してください）"))] if include_blank else []) + choices


def user_choices(blank) -> list:
    """Active users as form options, after a blank one labelled ``blank``."""
    return _kept(("users", str(blank)), lambda: _user_choices(blank))


def _user_choices(blank) -> list:
    users = db.session.scalars(select(User).where(User.active).order_by(User.display_name)).all()
    return select_choices([("", blank)] + [(u.id, u.display_name) for u in users])


def coerce_int_or_none(value):
    return int(value) if value not in (None, "", "None") else None


class UserForm(VersionedForm):
    username = StringField(_l("ユーザー名"), validators=[
        DataRequired(), Length(max=64),
        Regexp(r"^[A-Za-z0-9._-]+$", message=_l("ユーザー名は半角英数字と . _ - で入力してください。"))])
    display_name = StringField(_l("氏名"), validators=[DataRequired(), Length(max=100)])
    email = StringField(_l("メールアドレス"), validators=[Optional(), Length(max=254),
                                                    Email(message=_l("メールアドレスの形式が正しくありません。"))])
    unit_id = SelectField(_l("所属"), coerce=coerce_int_or_none,
                          validators=[DataRequired(message=_l("所属を選択してください。"))])
    roles = MultiCheckboxField(_l("役割"), validators=[DataRequired(message=_l("役割を一つ以上選んでください。"))])
    locale = SelectField(_l("表示言語"), choices=[SelectChoice("ja", "日本語"), SelectChoice("en", "English")])


class NewUserForm(UserForm):
    new_password, confirm_password = new_password_fields()


class ResetPasswordForm(FlaskForm):
    new_password, confirm_password = new_password_fields()


class UnitForm(VersionedForm):
    name = StringField(_l("名称"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("英語名"), validators=[Optional(), Length(max=100)])
    parent_id = SelectField(_l("上位組織"), coerce=coerce_int_or_none, validators=[Optional()])
    sort_order = IntegerField(_l("表示順"), default=0, validators=[Optional(), NumberRange(min=0, max=9999)])
    active = BooleanField(_l("有効"), default=True)


class DateField(wtforms.fields.DateField):
    """A date input whose parse error reads naturally in Japanese and English."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(_l("日付はYYYY-MM-DDの形で正しい日付を入力してください。"))) from error


def classification_levels(axis: str = "confidentiality") -> list:
    """The active classification levels of one axis, highest first."""
    return db.session.scalars(select(ClassificationLevel).where(
        ClassificationLevel.axis == axis, ClassificationLevel.active).order_by(ClassificationLevel.rank.desc())).all()


def level_choices(axis: str = "confidentiality", blank=None) -> list[SelectChoice]:
    """Those levels as form options (after a blank one labelled ``blank``)."""
    pairs = [(level.id, level.label(locale_code())) for level in classification_levels(axis)]
    return select_choices(([("", blank)] if blank is not None else []) + pairs)


class ReviewForm(FlaskForm):
    """Recording a periodic review (cloud services, social-media accounts)."""
    reviewed_on = DateField(_l("見直し日"), validators=[wtforms.validators.InputRequired(
        message=_l("日付を入力してください。"))])


class HandoverForm(FlaskForm):
    """人事異動: the one successor who takes every open responsibility of a user."""
    successor_id = SelectField(_l("後任者"), coerce=coerce_int_or_none,
                               validators=[DataRequired(message=_l("後任者を選択してください。"))])


def successor_choices(leaver: User) -> list:
    """The active users other than ``leaver``, with their roles, as form options."""
    users = db.session.scalars(select(User).where(User.active, User.id != leaver.id).order_by(User.display_name)).all()
    return select_choices([("", _("（選択してください）"))] + [
        (u.id, f"{u.display_name}（{u.username}: {'・'.join(role.label for role in sorted(u.role_set))}）")
        for u in users])


# --- measures (core.measures): a contract finding's and an improvement measure's --------------

from flask_wtf.file import FileField, FileRequired  # noqa: E402
from wtforms import TextAreaField  # noqa: E402
from wtforms.validators import InputRequired  # noqa: E402


class MeasureForm(VersionedForm):
    measure = TextAreaField(_l("措置の内容"), validators=[DataRequired(), Length(max=4000)])
    owner_id = PickerField(_l("担当者"), source="users", blank="—", validators=[Optional()])
    due_on = DateField(_l("期限"), validators=[InputRequired(message=_l("日付を入力してください。"))])


class ReportDoneForm(FlaskForm):
    note = TextAreaField(_l("完了報告の内容"), validators=[DataRequired(), Length(max=4000)])
    evidence = FileField(_l("完了を示す証拠（PDF・画像・Office文書、20MBまで）"),
                         validators=[FileRequired(message=_l("完了を示す証拠ファイルを添付してください。"))])
class InspectionItemForm(VersionedForm):
    """One of the body's own self-inspection items (core.inspection_items);
    the code is checked (folded, unique for ever) by the service."""
    code = StringField(_l("コード"), description=_l("例: PHY-01（英大文字・数字をハイフンでつなぐ。登録後は変更できません）"),
                       validators=[Optional(), Length(max=40)])
    text_ja = StringField(_l("点検項目（日本語）"), validators=[DataRequired(), Length(max=300)])
    text_en = StringField(_l("点検項目（英語）"), validators=[Optional(), Length(max=300)])
    area = SelectField(_l("区分"), validators=[Optional()])
    new_area_code = StringField(_l("新しい区分のコード"), description=_l("「新しい区分」を選んだときに入力（例: PHY）"),
                                validators=[Optional(), Length(max=20)])
    new_area_name_ja = StringField(_l("新しい区分の名称（日本語）"), validators=[Optional(), Length(max=100)])
    new_area_name_en = StringField(_l("新しい区分の名称（英語）"), validators=[Optional(), Length(max=100)])
    frequency_ja = StringField(_l("頻度（日本語）"), description=_l("例: 毎年度"),
                               validators=[DataRequired(), Length(max=50)])
    frequency_en = StringField(_l("頻度（英語）"), validators=[Optional(), Length(max=50)])
    source = StringField(_l("根拠"), default="本団体の対策基準", validators=[Optional(), Length(max=200)])
    source_kind = SelectField(_l("根拠の種類"), default="body")
    general_practice = BooleanField(_l("一般的な実務（規程・ガイドラインの要求ではない）"))
    sort_order = IntegerField(_l("表示順"), default=0, validators=[Optional(), NumberRange(min=0, max=9999)])


def show_refusal(form, error: Refusal) -> None:
    """A refusal beside the field it is about when ``form`` has that field,
    else as a flash above the page."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        flash(str(error), "danger")
