"""The audit trail as people read it (変更履歴, 監査ログ; issue 20).

The trail stores one entry per row change, with column names and stored
values (ids, enum codes, ISO times in UTC), and its hash chain covers
exactly those.  This module only *reads* them: every page that shows the
trail (a record's history, /audit/) goes through :func:`readable`, which

- names each column by its form label (a domain's ``AuditRecord``, else the
  model column's ``info["label"]``, else a few common names);
- shows references by name (機密性: 自治体機密性2 → 自治体機密性3B), enum
  values by their label, dates and times in Japan time, JSON readably, and a
  redacted value as redacted;
- names records by their business key and links them where the reader may
  open them (core.auth.can_view: the rule of the record's page itself);
- groups what one save wrote (the same user, about the same record, within a
  couple of seconds, next to each other in the list) into one entry.

Names, parents and references are loaded in bulk: one query per table
referenced on the page, never one per entry.
"""
from __future__ import annotations

import datetime as dt
import inspect as pyinspect
import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, Date, DateTime, select
from sqlalchemy import Column as SAColumn
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import RelationshipDirection

from core import plugins
from core.approvals import Approval
from core.audit import REDACTED
from core.auth import can_view
from core.db import db
from core.i18n import date_filter, datetime_filter, locale_code
from core.models import ROLE_LABELS, AuditEntry, Role

# What the trail's action and object_type columns mean: one lookup per entry,
# translated when drawn.
ACTION_LABELS = {
    "create": _l("登録"), "update": _l("更新"), "delete": _l("削除"), "login": _l("ログイン"), "logout": _l("ログアウト"),
    "login_failed": _l("ログイン失敗"), "lockout": _l("ロック"), "unlock": _l("ロック解除"),
    "password_change": _l("パスワード変更"), "password_reset": _l("パスワード再設定"),
    "activate": _l("有効化"), "deactivate": _l("無効化"), "handover": _l("引継ぎ"), "retire": _l("廃止・終了"), "request": _l("申請"),
    "approve": _l("承認"), "reject": _l("却下"), "sign": _l("締結"), "end": _l("終了"), "terminate": _l("解除"),
    "approve_conditional": _l("条件付承認"), "withdraw": _l("取下げ"), "review": _l("見直し"),
    "rules": _l("利用規定の改版"), "procedure": _l("運用手順の改版"), "close": _l("終了"),
    "prepost_check": _l("投稿前チェック"), "print": _l("印刷"), "clauses": _l("条項マトリクスを更新"), "submit": _l("提出"),
    "amend": _l("変更契約による変更"),
    "report": _l("完了報告"), "accept": _l("確認済"), "return": _l("差し戻し"), "revoke": _l("無効化"),
    "selection": _l("選定記録の紐付け"),
    "begin": _l("着手"), "correct": _l("訂正"), "import": _l("取込み"), "restore": _l("再開"), "respond": _l("回答"),
    "status": _l("状態の変更"), "first_contract_signed": _l("初回の契約締結により取引中"),
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
    "measures": _l("改善措置"), "audit_plans": _l("監査計画"), "audit_findings": _l("監査の指摘"),
    "audit_targets": _l("監査の対象"), "audit_plan_auditors": _l("監査人"), "audit_plan_units": _l("監査の対象組織"),
    "inspections": _l("自己点検"), "inspection_answers": _l("自己点検の回答"), "inspection_items": _l("自己点検の項目"),
    "data_minimums": _l("データの最低分類"), "social_closure_steps": _l("閉鎖の手順"), "cloud_deletions": _l("データの削除"),
    "contract_verification_notes": _l("次回確認の留意事項"), "selection_criteria": _l("選定基準"),
}

