"""承認時の確認: the approval checklist of DOMAIN.md §3.4.  Each decision
stores one answer (確認済 / 未確認 / 該当なし) and a comment per item."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from core.enums import LabelledEnum


class Answer(LabelledEnum):
    CHECKED = "checked", _l("確認済")
    NOT_CHECKED = "not_checked", _l("未確認")
    NOT_APPLICABLE = "na", _l("該当なし")


@dataclass(frozen=True)
class Item:
    code: str
    group: str
    text: str
    terms_only: bool = False  # asked only of 約款・利用規約 services


PROVIDER_SECURITY = _l("事業者のセキュリティ対策")
PROVIDER_POLICY = _l("事業者の方針・体制")
TERMS_RISKS = _l("約款型サービスのリスク")
SUPPLY_CHAIN = _l("サプライチェーン")

ITEMS: tuple[Item, ...] = (
    Item("SEC-01", PROVIDER_SECURITY, _l("利用者の認証")),
    Item("SEC-02", PROVIDER_SECURITY, _l("アクセス制御")),
    Item("SEC-03", PROVIDER_SECURITY, _l("保存データの暗号化")),
    Item("SEC-04", PROVIDER_SECURITY, _l("利用者（テナント）間の分離")),
    Item("SEC-05", PROVIDER_SECURITY, _l("外部からの攻撃への対策")),
    Item("SEC-06", PROVIDER_SECURITY, _l("通信の暗号化")),
    Item("SEC-07", PROVIDER_SECURITY, _l("物理的セキュリティ")),
    Item("SEC-08", PROVIDER_SECURITY, _l("運用管理")),
    Item("SEC-09", PROVIDER_SECURITY, _l("不正プログラム対策")),
    Item("SEC-10", PROVIDER_SECURITY, _l("利用者側で行う設定")),
    Item("SEC-11", PROVIDER_SECURITY, _l("事業者の従業員のセキュリティ")),
    Item("SEC-12", PROVIDER_SECURITY, _l("データの廃棄")),
    Item("SEC-13", PROVIDER_SECURITY, _l("ネットワーク設計")),
    Item("POL-01", PROVIDER_POLICY, _l("守秘義務・目的外利用の禁止・第三者提供の禁止")),
    Item("POL-02", PROVIDER_POLICY, _l("準拠する法令・基準")),
    Item("POL-03", PROVIDER_POLICY, _l("管理体制")),
    Item("POL-04", PROVIDER_POLICY, _l("従業員への教育")),
    Item("POL-05", PROVIDER_POLICY, _l("責任分界")),
    Item("POL-06", PROVIDER_POLICY, _l("監査")),
    Item("POL-07", PROVIDER_POLICY, _l("事故発生時の連絡体制の合意")),
    Item("POL-08", PROVIDER_POLICY, _l("サービスレベル")),
    Item("POL-09", PROVIDER_POLICY, _l("再委託先との取決め")),
    Item("POL-10", PROVIDER_POLICY, _l("事業者の倒産・サービス終了時の継続性")),
    Item("POL-11", PROVIDER_POLICY, _l("終了時のデータの返却・移行")),
    Item("POL-12", PROVIDER_POLICY, _l("準拠法・裁判管轄")),
    Item("POL-13", PROVIDER_POLICY, _l("個人情報の取扱い")),
    Item("TOS-01", TERMS_RISKS, _l("規約に守秘義務・目的外利用の禁止・安全な廃棄の定めがあるか"), terms_only=True),
    Item("TOS-02", TERMS_RISKS, _l("事業者が利用者データの権利を主張しないか"), terms_only=True),
    Item("TOS-03", TERMS_RISKS, _l("アクセスログの提供を受けられるか"), terms_only=True),
    Item("TOS-04", TERMS_RISKS, _l("規約・サービスが予告なく変更・停止されうることへの備え（代替手段・自前のバックアップ）"),
         terms_only=True),
    Item("TOS-05", TERMS_RISKS, _l("保存してよい情報の一覧を定めたか"), terms_only=True),
    Item("SUP-01", SUPPLY_CHAIN, _l("ISMAP・ISMAP-LIU・JC-STAR等に登録されたサービス・製品か")),
    Item("SUP-02", SUPPLY_CHAIN, _l("外国の当局により適正な手続なくデータが差し押さえられるおそれがないか")),
)

BY_CODE = {item.code: item for item in ITEMS}


def items_for(terms: bool) -> list[Item]:
    """The items asked of a service: the terms-only risks only of 約款 services."""
    return [item for item in ITEMS if terms or not item.terms_only]


def _comment(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def unexplained(terms: bool, answers: dict[str, tuple[str, str | None]]) -> list[Item]:
    """The items answered 未確認 (or not answered) without a comment: an
    approval needs the reason for each (issue 17)."""
    return [item for item in items_for(terms)
            if (Answer.parse(answers.get(item.code, (None, None))[0] or "") or Answer.NOT_CHECKED)
            is Answer.NOT_CHECKED and not _comment(answers.get(item.code, (None, None))[1])]


def record(terms: bool, answers: dict[str, tuple[str, str | None]]) -> list[dict]:
    """What a decision stores: every item asked of the service, with its
    answer (未確認 when missing or unknown) and comment."""
    rows = []
    for item in items_for(terms):
        answer, comment = answers.get(item.code, (None, None))
        rows.append({"code": item.code, "answer": (Answer.parse(answer or "") or Answer.NOT_CHECKED).value,
                     "comment": _comment(comment)})
    return rows
