"""Demo data: a small, believable fire-department association.

Loading is idempotent: every record is looked up by its natural key first,
so running ``flask demo`` again changes nothing, and records that later
versions add are filled in.  Domains are imported here, lazily: the demo
is the one place in core that knows them all.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import select

from core import accounts, timeutil
from core.approvals import Approval
from core.db import db
from core.models import ClassificationLevel, OrgUnit, Role, User

# (name, English name, parent, sort order)
UNITS = (
    ("消防本部", "Fire Headquarters", None, 10),
    ("総務課", "General Affairs Division", "消防本部", 11),
    ("警防課", "Fire Defense Division", "消防本部", 12),
    ("予防課", "Fire Prevention Division", "消防本部", 13),
    ("通信指令課", "Emergency Communications Division", "消防本部", 14),
    ("中央消防署", "Central Fire Station", None, 20),
    ("中央消防署 東出張所", "Central Fire Station, East Branch", "中央消防署", 21),
    ("中央消防署 西出張所", "Central Fire Station, West Branch", "中央消防署", 22),
    ("北消防署", "North Fire Station", None, 30),
    ("北消防署 川沿出張所", "North Fire Station, Kawazoi Branch", "北消防署", 31),
    ("組合議会事務局", "Assembly Secretariat", None, 40),
)

# (username, display name, unit, roles) — one user per role, named after it.
USERS = (
    ("admin", "管理 太郎", "総務課", (Role.ADMIN,)),
    ("procurement", "調達 花子", "総務課", (Role.PROCUREMENT,)),
    ("verifier", "確認 次郎", "通信指令課", (Role.VERIFIER,)),
    ("social", "広報 さくら", "予防課", (Role.SOCIAL,)),
    ("auditor", "監査 健一", "組合議会事務局", (Role.AUDITOR,)),
    ("approver", "承認 誠", "総務課", (Role.APPROVER,)),
)


def _get_or_create(model, key: dict, **values):
    obj = db.session.scalar(select(model).filter_by(**key))
    if obj is None:
        obj = model(**key, **values)
        db.session.add(obj)
        db.session.flush()
    return obj


def load(password: str) -> dict[str, int]:
    """Load what is missing; return how many records of each kind were added."""
    before = _counts()
    units = {}
    for name, name_en, parent, order in UNITS:
        units[name] = _get_or_create(OrgUnit, {"name": name}, name_en=name_en,
                                     parent=units.get(parent), sort_order=order)
    users = {}
    for username, display_name, unit, roles in USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            user = accounts.create_user(username=username, display_name=display_name, password=password,
                                        roles=roles, unit=units[unit], email=f"{username}@example.lg.jp")
        users[username] = user
    levels = {lv.code: lv for lv in db.session.scalars(select(ClassificationLevel))}
    _load_registers(units, users, levels)
    db.session.flush()
    after = _counts()
    return {name: after[name] - before[name] for name in after}


def _counts() -> dict[str, int]:
    from sqlalchemy import func

    from cloud.models import CloudService
    from contracts.models import Contract, ContractClause, Disposal
    from social.models import SocialAccount
    from vendors.models import Certification, Selection, Vendor

    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (OrgUnit, User, Vendor, Selection, Certification, Contract, ContractClause, Approval,
                          Disposal, CloudService, SocialAccount)}


def _load_registers(units, users, levels) -> None:
    from contracts.models import Contract, ContractKind, ContractStatus
    from vendors.models import Vendor, VendorStatus
    from vendors.rules import corporate_number_check_digit

    def corporate_number(base12: str) -> str:
        return f"{corporate_number_check_digit(base12)}{base12}"

    vendor_rows = (
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
    vendors = {}
    for name, kana, base, address, status, unit in vendor_rows:
        vendors[name] = _get_or_create(Vendor, {"corporate_number": corporate_number(base)}, name=name, kana=kana,
                                       address=address, status=status, unit=units[unit])

    today = timeutil.today()
    fy = timeutil.fiscal_year(today)
    fy_start, fy_end = timeutil.fiscal_year_range(fy)
    contract_rows = (
        ("R8-001", "高機能消防指令システム保守業務委託", "株式会社道央情報システム", ContractKind.MAINTENANCE, "通信指令課",
         "C3B", True, ContractStatus.IN_FORCE, fy_start, fy_end),
        ("R8-002", "消防救急デジタル無線設備保守点検業務", "空知ネットワーク株式会社", ContractKind.MAINTENANCE, "警防課",
         "C2", False, ContractStatus.SIGNED, fy_start, fy_end),
        ("R8-003", "ホームページ運用管理業務委託", "株式会社みなとウェブ制作", ContractKind.OPERATION, "総務課",
         "C2", False, ContractStatus.DRAFT, today + dt.timedelta(days=30), fy_end),
        ("R8-004", "電子メールサービス利用契約", "北日本クラウドサービス株式会社", ContractKind.CLOUD, "総務課",
         "C2", True, ContractStatus.IN_FORCE, fy_start, fy_end),
        ("R7-010", "救急業務統計システム改修業務", "株式会社道央情報システム", ContractKind.DEVELOPMENT, "警防課",
         "C3B", True, ContractStatus.ENDED, dt.date(fy - 1, 6, 1), dt.date(fy, 2, 28)),
        ("R7-014", "廃棄パソコン記憶媒体データ消去業務", "有限会社いしかりデータ消去", ContractKind.OUTSOURCING, "総務課",
         "C3C", True, ContractStatus.ENDED, dt.date(fy - 1, 10, 1), dt.date(fy - 1, 11, 30)),
        ("R6-021", "予防査察支援端末賃貸借", "株式会社サンプル防災設備", ContractKind.OTHER, "予防課",
         "C2", False, ContractStatus.TERMINATED, dt.date(fy - 2, 4, 1), dt.date(fy + 2, 3, 31)),
    )
    contracts = {}
    for number, title, vendor, kind, unit, level, personal, status, start, end in contract_rows:
        contracts[number] = _get_or_create(
            Contract, {"number": number}, title=title, vendor=vendors[vendor], kind=kind, unit=units[unit],
            officer=users["procurement"], classification=levels.get(level), handles_personal_info=personal,
            status=status, start_on=start, end_on=end)

    _load_contract_details(vendors, contracts, users, levels, today)
    _load_verifications(contracts, users, today)

    _load_cloud(vendors, contracts, users, units, levels, today)

    _load_social(units, users, levels, today)


def demo_password() -> str:
    return current_app.config["DEMO_PASSWORD"]


# A one-page PDF, so the demo has a real certificate file to download.
DEMO_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")


def _load_contract_details(vendors, contracts, users, levels, today) -> None:
    """Selections, certifications, contacts, clause matrices, an exception,
    subcontractors and disposal records, consistent with the contract rules:
    every signed contract has a selected vendor and its mandatory clauses (or
    an approved exception); every ended contract with classified information
    has its disposal record."""
    import io

    from werkzeug.datastructures import FileStorage

    from contracts.models import ClauseState, ContractClause, Disposal, Subcontracting, Subcontractor
    from contracts.rules import EXCEPTION, active_clauses, mandatory_clauses
    from core import approvals, files
    from vendors.models import (
        Assessment,
        Certification,
        CertificationKind,
        Selection,
        SelectionAssessment,
        SelectionDecision,
        VendorContact,
    )
    from vendors.services import active_criteria

    criteria = active_criteria()
    not_selected = {"合同会社そらちAI研究所"}
    for name, vendor in vendors.items():
        if vendor.selections or name in not_selected:
            continue
        selection = Selection(vendor=vendor, decided_on=today - dt.timedelta(days=400), decided_by_id=users["procurement"].id,
                              decision=SelectionDecision.SELECTED, notes="総合評価により選定")
        for criterion in criteria:
            result = Assessment.NOT_APPLICABLE if criterion.code in ("SEL05", "SEL06") else Assessment.MET
            selection.assessments.append(SelectionAssessment(criterion_id=criterion.id, result=result))
        db.session.add(selection)

    certificate = None
    dohoku = vendors["株式会社道央情報システム"]
    if not dohoku.certifications:
        certificate = files.store(FileStorage(io.BytesIO(DEMO_PDF), filename="ISMS登録証.pdf"), user=users["procurement"])
    cert_rows = (
        ("株式会社道央情報システム", CertificationKind.ISMS, "IS 612345", "一般財団法人日本品質保証機構", 400, certificate),
        ("株式会社道央情報システム", CertificationKind.PMARK, "10820123(05)", "一般財団法人日本情報経済社会推進協会", 45, None),
        ("空知ネットワーク株式会社", CertificationKind.ISMS, "IS 700001", "BSIグループジャパン株式会社", -10, None),
        ("北日本クラウドサービス株式会社", CertificationKind.ISMAP, "C21-0042-1", "ISMAP運営委員会", 200, None),
        ("北日本クラウドサービス株式会社", CertificationKind.ISO27017, "CLOUD 70012", "BSIグループジャパン株式会社", 300, None),
    )
    done = {vendor.id for vendor in vendors.values() if vendor.certifications}
    for vendor_name, kind, number, issuer, days, file in cert_rows:
        vendor = vendors[vendor_name]
        if vendor.id not in done:
            vendor.certifications.append(Certification(kind=kind, number=number, issuer=issuer, file=file,
                                                       valid_until=today + dt.timedelta(days=days)))
    for vendor_name, contact in (("株式会社道央情報システム", ("山田 一郎", "公共システム部", "011-222-3333", "yamada@example.co.jp")),
                                 ("空知ネットワーク株式会社", ("佐藤 花子", "保守サービス課", "0126-22-4444", "sato@example.co.jp"))):
        vendor = vendors[vendor_name]
        if not vendor.contacts:
            name, department, phone, email = contact
            vendor.contacts.append(VendorContact(name=name, department=department, phone=phone, email=email))
    db.session.flush()

    catalogue = active_clauses()
    # (contract, clauses left out of the contract)
    matrices = {"R8-001": (), "R8-002": ("C12",), "R8-003": ("C08", "C09"), "R8-004": (), "R7-010": (),
                "R7-014": (), "R6-021": ()}
    for number, left_out in matrices.items():
        contract = contracts[number]
        if contract.clauses:
            continue
        mandatory = {clause.id for clause in mandatory_clauses(contract)}
        for article, clause in enumerate(catalogue, start=5):
            if clause.code in left_out:
                state = ClauseState.NOT_INCLUDED
            elif clause.id in mandatory or clause.code in ("C17", "C18"):
                state = ClauseState.INCLUDED
            else:
                state = ClauseState.NOT_APPLICABLE
            contract.clauses.append(ContractClause(
                clause_id=clause.id, state=state, article=f"第{article}条" if state is ClauseState.INCLUDED else None,
                reason="本業務の内容から該当しない" if state is ClauseState.NOT_APPLICABLE else None))
    db.session.flush()

    signed = contracts["R8-002"]
    has_exception = db.session.scalar(select(Approval.id).where(
        Approval.kind == EXCEPTION, Approval.subject_id == signed.id))
    if has_exception is None:
        request = approvals.request(EXCEPTION, signed, requester=users["procurement"], details={"clauses": ["C12"]},
                                    reason="事業者の標準契約書にC12がなく、次回更新時に追加することで合意済み")
        approvals.decide(request, approver=users["admin"], approve=True, comment="次回更新時の追加を条件に承認")

    in_force = contracts["R8-001"]
    if in_force.subcontracting is not Subcontracting.APPROVAL:
        in_force.subcontracting = Subcontracting.APPROVAL
        in_force.subcontractors.append(Subcontractor(name="株式会社札幌データセンター", scope="サーバ機器の設置・監視",
                                                     approved_on=in_force.start_on, approver_id=users["procurement"].id))
    for number, method in (("R7-010", "委託事業者の環境に複製した統計データを消去し、消去証明書を受領"),
                           ("R7-014", "記憶媒体を物理破壊し、破壊証明書（写真付き）を受領")):
        contract = contracts[number]
        if contract.disposal is None:
            proof = files.store(FileStorage(io.BytesIO(DEMO_PDF), filename=f"{number}_消去証明書.pdf"),
                                user=users["procurement"])
            db.session.add(Disposal(contract=contract, done_on=contract.end_on, method=method, evidence=proof,
                                    recorded_by_id=users["procurement"].id))
    db.session.flush()


# Usage rules shared by the demo services (each service gets its own copy).
DEMO_RULES = {
    "users": "利用部署の職員のうち、外部サービス管理者が利用を認めた者",
    "purposes": "登録した利用目的の業務に限る",
    "prohibited": "取扱上限を超える機密性の情報、個人番号、パスワード等の認証情報",
    "accounts": "組織が管理するアカウントだけを使い、個人で取得したアカウントでの利用を禁止する。異動・退職時は速やかに削除する。",
    "other": None,
}


def _load_cloud(vendors, contracts, users, units, levels, today) -> None:
    """Services taken through the real workflow (request, information, usage
    rules, decision by another user), so the demo obeys the rules: approved,
    conditionally approved, rejected, retired, one over its ceiling and
    waiting, one whose review is overdue."""
    from cloud import checklist, rules, services
    from cloud.models import Agreement, CloudService, DataLocation, InformationState, IsmapListing, ServiceModel

    C1, C2 = levels["C1"], levels["C2"]
    PLANNED, HELD = InformationState.PLANNED, InformationState.HELD
    # name: (service fields, using units, information, decision, comment)
    specs = {
        "電子メールサービス（組合ドメイン）": (
            dict(vendor=vendors["北日本クラウドサービス株式会社"], service_model=ServiceModel.SAAS,
                 agreement=Agreement.CONTRACT, contract=contracts["R8-004"], ceiling=C2,
                 purpose="職員の業務用電子メール", ismap_listing=IsmapListing.ISMAP, ismap_number="C22-0123-1",
                 ismap_valid_until=today + dt.timedelta(days=400), data_location=DataLocation.JAPAN,
                 data_region="東日本リージョン（東京）・西日本リージョン（大阪）", governing_law="日本法",
                 jurisdiction="札幌地方裁判所", sla="稼働率99.9%、RTO 4時間、日次バックアップ（30日保持）",
                 exit_terms="契約終了後30日以内にMBOX形式で返却し、消去証明書を提出", mfa=True, sso=True,
                 log_access="監査ログを1年間保持し、求めに応じて提供", incident_contact="北日本クラウドサービス 運用窓口 011-000-0000"),
            ("総務課", "警防課", "予防課", "通信指令課"),
            (("職員の業務メール", C2, HELD), ("住民・事業者からの問合せメール", C2, HELD)),
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
            (("広報用写真（公開予定のもの）", C1, PLANNED), ("災害現場写真（個人が写るもの）", C2, PLANNED)),
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
            dict(vendor=vendors["北日本クラウドサービス株式会社"], service_model=ServiceModel.SAAS,
                 agreement=Agreement.CONTRACT, contract=contracts["R8-004"], ceiling=C2,
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
        service = CloudService(name=name, administrator=users["admin"], **fields)
        services.set_units(service, {units[unit].id for unit in unit_names})
        services.register(service, users["procurement"])
        for info_name, level, state in information:
            services.add_information(service, users["procurement"], name=info_name, classification=level,
                                     state=state, note=None)
        services.add_rules(service, users["procurement"], **DEMO_RULES, touch=False)
        if decision in ("approve", "conditional", "reject", "retire"):
            outcome = "approve" if decision == "retire" else decision
            services.decide(service, rules.pending(service), users["approver"], outcome=outcome,
                            comment=comment if decision != "retire" else "", answers=answers,
                            acknowledged=True, on=today - dt.timedelta(days=400 if decision == "retire" else 60))
        if decision == "retire":
            services.retire(service, users["procurement"], comment)
    overdue = db.session.scalar(select(CloudService).where(CloudService.name == "防災気象情報配信サービス"))
    if overdue.next_review_on and overdue.next_review_on >= today:
        overdue.last_reviewed_on = today - dt.timedelta(days=380)
        overdue.next_review_on = today - dt.timedelta(days=15)
    db.session.flush()


def _load_social(units, users, levels, today) -> None:
    """Official accounts on several platforms: procedures approved by someone
    other than their author (one still waiting), one account without MFA,
    one dormant, one closed, and an open impersonation incident."""
    from social import rules, services
    from social.models import AccountStatus, IncidentKind, Platform, SocialAccount

    procedure = {name: str(text).replace("目的: \n対象: \n発信内容: \n", "目的: 火災予防・防災情報の発信\n対象: 管内の住民\n"
                                                                      "発信内容: 火災予防の啓発、災害情報、イベント\n")
                 for name, text in rules.DEFAULT_PROCEDURE.items()}
    # platform, name, handle, url, status, days since the last post, MFA, procedure approved?
    rows = (
        (Platform.X, "○○消防本部 公式", "@example_119", "https://x.com/example_119", AccountStatus.ACTIVE, 1, True, True),
        (Platform.YOUTUBE, "○○消防チャンネル", "@example119ch", "https://www.youtube.com/@example119ch",
         AccountStatus.ACTIVE, 12, True, True),
        (Platform.LINE, "○○消防 防災LINE", None, "https://page.line.me/example119", AccountStatus.ACTIVE, 3, False, False),
        (Platform.FACEBOOK, "○○消防本部", None, "https://www.facebook.com/example119", AccountStatus.DORMANT, 240, True,
         True),
        (Platform.INSTAGRAM, "○○消防 予防広報", "@example119_yobou", "https://www.instagram.com/example119_yobou",
         AccountStatus.CLOSED, 400, True, True),
    )
    author, approver = users["social"], users["approver"]
    for platform, name, handle, url, status, days, mfa, approved in rows:
        if db.session.scalar(select(SocialAccount.id).where(SocialAccount.url == url)) is not None:
            continue
        account = SocialAccount(
            platform=platform, name=name, handle=handle, url=url, status=AccountStatus.ACTIVE, unit=units["予防課"],
            purpose="火災予防・防災情報の発信", audience="管内の住民・事業者", hours="平日8時30分〜17時15分（災害時は随時）",
            last_post_on=today - dt.timedelta(days=days), posting_ceiling=levels["C1"],
            allowed_content="公表済みの情報、火災予防・防災の啓発、イベントの案内",
            forbidden_content="個人情報、未公表の内部情報、著作権・肖像権を侵害するもの",
            forbidden_words="出動中の隊員の氏名\n/救急.{0,4}搬送先/", public_phrases="0125-22-1234\n滝川市栄町3丁目5番12号",
            profile_states_official=True, website_listing_url="https://www.example.lg.jp/sns/",
            verified_badge=platform is Platform.X, last_lookalike_scan_on=today - dt.timedelta(days=20),
            mfa_enabled=mfa, mfa_method="認証アプリ" if mfa else None, recovery_owned=True,
            last_password_change_on=today - dt.timedelta(days=90), connected_apps="予約投稿ツール",
            review_cycle_months=12, last_reviewed_on=today - dt.timedelta(days=200),
            next_review_on=today + dt.timedelta(days=165))
        db.session.add(account)
        services.set_people(account, responsible_id=author.id, deputy_id=users["admin"].id,
                            operator_ids={author.id}, holder_ids={author.id})
        db.session.flush()
        version = services.add_procedure(account, author, touch=False, **procedure)
        if approved:
            services.decide_procedure(version, approver, approve=True, comment="")
        account.status = status
        if platform is Platform.X:
            incident = services.open_incident(
                account, author, kind=IncidentKind.IMPERSONATION, occurred_on=today - dt.timedelta(days=2),
                summary="「@example_ll9」（数字の1を小文字のlに置き換えた名前）が当本部を名乗り、募金を呼びかけている。",
                notified="情報セキュリティ担当（総務課）、予防課長")
            services.add_action(incident, author, "X社の報告フォームからなりすましとして報告した。")
            services.add_action(incident, author, "公式サイトと防災LINEで、なりすましアカウントへの注意を呼びかけた。")
            services.update_response(incident, done={"INC-01", "INC-02", "INC-05"}, notified=incident.notified)
        if platform is Platform.YOUTUBE:
            incident = services.open_incident(
                account, author, kind=IncidentKind.WRONG_POST, occurred_on=today - dt.timedelta(days=40),
                summary="訓練動画の概要欄に、公開前のイベント日程を誤って記載した。", notified="予防課長")
            services.add_action(incident, author, "概要欄を修正し、訂正のお知らせを掲載した。")
            services.close_incident(incident, closed_on=today - dt.timedelta(days=39),
                                    note="投稿前チェックを必ず行い、公開日を確認することにした。")
    db.session.flush()


def _load_verifications(contracts, users, today) -> None:
    """Submitted verifications that leave one contract overdue (R8-002: never
    checked), one due soon (R8-004) and one with an open, overdue measure
    (R8-001: staff training partly done)."""
    import io

    from werkzeug.datastructures import FileStorage

    from contracts import verification as checks
    from contracts.models import Result, Verification
    from core import files

    plans = (("R8-001", 100, {"C05": (Result.PARTLY, "委託先従事者2名の情報セキュリティ研修が未受講")}),
             ("R8-004", 170, {}))
    for number, days_ago, exceptions in plans:
        contract = contracts[number]
        if db.session.scalar(select(Verification.id).where(Verification.contract_id == contract.id)):
            continue
        verification = checks.start(contract, user=users["verifier"])
        verification.performed_on = today - dt.timedelta(days=days_ago)
        for row in verification.results:
            row.result, row.comment = exceptions.get(row.clause.code, (Result.CONFORMS, None))
        verification.conclusion = "概ね適合。指摘事項は期限を定めて是正を求める。" if exceptions else "すべて適合。"
        proof = files.store(FileStorage(io.BytesIO(DEMO_PDF), filename=f"{number}_定期報告書.pdf"),
                            allowed=files.EVIDENCE_TYPES, user=users["verifier"])
        checks.attach(verification, proof)
        checks.submit(verification, user=users["verifier"])
    db.session.flush()