# Column names many tables share, for those no form or description names.
COMMON_LABELS = {
    "name": _l("名称"), "title": _l("件名"), "number": _l("番号"), "code": _l("コード"), "status": _l("状態"),
    "kind": _l("種別"), "reason": _l("理由"), "comment": _l("コメント"), "notes": _l("備考"), "remarks": _l("備考"),
    "active": _l("有効"), "sort_order": _l("表示順"), "username": _l("ユーザー名"), "display_name": _l("氏名"),
    "email": _l("メールアドレス"), "roles": _l("役割"), "locale": _l("表示言語"), "password_hash": _l("パスワード"),
    "password_changed_at": _l("パスワード変更日時"), "calendar_token_hash": _l("カレンダー配信の鍵"),
    "name_en": _l("名称（英語）"), "description": _l("説明"), "decision": _l("決定"), "decided_at": _l("決定日時"),
    "decided_on": _l("決定日"), "requested_at": _l("申請日時"), "details": _l("詳細"), "topic": _l("対象項目"),
    "expires_on": _l("有効期限"), "subject_id": _l("対象"), "due_on": _l("期限"), "start_on": _l("開始日"),
    "end_on": _l("終了日"), "article": _l("条項番号"), "state": _l("規定"), "result": _l("結果"),
    "created_at": _l("登録日時"), "updated_at": _l("更新日時"), "revoked_at": _l("無効化日時"),
    "filename": _l("ファイル名"), "content_type": _l("ファイル形式"), "size": _l("サイズ"), "sha256": _l("SHA-256"),
    "last_reviewed_on": _l("前回の見直し日"), "next_review_on": _l("次回の見直し期限"),
    "measure": _l("措置の内容"), "owner_id": _l("担当者"), "reported_at": _l("完了報告日時"),
    "closure_note": _l("完了報告"), "accepted_at": _l("確認日時"), "closed_at": _l("終了日時"),
    "fiscal_year": _l("年度"), "summary": _l("概要"), "response": _l("回答"), "severity": _l("程度"),
    "done_on": _l("実施日"), "done_at": _l("実施日時"), "detail": _l("詳細"), "text": _l("内容"), "at": _l("日時"),
    "position": _l("表示順"), "retired": _l("廃止"), "retired_at": _l("廃止日時"), "role": _l("役割"),
    "step": _l("手順"), "approved_at": _l("承認日時"), "source": _l("根拠"),
    "general_practice": _l("一般的な慣行"), "incident_number": _l("事故番号"),
    "must_change_password": _l("次回ログイン時にパスワード変更"),
    "original_name": _l("ファイル名"), "uploaded_at": _l("登録日時"), "text_ja": _l("内容（日本語）"),
    "text_en": _l("内容（英語）"), "note": _l("備考"), "purpose": _l("目的"), "method": _l("方法"),
}

# Keys inside JSON values (an approval's details…).
JSON_LABELS = {
    "clauses": _l("条項"), "checklist": _l("確認項目"), "warnings": _l("警告"), "acknowledged": _l("警告を確認"),
    "fields": _l("項目"), "before": _l("変更前"), "after": _l("変更後"),
}

# Four-eyes request kinds (core.approvals.Approval.kind), as people read them.
APPROVAL_KINDS = {
    "clause_exception": _l("必須条項の例外"), "subcontractor": _l("再委託"), "cloud_service": _l("外部サービスの利用"),
    "social_procedure": _l("運用手順"), "social_opening": _l("SNSアカウントの開設"),
    "selection_justification": _l("不適合を含む選定"), "contract_amendment": _l("変更契約"),
    "inspection_check": _l("自己点検の確認"), "inspection_approval": _l("自己点検の承認"),
    "measure_closure": _l("措置の完了確認"),
}

# Entries written by one save come within this of each other (one request).
GROUP_WINDOW = dt.timedelta(seconds=2)
GENERIC_ACTIONS = frozenset({"create", "update", "delete"})
# Never shown: bookkeeping, secrets' hashes, where a file lies on disk, and the
# copy of a record moved from an older table (legacy_object).
ALWAYS_HIDDEN = frozenset({"id", "created_at", "updated_at", "version", "token_hash", "storage_key",
                           "legacy_object"})


def init_app(app) -> None:
    """What core itself describes: accounts, units and four-eyes requests."""
    house = plugins.registry(app)
    house.add_audit_record(plugins.AuditRecord(
        "approvals", labels={"kind": _l("申請の種類"), "requested_by_id": _l("申請者"), "approver_id": _l("決定者"),
                             "reason": _l("申請の理由")},
        values={"kind": APPROVAL_KINDS}, hidden=frozenset({"subject_type"}), name=_approval_names))
    house.add_audit_record(plugins.AuditRecord(
        "users", labels={"unit_id": _l("所属"), "active": _l("有効")}, endpoint="admin.user_edit", param="user_id"))
    house.add_audit_record(plugins.AuditRecord("org_units", labels={"parent_id": _l("上位の組織")}))
    measure = {"owner_id": _l("措置の担当者"), "reported_by_id": _l("完了報告者"),
               "closure_evidence_id": _l("完了の証拠ファイル"), "accepted_by_id": _l("完了の確認者")}
    house.add_audit_record(plugins.AuditRecord(
        "measures", endpoint="measures.detail", param="measure_id", hidden=frozenset({"source_type", "source_id"}),
        labels={**measure, "opened_by_id": _l("起票者")}))
    house.add_audit_record(plugins.AuditRecord("findings", labels=measure))
    house.add_audit_record(plugins.AuditRecord(
        "inspection_items", labels={"builtin": _l("組込みの項目"), "area": _l("分野"), "area_name_ja": _l("分野名"),
                                    "area_name_en": _l("分野名（英語）"), "text_ja": _l("点検項目"),
                                    "text_en": _l("点検項目（英語）"), "frequency_ja": _l("頻度"),
                                    "frequency_en": _l("頻度（英語）"), "source": _l("根拠"),
                                    "source_kind": _l("根拠の種類"), "general_practice": _l("一般的な慣行"),
                                    "created_by_id": _l("作成者")}))


