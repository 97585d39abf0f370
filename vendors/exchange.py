"""The vendor register for spreadsheets and the API (core.registers)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.auth import CONTRACT_READERS
from core.db import db
from core.models import OrgUnit, Role
from core.registers import Field, Register, unit_by_name
from core.validators import fold
from vendors import services
from vendors.forms import vendor_form
from vendors.lists import LIST
from vendors.models import Vendor, VendorStatus


def _certifications(vendor: Vendor) -> str:
    return "、".join(f"{c.label}（{c.valid_until or '期限なし'}）" for c in vendor.certifications)


FIELDS = [
    Field("id", "ID", lambda v: v.id, kind="integer", width=7, read_only=True),
    Field("name", "名称", lambda v: v.name, width=30, field="name", required=True),
    Field("kana", "フリガナ", lambda v: v.kana, width=24, field="kana"),
    Field("corporate_number", "法人番号", lambda v: v.corporate_number, width=16, field="corporate_number",
          description="13 digits with a valid check digit; the import matches on it"),
    Field("address", "所在地", lambda v: v.address, width=30, field="address"),
    Field("representative", "代表者", lambda v: v.representative, width=16, field="representative"),
    Field("website", "ウェブサイト", lambda v: v.website, width=24, field="website"),
    Field("unit", "担当組織", lambda v: v.unit.name if v.unit else None, kind="ref", ref=unit_by_name, width=18,
          field="unit_id", required=True, description="an organisational unit's name"),
    Field("status", "状態", lambda v: v.status, kind="enum", enum=VendorStatus, width=10, field="status",
          required=True),
    Field("notes", "備考", lambda v: v.notes, width=30, field="notes"),
    Field("certifications", "認証", _certifications, width=40, read_only=True),
    Field("updated_at", "更新日時", lambda v: v.updated_at, kind="datetime", width=19, read_only=True),
]


def _query():
    return select(Vendor).options(selectinload(Vendor.unit).selectinload(OrgUnit.parent),
                                  selectinload(Vendor.certifications))


def _match(values: dict[str, str]):
    number = fold(values.get("corporate_number"))  # full-width digits find the half-width row
    if number:
        return db.session.scalar(select(Vendor).where(Vendor.corporate_number == number))
    return db.session.scalar(select(Vendor).where(Vendor.corporate_number.is_(None),
                                                  Vendor.name == (values.get("name") or "").strip()).limit(1))


def register() -> Register:
    return Register(
        name="vendors", title=_l("委託事業者"), model=Vendor, fields=FIELDS, query=_query, list_view=LIST,
        readers=CONTRACT_READERS, writers=frozenset({Role.PROCUREMENT}), form=vendor_form,
        save=services.save_from_form,
        match=_match, key_label=_l("法人番号（ない場合は名称）"), retire=services.retire, endpoint="vendors.detail",
        list_endpoint="vendors.index", summary=lambda v: v.name)
