"""Audit plans, findings and self-inspections as the audit trail shows them
(core.audit_display, issue 20): their form labels and the registers they
name.  Not linked: their pages have rules of their own beyond the role."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from assurance.audit_forms import CloseForm, FindingForm, PlanForm, ResponseForm
from assurance.audit_models import AuditFinding, AuditPlan
from assurance.inspection_views import AnswerForm, NewInspectionForm, SummaryForm
from core.db import db
from core.plugins import AuditRecord

# The registers an audit may cover (core.plugins.Auditable kinds), as people read them.
REGISTERS = {"contracts": _l("契約"), "cloud": _l("外部サービス"), "social": _l("SNS公式アカウント")}


def _finding_names(ids) -> dict:
    """A finding named by its plan and number: 2026年度 情報セキュリティ監査 #3."""
    ids = list(ids)
    rows = db.session.execute(select(AuditFinding.id, AuditFinding.number, AuditPlan.title).join(
        AuditPlan, AuditPlan.id == AuditFinding.plan_id).where(AuditFinding.id.in_(ids))).all() if ids else []
    return {row.id: _("%(plan)s 指摘%(n)s", plan=row.title, n=row.number) for row in rows}


def audit_records(house) -> None:
    house.add_audit_record(AuditRecord(
        "audit_plans", forms=(PlanForm,), values={"registers": REGISTERS},
        labels={"independence_note": _l("独立性の確認"), "created_by_id": _l("作成者")}))
    house.add_audit_record(AuditRecord("audit_plan_units", labels={"plan_id": _l("監査計画"), "unit_id": _l("対象部署")}))
    house.add_audit_record(AuditRecord("audit_plan_auditors", labels={"plan_id": _l("監査計画"),
                                                                      "user_id": _l("監査人")}))
    house.add_audit_record(AuditRecord("audit_targets", values={"kind": REGISTERS}, parent="plan_id",
                                       labels={"kind": _l("対象台帳"), "record_id": _l("対象の記録の番号")}))
    house.add_audit_record(AuditRecord(
        "audit_findings", forms=(FindingForm, ResponseForm, CloseForm), name=_finding_names, parent="plan_id",
        values={"record_kind": REGISTERS},
        labels={"plan_id": _l("監査計画"), "number": _l("番号"), "record_kind": _l("対象台帳"),
                "record_id": _l("対象の記録の番号"), "responded_by_id": _l("回答者"), "responded_at": _l("回答日時"),
                "closed_by_id": _l("完了の確認者"), "closed_at": _l("完了日時"), "created_by_id": _l("作成者")}))
    house.add_audit_record(AuditRecord(
        "inspections", forms=(NewInspectionForm, SummaryForm),
        labels={"edition": _l("版"), "corrects_id": _l("訂正対象の自己点検"), "inspector_id": _l("点検者"),
                "submitted_at": _l("提出日時"), "checker_id": _l("確認者"), "checked_at": _l("確認日時"),
                "approver_id": _l("承認者"), "approved_at": _l("承認日時"), "superseded_at": _l("改版日時"),
                "editor_ids": _l("編集者"), "created_by_id": _l("作成者")},
        hidden=frozenset({"scope_key"})))
    house.add_audit_record(AuditRecord(
        "inspection_answers", forms=(AnswerForm,), parent="inspection_id",
        labels={"measure_owner_id": _l("措置の担当者"), "measure_due_on": _l("措置の期限"),
                "answered_by_id": _l("回答者"), "answered_at": _l("回答日時"), "area": _l("分野"),
                "area_name": _l("分野名"), "frequency": _l("頻度"), "source": _l("根拠"),
                "general_practice": _l("一般的な慣行"), "text_ja": _l("点検項目"), "text_en": _l("点検項目（英語）")},
        hidden=frozenset({"position"})))