def _approval_names(ids) -> dict:
    """A four-eyes request named by its kind (外部サービスの利用)."""
    ids = list(ids)
    rows = db.session.execute(select(Approval.id, Approval.kind).where(Approval.id.in_(ids))).all() if ids else []
    return {row.id: str(APPROVAL_KINDS.get(row.kind, row.kind)) for row in rows}


# --- what a table's columns are ---------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    kind: str = "text"  # text, enum, ref, date, datetime, boolean, json, roles, code
    enum: Any = None
    ref: str | None = None  # the table a foreign key points to
    codes: dict | None = None


def _cache(name: str) -> dict:
    """A cache kept on the app's registry: what the models and descriptions
    say does not change while the app runs."""
    return plugins.registry().__dict__.setdefault(name, {})


def _model(table: str | None):
    if not table:
        return None
    models = _cache("_audit_models")
    if not models:
        for mapper in db.Model.registry.mappers:
            if getattr(mapper, "local_table", None) is not None:
                models.setdefault(mapper.local_table.name, mapper.class_)
    return models.get(table)


def _form_labels(forms: tuple) -> dict:
    labels = {}
    for form in forms:
        for name in dir(form):
            unbound = getattr(form, name, None)
            if getattr(unbound, "field_class", None) is None:
                continue
            label = unbound.args[0] if unbound.args else unbound.kwargs.get("label")
            if label is not None:
                labels.setdefault(name, label)
    return labels


def _columns(table: str) -> dict[str, Column]:
    """The table's columns as the trail shows them (cached per app)."""
    house = plugins.registry()
    cache = _cache("_audit_columns")
    if table in cache:
        return cache[table]
    record = house.audit_record(table)
    labels = {**_form_labels(record.forms), **record.labels} if record else {}
    model = _model(table)
    columns: dict[str, Column] = {}
    if model is not None:
        for attr in db.inspect(model).column_attrs:
            column = attr.columns[0]
            if not isinstance(column, SAColumn):
                continue  # a computed column_property: never in the trail
            key = attr.key
            refs = [fk.column.table.name for fk in column.foreign_keys]
            ref = refs[0] if refs else None
            label = (labels.get(key) or column.info.get("label") or COMMON_LABELS.get(key)
                     or (OBJECT_LABELS.get(ref) if ref else None) or key)
            kind, enum = "text", None
            if record and key in record.values:
                kind = "code"
            elif table == "users" and key == "roles":
                kind = "roles"
            elif ref:
                kind = "ref"
            elif isinstance(column.type, SAEnum) and column.type.enum_class is not None:
                kind, enum = "enum", column.type.enum_class
            elif isinstance(column.type, DateTime):
                kind = "datetime"
            elif isinstance(column.type, Date):
                kind = "date"
            elif isinstance(column.type, Boolean):
                kind = "boolean"
            elif isinstance(column.type, JSON):
                kind = "json"
            columns[key] = Column(key, label, kind, enum, ref, record.values.get(key) if record else None)
    cache[table] = columns
    return columns


def _hidden(table: str) -> frozenset:
    return _table(table).hidden


def _find_hidden(table: str, model, record) -> frozenset:
    ignored = getattr(model, "__audit_ignore__", frozenset()) if model is not None else frozenset()
    return ALWAYS_HIDDEN | ignored | (record.hidden if record else frozenset())


def _parent_column(table: str) -> str | None:
    """The column naming the record a row belongs to: the description's, else
    a many-to-one whose other side owns the rows (cascade delete-orphan)."""
    return _table(table).parent


