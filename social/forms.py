from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from core.forms import (
    DateField,
    MultiCheckboxField,
    VersionedForm,
    coerce_int_or_none,
    level_choices,
    select_choices,
    unit_choices,
    user_choices,
)
from core.pickers import PickerField
from core.validators import reading_field
from social.models import AccountStatus, ClosureStep, Platform, SocialAccount
from social.prepost import bad_patterns
from social.rules import PASSWORD_MESSAGE, looks_like_password


def no_password(form, field):
    """Itaku never keeps a password: refuse text that looks like one."""
    if looks_like_password(field.data):
        raise ValidationError(PASSWORD_MESSAGE)


def patterns_compile(form, field):
    bad = bad_patterns(field.data)
    if bad:
        raise ValidationError(_("正規表現として正しくないか、この機能では使えない書き方（後方参照・先読み・後読み）の行があります: "
                                "%(lines)s", lines="、".join(bad)))


def text(max_length: int = 4000):
    return [Optional(), Length(max=max_length), no_password]


URL_MESSAGE = _l("URLの形式が正しくありません（例: https://x.com/example）。")


class AccountForm(VersionedForm):
    platform = SelectField(_l("サービス"), choices=Platform.select_choices())
    name = StringField(_l("アカウント名"), validators=[DataRequired(), Length(max=200)])
    reading = reading_field(_l("アカウント名のよみ"))
    handle = StringField(_l("ハンドル（@名）"), validators=[Optional(), Length(max=100)])
    url = StringField(_l("アカウントのURL"), validators=[DataRequired(), Length(max=300),
                                                        URL(require_tld=True, message=URL_MESSAGE)])
    purpose = TextAreaField(_l("目的"), validators=[DataRequired(), Length(max=4000), no_password])
    audience = TextAreaField(_l("対象（誰に向けて発信するか）"), validators=text())
    unit_id = SelectField(_l("担当組織"), coerce=coerce_int_or_none,
                          validators=[DataRequired(message=_l("担当組織を選択してください。"))])
    responsible_id = PickerField(_l("責任者（一人）"), source="users",
                                 validators=[DataRequired(message=_l("責任者を一人選んでください。"))])
    deputy_id = PickerField(_l("代理者"), source="users", blank=_l("（なし）"), validators=[Optional()])
    operator_ids = MultiCheckboxField(_l("運用担当（投稿する人）"), coerce=int)
    hours = StringField(_l("監視・返信の時間帯"), validators=text(200))
    # A new account is always a request (services.save); the default lets the
    # new-account page leave the field out.
    status = SelectField(_l("状態"), choices=AccountStatus.select_choices(), default=AccountStatus.ACTIVE.value)
    last_post_on = DateField(_l("最終投稿日"), validators=[Optional()])
    review_cycle_months = IntegerField(_l("見直しの周期（月）"), default=12, validators=[
        InputRequired(message=_l("見直しの周期を月数で入力してください。")),
        NumberRange(min=1, max=60, message=_l("見直しの周期は1〜60か月で入力してください。"))])
    next_review_on = DateField(_l("次回見直し日"), validators=[Optional()])
    # 発信できる情報
    posting_ceiling_id = SelectField(_l("発信できる情報の機密性"), coerce=coerce_int_or_none,
                                     validators=[DataRequired(message=_l("機密性を選択してください。"))])
    allowed_content = TextAreaField(_l("発信してよい内容"), validators=text())
    forbidden_content = TextAreaField(_l("発信してはならない内容"), validators=text())
    approval_before_posting = BooleanField(_l("投稿前に責任者の承認が必要"))
    forbidden_words = TextAreaField(_l("禁止語・禁止表現（1行に1つ。/…/ で囲むと正規表現）"),
                                    validators=[Optional(), Length(max=4000), patterns_compile])
    public_phrases = TextAreaField(_l("公開してよい表記（代表電話番号・庁舎の所在地など。1行に1つ）"),
                                   validators=[Optional(), Length(max=4000)])
    # なりすまし対策
    profile_states_official = BooleanField(_l("プロフィールに公式アカウントであることを明記"))
    website_listing_url = StringField(_l("公式サイトの掲載ページURL"), validators=[
        Optional(), Length(max=300), URL(require_tld=True, message=URL_MESSAGE)])
    verified_badge = BooleanField(_l("認証バッジあり"))
    last_lookalike_scan_on = DateField(_l("なりすましアカウントを最後に点検した日"), validators=[Optional()])
    # Credentials
    mfa_enabled = BooleanField(_l("二要素認証（MFA）を有効にしている"))
    # No Optional(): the check below must run when the field is empty.
    mfa_method = StringField(_l("二要素認証の方法"), validators=[Length(max=200), no_password])
    holder_ids = MultiCheckboxField(_l("認証情報（ID・パスワード）の保持者"), coerce=int)
    recovery_owned = BooleanField(_l("復旧用のメールアドレス・電話番号は組織のもの"))
    last_password_change_on = DateField(_l("最後にパスワードを変更した日"), validators=[Optional()])
    connected_apps = TextAreaField(_l("連携しているアプリ"), validators=text())

    def validate_deputy_id(self, field):
        if field.data and field.data == self.responsible_id.data:
            raise ValidationError(_l("代理者には責任者と別の人を選んでください。"))

    def validate_mfa_method(self, field):
        if self.mfa_enabled.data and not (field.data or "").strip():
            raise ValidationError(_l("二要素認証の方法を入力してください（例: 認証アプリ）。"))


