"""Recorded self-inspections as a read-only register (core.registers): the
JSON API's ``/api/v1/inspections`` (list, and one inspection with its
answers) and the spreadsheet export of the list, for every signed-in role."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from assurance.inspection_models import Inspection, InspectionAnswer, InspectionStatus
from core.lists import ListView, enum_filter, id_filter
from core.models import Role
from core.registers import Field, Register
from core.tabular import csv_text


def _year_filter(stmt, value: str):
    return stmt.where(Inspection.fiscal_year == int(value)) if value.isdigit() and len(value) == 4 else stmt


LIST = ListView(filters={"year": _year_filter, "unit": id_filter(Inspection.unit_id),
                         "status": enum_filter(Inspection.status, InspectionStatus)},
                sorts={"year": Inspection.fiscal_year, "id": Inspection.id}, default_sort="year", default_desc=True)


def _answer(answer: InspectionAnswer) -> dict:
    return {"code": answer.code, "text_ja": answer.text_ja, "text_en": answer.text_en, "area": answer.area,
            "frequency": answer.frequency, "source": answer.source, "general_practice": answer.general_practice,
            "result": answer.result.value if answer.result else None, "comment": answer.comment,
            "measure": answer.measure, "measure_due_on": answer.measure_due_on.isoformat()
            if answer.measure_due_on else None}


@dataclass(frozen=True)
class AnswersField(Field):
    """The answers: a list of objects in the API, their count in a spreadsheet."""

    def cell(self, record):
        return len(record.answers)

    def show(self, value):  # the export's cell for what get returned (the answers): their count
        return len(value) if isinstance(value, list) else value

    def csv_converter(self):
        return lambda value: csv_text(self.show(value))

    def json(self, record):
        return [_answer(answer) for answer in record.answers]

    def schema(self) -> dict:
        return {"type": "array", "items": {"type": "object"}, "description": "点検項目ごとの回答（項目は点検時の内容）"}


def _name(user) -> str | None:
    return user.display_name if user is not None else None


FIELDS = [
    Field("id", "ID", lambda r: r.id, kind="integer", width=8, read_only=True),
    Field("fiscal_year", "年度", lambda r: r.fiscal_year, kind="integer", width=8, read_only=True),
    Field("unit", "対象組織", lambda r: r.unit.name if r.unit else None, width=20, read_only=True,
          description="null: the whole body"),
    Field("edition", "版", lambda r: r.edition, kind="integer", width=6, read_only=True),
    Field("corrects_id", "訂正元ID", lambda r: r.corrects_id, kind="integer", width=8, read_only=True),
    Field("status", "状態", lambda r: r.status, kind="enum", enum=InspectionStatus, width=14, read_only=True),
    Field("responsible", "責任者", lambda r: _name(r.responsible), width=14, read_only=True),
    Field("inspector", "点検者", lambda r: _name(r.inspector), width=14, read_only=True),
    Field("submitted_at", "提出日時", lambda r: r.submitted_at, kind="datetime", width=19, read_only=True),
    Field("checker", "確認者", lambda r: _name(r.checker), width=14, read_only=True),
    Field("checked_at", "確認日時", lambda r: r.checked_at, kind="datetime", width=19, read_only=True),
    Field("approver", "承認者", lambda r: _name(r.approver), width=14, read_only=True),
    Field("approved_at", "承認日時", lambda r: r.approved_at, kind="datetime", width=19, read_only=True),
    Field("summary", "概要", lambda r: r.summary, width=40, read_only=True),
    AnswersField("answers", "回答数", lambda r: r.answers, width=8, read_only=True),
]


def register() -> Register:
    return Register(name="inspections", title=_l("自己点検"), model=Inspection, fields=FIELDS,
                    query=lambda: select(Inspection).options(  # the people joined: as many statements whoever is set
                        joinedload(Inspection.unit), joinedload(Inspection.responsible),
                        joinedload(Inspection.inspector), joinedload(Inspection.checker),
                        joinedload(Inspection.approver), selectinload(Inspection.answers)),
                    list_view=LIST, readers=frozenset(Role), endpoint="inspections.detail",
                    list_endpoint="inspections.index")