def _find_parent_column(table: str) -> str | None:
    record = plugins.registry().audit_record(table)
    if record and record.parent:
        return record.parent
    model = _model(table)
    if model is None:
        return None
    for rel in db.inspect(model).relationships:
        if rel.direction is RelationshipDirection.MANYTOONE and rel.back_populates:
            other = rel.mapper.relationships.get(rel.back_populates)
            if other is not None and other.cascade.delete_orphan:
                return next(iter(rel.local_columns)).key
    return None


def _has_parent(table: str | None) -> bool:
    return bool(table) and _table(table).has_parent


def _polymorphic(table: str) -> bool:
    """A row about any record: ``subject_type`` (a table) and ``subject_id``."""
    return _table(table).polymorphic


@dataclass(frozen=True)
class _Table:
    """What the trail needs to know about one table, worked out once per app
    (it depends only on the models and the registry's descriptions): the
    export reads it for every one of a quarter of a million entries."""
    name: str
    model: Any
    record: Any  # its plugins.AuditRecord, or None
    columns: dict[str, Column]
    hidden: frozenset
    polymorphic: bool
    parent: str | None  # the parent column (_parent_column)
    parent_ref: str | None  # the table it points to
    has_parent: bool
    label: Any  # what sort of record (OBJECT_LABELS, else the table's name)
    # the columns a record of a model without its own label is named by (_model_label's
    # number, name, title…, those it has), selected instead of the records; None: load the records
    name_columns: tuple | None = None


def _tables() -> dict[str, _Table]:
    """The app's table descriptions (a cache on its registry)."""
    return _cache("_audit_tables")


def _table(table: str, tables: dict | None = None) -> _Table:
    tables = _tables() if tables is None else tables
    found = tables.get(table)
    if found is None:
        model, record = _model(table), plugins.registry().audit_record(table)
        columns = _columns(table)
        polymorphic = "subject_type" in columns and "subject_id" in columns
        parent = _find_parent_column(table)
        parent_ref = columns[parent].ref if parent in columns else None
        found = tables[table] = _Table(table, model, record, columns, _find_hidden(table, model, record), polymorphic,
                                       parent, parent_ref, polymorphic or parent is not None,
                                       OBJECT_LABELS.get(table, table), _name_columns(model))
    return found


# --- loading names and parents in bulk ---------------------------------------------------

def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _label_of(obj, locale: str) -> str | None:
    """A record's name from its model: ``label(locale)`` or ``label()``, its
    own ``__str__``, else its number, name, title… (None: its id will do)."""
    try:
        return _model_label(obj, locale)
    except (TypeError, ValueError, AttributeError, LookupError):
        return None  # a name that cannot be made is shown as the stored id, never a 500


def _model_label(obj, locale: str) -> str | None:
    label = getattr(type(obj), "label", None)
    if callable(label) and not isinstance(label, property):
        try:
            parameters = pyinspect.signature(label).parameters
        except (TypeError, ValueError):
            parameters = {}
        text = obj.label(locale) if len(parameters) > 1 else obj.label()
        return str(text) if text else None
    if type(obj).__str__ is not object.__str__:
        return str(obj)
    for attr in ("number", "name", "title", "display_name", "code", "original_name"):
        value = getattr(obj, attr, None)
        if isinstance(value, str) and value:
            return value
    return None


NAME_ATTRS = ("number", "name", "title", "display_name", "code", "original_name")


def _name_columns(model) -> tuple | None:
    """The columns :func:`_model_label` names a ``model``'s records by, when
    it reads nothing but them (no ``label()``, no ``__str__``, and each of
    NAME_ATTRS it has is a column); None: it needs the records."""
    if model is None:
        return None
    label = getattr(model, "label", None)
    if (callable(label) and not isinstance(label, property)) or model.__str__ is not object.__str__:
        return None
    columns = {attr.key for attr in db.inspect(model).column_attrs}
    found = []
    for attr in NAME_ATTRS:
        if attr in columns:
            found.append(attr)
        elif getattr(model, attr, None) is not None:
            return None  # a property or relationship: the record's own
    return tuple(found)


def _load_names(wanted: dict[str, set[int]]) -> dict[tuple[str, int], str]:
    house, locale, names = plugins.registry(), locale_code(), {}
    for table, ids in wanted.items():
        ids = {i for i in ids if i is not None}
        if not ids:
            continue
        record = house.audit_record(table)
        if record and record.name:
            found = record.name(sorted(ids))
        else:
            model = _model(table)
            if model is None:
                continue
            pk = db.inspect(model).primary_key[0]
            attrs = _table(table).name_columns
            if attrs is not None:  # only the name's columns, not the records (the export: 200,000 verifications)
                if attrs:
                    rows = db.session.execute(select(pk, *(getattr(model, a) for a in attrs)).where(pk.in_(ids)))
                    names.update({(table, row[0]): text for row in rows
                                  for text in [next((v for v in row[1:] if isinstance(v, str) and v), None)] if text})
                continue
            found = {row_id: _label_of(obj, locale)
                     for obj in db.session.scalars(select(model).where(pk.in_(ids)))
                     for row_id in [getattr(obj, pk.key)]}
        names.update({(table, row_id): text for row_id, text in found.items() if text})
    return names


