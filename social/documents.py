"""The official-account register as a document (core.pdf): every account with
its responsible person, procedure version, MFA, anti-impersonation measures,
review date and open incidents."""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from reportlab.lib.units import mm
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.approvals import Approval
from core.db import db
from core.inspection import Fact, Item, Scope
from core.inspection_items import OTHER, POLICY
from core.models import AuditEntry
from core.pdf import SMALL, Section, day, p, sign_off, table
from core.timeutil import local_date, today
from social import rules
from social.models import OPEN, AccountMember, AccountStatus, ClosureStep, SocialAccount

# The order the printed register has always listed the flags in.
FLAG_ORDER = ("review_overdue", "no_procedure", "mfa_off", "dormant", "open_incident")


def register_section(*, level: int = 0) -> Section:
    accounts = db.session.scalars(select(SocialAccount).options(
        selectinload(SocialAccount.responsible), selectinload(SocialAccount.procedures),
        selectinload(SocialAccount.incidents), selectinload(SocialAccount.members).selectinload(AccountMember.user),
        selectinload(SocialAccount.closure_records))
        .order_by(SocialAccount.platform, SocialAccount.name)).all()
    flags = rules.FLAGS.of_ids([a.id for a in accounts])
    rows, alerts = [], set()
    for index, account in enumerate(accounts):
        names = flags.get(account.id, set())
        if names:
            alerts.add(index)
        procedure = account.approved_procedure
        measures = [label for on, label in ((account.profile_states_official, "プロフィール明記"),
                                            (account.website_listing_url, "公式サイト掲載"),
                                            (account.verified_badge, "認証バッジ")) if on]
        open_incidents = [f"{i.kind.label}（{day(local_date(i.occurred_at))}〜）" for i in account.incidents if i.is_open]
        rows.append([
            f"{account.name}\n{account.platform.label} {account.handle or ''}\n{account.url}", account.status.label,
            account.responsible.display_name,
            f"第{procedure.number}版\n{day(procedure.approved_at)}承認" if procedure else "▲ なし",
            f"有効（{account.mfa_method or ''}）" if account.mfa_enabled else "▲ 無効",
            "・".join(measures) + f"\n点検 {day(account.last_lookalike_scan_on)}",
            day(account.last_post_on), day(account.next_review_on),
            "\n".join(open_incidents) or "なし",
            "\n".join(f"▲ {flag.label}" for flag in rules.FLAGS.ordered(FLAG_ORDER) if flag.name in names),
        ])
    flow = [p(f"登録 {len(accounts)} 件。網掛けの行は対応が必要なアカウントです。", SMALL),
            table(["アカウント", "状態", "責任者", "運用手順", "二要素認証", "なりすまし対策", "最終投稿", "次回見直し",
                   "対応中の事案", "要対応"], rows,
                  [38 * mm, 13 * mm, 20 * mm, 33 * mm, 20 * mm, 32 * mm, 26 * mm, 26 * mm, 28 * mm, 30 * mm],
                  alerts=alerts),
            *_lifecycle(accounts),
            sign_off()]
    return Section("SNS公式アカウント台帳", flow, landscape=True, level=level, kind="SNS公式アカウント台帳")


# The closing checklist's items as the printed register's column names them.
SHORT = {ClosureStep.ANNOUNCE: "告知", ClosureStep.DELETE_OR_LOCK: "削除・ロック",
         ClosureStep.REVOKE: "アクセス権・連携アプリ", ClosureStep.WEBSITE: "公式サイト"}


def _lifecycle(accounts: list[SocialAccount]) -> list:
    """開設の申請と廃止の手続き (issue 17): each account not yet opened (申請中,
    却下) or being or having been closed (items of its closing checklist),
    with its requests and its checklist.  An approved opening is on the
    account's page and in the audit trail."""
    requests: dict[int, list[Approval]] = {}
    for approval in db.session.scalars(select(Approval).where(
            Approval.kind == rules.OPENING, Approval.subject_type == SocialAccount.__tablename__)
            .options(selectinload(Approval.requested_by), selectinload(Approval.approver))
            .order_by(Approval.requested_at, Approval.id)):
        requests.setdefault(approval.subject_id, []).append(approval)
    rows = []
    for account in accounts:
        asked, closure = requests.get(account.id, []), account.closure
        if account.status not in (AccountStatus.REQUESTED, AccountStatus.REJECTED) and not closure:
            continue
        opening = "\n".join(
            f"申請 {a.requested_by.display_name} {day(a.requested_at)} → {a.decision.label}"
            + (f" {a.approver.display_name} {day(a.decided_at)}" if a.approver and a.decided_at else "")
            + (f"（{a.comment}）" if a.comment else "") for a in asked) or "—（規則の導入前に開設）"
        steps = "　".join(
            f"✔{SHORT[step]} {day(closure[step].done_on)}" + (f"（{closure[step].note}）" if closure[step].note else "")
            if step in closure else f"□{SHORT[step]} 未了" for step in ClosureStep) if closure else "—"
        rows.append([f"{account.name} {account.url}", account.status.label, opening, steps])
    if not rows:
        return []
    return [p("開設の申請と廃止の手続き", SMALL),
            table(["アカウント", "状態", "開設の申請", "廃止の手続き（告知・削除/ロック・アクセス権と連携アプリ・公式サイト）"], rows,
                  [50 * mm, 13 * mm, 64 * mm, 135 * mm], style=SMALL)]


