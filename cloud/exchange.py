"""The cloud and external-service register for spreadsheets and the API
(core.registers).  A row that registers a service is a request for
approval, as on the page; changing what was approved asks again."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cloud import services
from cloud.forms import service_form
from cloud.lists import LIST
from cloud.models import (
    Agreement,
    CloudService,
    CloudServiceUnit,
    DataLocation,
    IsmapListing,
    ServiceModel,
    ServiceStatus,
)
from contracts.exchange import vendor_by_name_or_number
from contracts.models import Contract
from core.auth import ALL_ROLES
from core.db import db
from core.models import Role
from core.registers import Field, Register, level_by_code, unit_by_name, user_by_name


def contract_by_number(text: str) -> int | None:
    return db.session.scalar(select(Contract.id).where(Contract.number == text))


def _text(name: str, ja: str, width: int = 24) -> Field:
    return Field(name, ja, lambda s: getattr(s, name), width=width, field=name)


FIELDS = [
    Field("id", "ID", lambda s: s.id, kind="integer", width=7, read_only=True),
    Field("name", "サービス名", lambda s: s.name, width=28, field="name", required=True),
    Field("reading", "よみ", lambda s: s.reading, width=24, field="reading",
          description="the name's reading in katakana (hiragana is stored as katakana); the list sorts by it"),
    Field("vendor", "提供者（委託事業者）", lambda s: s.vendor.name if s.vendor else None, kind="ref",
          ref=vendor_by_name_or_number, width=24, field="vendor_id",
          description="a registered vendor's name or corporate number; empty for another provider"),
    Field("provider_name", "提供者名", lambda s: s.provider_name, width=20, field="provider_name",
          description="the provider when it is not a registered vendor"),
    Field("service_model", "サービス形態", lambda s: s.service_model, kind="enum", enum=ServiceModel, width=10,
          field="service_model", required=True),
    Field("agreement", "利用形態", lambda s: s.agreement, kind="enum", enum=Agreement, width=14, field="agreement",
          required=True),
    Field("contract", "契約番号", lambda s: s.contract.number if s.contract else None, kind="ref",
          ref=contract_by_number, width=14, field="contract_id"),
    Field("ceiling", "取扱上限", lambda s: s.ceiling.label_ja if s.ceiling else None, kind="ref", ref=level_by_code,
          width=16, field="ceiling_id", required=True, description="a confidentiality level's code or name"),
    _text("purpose", "利用目的", 30),
    Field("administrator", "外部サービス管理者", lambda s: s.administrator.display_name if s.administrator else None,
          kind="ref", ref=user_by_name, width=14, field="administrator_id"),
    Field("units", "利用部署", lambda s: [link.unit.name for link in s.unit_links], kind="ref", ref=unit_by_name,
          many=True, width=24, field="unit_ids", description="units' names, separated by 、"),
    Field("ismap_listing", "ISMAP登録", lambda s: s.ismap_listing, kind="enum", enum=IsmapListing, width=12,
          field="ismap_listing", required=True),
    _text("ismap_number", "ISMAP登録番号", 14),
    Field("ismap_valid_until", "ISMAP有効期限", lambda s: s.ismap_valid_until, kind="date", width=12,
          field="ismap_valid_until"),
    _text("other_certifications", "その他の認証"),
    Field("data_location", "データの保存場所", lambda s: s.data_location, kind="enum", enum=DataLocation, width=12,
          field="data_location", required=True),
    _text("data_region", "リージョン・所在地", 16),
    _text("governing_law", "準拠法", 12),
    _text("jurisdiction", "管轄裁判所", 14),
    _text("sla", "SLA"),
    _text("subcontractors", "再委託先"),
    _text("exit_terms", "終了時の条件"),
    Field("mfa", "MFA", lambda s: s.mfa, kind="boolean", width=7, field="mfa"),
    Field("sso", "SSO", lambda s: s.sso, kind="boolean", width=7, field="sso"),
    _text("log_access", "ログの提供"),
    _text("incident_contact", "事故時の連絡先"),
    Field("review_cycle_months", "見直しの周期（月）", lambda s: s.review_cycle_months, kind="integer", width=10,
          field="review_cycle_months", required=True),
    Field("status", "状態", lambda s: s.status, kind="enum", enum=ServiceStatus, width=10, read_only=True,
          description="changed by approval and retirement, not by editing"),
    Field("next_review_on", "次回見直し日", lambda s: s.next_review_on, kind="date", width=12, read_only=True),
    Field("updated_at", "更新日時", lambda s: s.updated_at, kind="datetime", width=19, read_only=True),
]


def _query():
    return select(CloudService).outerjoin(CloudService.vendor).options(
        selectinload(CloudService.vendor), selectinload(CloudService.contract), selectinload(CloudService.ceiling),
        selectinload(CloudService.administrator),
        selectinload(CloudService.unit_links).selectinload(CloudServiceUnit.unit))


def _match(values: dict[str, str]):
    """The same service name from the same provider (vendor or name)."""
    name = (values.get("name") or "").strip()
    provider = (values.get("vendor") or "").strip()
    stmt = select(CloudService).where(CloudService.name == name)
    if provider:
        vendor_id = vendor_by_name_or_number(provider)
        stmt = stmt.where(CloudService.vendor_id == vendor_id)
    else:
        stmt = stmt.where(CloudService.vendor_id.is_(None),
                          CloudService.provider_name == ((values.get("provider_name") or "").strip() or None))
    return db.session.scalar(stmt.order_by(CloudService.id).limit(1)) if name else None


def _save(form, service: CloudService) -> CloudService | None:
    """A row or a request saves as the page does, as the user who sends it."""
    return services.save(form, service, current_user)


def _retire(service: CloudService, user) -> None:
    services.retire(service, user, str(_l("一括処理（API）で廃止")))


def register() -> Register:
    return Register(
        name="cloud", title=_l("外部サービス"), model=CloudService, fields=FIELDS, query=_query,
        list_view=LIST, readers=ALL_ROLES, writers=frozenset({Role.PROCUREMENT}), form=service_form,
        save=_save, match=_match, key_label=_l("サービス名と提供者"), retire=_retire,
        endpoint="cloud.detail", list_endpoint="cloud.index", summary=lambda s: s.name)
