"""The incident register for the JSON API and the spreadsheet export
(core.registers): ``/api/v1/incidents`` lists, reads and creates.

- Anyone with a token records an incident, through the page's form and
  ``incidents.services.record`` (the same rules, the same refusals).
- An incident is handled and closed on its page, never changed through the
  API (no update, no import).
- A personal-data incident is listed and read only by those who may read it
  (incidents.access.visible): to anyone else it does not exist (404).
- Times go out in UTC (RFC 3339); they come in as RFC 3339, or without an
  offset as the time in Japan (as the page takes them).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import false, select
from sqlalchemy.orm import joinedload

from core import plugins
from core.forms import level_choices, select_choices
from core.incidents import Incident, IncidentKind, IncidentStatus, Severity
from core.lists import ListView, enum_filter
from core.models import Role
from core.refusals import Refusal
from core.registers import Field, Register, ValueProblem, level_by_code, user_by_name
from core.timeutil import JST
from incidents import access, services
from incidents.forms import IncidentForm


@dataclass(frozen=True)
class MomentField(Field):
    """A time: RFC 3339 (``2026-11-30T09:00:00+09:00``, ``…Z``), or without an
    offset the time in Japan; given to the form as the page's input (JST)."""

    def form_value(self, raw) -> str:
        text = "" if raw is None else str(raw).strip()
        if not text:
            return ""
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValueProblem(_l("日時はRFC 3339の形（例: 2026-12-01T09:00:00+09:00）で指定してください。")) from None
        if moment.tzinfo is not None:
            moment = moment.astimezone(JST).replace(tzinfo=None)
        return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _subject(incident: Incident) -> str | None:
    return f"{incident.subject_type}:{incident.subject_id}" if incident.subject_type else None


def _name(user) -> str | None:
    return user.display_name if user is not None else None


def _moment(key: str, ja: str, *, required: bool = False, writable: bool = True, description: str = ""):
    return MomentField(key, ja, lambda i: getattr(i, key), kind="datetime", width=19,
                       field=key if writable else None, required=required, read_only=not writable,
                       description=description)


FIELDS = [
    Field("id", "ID", lambda i: i.id, kind="integer", width=7, read_only=True),
    Field("number", "事案番号", lambda i: i.number, width=14, read_only=True),
    Field("kind", "種類", lambda i: i.kind, kind="enum", enum=IncidentKind, width=14, field="kind", required=True),
    Field("severity", "重大度", lambda i: i.severity, kind="enum", enum=Severity, width=8, field="severity",
          required=True),
    Field("status", "状態", lambda i: i.status, kind="enum", enum=IncidentStatus, width=10, read_only=True,
          description="changed by handling and closing the incident on its page"),
    Field("title", "件名", lambda i: i.title, width=30, field="title", required=True),
    Field("summary", "何が起きたか", lambda i: i.summary, width=40, field="summary", required=True),
    Field("subject", "対象", _subject, width=20, field="subject",
          description="what it concerns, as <kind>:<id> (contract:12, cloud_service:3, social_account:5); "
                      "null: the body itself"),
    Field("unit", "担当組織", lambda i: i.unit.name if i.unit else None, width=18, read_only=True,
          description="the responsible unit: the subject's unless named"),
    Field("handler", "対応担当者", lambda i: _name(i.handler), kind="ref", ref=user_by_name, width=14,
          field="handler_id", description="user name or full name"),
    _moment("occurred_at", "発生日時", required=True),
    _moment("detected_at", "発見日時"),
    _moment("contractor_reported_at", "受託者から報告を受けた日時"),
    _moment("learned_at", "本団体が把握した日時", required=True),
    _moment("contained_at", "封じ込め日時", writable=False),
    Field("reporter", "報告者", lambda i: i.reporter, width=20, field="reporter"),
    Field("information", "影響を受けた情報", lambda i: i.information, width=30, field="information"),
    Field("classification", "機密性", lambda i: i.classification.label_ja if i.classification else None,
          kind="ref", ref=level_by_code, width=14, field="classification_id",
          description="a confidentiality level's code or name"),
    Field("personal_data", "個人情報", lambda i: i.personal_data, kind="boolean", width=8, field="personal_data"),
    Field("my_number", "マイナンバー", lambda i: i.my_number, kind="boolean", width=8, field="my_number"),
    Field("people_affected", "影響を受けた人数", lambda i: i.people_affected, kind="integer", width=10,
          field="people_affected"),
    Field("wrongful_intent", "不正の目的", lambda i: i.wrongful_intent, kind="boolean", width=8,
          field="wrongful_intent"),
    Field("ppc_required", "個人情報保護委員会への報告", lambda i: i.ppc_required, width=10, read_only=True,
          description="true, false, or null: not yet decided"),
    Field("ppc_preliminary_on", "速報日", lambda i: i.ppc_preliminary_on, kind="date", width=12, read_only=True),
    Field("ppc_final_on", "確報日", lambda i: i.ppc_final_on, kind="date", width=12, read_only=True),
    Field("cause", "原因", lambda i: i.cause, width=30, read_only=True),
    Field("prevention", "再発防止策", lambda i: i.prevention, width=30, read_only=True),
    _moment("closed_at", "終結日時", writable=False),
    Field("updated_at", "更新日時", lambda i: i.updated_at, kind="datetime", width=19, read_only=True),
]