def pack_sections(scope: Scope) -> list[Section]:
    return [register_section()]


# The self-inspection items of ソーシャルメディア (DOMAIN.md §5.2; registered in social.init_app).
# SNS-03's and SNS-04's frequencies are general practice, not a requirement.
INSPECTION_ITEMS = (
    Item("SNS-01", "アカウントごとに責任者・運用手順があるか", "Responsible person and procedure per account", "SNS",
         "毎年度", "基本方針 6(8)（運用手順・責任者）", frequency_en="Yearly", source_kind=POLICY),
    Item("SNS-02", "公式サイトに掲載され、プロフィールに運用者を明示しているか", "Listed on site; operator in profile",
         "SNS", "毎年度", "「国、地方公共団体等公共機関における民間ソーシャルメディアを活用した情報発信についての指針」（2011）",
         frequency_en="Yearly", source_kind=OTHER),
    Item("SNS-03", "二要素認証・パスワード保持者を確認したか", "2FA on; credential holders limited", "SNS", "四半期ごと",
         "人事院・国立国際医療研究センターの注意喚起", True, frequency_en="Quarterly", source_kind=OTHER),
    Item("SNS-04", "なりすましアカウントを点検したか", "Impersonation scan", "SNS", "毎月",
         "総務省「国民のためのサイバーセキュリティサイト」", True, frequency_en="Monthly", source_kind=OTHER),
    Item("SNS-05", "休眠アカウントを停止したか", "Dormant accounts closed", "SNS", "毎年度", "他団体の規程例（神栖市）",
         frequency_en="Yearly", source_kind=OTHER),
    Item("SNS-06", "発信内容が発信可能情報の範囲内か", "Posts within allowed content", "SNS", "抽出・毎年度",
         "基本方針 6(8)（発信できる情報）", frequency_en="Sample, yearly", source_kind=POLICY),
)


def facts(scope: Scope) -> dict[str, Fact]:
    stmt = select(SocialAccount).where(SocialAccount.status.in_(OPEN))
    if scope.unit_id:
        stmt = stmt.where(SocialAccount.unit_id == scope.unit_id)
    accounts = db.session.scalars(stmt.options(selectinload(SocialAccount.procedures))).all()
    n = len(accounts)
    # Requests are not in operation (issue 17): named beside, never counted in.
    requested = select(func.count()).select_from(SocialAccount).where(
        SocialAccount.status == AccountStatus.REQUESTED)
    if scope.unit_id:
        requested = requested.where(SocialAccount.unit_id == scope.unit_id)
    requested_count = db.session.scalar(requested) or 0
    stale_scan = today() - dt.timedelta(days=rules.SCAN_INTERVAL_DAYS)
    unscanned = sum(1 for a in accounts if not a.last_lookalike_scan_on or a.last_lookalike_scan_on < stale_scan)
    checks = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "prepost_check",
        AuditEntry.at >= dt.datetime.combine(scope.start, dt.time()),
        AuditEntry.at < dt.datetime.combine(scope.end + dt.timedelta(days=1), dt.time()))) or 0
    scoped = {"unit": scope.unit_id} if scope.unit_id else {}
    return {
        "SNS-01": Fact(f"運用中・休止 {n}件中 {sum(1 for a in accounts if a.approved_procedure is None)}件に承認済みの運用手順なし"
                       + (f"（ほかに開設の申請中 {requested_count}件）" if requested_count else ""),
                       [(_l("承認済みの運用手順なし"), "social.index", {"flag": "no_procedure", **scoped})]),
        "SNS-02": Fact(f"{n}件中 公式サイト未掲載 {sum(1 for a in accounts if not a.website_listing_url)}件・"
                       f"プロフィールに明記なし {sum(1 for a in accounts if not a.profile_states_official)}件",
                       [(a.name, "social.detail", {"account_id": a.id}) for a in accounts
                        if not a.website_listing_url or not a.profile_states_official][:5]),
        "SNS-03": Fact(f"{n}件中 二要素認証なし {sum(1 for a in accounts if not a.mfa_enabled)}件",
                       [(_l("二要素認証なし"), "social.index", {"flag": "mfa_off", **scoped})]),
        "SNS-04": Fact(f"{n}件中 {unscanned}件が30日以上なりすまし点検なし"),
        "SNS-05": Fact(f"最終投稿から{rules.dormant_days()}日超 {rules.FLAGS.count('dormant', scope.unit_id)}件",
                       [(_l("長期間投稿なし"), "social.index", {"flag": "dormant", **scoped})]),
        "SNS-06": Fact(f"年度内の投稿前チェック {checks}回"),
    }
