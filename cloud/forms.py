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
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from cloud.checklist import Answer
from cloud.models import (
    Agreement,
    CloudService,
    DataLocation,
    DeletionMethod,
    InformationState,
    IsmapListing,
    ServiceModel,
)
from core.forms import (
    DateField,
    MultiCheckboxField,
    VersionedForm,
    coerce_int_or_none,
    level_choices,
    select_choices,
    unit_choices,
)
from core.pickers import PickerField
from core.validators import reading_field

TEXT = [Optional(), Length(max=4000)]


class ServiceForm(VersionedForm):
    name = StringField(_l("サービス名"), validators=[DataRequired(), Length(max=200)])
    reading = reading_field(_l("サービス名のよみ"))
    vendor_id = PickerField(_l("提供者（委託事業者）"), source="vendors", blank=_l("（委託事業者でない）"),
                            validators=[Optional()])
    provider_name = StringField(_l("提供者名（委託事業者として登録していない場合）"), validators=[Optional(), Length(max=200)])
    service_model = SelectField(_l("サービス形態"), choices=ServiceModel.select_choices())
    agreement = SelectField(_l("利用形態"), choices=Agreement.select_choices())
    contract_id = PickerField(_l("契約（個別契約の場合）"), source="contracts", blank="—", validators=[Optional()])
    ceiling_id = SelectField(_l("取扱上限（取り扱ってよい情報の最高の機密性）"), coerce=coerce_int_or_none,
                             validators=[DataRequired(message=_l("取扱上限を選択してください。"))])
    purpose = TextAreaField(_l("利用目的（業務）"), validators=[DataRequired(), Length(max=4000)])
    administrator_id = PickerField(_l("外部サービス管理者"), source="users", blank=_l("（未定）"), validators=[Optional()],
                                   description=_l("管理者が決まるまで承認できません。"))
    unit_ids = MultiCheckboxField(_l("利用部署"), coerce=int)
    ismap_listing = SelectField(_l("ISMAP / ISMAP-LIU 登録"), choices=IsmapListing.select_choices())
    ismap_number = StringField(_l("登録番号"), validators=[Optional(), Length(max=50)])
    ismap_valid_until = DateField(_l("登録の有効期限"), validators=[Optional()])
    other_certifications = TextAreaField(_l("その他の認証（ISO/IEC 27001・27017 など）"), validators=TEXT)
    data_location = SelectField(_l("データの保存場所"), choices=DataLocation.select_choices())
    data_region = StringField(_l("リージョン・所在地"), validators=[Optional(), Length(max=200)])
    governing_law = StringField(_l("準拠法"), validators=[Optional(), Length(max=200)])
    jurisdiction = StringField(_l("管轄裁判所"), validators=[Optional(), Length(max=200)])
    sla = TextAreaField(_l("SLA（稼働率・復旧時間・バックアップ）"), validators=TEXT)
    subcontractors = TextAreaField(_l("再委託先"), validators=TEXT)
    exit_terms = TextAreaField(_l("終了時の条件（データの返却形式・費用・消去の証明）"), validators=TEXT)
    mfa = BooleanField(_l("多要素認証（MFA）を利用できる"))
    sso = BooleanField(_l("シングルサインオン（SSO）に対応"))
    log_access = TextAreaField(_l("調査のためのログの提供"), validators=TEXT)
    incident_contact = StringField(_l("事故時の連絡先"), validators=[Optional(), Length(max=300)])
    review_cycle_months = IntegerField(_l("見直しの周期（月）"), default=12, description=_l(
        "次回見直し日は、承認した日・見直しを記録した日からこの周期の後になります。"), validators=[
        InputRequired(message=_l("見直しの周期を月数で入力してください。")),
        NumberRange(min=1, max=60, message=_l("見直しの周期は1〜60か月で入力してください。"))])

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the checks across fields (each message on the
        field to correct)."""
        valid = super().validate(extra_validators)
        listed = self.ismap_listing.data != IsmapListing.NONE.value
        checks = (
            (self.provider_name, not self.vendor_id.data and not (self.provider_name.data or "").strip(),
             _l("提供者を委託事業者から選ぶか、提供者名を入力してください。")),
            (self.contract_id, self.agreement.data == Agreement.CONTRACT.value and not self.contract_id.data,
             _l("個別契約の場合は契約を選択してください。")),
            (self.ismap_number, listed and not (self.ismap_number.data or "").strip(),
             _l("ISMAP / ISMAP-LIU の登録番号を入力してください。")),
            (self.ismap_valid_until, listed and not self.ismap_valid_until.data and not self.ismap_valid_until.errors,
             _l("ISMAP / ISMAP-LIU 登録の有効期限を入力してください。")),
        )
        for field, failed, message in checks:
            if failed:
                field.errors = [*field.errors, message]
                valid = False
        return valid


def service_form(service: CloudService | None = None, **kwargs) -> ServiceForm:
    """The service form with its choices filled (the pages, the spreadsheet import and the API)."""
    form = ServiceForm(obj=service, **kwargs)
    if service is not None and "formdata" not in kwargs and not form.is_submitted():
        form.unit_ids.data = [link.unit_id for link in service.unit_links]
    form.ceiling_id.choices = level_choices(blank=_("（選択してください）"))
    form.unit_ids.choices = select_choices(unit_choices(include_blank=False))
    return form


class InformationForm(FlaskForm):
    info_name = StringField(_l("情報の種類"), validators=[DataRequired(), Length(max=200)])
    classification_id = SelectField(_l("機密性"), coerce=coerce_int_or_none,
                                    validators=[DataRequired(message=_l("機密性を選択してください。"))])
    state = SelectField(_l("状況"), choices=InformationState.select_choices())
    note = StringField(_l("備考"), validators=[Optional(), Length(max=500)])
    personal = BooleanField(_l("個人情報を含む"))


class UsageRulesForm(VersionedForm):
    users = TextAreaField(_l("利用できる者"), validators=[DataRequired(), Length(max=4000)])
    purposes = TextAreaField(_l("利用してよい業務・目的"), validators=[DataRequired(), Length(max=4000)])
    prohibited = TextAreaField(_l("入力・保存してはならない情報"), validators=[DataRequired(), Length(max=4000)])
    accounts = TextAreaField(_l("アカウントの管理（個人アカウントの利用禁止など）"),
                             validators=[DataRequired(), Length(max=4000)])
    other = TextAreaField(_l("その他の遵守事項"), validators=TEXT)


class ChecklistRowForm(FlaskForm):
    class Meta:
        csrf = False

    code = HiddenField()
    answer = SelectField(_l("確認結果"), choices=Answer.select_choices())
    comment = StringField(_l("コメント"), validators=[Optional(), Length(max=500)])


class DecisionForm(FlaskForm):
    outcome = RadioField(_l("決定"), choices=select_choices([
        ("approve", _l("承認")), ("conditional", _l("条件付承認")), ("reject", _l("却下"))]),
        validators=[InputRequired(message=_l("決定を選択してください。"))])
    comment = TextAreaField(_l("コメント（条件付承認の条件・却下の理由）"), validators=[Optional(), Length(max=4000)])
    acknowledged = BooleanField(_l("上記の警告を確認し、判断の理由をコメントに記載しました"))
    checklist = FieldList(FormField(ChecklistRowForm))


class ResubmitForm(FlaskForm):
    reason = TextAreaField(_l("再申請の理由（却下の理由への対応）"),
                           validators=[DataRequired(), Length(max=2000)])


class DeletionForm(FlaskForm):
    """データの消去・返却 before a service that held classified information retires."""
    done_on = DateField(_l("実施日"), validators=[InputRequired(message=_l("日付を入力してください。"))])
    method = SelectField(_l("証明するもの"), choices=DeletionMethod.select_choices(blank=_l("選択してください")),
                         validators=[InputRequired(message=_l("消去・返却を証明するものを選択してください。"))])
    detail = TextAreaField(_l("内容（対象のデータ、証明書の番号など）"), validators=[Optional(), Length(max=500)])
    evidence = FileField(_l("証明書類（データ消去証明書・削除報告など。PDF・PNG・JPEG、10MBまで）"),
                         validators=[FileRequired(message=_l("データの消去を証明する書類を添付してください。"))])


class RetireForm(FlaskForm):
    retire_reason = TextAreaField(_l("廃止の理由"), validators=[DataRequired(), Length(max=2000)])