def _load_parents(wanted: dict[str, set[int]]) -> dict[tuple[str, int], tuple[str, int]]:
    parents = {}
    for table, ids in wanted.items():
        about = _table(table)
        model = about.model
        if model is None or not ids:
            continue
        pk = db.inspect(model).primary_key[0]
        if about.polymorphic:
            rows = db.session.execute(select(pk, model.subject_type, model.subject_id).where(pk.in_(ids)))
            parents.update({(table, row[0]): (row[1], row[2]) for row in rows})
            continue
        column, ref = about.parent, about.parent_ref
        if column is None:
            continue
        rows = db.session.execute(select(pk, getattr(model, column)).where(pk.in_(ids)))
        parents.update({(table, row[0]): (ref, row[1]) for row in rows if row[1] is not None})
    return parents


def _stored_parent(entry: AuditEntry, about: _Table | None = None) -> tuple[str, int] | None:
    """The parent as the entry itself stored it (a created or deleted row)."""
    changes = entry.changes or {}
    if not _is_snapshot(entry):
        return None
    about = about or _table(entry.object_type)
    if about.polymorphic and changes.get("subject_type"):
        parent_id = _int(changes.get("subject_id"))
        return (changes["subject_type"], parent_id) if parent_id is not None else None
    column = about.parent
    if column and _int(changes.get(column)) is not None:
        return (about.parent_ref, _int(changes[column]))
    return None


# --- what the page shows -----------------------------------------------------------------

@dataclass
class Change:
    key: str
    label: Any
    old: str | None = None
    new: str | None = None
    value: str | None = None  # a created or deleted row's value (no before/after)
    changed: bool = True


@dataclass
class Part:
    entry: AuditEntry
    action: Any
    kind: Any  # what sort of record (契約の条項)
    name: str | None
    url: str | None
    changes: list[Change]
    is_subject: bool
    summary: str | None = None  # the row's changes in short (its table's AuditRecord.summary)


@dataclass
class Group:
    """One save: what one person changed about one record at one moment."""
    entries: list[AuditEntry]
    action: Any
    kind: Any
    name: str | None
    url: str | None
    parts: list[Part] = field(default_factory=list)

    @property
    def at(self) -> dt.datetime:
        return self.entries[0].at

    @property
    def username(self) -> str:
        return self.entries[0].username

    @property
    def first(self) -> AuditEntry:
        return self.entries[0]

    @property
    def ip(self) -> str | None:
        return self.entries[0].ip

    @property
    def seqs(self) -> list[int]:
        return sorted(entry.seq for entry in self.entries)


def _is_snapshot(entry: AuditEntry) -> bool:
    """A created or deleted row's values (not before/after pairs)."""
    changes = entry.changes or {}
    if entry.action in ("create", "delete"):
        return True
    if entry.action == "update" or not changes:
        return False
    return not all(isinstance(v, list) and len(v) == 2 for v in changes.values())


