"""監査ログ: browse and export the audit trail (auditors and admins)."""
from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, flash, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import plugins
from core.audit import verify_chain
from core.auth import AUDIT_READERS, access
from core.db import db, distinct_values
from core.lists import ListView
from core.models import AuditEntry
from core.registers import Field, Register
from core.timeutil import JST

bp = Blueprint("audit", __name__, url_prefix="/audit")


def init_app(app) -> None:
    """The trail's pages, and the trail as a register (exported like the
    domains' registers, after them)."""
    app.register_blueprint(bp)
    plugins.registry(app).add_registers(lambda: [register()], order=90)

# What the trail's action and object_type columns mean, for the page and the
# history on detail pages: one lookup per entry, translated when drawn.
ACTION_LABELS = {
    "create": _l("登録"), "update": _l("更新"), "delete": _l("削除"), "login": _l("ログイン"), "logout": _l("ログアウト"),
    "login_failed": _l("ログイン失敗"), "lockout": _l("ロック"), "unlock": _l("ロック解除"),
    "password_change": _l("パスワード変更"), "password_reset": _l("パスワード再設定"),
    "activate": _l("有効化"), "deactivate": _l("無効化"), "handover": _l("引継ぎ"), "retire": _l("廃止・終了"), "request": _l("申請"),
    "approve": _l("承認"), "reject": _l("却下"), "sign": _l("締結"), "end": _l("終了"), "terminate": _l("解除"),
    "approve_conditional": _l("条件付承認"), "withdraw": _l("取下げ"), "review": _l("見直し"),
    "rules": _l("利用規定の改版"), "procedure": _l("運用手順の改版"), "close": _l("終了"),
    "prepost_check": _l("投稿前チェック"), "print": _l("印刷"), "clauses": _l("条項の更新"), "submit": _l("提出"),
    "amend": _l("変更契約による変更"),
    "report": _l("完了報告"), "accept": _l("確認済"), "return": _l("差し戻し"), "revoke": _l("無効化"),
    "selection": _l("選定記録の紐付け"),
}

OBJECT_LABELS = {
    "users": _l("利用者"), "org_units": _l("組織"), "vendors": _l("委託事業者"), "contracts": _l("契約"),
    "cloud_services": _l("外部サービス"), "social_accounts": _l("SNSアカウント"),
    "classification_levels": _l("情報資産の分類"), "vendor_contacts": _l("連絡先"), "certifications": _l("認証"),
    "selections": _l("選定記録"), "selection_assessments": _l("選定基準の評価"), "contract_clauses": _l("契約の条項"),
    "clauses": _l("条項カタログ"), "approvals": _l("承認"), "verifications": _l("確認"),
    "verification_results": _l("確認結果"), "verification_evidence": _l("証拠ファイル"), "findings": _l("指摘事項"),
    "subcontractors": _l("再委託先"), "contract_amendments": _l("変更契約"), "disposals": _l("返却・廃棄"), "stored_files": _l("ファイル"),
    "cloud_information": _l("取り扱う情報"), "cloud_usage_rules": _l("利用規定"), "cloud_service_units": _l("利用部署"),
    "social_account_members": _l("運用担当・保持者"), "social_procedures": _l("運用手順"),
    "social_incidents": _l("事案"), "social_incident_actions": _l("事案の経過"), "documents": _l("帳票"),
    "api_tokens": _l("APIトークン"),
    "incidents": _l("事故"), "incident_actions": _l("事故対応の経過"), "incident_notifications": _l("事故の報告・連絡"),
    "incident_evidence": _l("事故の証拠ファイル"), "incident_checklist_items": _l("事故対応チェックリストの項目"),
}


@bp.app_template_global()
def action_label(action: str | None):
    """The action's label; an unknown one as stored."""
    return ACTION_LABELS.get(action, action)


@bp.app_template_global()
def object_label(object_type: str | None):
    """The object type's label (its table name); an unknown one as stored."""
    return OBJECT_LABELS.get(object_type, object_type)


def _day(value: str) -> dt.datetime | None:
    """A YYYY-MM-DD (Japan time) as the UTC instant it starts at."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None  # filters nothing; the page says why (index), the API's caller sees it unfiltered
    return dt.datetime.combine(day, dt.time(), JST).astimezone(dt.UTC).replace(tzinfo=None)


def _date_from(stmt, value):
    start = _day(value)
    return stmt if start is None else stmt.where(AuditEntry.at >= start)


def _date_to(stmt, value):
    start = _day(value)
    return stmt if start is None else stmt.where(AuditEntry.at < start + dt.timedelta(days=1))


LIST = ListView(
    filters={
        "user": lambda s, v: s.where(AuditEntry.username == v),
        "object_type": lambda s, v: s.where(AuditEntry.object_type == v),
        "object_id": lambda s, v: s.where(AuditEntry.object_id == v),
        "action": lambda s, v: s.where(AuditEntry.action == v),
        "date_from": _date_from,
        "date_to": _date_to,
    },
    sorts={"seq": AuditEntry.seq},
    default_sort="seq",
    default_desc=True,
)


@bp.route("/")
@access(AUDIT_READERS)
def index():
    for name in ("date_from", "date_to"):
        value = request.args.get(name, "").strip()
        if value and _day(value) is None:
            flash(_("日付はYYYY-MM-DDの形で入力してください: %(value)s", value=value), "warning")
    pagination, state = LIST.apply(select(AuditEntry))
    return render_template(
        "audit/index.html", pagination=pagination, state=state,
        usernames=distinct_values(AuditEntry.username), object_types=distinct_values(AuditEntry.object_type),
        actions=distinct_values(AuditEntry.action))


@bp.route("/verify")
@access(AUDIT_READERS)
def verify():
    report = verify_chain(db.session.connection())
    return render_template("audit/verify.html", report=report)


def _at(entry: AuditEntry) -> dt.datetime:
    """Japan time, as the trail's page shows it (naive, for a spreadsheet)."""
    return entry.at.replace(tzinfo=dt.UTC).astimezone(JST).replace(tzinfo=None)


FIELDS = [
    Field("seq", "連番", lambda e: e.seq, kind="integer", width=8, read_only=True),
    Field("at", "日時", _at, kind="datetime", width=19, read_only=True),
    Field("username", "利用者", lambda e: e.username, width=14, read_only=True),
    Field("action", "操作", lambda e: e.action, width=10, read_only=True),
    Field("object_type", "対象", lambda e: e.object_type, width=16, read_only=True),
    Field("object_id", "対象ID", lambda e: e.object_id, width=8, read_only=True),
    Field("changes", "変更内容", lambda e: json.dumps(e.changes, ensure_ascii=False) if e.changes else None,
          width=60, read_only=True),
    Field("ip", "IPアドレス", lambda e: e.ip, width=15, read_only=True),
    Field("prev_hash", "直前のハッシュ", lambda e: e.prev_hash, width=20, read_only=True),
    Field("hash", "ハッシュ", lambda e: e.hash, width=20, read_only=True),
]


def register() -> Register:
    """The trail as a register: exported (streamed, whatever its length)
    with the page's filters; never imported or changed."""
    return Register(name="audit", title=_l("監査ログ"), model=AuditEntry, fields=FIELDS,
                    query=lambda: select(AuditEntry), list_view=LIST, readers=AUDIT_READERS,
                    list_endpoint="audit.index")
