from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from contracts.models import (
    ClauseState,
    Contract,
    ContractingMethod,
    ContractKind,
    DisposalMethod,
    Method,
    Result,
    Subcontracting,
)
from contracts.schedule import Cycle
from core.forms import (
    DateField,
    MultiCheckboxField,
    ReportDoneForm,  # noqa: F401  (the contract finding page's)
    VersionedForm,
    coerce_int_or_none,
    level_choices,
)
from core.forms import MeasureForm as BaseMeasureForm
from core.pickers import PickerField, PickerSearchMixin
from core.validators import date_not_before, fold

MAX_AMOUNT = 10 ** 15 - 1  # 契約金額: up to 999兆円 (a BIGINT holds it)
AMOUNT_MESSAGE = _l("契約金額は0以上の整数（円、税込）で入力してください（例: 1,234,000）。")


def parse_amount(text) -> int | None:
    """契約金額 as typed: NFKC-folded (full-width １２３ and ，), thousands
    separators and a trailing 円 allowed; None when blank; ValueError when it is
    not a whole number of yen from 0 to MAX_AMOUNT."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        folded = fold(str(text) if text is not None else "").replace(",", "").replace("、", "").removesuffix("円")
        if not folded:
            return None
        if not folded.isascii() or not folded.isdigit():
            raise ValueError(str(AMOUNT_MESSAGE))
        value = int(folded)
    if not 0 <= value <= MAX_AMOUNT:
        raise ValueError(str(AMOUNT_MESSAGE))
    return value


def _enum_value(value) -> str:
    """A select's value for a stored enum, blank for none (optional selects)."""
    return "" if value is None else str(getattr(value, "value", value))


class AmountField(StringField):
    """An amount of yen typed as text (so 1,234,000 and full-width digits are
    taken); ``data`` is the int, or None when left blank."""

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = None
            try:
                self.data = parse_amount(valuelist[0])
            except ValueError as error:
                self.data = None
                raise ValueError(str(AMOUNT_MESSAGE)) from error

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return f"{self.data:,}" if isinstance(self.data, int) else ""


class ContractForm(VersionedForm):
    number = StringField(_l("契約番号"), validators=[DataRequired(), Length(max=50)])
    title = StringField(_l("件名"), validators=[DataRequired(), Length(max=200)])
    vendor_id = PickerField(_l("委託事業者"), source="vendors",
                            validators=[DataRequired(message=_l("委託事業者を選択してください。"))])
    kind = SelectField(_l("種別"), choices=ContractKind.select_choices())
    unit_id = PickerField(_l("担当組織"), source="units",
                          validators=[DataRequired(message=_l("担当組織を選択してください。"))])
    officer_id = PickerField(_l("担当者"), source="users",
                             validators=[DataRequired(message=_l("担当者を選択してください。"))])
    start_on = DateField(_l("契約開始日"), validators=[InputRequired(message=_l("日付を入力してください。"))])
    end_on = DateField(_l("契約終了日"), validators=[InputRequired(message=_l("日付を入力してください。")),
                                                    date_not_before("start_on")])
    classification_id = SelectField(_l("取り扱う情報の機密性（最高）"), coerce=coerce_int_or_none,
                                    validators=[DataRequired(message=_l("機密性を選択してください。"))])
    integrity_id = SelectField(_l("完全性"), coerce=coerce_int_or_none, validators=[Optional()])
    availability_id = SelectField(_l("可用性"), coerce=coerce_int_or_none, validators=[Optional()])
    handles_personal_info = BooleanField(_l("個人情報を取り扱う"))
    handles_my_number = BooleanField(_l("個人番号（マイナンバー）を取り扱う"))
    system_access = BooleanField(_l("受託者がシステムへのリモート又はオンサイトのアクセスを行う"))
    work_places = TextAreaField(_l("作業場所"), validators=[Optional(), Length(max=2000)])
    subcontracting = SelectField(_l("再委託"), choices=Subcontracting.select_choices())
    verification_cycle = SelectField(_l("確認の頻度"), choices=Cycle.select_choices(blank=_l("（機密性に応じた既定）")))
    document = FileField(_l("契約書ファイル（PDF・PNG・JPEG、10MBまで）"))
    # The fields offices keep (issue 20).
    amount = AmountField(_l("契約金額（税込、円）"), validators=[Optional()],
                         render_kw={"inputmode": "numeric", "autocomplete": "off"})
    method = SelectField(_l("契約方法"), choices=ContractingMethod.select_choices(blank="—"), default="",
                         coerce=_enum_value)
    contractor_manager = StringField(_l("受託者側責任者"), validators=[Optional(), Length(max=100)])
    contractor_manager_contact = StringField(_l("受託者側責任者の連絡先（任意）"),
                                             validators=[Optional(), Length(max=200)])
    budget_item = StringField(_l("予算科目（任意）"), validators=[Optional(), Length(max=200)])

    def validate_handles_my_number(self, field):
        if field.data and not self.handles_personal_info.data:
            raise ValidationError(_l("マイナンバーを取り扱う場合は「個人情報を取り扱う」にもチェックしてください。"))