class _Reader:
    """Reads a page of entries: gathers every id it needs, loads the names
    and parents in bulk, then builds the groups."""

    def __init__(self, entries: list[AuditEntry], *, text: bool = False):
        self.entries = entries
        self.names: dict[tuple[str, int], str] = {}
        self.parents: dict[tuple[str, int], tuple[str, int]] = {}
        # The export's readable column (text): no links, and each label
        # translated once per chunk instead of once per entry and change
        # (a lazy label translates again every time it is compared or read).
        self.text = text
        self.labels: dict[int, tuple[Any, str]] = {}
        self.tables = _tables()  # the app's table descriptions, looked up once per reader
        self.keys = {id(entry): _entry_key(entry) for entry in entries}

    def table(self, name: str) -> _Table:
        found = self.tables.get(name)
        return found if found is not None else _table(name, self.tables)

    def has_parent(self, name: str | None) -> bool:
        return bool(name) and self.table(name).has_parent

    def label(self, value):
        """``value`` (a label), as text when the reader writes text."""
        if not self.text or value is None or value.__class__ is str:
            return value
        found = self.labels.get(id(value))
        if found is None or found[0] is not value:  # the label itself is kept: its id is not reused
            found = self.labels[id(value)] = (value, str(value))
        return found[1]

    # -- bulk loading --
    def load(self) -> None:
        # the parent chain, two levels up (a subcontractor's approval → subcontractor → contract)
        level = {}
        for entry in self.entries:
            key = self.key(entry)
            if key is None:
                continue
            stored = _stored_parent(entry, self.table(key[0]))
            if stored is not None:
                self.parents[key] = stored
            elif self.has_parent(key[0]):
                level.setdefault(key[0], set()).add(key[1])
        for parent in list(self.parents.values()):
            if parent not in self.parents and self.has_parent(parent[0]):
                level.setdefault(parent[0], set()).add(parent[1])
        for _round in range(2):
            if not level:
                break
            found = _load_parents(level)
            self.parents.update(found)
            level = {}
            for parent in found.values():
                if parent not in self.parents and self.has_parent(parent[0]):
                    level.setdefault(parent[0], set()).add(parent[1])
        wanted: dict[str, set[int]] = {}
        for entry in self.entries:
            key = self.key(entry)
            if key is not None:
                wanted.setdefault(key[0], set()).add(key[1])
                root = self.root(key)
                wanted.setdefault(root[0], set()).add(root[1])
            self.gather_refs(entry, wanted)
        self.names = _load_names(wanted)

    def gather_refs(self, entry: AuditEntry, wanted: dict) -> None:
        table, changes = entry.object_type, entry.changes or {}
        if not changes:
            return
        about = self.table(table) if table else None
        columns = about.columns if about else {}
        snapshot = _is_snapshot(entry)
        for key, value in changes.items():
            column = columns.get(key)
            values = [value] if snapshot else (value if isinstance(value, list) else [value])
            if column is not None and column.kind == "ref":
                for item in values:
                    if _int(item) is not None:
                        wanted.setdefault(column.ref, set()).add(_int(item))
            elif key == "subject_id" and about is not None and about.polymorphic:
                subject_type = changes.get("subject_type")
                for item in values:
                    if subject_type and _int(item) is not None:
                        wanted.setdefault(subject_type, set()).add(_int(item))

    # -- reading --
    def key(self, entry: AuditEntry) -> tuple[str, int] | None:
        found = self.keys.get(id(entry), self)
        return _entry_key(entry) if found is self else found

    def root(self, key: tuple[str, int]) -> tuple[str, int]:
        seen = {key}
        while key in self.parents and self.parents[key] not in seen:
            key = self.parents[key]
            seen.add(key)
        return key

    def name(self, table: str | None, row_id) -> str | None:
        return self.names.get((table, _int(row_id))) if table else None

    def url(self, table: str | None, row_id) -> str | None:
        if self.text:
            return None
        record = self.table(table).record if table else None
        if record is None or not record.endpoint or self.name(table, row_id) is None:
            return None  # a record gone (deleted) is named by its stored id, not linked
        if not can_view(record.endpoint):
            return None  # the reader could not open it: the page's own access rule
        return url_for(record.endpoint, **{record.param: _int(row_id)})

    def show(self, column: Column | None, value, subject_type: str | None = None) -> str | None:
        if value is None or value == "":
            return None
        if value == REDACTED:
            return REDACTED
        if column is None:
            return _json_text(value)
        if column.kind == "ref" or (column.key == "subject_id" and subject_type):
            table = subject_type if column.kind != "ref" else column.ref
            return self.name(table, value) or f"#{value}"
        if column.kind == "enum":
            member = _member(column.enum, value)
            return str(member.label) if member is not None and hasattr(member, "label") else str(value)
        if column.kind == "code":
            if isinstance(value, list):
                return "、".join(str(column.codes.get(item, item)) for item in value) or None
            return str(column.codes.get(value, value))
        if column.kind == "roles":
            return "、".join(str(ROLE_LABELS.get(Role(r), r)) if r in Role._value2member_map_ else r
                            for r in str(value).split(",") if r)
        if column.kind == "boolean":
            return _("はい") if value else _("いいえ")
        if column.kind in ("date", "datetime"):
            return _moment(value, column.kind)
        return _json_text(value)

    def changes(self, entry: AuditEntry, hide: set[str]) -> list[Change]:
        table, data = entry.object_type, entry.changes or {}
        if not data:
            return []
        about = self.table(table) if table else None
        columns = about.columns if about else {}
        hidden = (about.hidden if about else ALWAYS_HIDDEN) | hide
        polymorphic = about is not None and about.polymorphic
        subject_type = data.get("subject_type") if polymorphic else None
        if polymorphic and subject_type is None and entry.object_id:
            parent = self.parents.get((table, _int(entry.object_id)))
            subject_type = parent[0] if parent else None
        snapshot = _is_snapshot(entry)
        order = list(columns) + [k for k in data if k not in columns]
        result = []
        for key in order:
            if key not in data or key in hidden:
                continue
            column = columns.get(key)
            label = column.label if column else JSON_LABELS.get(key, key)
            value = data[key]
            if subject_type and key == "subject_id":
                label = OBJECT_LABELS.get(subject_type, COMMON_LABELS["subject_id"])
            label = self.label(label)
            if snapshot or not (isinstance(value, list) and len(value) == 2):
                shown = self.show(column, value, subject_type)
                if shown is not None:
                    result.append(Change(key, label, value=shown, changed=False))
            else:
                result.append(Change(key, label, self.show(column, value[0], subject_type),
                                     self.show(column, value[1], subject_type)))
        return result

    def groups(self, grouped: bool = True) -> list[Group]:
        if not grouped:  # each entry on its own (the export: a row per stored entry)
            groups = [Group([entry], None, None, None, None) for entry in self.entries]
            for group in groups:
                self.fill(group)
            return groups
        groups: list[Group] = []
        last_root = None
        # A save names what it does to a record once (creates it, signs it, approves
        # it): a second such entry about the same record is another save.
        named: set = set()
        for entry in self.entries:
            key = self.key(entry)
            root = self.root(key) if key else None
            current = groups[-1] if groups else None
            names = key is not None and entry.action != "update"
            if (current is not None and root is not None and root == last_root
                    and entry.username == current.entries[-1].username
                    and abs(entry.at - current.entries[-1].at) <= GROUP_WINDOW
                    and not (names and key in named)):
                current.entries.append(entry)
            else:
                groups.append(Group([entry], None, None, None, None))
                named = set()
            if names:
                named.add(key)
            last_root = root
        for group in groups:
            self.fill(group)
        return groups

    def fill(self, group: Group) -> None:
        first = group.entries[0]
        key = self.key(first)
        root = self.root(key) if key else None
        table, row_id = root if root else (first.object_type, first.object_id)
        group.kind = self.label(self.table(table).label) if table else None
        group.name = self.name(table, row_id) or (f"#{row_id}" if row_id is not None else None)
        group.url = self.url(table, row_id)
        # the action that says most: the subject's creation, else an action the
        # service named (the subject's own first), else the subject's first
        made = list(reversed(group.entries))
        subject = [e for e in made if self.key(e) == root]
        named = [e for e in made if e.action not in GENERIC_ACTIONS]
        if subject and subject[0].action == "create":
            chosen = subject[0]
        else:
            chosen = ([e for e in named if self.key(e) == root] or named or subject or made)[0]
        # as text once: the page compares each part's action with it (a lazy string would translate per comparison)
        group.action = str(self.label(action_label(chosen.action)))
        for entry in reversed(group.entries):  # in the order they were made
            entry_key = self.key(entry)
            hide = set()
            parent = self.parents.get(entry_key) if entry_key else None
            about = self.table(entry.object_type) if entry.object_type else None
            if parent is not None and parent == root:
                column = about.parent
                hide = {column} if column else set()
                if about.polymorphic:
                    hide = {"subject_id", "subject_type"}
            changes = self.changes(entry, hide)
            is_subject = entry_key == root
            if not changes and ((entry.action in GENERIC_ACTIONS and len(group.entries) > 1)
                                or (is_subject and str(self.label(action_label(entry.action))) == group.action)):
                continue  # a bookkeeping touch (the contract's version when its matrix is saved), or said already
            kind = self.label(about.label) if about else None
            name = None if is_subject else (self.name(*entry_key) if entry_key else None)
            if not is_subject and name is None and entry.object_id:
                name = f"#{entry.object_id}"
            record = about.record if about else None
            summary = (record.summary({change.key: change for change in changes})
                       if record and record.summary and changes and not is_subject else None)
            group.parts.append(Part(entry, str(self.label(action_label(entry.action))), kind, name,
                                    None if is_subject or not entry_key else self.url(*entry_key), changes,
                                    is_subject, summary))


    def line(self, entry: AuditEntry) -> str:
        """The entry on its own as one line of text: what
        ``readable_text(fill(Group([entry])))`` writes, without building the
        group (the export: a line per stored entry, most without changes)."""
        key = self.key(entry)
        root = self.root(key) if key else None
        table, row_id = root if root else (entry.object_type, entry.object_id)
        kind = self.label(self.table(table).label) if table else None
        name = self.name(table, row_id) or (f"#{row_id}" if row_id is not None else None)
        # an entry on its own: its own action is the one that says most
        head = " ".join(str(part) for part in (str(self.label(action_label(entry.action))), kind, name) if part)
        if not entry.changes and key == root:
            return head  # nothing more to say (the part would be left out)
        about = self.table(entry.object_type) if entry.object_type else None
        hide = set()
        parent = self.parents.get(key) if key else None
        if parent is not None and parent == root:
            hide = {about.parent} if about.parent else set()
            if about.polymorphic:
                hide = {"subject_id", "subject_type"}
        changes = self.changes(entry, hide)
        is_subject = key == root
        if not changes and is_subject:
            return head
        part_name = None if is_subject else (self.name(*key) if key else None)
        if not is_subject and part_name is None and entry.object_id:
            part_name = f"#{entry.object_id}"
        record = about.record if about else None
        summary = (record.summary({change.key: change for change in changes})
                   if record and record.summary and changes and not is_subject else None)
        text = summary or "、".join(_change_text(change) for change in changes)
        part_kind = self.label(about.label) if about else None
        title = " ".join(str(p) for p in (part_kind, part_name) if p) if not is_subject else ""
        detail = f"{title}: {text}" if title and text else (title or text)
        return f"{head}: {detail}" if detail else head


