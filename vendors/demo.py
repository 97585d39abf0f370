"""The demo's vendors (core/demo.py runs this seeder): each registered as a
candidate, selected through the selection rule, then moved to its status
through the status rule, as on the pages; with certifications and contacts."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.db import db
from core.demo import Demo
from vendors import services
from vendors.models import (
    Assessment,
    CertificationKind,
    SelectionDecision,
    Vendor,
    VendorStatus,
)
from vendors.rules import corporate_number_check_digit

# (name, kana, corporate number without its check digit, address, status, unit)
VENDORS = (
    ("株式会社道央情報システム", "ドウオウジョウホウシステム", "430001012345", "札幌市中央区北一条西2丁目1番地",
     VendorStatus.ACTIVE, "通信指令課"),
    ("空知ネットワーク株式会社", "ソラチネットワーク", "443001023456", "岩見沢市三条東4丁目7番地",
     VendorStatus.ACTIVE, "警防課"),
    ("株式会社みなとウェブ制作", "ミナトウェブセイサク", "443001034567", "滝川市大町1丁目2番15号",
     VendorStatus.SELECTED, "総務課"),
    ("北日本クラウドサービス株式会社", "キタニホンクラウドサービス", "010001045678", "東京都千代田区丸の内1丁目1番1号",
     VendorStatus.ACTIVE, "総務課"),
    ("有限会社いしかりデータ消去", "イシカリデータショウキョ", "443002056789", "砂川市西一条北3丁目",
     VendorStatus.ENDED, "総務課"),
    ("株式会社サンプル防災設備", "サンプルボウサイセツビ", "443001067890", "赤平市本町2丁目",
     VendorStatus.SUSPENDED, "予防課"),
    ("合同会社そらちAI研究所", "ソラチエーアイケンキュウジョ", "443003078901", "深川市一已町",
     VendorStatus.CANDIDATE, "警防課"),
)
# (vendor, kind, number, issuer, days until it expires, with the certificate's file?)
CERTIFICATIONS = (
    ("株式会社道央情報システム", CertificationKind.ISMS, "IS 612345", "一般財団法人日本品質保証機構", 400, True),
    ("株式会社道央情報システム", CertificationKind.PMARK, "10820123(05)", "一般財団法人日本情報経済社会推進協会", 45, False),
    ("空知ネットワーク株式会社", CertificationKind.ISMS, "IS 700001", "BSIグループジャパン株式会社", -10, False),
    ("北日本クラウドサービス株式会社", CertificationKind.ISMAP, "C21-0042-1", "ISMAP運営委員会", 200, False),
    ("北日本クラウドサービス株式会社", CertificationKind.ISO27017, "CLOUD 70012", "BSIグループジャパン株式会社", 300, False),
)
# vendor: (name, department, phone, email)
CONTACTS = {
    "株式会社道央情報システム": ("山田 一郎", "公共システム部", "011-222-3333", "yamada@example.co.jp"),
    "空知ネットワーク株式会社": ("佐藤 花子", "保守サービス課", "0126-22-4444", "sato@example.co.jp"),
}


def corporate_number(base12: str) -> str:
    return f"{corporate_number_check_digit(base12)}{base12}"


def seed(demo: Demo) -> None:
    """Vendors in every status.  A candidate is selected (every criterion
    assessed: the selection rule) before it may be 選定済 or 取引中
    (services.check_status), as on the vendor's page."""
    procurement = demo.users["procurement"]
    vendors = {}
    for name, kana, base, address, status, unit in VENDORS:
        number = corporate_number(base)
        vendor = db.session.scalar(select(Vendor).where(Vendor.corporate_number == number))
        if vendor is None:
            vendor = _register(demo, name=name, kana=kana, corporate_number=number, address=address,
                               status=status, unit=demo.units[unit])
        vendors[name] = vendor

    done = {vendor.id for vendor in vendors.values() if vendor.certifications}
    for vendor_name, kind, number, issuer, days, with_file in CERTIFICATIONS:
        vendor = vendors[vendor_name]
        if vendor.id in done:
            continue
        services.add_certification(vendor, kind=kind.value, name=None, number=number, issuer=issuer,
                                   valid_until=demo.today + dt.timedelta(days=days), user=procurement,
                                   upload=demo.upload("ISMS登録証.pdf") if with_file else None)
    for vendor_name, (name, department, phone, email) in CONTACTS.items():
        vendor = vendors[vendor_name]
        if not vendor.contacts:
            services.add_contact(vendor, name=name, department=department, phone=phone, email=email)


def _register(demo: Demo, *, status: VendorStatus, unit, **fields) -> Vendor:
    """A new vendor, registered as a candidate and taken to ``status``
    the way the pages do it (vendors.services.save_vendor)."""
    values = {"kana": None, "corporate_number": None, "address": None, "representative": None, "website": None,
              "notes": None, **fields, "unit_id": unit.id, "status": VendorStatus.CANDIDATE}
    vendor = services.save_vendor(Vendor(), values)
    if status is VendorStatus.CANDIDATE:
        return vendor
    criteria = services.active_criteria()
    results = {criterion.id: (Assessment.NOT_APPLICABLE if criterion.code in ("SEL05", "SEL06") else Assessment.MET,
                              None) for criterion in criteria}
    services.record_selection(vendor, decided_on=demo.today - dt.timedelta(days=400),
                              decision=SelectionDecision.SELECTED, user=demo.users["procurement"],
                              notes="総合評価により選定", results=results)
    if vendor.status is not status:
        services.save_vendor(vendor, {**values, "status": status})
    return vendor
