"""The vendor summary (core.pdf): certifications with validity, the
selection record, and what the domains that build on vendors add to it (the
``vendors.summary`` slot of core/plugins.py: contracts add every contract with
its state)."""
from __future__ import annotations

from reportlab.lib.units import mm
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import plugins
from core.db import db
from core.pdf import BODY, H2, Section, day, p, pairs, sign_off, table
from core.timeutil import today
from vendors.models import Assessment, Selection, SelectionAssessment, SelectionDecision, Vendor, VendorStatus


def summary_sections(ids: list[int], *, level: int = 0) -> list[Section]:
    vendors = db.session.scalars(select(Vendor).where(Vendor.id.in_(ids)).options(
        selectinload(Vendor.unit), selectinload(Vendor.certifications),
        selectinload(Vendor.selections).selectinload(Selection.assessments).selectinload(SelectionAssessment.criterion),
        selectinload(Vendor.selections).selectinload(Selection.decided_by)).order_by(Vendor.kana, Vendor.id)).all()
    # Each block of the slot: vendor id → its flowables, for all the vendors at once.
    added = [build(vendor_ids=ids) for build in plugins.registry().sections("vendors.summary")]
    on = today()
    labels = {member: str(member.label) for enum in (Assessment, SelectionDecision, VendorStatus)
              for member in enum}  # translated once, not once per cell
    return [_summary(vendor, [flowable for block in added for flowable in block.get(vendor.id, [])], on, level, labels)
            for vendor in vendors]


def _summary(vendor: Vendor, added: list, on, level: int, labels: dict) -> Section:
    flow = [pairs([("事業者名", f"{vendor.name}（{vendor.kana or ''}）"), ("法人番号", vendor.corporate_number),
                   ("所在地", vendor.address), ("代表者", vendor.representative), ("状態", labels[vendor.status]),
                   ("担当組織", vendor.unit.name if vendor.unit else None)], widths=(38 * mm, 142 * mm)),
            p("認証", H2)]
    certifications = vendor.certifications
    if certifications:
        states = [c.state(on) for c in certifications]
        flow.append(table(["認証", "番号", "発行者", "有効期限", "状況"], [
            [c.label, c.number or "", c.issuer or "", day(c.valid_until),
             {"expired": "▲ 期限切れ", "expiring": "▲ 60日以内に期限"}.get(state, "有効")]
            for c, state in zip(certifications, states, strict=True)],
            [45 * mm, 34 * mm, 45 * mm, 26 * mm, 30 * mm],
            alerts={i for i, state in enumerate(states) if state != "valid"}))
    else:
        flow.append(p("登録なし", BODY))
    flow.append(p("選定の記録", H2))
    if vendor.selections:
        for selection in vendor.selections:
            flow.append(p(f"{day(selection.decided_on)} {labels[selection.decision]}（{selection.decided_by.display_name}）"
                          + (f" — {selection.notes}" if selection.notes else ""), BODY))
            rows = sorted(selection.assessments, key=lambda a: (a.criterion.sort_order, a.criterion.code))
            flow.append(table(["基準", "内容", "評価", "コメント"], [
                [a.criterion.code, a.criterion.label_ja, labels[a.result], a.comment or ""] for a in rows],
                [16 * mm, 90 * mm, 20 * mm, 54 * mm], alerts={i for i, a in enumerate(rows) if a.result.value == "not_met"}))
    else:
        flow.append(p("▲ 選定の記録がありません", BODY))
    flow += added
    flow.append(sign_off())
    return Section(f"委託事業者の概要 {vendor.name}", flow, level=level, kind="委託事業者の概要")