def account_form(account: SocialAccount | None = None, **kwargs) -> AccountForm:
    """The account form with its choices filled (the pages, the spreadsheet import and the API)."""
    form = AccountForm(obj=account, **kwargs)
    if account is not None and not form.is_submitted() and "formdata" not in kwargs:
        form.operator_ids.data = [u.id for u in account.operators]
        form.holder_ids.data = [u.id for u in account.holders]
    form.unit_id.choices = select_choices(unit_choices())
    people = [(c.value, c.label) for c in user_choices("")[1:]]
    form.operator_ids.choices = select_choices(people)
    form.holder_ids.choices = select_choices(people)
    form.posting_ceiling_id.choices = level_choices(blank=_("（選択してください）"))
    return form


class ProcedureForm(VersionedForm):
    purpose = TextAreaField(_l("1. 目的・対象・発信内容・投稿者・時間帯"), validators=[DataRequired(), Length(max=4000)])
    opening = TextAreaField(_l("2. 開設・重要な変更の承認"), validators=[DataRequired(), Length(max=4000)])
    supervision = TextAreaField(_l("3. 責任者による運用の監督"), validators=[DataRequired(), Length(max=4000)])
    posting = TextAreaField(_l("4. 発信できる情報"), validators=[DataRequired(), Length(max=4000)])
    impersonation = TextAreaField(_l("5. なりすまし対策"), validators=[DataRequired(), Length(max=4000)])
    credentials = TextAreaField(_l("6. アカウント・パスワードの管理"),
                                validators=[DataRequired(), Length(max=4000), no_password])
    incidents = TextAreaField(_l("7. 乗っ取り・サービス停止時の対応"), validators=[DataRequired(), Length(max=4000)])


class ProcedureDecisionForm(FlaskForm):
    comment = TextAreaField(_l("コメント"), validators=[Optional(), Length(max=2000)])


class PrePostForm(FlaskForm):
    account_id = SelectField(_l("アカウント"), coerce=coerce_int_or_none,
                             validators=[DataRequired(message=_l("アカウントを選択してください。"))])
    draft = TextAreaField(_l("投稿の下書き"), validators=[DataRequired(), Length(max=10000)])


class OpeningDecisionForm(FlaskForm):
    comment = TextAreaField(_l("コメント（却下するときは理由）"), validators=[Optional(), Length(max=2000)])


class ClosureStepForm(FlaskForm):
    """One item of the closing checklist, done on a date (issue 17)."""
    step = SelectField(_l("手続き"), choices=ClosureStep.select_choices(blank=_l("（選択してください）")),
                       validators=[DataRequired(message=_l("手続きを選択してください。"))])
    done_on = DateField(_l("実施日"), validators=[InputRequired(message=_l("実施日を入力してください。"))])
    note = TextAreaField(_l("メモ（告知した投稿のURL、解除した連携アプリなど）"), validators=text(2000))
