"""Forms of audit plans and findings (labels Japanese first, lazily translated)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from assurance.audit_models import Severity
from core.forms import DateField, MultiCheckboxField, VersionedForm, coerce_int_or_none
from core.pickers import PickerField, PickerSearchMixin
from core.validators import date_not_before

METHODS = ("書面監査", "実地監査", "ヒアリング", "書面監査・実地監査", "書面監査・ヒアリング")


class PlanForm(VersionedForm):
    fiscal_year = IntegerField(_l("年度（西暦）"), validators=[InputRequired(message=_l("年度を入力してください。")),
                                                      NumberRange(min=2000, max=2100)])
    title = StringField(_l("件名"), validators=[DataRequired(), Length(max=200)])
    method = StringField(_l("監査の方法"), validators=[DataRequired(), Length(max=200)],
                         description=_l("例: 書面監査、実地監査、ヒアリング"))
    period_start = DateField(_l("監査期間（開始）"), validators=[InputRequired(message=_l("日付を入力してください。"))])
    period_end = DateField(_l("監査期間（終了）"), validators=[
        InputRequired(message=_l("日付を入力してください。")),
        date_not_before("period_start", _l("監査期間の終了日は開始日以降にしてください。"))])
    auditor_ids = MultiCheckboxField(_l("監査人"), coerce=int,
                                     validators=[DataRequired(message=_l("監査人を一人以上選んでください。"))],
                                     description=_l("監査担当の役割を持つ利用者。監査対象の責任者・所属職員でない者（独立性）。"))
    unit_ids = MultiCheckboxField(_l("対象部署"), coerce=int, validators=[Optional()])
    registers = MultiCheckboxField(_l("対象台帳"), validators=[Optional()])
    targets = MultiCheckboxField(_l("対象の記録"), validators=[Optional()],
                                 description=_l("特に監査する契約・外部サービス・SNSアカウント"))


class FindingForm(FlaskForm):
    severity = SelectField(_l("重要度"), choices=Severity.select_choices(),
                           validators=[DataRequired()])
    criterion_code = SelectField(_l("判断基準（点検項目）"), validators=[Optional()])
    criterion_text = StringField(_l("判断基準（条項・記述）"), validators=[Optional(), Length(max=200)],
                                 description=_l("点検項目がない場合は、条項（例: 対策基準 7.2）や基準を記述"))
    condition = TextAreaField(_l("事実（監査で確認した状況）"), validators=[DataRequired(), Length(max=4000)])
    recommendation = TextAreaField(_l("改善勧告"), validators=[Optional(), Length(max=4000)])
    target = SelectField(_l("対象の記録"), validators=[Optional()])
    unit_id = SelectField(_l("被監査部署"), coerce=coerce_int_or_none, validators=[Optional()])


class ResponseForm(FlaskForm):
    response = TextAreaField(_l("回答（被監査部署）"), validators=[DataRequired(), Length(max=4000)])


class CloseForm(FlaskForm):
    closure_note = TextAreaField(_l("完了の所見"), validators=[Optional(), Length(max=4000)])


class MeasureForm(PickerSearchMixin, FlaskForm):
    measure = TextAreaField(_l("改善措置の内容"), validators=[DataRequired(), Length(max=4000)])
    owner_id = PickerField(_l("措置の担当者"), source="users",
                           validators=[DataRequired(message=_l("措置の担当者を選んでください。"))])
    due_on = DateField(_l("期限"), validators=[InputRequired(message=_l("日付を入力してください。"))])
