"""The demo's cloud and external services (core/demo.py runs this seeder
after the contracts'), taken through the cloud rules."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from cloud import checklist, rules, services
from cloud.models import (
    Agreement,
    CloudService,
    DataLocation,
    DeletionMethod,
    InformationState,
    IsmapListing,
    ServiceModel,
)
from contracts.models import Contract
from core.db import db
from core.demo import Demo
from vendors.models import Vendor

CLOUD_VENDOR = "北日本クラウドサービス株式会社"  # with its contract (contracts/demo.py)
CLOUD_CONTRACT = "R8-004"
OVERDUE = "防災気象情報配信サービス"  # the service whose periodic review is overdue


# Usage rules shared by the demo services (each service gets its own copy).
DEMO_RULES = {
    "users": "利用部署の職員のうち、外部サービス管理者が利用を認めた者",
    "purposes": "登録した利用目的の業務に限る",
    "prohibited": "取扱上限を超える機密性の情報、個人番号、パスワード等の認証情報",
    "accounts": "組織が管理するアカウントだけを使い、個人で取得したアカウントでの利用を禁止する。異動・退職時は速やかに削除する。",
    "other": None,
}


# the services' readings (よみ): the list sorts by them (issue 20)
READINGS = {
    "電子メールサービス（組合ドメイン）": "デンシメールサービス（クミアイドメイン）",
    "Web会議サービス": "ウェブカイギサービス",
    "オンラインストレージ": "オンラインストレージ",
    "無料翻訳サイト": "ムリョウホンヤクサイト",
    "防災気象情報配信サービス": "ボウサイキショウジョウホウハイシンサービス",
    "旧ファイル転送サービス": "キュウファイルテンソウサービス",
}


def seed(demo: Demo) -> None:
    """Services taken through the real workflow (request, information, usage
    rules, decision by another user), so the demo obeys the rules: approved,
    conditionally approved, rejected, retired, one over its ceiling and
    waiting, one whose review is overdue."""
    users, units, levels, today = demo.users, demo.units, demo.levels, demo.today
    vendor = db.session.scalar(select(Vendor).where(Vendor.name == CLOUD_VENDOR))
    contract = db.session.scalar(select(Contract).where(Contract.number == CLOUD_CONTRACT))
    C1, C2, C3C = levels["C1"], levels["C2"], levels["C3C"]
    PLANNED, HELD = InformationState.PLANNED, InformationState.HELD
    # name: (service fields, using units, information, decision, comment)
    specs = {
        "電子メールサービス（組合ドメイン）": (
            dict(vendor=vendor, service_model=ServiceModel.SAAS,
                 agreement=Agreement.CONTRACT, contract=contract, ceiling=C3C,
                 purpose="職員の業務用電子メール", ismap_listing=IsmapListing.ISMAP, ismap_number="C22-0123-1",
                 ismap_valid_until=today + dt.timedelta(days=400), data_location=DataLocation.JAPAN,
                 data_region="東日本リージョン（東京）・西日本リージョン（大阪）", governing_law="日本法",
                 jurisdiction="札幌地方裁判所", sla="稼働率99.9%、RTO 4時間、日次バックアップ（30日保持）",
                 exit_terms="契約終了後30日以内にMBOX形式で返却し、消去証明書を提出", mfa=True, sso=True,
                 log_access="監査ログを1年間保持し、求めに応じて提供", incident_contact="北日本クラウドサービス 運用窓口 011-000-0000"),
            ("総務課", "警防課", "予防課", "通信指令課"),
            (("職員の業務メール", C2, HELD), ("住民・事業者からの問合せメール", C3C, HELD, True)),
            "approve", ""),
        "Web会議サービス": (
            dict(provider_name="大手Web会議サービス提供事業者", service_model=ServiceModel.SAAS, agreement=Agreement.TERMS,
                 ceiling=C1, purpose="他機関との打合せ（公開可能な資料のみ）", ismap_listing=IsmapListing.ISMAP_LIU,
                 ismap_number="L23-0045-1", ismap_valid_until=today + dt.timedelta(days=200),
                 data_location=DataLocation.BOTH, data_region="米国・日本", governing_law="米国カリフォルニア州法",
                 jurisdiction="サンフランシスコの裁判所", mfa=True),
            ("総務課", "警防課"),
            (("打合せの映像・音声（公開可能な資料のみ）", C1, HELD),),
            "conditional", "画面共有は公開済みの資料に限り、録画機能は使わないことを条件とする。"),
        "オンラインストレージ": (
            dict(provider_name="海外オンラインストレージ事業者", service_model=ServiceModel.SAAS, agreement=Agreement.TERMS,
                 ceiling=C1, purpose="広報用写真の共有", data_location=DataLocation.UNKNOWN),
            ("予防課",),
            (("広報用写真（公開予定のもの）", C1, PLANNED), ("災害現場写真（個人が写るもの）", C3C, PLANNED, True)),
            None, ""),
        "無料翻訳サイト": (
            dict(provider_name="無料翻訳サービス運営者", service_model=ServiceModel.SAAS, agreement=Agreement.TERMS,
                 ceiling=C1, purpose="外国人住民向け文書の翻訳", data_location=DataLocation.ABROAD),
            ("予防課",),
            (("公開前の広報文案", C1, PLANNED),),
            "reject", "規約上、入力した文章を事業者が二次利用できるため。公開済みの文書に限る代替手段を検討すること。"),
        "防災気象情報配信サービス": (
            dict(provider_name="気象情報配信事業者", service_model=ServiceModel.SAAS, agreement=Agreement.TERMS,
                 ceiling=C1, purpose="気象警報・注意報の受信", data_location=DataLocation.JAPAN, review_cycle_months=12),
            ("通信指令課", "警防課"),
            (("受信した気象情報（公開情報）", C1, HELD),),
            "approve", ""),
        "旧ファイル転送サービス": (
            dict(vendor=vendor, service_model=ServiceModel.SAAS,
                 agreement=Agreement.CONTRACT, contract=contract, ceiling=C3C,
                 purpose="大容量ファイルの受け渡し（電子メールサービスへ移行済み）", ismap_listing=IsmapListing.ISMAP,
                 ismap_number="C22-0123-2", ismap_valid_until=today - dt.timedelta(days=30)),
            ("総務課",),
            (("委託事業者とのファイル受け渡し", C2, HELD),),
            "retire", "電子メールサービスへ移行したため"),
    }
    answers = {item.code: (checklist.Answer.CHECKED.value, "") for item in checklist.ITEMS}
    for name, (fields, unit_names, information, decision, comment) in specs.items():
        if db.session.scalar(select(CloudService.id).where(CloudService.name == name)) is not None:
            continue
        service = CloudService(name=name, reading=READINGS.get(name), administrator=users["admin"], **fields)
        services.set_units(service, {units[unit].id for unit in unit_names})
        services.register(service, users["procurement"])
        # (name, level, state[, personal information: class-3 tier, MIC R6.10])
        for info_name, level, state, *personal in information:
            services.add_information(service, users["procurement"], name=info_name, classification=level, state=state,
                                  note=None, personal=bool(personal and personal[0]))
        services.add_rules(service, users["procurement"], **DEMO_RULES)
        if decision in ("approve", "conditional", "reject", "retire"):
            outcome = "approve" if decision == "retire" else decision
            services.decide(service, rules.pending(service), users["approver"], outcome=outcome,
                         comment=comment if decision != "retire" else "", answers=answers,
                         acknowledged=True, on=today - dt.timedelta(days=400 if decision == "retire" else 60))
        if decision == "retire":
            # It held class-2 information: the provider's deletion report comes first (issue 17).
            services.record_deletion(service, done_on=today - dt.timedelta(days=10), method=DeletionMethod.PROVIDER_REPORT,
                                     detail="移行後に全データの削除を依頼し、事業者の削除完了報告書を受領",
                                     upload=demo.upload(f"{name}_削除完了報告書.pdf"), user=users["procurement"])
            services.retire(service, users["procurement"], comment)
        if name == OVERDUE:  # last reviewed a year and 15 days ago: its review is overdue
            services.record_review(service, on=today - dt.timedelta(days=380))
    db.session.flush()
