"""The incident register's forms.  Times are entered as the office reads them
(JST, ``datetime-local`` inputs) and stored in UTC by the views."""
from __future__ import annotations

import datetime as dt

import wtforms.fields
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from core.forms import MultiCheckboxField, VersionedForm, coerce_int_or_none
from core.incidents import IncidentKind, Severity
from core.pickers import PickerField, PickerSearchMixin
from core.timeutil import JST


class LocalDateTimeField(wtforms.fields.DateTimeLocalField):
    """A date and time in Japan (``YYYY-MM-DDTHH:MM``); ``utc`` is it in UTC,
    naive, as stored."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"])
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(_l("日時はYYYY-MM-DD HH:MMの形で正しい日時を入力してください。"))) from error

    @property
    def utc(self) -> dt.datetime | None:
        if self.data is None:
            return None
        return self.data.replace(tzinfo=JST).astimezone(dt.UTC).replace(tzinfo=None)

    def set_utc(self, moment: dt.datetime | None) -> None:
        self.data = moment.replace(tzinfo=dt.UTC).astimezone(JST).replace(tzinfo=None) if moment else None


REQUIRED_TIME = InputRequired(message=_l("日時を入力してください。"))


class IncidentForm(PickerSearchMixin, FlaskForm):
    kind = SelectField(_l("種類"), choices=IncidentKind.select_choices())
    severity = SelectField(_l("重大度"), choices=Severity.select_choices(), default=Severity.MODERATE.value)
    subject = SelectField(_l("対象"), validate_choice=False)  # "contract:12", "" for the body itself
    title = StringField(_l("件名"), validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField(_l("何が起きたか"), validators=[DataRequired(), Length(max=8000)])
    occurred_at = LocalDateTimeField(_l("発生日時"), validators=[REQUIRED_TIME])
    detected_at = LocalDateTimeField(_l("発見日時"), validators=[Optional()])
    contractor_reported_at = LocalDateTimeField(_l("受託者から報告を受けた日時"), validators=[Optional()])
    learned_at = LocalDateTimeField(_l("本団体が把握した日時"), validators=[REQUIRED_TIME])
    reporter = StringField(_l("報告者（誰から知らされたか）"), validators=[Optional(), Length(max=200)])
    information = TextAreaField(_l("影響を受けた情報"), validators=[Optional(), Length(max=4000)])
    classification_id = SelectField(_l("その情報の機密性"), coerce=coerce_int_or_none, validators=[Optional()])
    personal_data = BooleanField(_l("個人情報を含む"))
    my_number = BooleanField(_l("マイナンバー（特定個人情報）を含む"))
    people_affected = IntegerField(_l("影響を受けた人数"), validators=[Optional(), NumberRange(min=0, max=100_000_000)])
    wrongful_intent = BooleanField(_l("不正の目的によるおそれがある"))
    handler_id = PickerField(_l("対応担当者"), source="users", blank=_l("（未定）"), validators=[Optional()])


class EditForm(VersionedForm, IncidentForm):
    """Correcting an open incident (its subject and number stay)."""
    subject = None
    unit_id = SelectField(_l("担当組織"), coerce=coerce_int_or_none, validators=[Optional()])


class EvidenceForm(FlaskForm):
    file = FileField(_l("証拠ファイル（PDF・画像・Office文書、20MBまで）"),
                     validators=[FileRequired(message=_l("ファイルを選んでください。"))])
    note = StringField(_l("説明"), validators=[Optional(), Length(max=300)])


class ActionForm(FlaskForm):
    action = TextAreaField(_l("行った対応"), validators=[DataRequired(), Length(max=4000)])


class ChecklistForm(VersionedForm):
    done = MultiCheckboxField(_l("対応チェックリスト"))


class MeasureRowForm(wtforms.Form):
    """One prevention measure listed when closing (core.measures)."""
    measure = StringField(_l("措置"), validators=[Optional(), Length(max=1000)])
    owner_id = SelectField(_l("担当者"), coerce=coerce_int_or_none, validators=[Optional()])
    due_on = DateField(_l("期限"), validators=[Optional()])


MEASURE_ROWS = 3


class CloseForm(FlaskForm):
    closed_at = LocalDateTimeField(_l("終結日時"), validators=[REQUIRED_TIME])
    cause = TextAreaField(_l("原因"), validators=[DataRequired(), Length(max=4000)])
    prevention = TextAreaField(_l("再発防止策"), validators=[DataRequired(), Length(max=4000)])
    measures = FieldList(FormField(MeasureRowForm), label=_l("再発防止の措置"), min_entries=MEASURE_ROWS,
                         max_entries=10)


class NotifyForm(FlaskForm):
    """Who of the reporting chain was told, when and how."""
    recipient_role = SelectField(_l("報告先"))
    recipient = StringField(_l("報告した相手"), validators=[DataRequired(), Length(max=200)])
    notified_at = LocalDateTimeField(_l("報告日時"), validators=[REQUIRED_TIME])
    means = StringField(_l("手段（電話・電子メール・対面・文書など）"), validators=[DataRequired(), Length(max=100)])


class PpcForm(FlaskForm):
    """The decision on the report to the Personal Information Protection Commission and the reports' dates."""
    required = SelectField(_l("個人情報保護委員会への報告"))
    preliminary_on = DateField(_l("速報の日付"), validators=[Optional()])
    final_on = DateField(_l("確報の日付"), validators=[Optional()])


class ContainForm(FlaskForm):
    contained_at = LocalDateTimeField(_l("封じ込めた日時"), validators=[REQUIRED_TIME])


class ListFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(_l("状態"), validators=[Optional()])
    kind = SelectField(_l("種類"), validators=[Optional()])
    page = IntegerField(validators=[Optional()])


class ChecklistItemForm(VersionedForm):
    kind = SelectField(_l("種類"), choices=IncidentKind.select_choices())
    code = StringField(_l("コード"), validators=[DataRequired(), Length(max=20)])
    text_ja = StringField(_l("内容（日本語）"), validators=[DataRequired(), Length(max=300)])
    text_en = StringField(_l("内容（英語）"), validators=[DataRequired(), Length(max=300)])


class ChecklistItemEditForm(ChecklistItemForm):
    kind = None
    code = None
class ContractorReportForm(FlaskForm):
    contractor_reported_at = LocalDateTimeField(_l("受託者から報告を受けた日時"), validators=[REQUIRED_TIME])