class RenewalForm(FlaskForm):
    """次年度の契約を作成: what the renewed contract does not copy."""
    number = StringField(_l("契約番号"), validators=[DataRequired(message=_l("契約番号を入力してください。")),
                                                   Length(max=50)])
    title = StringField(_l("件名"), validators=[DataRequired(message=_l("件名を入力してください。")), Length(max=200)])
    start_on = DateField(_l("契約開始日"), validators=[InputRequired(message=_l("日付を入力してください。"))])
    end_on = DateField(_l("契約終了日"), validators=[InputRequired(message=_l("日付を入力してください。")),
                                                    date_not_before("start_on")])


def contract_form(contract: Contract | None = None, **kwargs) -> ContractForm:
    """The contract form with its choices filled (the pages, the spreadsheet import and the API)."""
    form = ContractForm(obj=contract, **kwargs)
    form.classification_id.choices = level_choices("confidentiality", _("（選択してください）"))
    form.integrity_id.choices = level_choices("integrity", "—")
    form.availability_id.choices = level_choices("availability", "—")
    if form.method.data is None:  # none recorded (WTForms keeps None from the record): the blank choice
        form.method.data = ""
    return form


class ClauseRowForm(FlaskForm):
    class Meta:
        csrf = False

    clause_id = HiddenField()
    state = SelectField(_l("規定"), choices=ClauseState.select_choices())
    article = StringField(_l("条項番号"), validators=[Length(max=50)])
    reason = StringField(_l("該当なしの理由"), validators=[Length(max=500)])

    def validate_article(self, field):
        if self.state.data == ClauseState.INCLUDED.value and not (field.data or "").strip():
            raise ValidationError(_l("「規定あり」には条項番号を入力してください（例: 第12条）。"))

    def validate_reason(self, field):
        if self.state.data == ClauseState.NOT_APPLICABLE.value and not (field.data or "").strip():
            raise ValidationError(_l("「該当なし」には理由が必要です。"))


class ClauseMatrixForm(VersionedForm):
    rows = FieldList(FormField(ClauseRowForm))


class ExceptionRequestForm(FlaskForm):
    # One request per clause (issue 17); the view offers the contract's missing
    # mandatory clauses, the service checks the choice again.
    clause = SelectField(_l("対象条項"), choices=[], validate_choice=False,
                         validators=[InputRequired(message=_l("例外を申請する条項を選択してください。"))])
    reason = TextAreaField(_l("例外の理由"), validators=[DataRequired(message=_l("例外の理由を入力してください。")),
                                                      Length(max=2000)])


class SelectionConfirmForm(FlaskForm):
    # Required by the rule (contracts.services.confirm_vendor_selection), which says so beside the field.
    comment = TextAreaField(_l("確認のコメント（事業者の選定がこの契約を対象とする理由）"), validators=[Length(max=2000)])


class DecisionForm(FlaskForm):
    comment = TextAreaField(_l("コメント"), validators=[Optional(), Length(max=2000)])


class ExceptionDecisionForm(DecisionForm):
    # Required to approve (checked by the service, with its message); rejecting needs none.
    expires_on = DateField(_l("有効期限"), validators=[Optional()])


class SubcontractorForm(PickerSearchMixin, FlaskForm):
    """再委託の申請 (C08): decided afterwards by another person."""
    name = StringField(_l("再委託先"), validators=[DataRequired(message=_l("再委託先の名称を入力してください。")),
                                                 Length(max=200)])
    scope = StringField(_l("再委託の範囲"), validators=[Optional(), Length(max=500)])
    vendor_id = PickerField(_l("事業者台帳の事業者（任意）"), source="vendors", blank="—", validators=[Optional()])
    corporate_number = StringField(_l("または法人番号（任意）"), validators=[Optional(), Length(max=40)])
    document = FileField(_l("再委託承認申請書・承諾書（PDF・PNG・JPEG、10MBまで）"),
                         validators=[FileRequired(message=_l("再委託承認申請書（承諾書）を添付してください。"))])


def subcontractor_form(**kwargs) -> SubcontractorForm:
    """The request form (its vendor chosen with a picker: core.pickers)."""
    return SubcontractorForm(**kwargs)


class SubcontractorEndForm(FlaskForm):
    ended_on = DateField(_l("終了日"), validators=[InputRequired(message=_l("日付を入力してください。"))])
    end_reason = StringField(_l("終了の理由"), validators=[DataRequired(message=_l("終了の理由を入力してください。")),
                                                       Length(max=500)])


