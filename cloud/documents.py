"""The cloud-service register as a document (core.pdf): every service with
its ceiling against the information planned or held, agreement kind, ISMAP,
approval state and review date; rule violations highlighted."""
from __future__ import annotations

from reportlab.lib.units import mm
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from cloud import rules
from cloud.models import IN_USE, CloudInformation, CloudService, IsmapListing, ServiceStatus
from core.db import db
from core.inspection import Scope
from core.pdf import SMALL, Section, day, p, sign_off, table

TRACK = {"ta": "T-A", "tb": "T-B"}


def register_section(*, level: int = 0) -> Section:
    services = db.session.scalars(select(CloudService).options(
        selectinload(CloudService.vendor), selectinload(CloudService.ceiling),
        selectinload(CloudService.information).selectinload(CloudInformation.classification),
        selectinload(CloudService.administrator)).order_by(CloudService.name)).all()
    flags = rules.FLAGS.of_ids([s.id for s in services])
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
            "\n".join(f"▲ {rules.FLAGS[name].label}" for name in sorted(names)),
        ])
    flow = [p(f"登録 {len(services)} 件。網掛けの行は規則に反する点があるサービスです。", SMALL),
            table(["サービス・提供者", "利用形態", "取扱上限・区分", "取り扱う情報（機密性・状況）", "ISMAP",
                   "管理者", "状態", "次回見直し", "要対応"], rows,
                  [42 * mm, 20 * mm, 24 * mm, 55 * mm, 30 * mm, 20 * mm, 16 * mm, 26 * mm, 32 * mm], alerts=alerts),
            sign_off()]
    return Section("外部サービス台帳", flow, landscape=True, level=level, kind="外部サービス台帳")


def pack_sections(scope: Scope) -> list[Section]:
    return [register_section()]


def facts(scope: Scope) -> dict[str, str]:
    stmt = select(CloudService.status, func.count()).group_by(CloudService.status)
    if scope.unit_id:
        stmt = stmt.where(rules.used_by_unit_expr(scope.unit_id))
    by_status = dict(db.session.execute(stmt).all())
    in_use = select(CloudService).where(CloudService.status.in_(IN_USE))
    if scope.unit_id:
        in_use = in_use.where(rules.used_by_unit_expr(scope.unit_id))
    services = db.session.scalars(in_use).all()
    return {
        "CLD-01": f"登録 {sum(by_status.values())}件（承認 {by_status.get(ServiceStatus.APPROVED, 0)}・条件付承認 "
                  f"{by_status.get(ServiceStatus.CONDITIONAL, 0)}・申請中 {by_status.get(ServiceStatus.REQUESTED, 0)}）",
        "CLD-02": f"取扱上限超過 {rules.FLAGS.count('over', scope.unit_id)}件・約款型で機密性2以上 "
                  f"{rules.FLAGS.count('terms', scope.unit_id)}件",
        "CLD-04": f"ISMAP登録の期限切れ {rules.FLAGS.count('ismap', scope.unit_id)}件",
        "CLD-06": f"利用中 {len(services)}件中 {sum(1 for s in services if not s.exit_terms)}件に終了時の条件の記録なし",
    }
