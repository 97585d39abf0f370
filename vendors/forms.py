from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, FieldList, FormField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, Email, InputRequired, Length, Optional, ValidationError

from core.forms import DateField, VersionedForm, coerce_int_or_none, select_choices, unit_choices
from core.pickers import PickerField, PickerSearchMixin
from core.validators import digits, katakana, phone_number
from vendors.models import Assessment, CertificationKind, SelectionDecision, Vendor, VendorStatus
from vendors.rules import is_valid_corporate_number


def corporate_number(form, field):
    if field.data:
        value = digits(field, _l("法人番号は13桁の数字で入力してください。"), length=13)
        if not is_valid_corporate_number(value):
            raise ValidationError(_l("法人番号のチェックデジットが正しくありません。番号を確認してください。"))


class VendorForm(VersionedForm):
    name = StringField(_l("名称（法人名）"), validators=[DataRequired(), Length(max=200)])
    kana = StringField(_l("フリガナ"), validators=[Optional(), Length(max=200), katakana])
    corporate_number = StringField(_l("法人番号"), validators=[Optional(), corporate_number],
                                   description=_l("13桁。国税庁の法人番号（チェックデジットを確認します）。"),
                                   render_kw={"inputmode": "numeric", "autocomplete": "off"})
    address = StringField(_l("所在地"), validators=[Optional(), Length(max=300)])
    representative = StringField(_l("代表者"), validators=[Optional(), Length(max=100)])
    website = StringField(_l("ウェブサイト"), validators=[
        Optional(), Length(max=300), URL(require_tld=True, message=_l("URLの形式が正しくありません（https://…）。"))])
    unit_id = SelectField(_l("担当組織"), coerce=coerce_int_or_none,
                          validators=[DataRequired(message=_l("担当組織を選択してください。"))])
    status = SelectField(_l("状態"), choices=VendorStatus.select_choices())
    notes = TextAreaField(_l("備考"), validators=[Optional(), Length(max=4000)])


def vendor_form(vendor: Vendor | None = None, **kwargs) -> VendorForm:
    """The vendor form with its choices filled (the pages, the spreadsheet import and the API)."""
    form = VendorForm(obj=vendor, **kwargs)
    form.unit_id.choices = select_choices(unit_choices())
    return form


class ContactForm(FlaskForm):
    name = StringField(_l("担当者名"), validators=[DataRequired(), Length(max=100)])
    department = StringField(_l("部署"), validators=[Optional(), Length(max=100)])
    phone = StringField(_l("電話番号"), validators=[Optional(), Length(max=30), phone_number],
                        render_kw={"inputmode": "tel", "autocomplete": "off"})
    email = StringField(_l("メールアドレス"), validators=[
        Optional(), Length(max=254), Email(message=_l("メールアドレスの形式が正しくありません。"))])


class CertificationForm(FlaskForm):
    kind = SelectField(_l("認証の種類"), choices=CertificationKind.select_choices())
    # No Optional() where an inline validate_<name> must still run on an empty value.
    name = StringField(_l("認証の名称（その他の場合）"), validators=[Length(max=100)])
    number = StringField(_l("登録番号"), validators=[Optional(), Length(max=100)])
    issuer = StringField(_l("認証機関"), validators=[Optional(), Length(max=200)])
    valid_until = DateField(_l("有効期限"), validators=[Optional()])
    file = FileField(_l("証明書ファイル（PDF・PNG・JPEG、10MBまで）"))

    def validate_name(self, field):
        if self.kind.data == CertificationKind.OTHER.value and not (field.data or "").strip():
            raise ValidationError(_l("「その他」の場合は認証の名称を入力してください。"))


class AssessmentForm(FlaskForm):
    class Meta:
        csrf = False  # part of SelectionForm, which carries the token

    criterion_id = HiddenField()
    result = SelectField(_l("評価"), choices=Assessment.select_choices(blank=_l("（選択してください）")),
                         validators=[DataRequired(message=_l("評価を選んでください。"))])
    comment = StringField(_l("コメント"), validators=[Length(max=500)])

    def validate_comment(self, field):
        if self.result.data == Assessment.NOT_MET.value and not (field.data or "").strip():
            raise ValidationError(_l("「不適合」にはコメントを入力してください。"))


class SelectionForm(PickerSearchMixin, FlaskForm):
    decided_on = DateField(_l("選定日"), validators=[InputRequired(message=_l("日付を入力してください。"))])
    # No decision is chosen until the person deciding chooses one (issue 20).
    decision = RadioField(_l("決定"), choices=SelectionDecision.select_choices(),
                          validators=[InputRequired(message=_l("決定を選択してください。"))])
    # Who decided (選定者), chosen from the users; the person saving when left alone (selection_form).
    decided_by_id = PickerField(_l("決定者"), source="users", blank="—", validators=[Optional()])
    # The second step of a 選定 with a 不適合 criterion: the warning is read and confirmed (issue 20).
    confirm_not_met = BooleanField(_l("「不適合」の基準があることを確認したうえで「選定する」と決定します"))
    notes = TextAreaField(_l("選定理由・備考"), validators=[Optional(), Length(max=4000)])
    justification = TextAreaField(
        _l("「不適合」があるまま選定する理由"), validators=[Optional(), Length(max=4000)],
        description=_l("「不適合」の基準があるまま「選定する」場合は必須です。別の担当者（管理者・承認者・統括情報セキュリティ責任者）が承認するまで、選定として扱いません。"))
    assessments = FieldList(FormField(AssessmentForm))


def selection_form(user, **kwargs) -> SelectionForm:
    """The selection form with the users to choose the decider from; ``user``, the person saving, by default."""
    form = SelectionForm(**kwargs)
    if form.decided_by_id.data is None and not form.is_submitted():
        form.decided_by_id.data = user.id
    return form


class JustificationDecisionForm(FlaskForm):
    comment = TextAreaField(_l("コメント"), validators=[Optional(), Length(max=2000)])