def _entry_key(entry: AuditEntry) -> tuple[str, int] | None:
    object_id = _int(entry.object_id)
    return (entry.object_type, object_id) if entry.object_type and object_id is not None else None


def _member(enum_cls, value):
    try:
        return enum_cls(value)
    except (ValueError, KeyError):
        return None


def _moment(value, kind: str) -> str:
    try:
        if kind == "date":
            return date_filter(dt.date.fromisoformat(str(value)[:10]))
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return datetime_filter(moment)  # stored UTC, shown in Japan time


def _json_text(value) -> str:
    """Lists and objects as text a person reads (labels for known keys; a
    list of objects as how many)."""
    if isinstance(value, bool):
        return _("はい") if value else _("いいえ")
    if isinstance(value, dict):
        parts = [f"{JSON_LABELS.get(k, k)}: {_json_text(v)}" for k, v in value.items()
                 if v not in (None, "", [], {}) and k != "snapshot"]
        return "、".join(parts) if parts else "—"
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            return _("%(n)s件", n=len(value))
        return "、".join(_json_text(item) for item in value) if value else "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def action_label(action: str | None):
    """The action's label; an unknown one as stored."""
    return ACTION_LABELS.get(action, action)


def object_label(object_type: str | None):
    """The object type's label (its table name); an unknown one as stored."""
    return OBJECT_LABELS.get(object_type, object_type)


