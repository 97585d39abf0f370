"""点検表 Checklists: the self-inspection items of DOMAIN.md §5.2.  The
printable documents come with the checklist-PDF issue."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from core.auth import ALL_ROLES, access

bp = Blueprint("checklists", __name__, url_prefix="/checklists")

# (code, Japanese, English, frequency) — DOMAIN.md §5.2; codes are stable keys.
SELF_INSPECTION_ITEMS = (
    ("OUT-01", "選定時に選定基準への適合を記録したか", "Selection criteria recorded", _l("契約ごと")),
    ("OUT-02", "契約にC01–C13が含まれるか", "C01–C13 present in contract", _l("契約ごと")),
    ("OUT-03", "定期報告を受領し確認したか", "Periodic reports received/reviewed", _l("期間ごと")),
    ("OUT-04", "作業者・作業場所・再委託先の変更を把握しているか", "Staff/site/subcontractor changes known", _l("毎年度")),
    ("OUT-05", "契約に基づく確認・改善要求を実施し報告したか", "Checks done, corrective action, reported", _l("毎年度")),
    ("OUT-06", "終了時の返還・消去証明を受領したか", "Return/erasure proof at end", _l("終了時")),
    ("CLD-01", "利用中の外部サービスが全て台帳にあり承認済みか", "All services registered and approved", _l("毎年度")),
    ("CLD-02", "取扱情報の分類が許可範囲内か", "Data class within allowance", _l("毎年度")),
    ("CLD-03", "約款・規約の変更を確認したか", "Terms changes checked", _l("毎年度・通知時")),
    ("CLD-04", "ISMAP等の登録・認証が有効か", "ISMAP/certifications still valid", _l("毎年度・更新時")),
    ("CLD-05", "個人アカウント・無許可サービスの利用がないか", "No personal/unapproved use", _l("毎年度")),
    ("CLD-06", "終了時のデータ返却・削除手順があるか", "Exit procedure defined", _l("毎年度")),
    ("SNS-01", "アカウントごとに責任者・運用手順があるか", "Responsible person and procedure per account", _l("毎年度")),
    ("SNS-02", "公式サイトに掲載され、プロフィールに運用者を明示しているか", "Listed on site; operator in profile", _l("毎年度")),
    ("SNS-03", "二要素認証・パスワード保持者を確認したか", "2FA on; credential holders limited", _l("四半期ごと")),
    ("SNS-04", "なりすましアカウントを点検したか", "Impersonation scan", _l("毎月")),
    ("SNS-05", "休眠アカウントを停止したか", "Dormant accounts closed", _l("毎年度")),
    ("SNS-06", "発信内容が発信可能情報の範囲内か", "Posts within allowed content", _l("抽出・毎年度")),
    ("CLS-01", "情報資産に分類が付されているか", "Assets classified", _l("毎年度")),
)


@bp.route("/")
@access(ALL_ROLES)
def index():
    return render_template("checklists/index.html", items=SELF_INSPECTION_ITEMS)
