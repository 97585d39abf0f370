"""The cloud-service register as a document (core.pdf): every service with
its ceiling against the information planned or held, agreement kind, ISMAP,
approval state, review date and open incidents; rule violations highlighted."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from reportlab.lib.units import mm
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from cloud import rules
from cloud.models import IN_USE, CloudInformation, CloudService, IsmapListing, ServiceStatus
from core import incidents
from core.db import db
from core.incidents import CLOUD_SERVICE
from core.inspection import Fact, Item, Scope
from core.inspection_items import MIC, OTHER
from core.pdf import SMALL, Section, day, p, sign_off, table

TRACK = {"ta": "T-A", "tb": "T-B"}


def register_section(*, level: int = 0) -> Section:
    services = db.session.scalars(select(CloudService).options(
        selectinload(CloudService.vendor), selectinload(CloudService.ceiling),
        selectinload(CloudService.information).selectinload(CloudInformation.classification),
        selectinload(CloudService.administrator)).order_by(CloudService.name)).all()
    flags = rules.FLAGS.of_ids([s.id for s in services])
    open_incidents = incidents.open_lines(CLOUD_SERVICE, [s.id for s in services])
    rows, alerts = [], set()
    for index, service in enumerate(services):
        names = flags.get(service.id, set())
        if names:
            alerts.add(index)
        info = "\n".join(f"{i.name}（{i.classification.label_ja}・{i.state.label}）" for i in service.information)
        ismap = service.ismap_listing.label
        if service.ismap_listing is not IsmapListing.NONE:
            ismap += f"\n{service.ismap_number or ''} 〜{day(service.ismap_valid_until, empty='')}"
        track = rules.track(service)
        rows.append([
            f"{service.name}\n{service.provider}", service.agreement.label,
            (service.ceiling.label_ja if service.ceiling else "—") + ("\n" + TRACK[track.value] if track else ""),
            info or "—", ismap, service.administrator.display_name if service.administrator else "▲ 未定",
            service.status.label, day(service.next_review_on),
            "\n".join(open_incidents.get(service.id, [])) or "なし",
            "\n".join(f"▲ {rules.FLAGS[name].label}" for name in sorted(names)),
        ])
    flow = [p(f"登録 {len(services)} 件。網掛けの行は規則に反する点があるサービスです。", SMALL),
            table(["サービス・提供者", "利用形態", "取扱上限・区分", "取り扱う情報（機密性・状況）", "ISMAP",
                   "管理者", "状態", "次回見直し", "対応中の事故", "要対応"], rows,
                  [36 * mm, 18 * mm, 22 * mm, 45 * mm, 27 * mm, 20 * mm, 16 * mm, 26 * mm, 28 * mm, 27 * mm],
                  alerts=alerts),
            sign_off()]
    return Section("外部サービス台帳", flow, landscape=True, level=level, kind="外部サービス台帳")


def pack_sections(scope: Scope) -> list[Section]:
    return [register_section()]


# The self-inspection items of 外部サービス (DOMAIN.md §5.2; registered in cloud.init_app).
E1 = "文部科学省「教育情報セキュリティポリシーハンドブック」（令和7年3月）"
E2 = "文部科学省「教育情報セキュリティポリシーに関するガイドライン」（令和7年3月）9.4"
INSPECTION_ITEMS = (
    Item("CLD-01", "利用中の外部サービスが全て台帳にあり承認済みか", "All services registered and approved", "CLD",
         "毎年度", E2, frequency_en="Yearly", source_kind=OTHER),
    Item("CLD-02", "取扱情報の分類が許可範囲内か", "Data class within allowance", "CLD", "毎年度",
         "総務省ガイドライン 8 外部サービス（機密性2以上は要件を確認したサービスに限る）", frequency_en="Yearly",
         source_kind=MIC),
    Item("CLD-03", "約款・規約の変更を確認したか", "Terms changes checked", "CLD", "毎年度・通知時", E2,
         frequency_en="Yearly and on notice", source_kind=OTHER),
    Item("CLD-04", "ISMAP等の登録・認証が有効か", "ISMAP/certifications still valid", "CLD", "毎年度・更新時",
         "総務省通知 総行サ第42号 別紙1（サプライチェーン・リスク対策）", frequency_en="Yearly and at renewal",
         source_kind=MIC),
    Item("CLD-05", "個人アカウント・無許可サービスの利用がないか", "No personal/unapproved use", "CLD", "毎年度", E2,
         frequency_en="Yearly", source_kind=OTHER),
    Item("CLD-06", "終了時のデータ返却・削除手順があるか", "Exit procedure defined", "CLD", "毎年度", E1,
         frequency_en="Yearly", source_kind=OTHER),
)


def facts(scope: Scope) -> dict[str, Fact]:
    stmt = select(CloudService.status, func.count()).group_by(CloudService.status)
    if scope.unit_id:
        stmt = stmt.where(rules.used_by_unit_expr(scope.unit_id))
    by_status = dict(db.session.execute(stmt).all())
    in_use = select(CloudService).where(CloudService.status.in_(IN_USE))
    if scope.unit_id:
        in_use = in_use.where(rules.used_by_unit_expr(scope.unit_id))
    services = db.session.scalars(in_use).all()
    scoped = {"unit": scope.unit_id} if scope.unit_id else {}
    return {
        "CLD-01": Fact(f"登録 {sum(by_status.values())}件（承認 {by_status.get(ServiceStatus.APPROVED, 0)}・条件付承認 "
                       f"{by_status.get(ServiceStatus.CONDITIONAL, 0)}・申請中 {by_status.get(ServiceStatus.REQUESTED, 0)}）",
                       [(_l("申請中のサービス"), "cloud.index", {"status": ServiceStatus.REQUESTED.value, **scoped})]),
        "CLD-02": Fact(f"取扱上限超過 {rules.FLAGS.count('over', scope.unit_id)}件・約款型で機密性2以上 "
                       f"{rules.FLAGS.count('terms', scope.unit_id)}件",
                       [(_l("取扱上限超過"), "cloud.index", {"flag": "over", **scoped}),
                        (_l("約款型で機密性2以上"), "cloud.index", {"flag": "terms", **scoped})]),
        "CLD-04": Fact(f"ISMAP登録の期限切れ {rules.FLAGS.count('ismap', scope.unit_id)}件",
                       [(_l("ISMAP登録の期限切れ"), "cloud.index", {"flag": "ismap", **scoped})]),
        "CLD-06": Fact(f"利用中 {len(services)}件中 {sum(1 for s in services if not s.exit_terms)}件に終了時の条件の記録なし",
                       [(s.name, "cloud.detail", {"service_id": s.id}) for s in services if not s.exit_terms][:5]),
    }