def readable(entries: Iterable[AuditEntry], *, grouped: bool = True, text: bool = False) -> list[Group]:
    """The entries (newest first, as a page lists them) as people read them:
    grouped by save (``grouped``), with labels, names and links (``text``:
    for a line of text, so without links and with labels as text)."""
    entries = list(entries)
    if not entries:
        return []
    reader = _Reader(entries, text=text)
    reader.load()
    return reader.groups(grouped)


def readable_texts(entries: Iterable[AuditEntry]) -> list[str]:
    """Each entry as one line of text, in order (the export's readable
    column: a row per stored entry, names loaded in bulk)."""
    entries = list(entries)
    if not entries:
        return []
    reader = _Reader(entries, text=True)
    reader.load()
    return [reader.line(entry) for entry in entries]


def readable_text(group: Group) -> str:
    """One group as one line of text (the export's readable column)."""
    head = " ".join(str(part) for part in (group.action, group.kind, group.name) if part)
    details = []
    for part in group.parts:
        text = part.summary or "、".join(_change_text(change) for change in part.changes)
        title = " ".join(str(p) for p in (part.kind, part.name) if p) if not part.is_subject else ""
        details.append(f"{title}: {text}" if title and text else (title or text))
    details = [d for d in details if d]
    return f"{head}: " + "；".join(details) if details else head


def _change_text(change: Change) -> str:
    if not change.changed:
        return f"{change.label}: {change.value}"
    return f"{change.label}: {change.old or '—'} → {change.new or '—'}"