class DisposalForm(FlaskForm):
    done_on = DateField(_l("実施日"), validators=[InputRequired(message=_l("日付を入力してください。"))])
    method = SelectField(_l("方法"), choices=DisposalMethod.select_choices(blank=_l("選択してください")), validators=[InputRequired(message=_l("返却・廃棄の方法を選択してください。"))])
    detail = TextAreaField(_l("内容（対象の媒体・データ、証明書の番号など）"), validators=[Optional(), Length(max=500)])
    # Required unless the data is handed over to the successor contract: the rule (contracts.rules) says so.
    evidence = FileField(_l("証明書類（消去証明書など。PDF・PNG・JPEG、10MBまで）"))


class ClauseForm(VersionedForm):
    code = StringField(_l("コード"), validators=[DataRequired(), Length(max=10)])
    label_ja = StringField(_l("名称（日本語）"), validators=[DataRequired(), Length(max=200)])
    label_en = StringField(_l("名称（英語）"), validators=[DataRequired(), Length(max=200)])
    verify_ja = TextAreaField(_l("確認すること（日本語）"), validators=[Optional(), Length(max=2000)])
    verify_en = TextAreaField(_l("確認すること（英語）"), validators=[Optional(), Length(max=2000)])
    mandatory_levels = MultiCheckboxField(_l("必須とする機密性"), coerce=int)
    mandatory_if_personal = BooleanField(_l("個人情報を取り扱う契約では必須"))
    mandatory_base = BooleanField(_l("すべての契約で必須（基本条項）"))
    mandatory_kinds = MultiCheckboxField(_l("必須とする契約の種別"), choices=ContractKind.select_choices())
    mandatory_if_access = BooleanField(_l("受託者がシステムへアクセスする契約では必須"))
    sort_order = IntegerField(_l("表示順"), default=0, validators=[Optional(), NumberRange(min=0, max=9999)])
    active = BooleanField(_l("有効"), default=True)


# --- verification (issue 4) -----------------------------------------------------

class ResultRowForm(FlaskForm):
    class Meta:
        csrf = False

    result_id = HiddenField()
    result = SelectField(_l("結果"), choices=Result.select_choices())
    comment = StringField(_l("コメント"), validators=[Optional(), Length(max=1000)])
    file = FileField(_l("証拠ファイル"))


class VerificationForm(VersionedForm):
    performed_on = DateField(_l("確認日"), validators=[InputRequired(message=_l("日付を入力してください。"))])
    method = SelectField(_l("確認方法"), choices=Method.select_choices())
    rows = FieldList(FormField(ResultRowForm))
    files = MultipleFileField(_l("確認全体の証拠ファイル（PDF・画像・Office文書、各20MBまで）"))
    conclusion = TextAreaField(_l("総合所見"), validators=[Optional(), Length(max=4000)])
    remarks = TextAreaField(_l("備考"), validators=[Optional(), Length(max=4000)])


class MeasureForm(BaseMeasureForm):
    """A contract finding's measure: what the contractor must do."""
    measure = TextAreaField(_l("措置の内容（委託事業者が行うこと）"), validators=[DataRequired(), Length(max=4000)])


# --- amendments (変更契約, issue 17) -----------------------------------------------

class AmendmentForm(VersionedForm):
    """An amendment: its reason, date and document, and the protected terms
    of the contract as they are to become (prefilled with today's)."""
    reason = TextAreaField(_l("変更の理由"), validators=[DataRequired(message=_l("変更の理由を入力してください。")),
                                                      Length(max=2000)])
    amended_on = DateField(_l("変更契約日"), validators=[InputRequired(message=_l("日付を入力してください。"))])
    document = FileField(_l("変更契約書（PDF・PNG・JPEG、10MBまで。承認の申請に必要）"))
    vendor_id = ContractForm.vendor_id
    kind = ContractForm.kind
    start_on = ContractForm.start_on
    end_on = ContractForm.end_on
    classification_id = ContractForm.classification_id
    integrity_id = ContractForm.integrity_id
    availability_id = ContractForm.availability_id
    handles_personal_info = ContractForm.handles_personal_info
    handles_my_number = ContractForm.handles_my_number
    system_access = ContractForm.system_access
    subcontracting = ContractForm.subcontracting
    amount = ContractForm.amount
    method = ContractForm.method
    rows = FieldList(FormField(ClauseRowForm))


def amendment_form(**kwargs) -> AmendmentForm:
    """The amendment form with its choices filled."""
    form = AmendmentForm(**kwargs)
    form.classification_id.choices = level_choices("confidentiality", _("（選択してください）"))
    form.integrity_id.choices = level_choices("integrity", "—")
    form.availability_id.choices = level_choices("availability", "—")
    if form.method.data is None:  # none recorded (WTForms keeps None from the record): the blank choice
        form.method.data = ""
    return form