def _query():
    """The incidents the signed-in user may read (incidents.access.visible);
    outside a request (a command, a test's look at the register) all."""
    query = select(Incident)
    if has_request_context():
        if not getattr(current_user, "is_authenticated", False):
            return query.where(false())
        query = access.visible(query, current_user)
    # joined, not a statement per relation: selectinload skips its statement when no row has the
    # relation, so the count of statements would depend on the data (tests/core/test_export_queries.py)
    return query.options(
        joinedload(Incident.unit), joinedload(Incident.handler), joinedload(Incident.classification))


LIST = ListView(search=[Incident.number, Incident.title],
                filters={"status": enum_filter(Incident.status, IncidentStatus),
                         "kind": enum_filter(Incident.kind, IncidentKind),
                         "severity": enum_filter(Incident.severity, Severity)},
                sorts={"occurred": Incident.occurred_at, "number": Incident.number, "id": Incident.id},
                default_sort="occurred", default_desc=True)


def _form(record, formdata=None, **kwargs) -> IncidentForm:
    form = IncidentForm(formdata=formdata, **kwargs)
    pairs = [("", _("本団体（特定の契約・サービス・アカウントではない）"))]
    for found in plugins.registry().incident_subjects:
        pairs += [(f"{found.kind}:{record_id}", f"{found.label}: {text}") for record_id, text in found.choices()]
    form.subject.choices = select_choices(pairs)
    form.classification_id.choices = level_choices(blank=_("（不明・該当なし）"))
    return form


def _save(form: IncidentForm, record) -> Incident | None:
    """A new incident through incidents.services.record; a refusal goes into
    the form (beside its field) and nothing is recorded."""
    if getattr(record, "id", None) is not None:  # never reached: no update route
        return None
    subject_type, _sep, subject_id = (form.subject.data or "").partition(":")
    try:
        return services.record(
            by=current_user._get_current_object(), kind=IncidentKind(form.kind.data),
            severity=Severity(form.severity.data), title=form.title.data, summary=form.summary.data,
            subject_type=subject_type or None, subject_id=int(subject_id) if subject_id.isdigit() else None,
            occurred_at=form.occurred_at.utc, learned_at=form.learned_at.utc, detected_at=form.detected_at.utc,
            contractor_reported_at=form.contractor_reported_at.utc, reporter=form.reporter.data or None,
            information=form.information.data or None, classification_id=form.classification_id.data,
            personal_data=bool(form.personal_data.data), my_number=bool(form.my_number.data),
            people_affected=form.people_affected.data, wrongful_intent=bool(form.wrongful_intent.data),
            handler_id=form.handler_id.data)
    except Refusal as error:
        field = getattr(form, error.field, None) if error.field else None
        field = field if field is not None else form.title
        field.errors = [*field.errors, str(error)]
        return None


def registers() -> list[Register]:
    return [Register(name="incidents", title=_l("事故・インシデント"), model=Incident, fields=FIELDS, query=_query,
                     list_view=LIST, readers=frozenset(Role), writers=frozenset(Role), form=_form, save=_save,
                     updatable=False, endpoint="incidents.detail", list_endpoint="incidents.index",
                     summary=lambda i: f"{i.number} {i.title}")]
