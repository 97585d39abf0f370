"""Changes to the cloud-service register (DOMAIN.md §3, policy §6(8)): the
pages, the spreadsheet import, the API and the demo change services here.

Each function keeps a rule of cloud.rules (it refuses with CloudRuleError,
the message for the user), changes the records, writes what the audit trail
needs and flushes; the caller commits once, or rolls back.
"""
from __future__ import annotations

import datetime as dt
import unicodedata

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from cloud import checklist, rules
from cloud.forms import ServiceForm
from cloud.models import (
    IN_USE,
    Agreement,
    CloudDeletion,
    CloudInformation,
    CloudService,
    CloudServiceUnit,
    DataLocation,
    DeletionMethod,
    InformationState,
    IsmapListing,
    ServiceModel,
    ServiceStatus,
    UsageRule,
)
from cloud.rules import CloudRuleError
from contracts.models import Contract
from core import approvals, audit, files, handover, inbox, plugins, review
from core import classification as data_classes
from core.approvals import Approval, Decision
from core.db import db
from core.models import ClassificationLevel, Role, User
from core.timeutil import today, utcnow

# What an approval rests on, beyond the information and the usage rules: a
# change to any of these after approval asks again (issue 17).  Each entry:
# a label, and what of the service it compares before and after the edit.
APPROVED_FIELDS = (
    (_l("取扱上限"), lambda service: service.ceiling_id),
    (_l("利用形態"), lambda service: service.agreement),
    (_l("データの保存場所"), lambda service: service.data_location),
    (_l("提供者"), lambda service: (service.vendor_id,
                                    unicodedata.normalize("NFKC", service.provider_name or "").strip())),
)


def _approved_state(service: CloudService) -> list:
    return [read(service) for _label, read in APPROVED_FIELDS] + [(service.ismap_listing, service.ismap_valid_until)]


def _approved_changes(before: list, service: CloudService) -> list[str]:
    """The labels of what the approval rests on that the edit changed.  The
    ISMAP listing counts when it was listed before: its removal, or its
    expiry moved or removed (a new listing only strengthens the service)."""
    after = _approved_state(service)
    labels = [str(label) for (label, _read), old, new in zip(APPROVED_FIELDS, before, after, strict=False)
              if old != new]
    (old_listing, _old_until), ismap_now = before[-1], after[-1]
    if old_listing is not IsmapListing.NONE and before[-1] != ismap_now:
        labels.append(_("ISMAP / ISMAP-LIU 登録"))
    return labels


def save(form: ServiceForm, service: CloudService, user: User) -> CloudService | None:
    """Apply the form and flush: registering is a request for approval;
    changing what an approved service's approval rests on (APPROVED_FIELDS:
    the ceiling, the agreement, the data location, the provider, the ISMAP
    listing) asks again.  None, with the message in the form, when the chosen
    contract is another vendor's."""
    new = service.id is None
    contract = db.session.get(Contract, form.contract_id.data) if form.contract_id.data else None
    if contract is not None and form.vendor_id.data and contract.vendor_id != form.vendor_id.data:
        form.contract_id.errors.append(_("選んだ契約の委託事業者が、提供者と一致しません。"))
        return None
    if (form.administrator_id.data != service.administrator_id
            and handover.inactive_among([form.administrator_id.data])):  # 人事異動
        form.administrator_id.errors.append(_("無効な利用者はサービスの管理者にできません。"))
        return None
    before = None if new else _approved_state(service)
    service.name = form.name.data.strip()
    service.vendor_id = form.vendor_id.data
    service.provider_name = None if form.vendor_id.data else form.provider_name.data.strip()
    service.service_model = ServiceModel(form.service_model.data)
    service.agreement = Agreement(form.agreement.data)
    service.contract_id = form.contract_id.data
    service.ceiling_id = form.ceiling_id.data
    service.purpose = form.purpose.data.strip()
    service.administrator_id = form.administrator_id.data
    service.ismap_listing = IsmapListing(form.ismap_listing.data)
    listed = service.ismap_listing is not IsmapListing.NONE
    service.ismap_number = form.ismap_number.data.strip() if listed else None
    service.ismap_valid_until = form.ismap_valid_until.data if listed else None
    service.data_location = DataLocation(form.data_location.data)
    for name in ("reading", "other_certifications", "data_region", "governing_law", "jurisdiction", "sla", "subcontractors",
                 "exit_terms", "log_access", "incident_contact"):
        setattr(service, name, (getattr(form, name).data or "").strip() or None)
    service.mfa, service.sso = form.mfa.data, form.sso.data
    service.review_cycle_months = form.review_cycle_months.data
    set_units(service, set(form.unit_ids.data or []))
    if new:
        register(service, user)
    else:
        what = _approved_changes(before, service)
        if what:
            changed(service, user, _("%(fields)sの変更", fields="・".join(what)))
        else:
            _note_editor(service, user)
    db.session.flush()
    return service


def _request(service: CloudService, user: User, reason: str) -> Approval:
    service.status = ServiceStatus.REQUESTED
    db.session.flush()
    return approvals.request(rules.KIND, service, reason=reason, requester=user)


def register(service: CloudService, user: User) -> CloudService:
    """A new service is a request: 申請中 with a pending approval."""
    db.session.add(service)
    db.session.flush()
    _request(service, user, str(_l("新規の利用申請")))
    return service


def _note_editor(service: CloudService, user: User) -> None:
    """Four eyes (issue 17): a user who may decide and edits the request
    while it is 申請中 is named in it, and cannot decide it (decide)."""
    if service.status is ServiceStatus.REQUESTED:
        approvals.note_editor(rules.pending(service), user, rules.DECIDERS)


def changed(service: CloudService, user: User, what: str) -> bool:
    """Record a change to what was approved (ceiling, information, usage
    rules): an approved service returns to 申請中.  Returns whether it did;
    a change to a pending request names its editor (_note_editor)."""
    if service.status is ServiceStatus.RETIRED:
        raise CloudRuleError(_l("廃止したサービスは変更できません。"))
    if service.status not in IN_USE:
        _note_editor(service, user)
        return False
    _request(service, user, _("承認後の変更による再申請: %(what)s", what=what))
    return True


def resubmit(service: CloudService, user: User, reason: str) -> Approval:
    if not (service.status is ServiceStatus.REJECTED
            or (service.status is ServiceStatus.REQUESTED and rules.pending(service) is None)):
        raise CloudRuleError(_l("再申請できるのは却下されたサービスだけです。"))
    return _request(service, user, reason.strip())


def add_rules(service: CloudService, user: User, *, users: str, purposes: str, prohibited: str, accounts: str,
              other: str | None) -> UsageRule:
    """A new version of the usage rules (§3.3); the earlier versions stay,
    and an approved service asks again.  The rules are part of the service:
    the service is marked changed, so a service or rules form opened earlier
    is now stale, and the audit trail names the change."""
    if service.status is ServiceStatus.RETIRED:
        raise CloudRuleError(_l("廃止したサービスは変更できません。"))
    number = (db.session.scalar(select(func.max(UsageRule.number)).where(UsageRule.service_id == service.id)) or 0) + 1
    version = UsageRule(service=service, number=number, users=users.strip(), purposes=purposes.strip(),
                        prohibited=prohibited.strip(), accounts=accounts.strip(), other=(other or "").strip() or None,
                        author_id=user.id)
    db.session.add(version)
    db.session.flush()
    service.rule_versions.sort(key=lambda rules_version: rules_version.number, reverse=True)
    changed(service, user, _("利用規定 第%(number)s版", number=number))
    audit.label(service, "rules")
    service.updated_at = utcnow()
    db.session.flush()
    return version


def add_information(service: CloudService, user: User, *, name: str, classification: ClassificationLevel,
                    state: InformationState, note: str | None, personal: bool = False) -> CloudInformation:
    """A kind of information the service holds or will hold; personal
    information needs its minimum level (core.classification, MIC R6.10)."""
    if service.status is ServiceStatus.RETIRED:
        raise CloudRuleError(_l("廃止したサービスは変更できません。"))
    reason = data_classes.below_minimum(classification, personal=personal, my_number=False)
    if reason:
        raise CloudRuleError(reason, field="classification_id")
    info = CloudInformation(service=service, name=name.strip(), classification=classification, state=state,
                            note=(note or "").strip() or None, personal=personal)
    db.session.add(info)
    db.session.flush()
    changed(service, user, _("取り扱う情報の追加: %(name)s", name=info.name))
    return info


def remove_information(service: CloudService, user: User, info: CloudInformation) -> None:
    if service.status is ServiceStatus.RETIRED:
        raise CloudRuleError(_l("廃止したサービスは変更できません。"))
    service.information.remove(info)
    db.session.flush()
    changed(service, user, _("取り扱う情報の削除: %(name)s", name=info.name))


def set_units(service: CloudService, unit_ids: set[int]) -> None:
    current = {link.unit_id: link for link in service.unit_links}
    for unit_id, link in current.items():
        if unit_id not in unit_ids:
            service.unit_links.remove(link)
    for unit_id in sorted(unit_ids - set(current)):
        service.unit_links.append(CloudServiceUnit(unit_id=unit_id))


OUTCOMES = ("approve", "conditional", "reject")


def decide(service: CloudService, approval: Approval, user: User, *, outcome: str, comment: str | None,
           answers: dict[str, tuple[str, str | None]], acknowledged: bool, on: dt.date | None = None) -> Approval:
    """The approver's decision on a pending request, with the §3.4 checklist:
    an approval (with or without conditions) gives the reason for each item
    answered 未確認 in its comment (issue 17)."""
    on = on or today()
    comment = (comment or "").strip()
    if outcome not in OUTCOMES:
        raise CloudRuleError(_l("決定を選択してください。"))
    if service.status is not ServiceStatus.REQUESTED or approval.decision is not Decision.PENDING:
        raise CloudRuleError(_l("この申請は既に決定済みです。"))
    if approval.requested_by_id == user.id:
        raise CloudRuleError(_l("申請者本人は承認できません。別の担当者が承認してください。"))
    if approvals.edited_by(approval, user):
        raise CloudRuleError(_l("申請中に内容を変更した人は、この申請を決定できません。別の承認者が決定してください。"))
    codes: list[str] = []
    if outcome != "reject":
        reasons = rules.blockers(service)
        if reasons:
            raise CloudRuleError(" ".join(str(reason) for reason in reasons))
        missing = checklist.unexplained(service.agreement is Agreement.TERMS, answers)
        if missing:
            raise CloudRuleError(_("未確認の項目には、その理由をコメントに記載してください: %(items)s",
                                   items="、".join(f"{item.code} {item.text}" for item in missing)))
        codes = rules.warnings(service, on)
        if codes and not (acknowledged and comment):
            raise CloudRuleError(_l("警告を確認したことをチェックし、判断の理由をコメントに記載してください。"))
    if outcome == "conditional" and not comment:
        raise CloudRuleError(_l("条件付承認では、条件をコメントに記載してください。"))
    if outcome == "reject" and not comment:
        raise CloudRuleError(_l("却下の理由をコメントに記載してください。"))
    approvals.decide(approval, approver=user, approve=outcome != "reject", conditional=outcome == "conditional",
                     comment=comment, details={"checklist": checklist.record(service.agreement is Agreement.TERMS,
                                                                             answers), "warnings": codes,
                                               "acknowledged": bool(codes) and acknowledged,
                                               "snapshot": rules.snapshot(service)})
    if outcome == "reject":
        service.status = ServiceStatus.REJECTED
    else:
        service.status = ServiceStatus.CONDITIONAL if outcome == "conditional" else ServiceStatus.APPROVED
        current = service.current_rules
        current.approved_at, current.approval_id = utcnow(), approval.id
        review.schedule(service, on)  # an approval is the first review
    db.session.flush()
    return approval


def record_review(service: CloudService, *, on: dt.date) -> None:
    """A periodic review found the service still fit: the next review moves on."""
    if service.status not in IN_USE:
        raise CloudRuleError(_l("見直しを記録できるのは承認済みのサービスだけです。"))
    review.record(service, on=on, refusal=CloudRuleError)


def record_deletion(service: CloudService, *, done_on: dt.date, method: DeletionMethod, detail: str | None,
                    upload, user: User) -> CloudDeletion:
    """データの消去・返却 before retiring (issue 17): the date, the method
    (データ消去証明書 or the provider's deletion report) and its evidence
    file, kept first (a rejected one, files.FileRejected, records nothing)."""
    if service.deletion is not None:
        raise CloudRuleError(_l("データの消去・返却は既に記録されています。"))
    if service.status is ServiceStatus.RETIRED:
        raise CloudRuleError(_l("このサービスは既に廃止されています。"))
    if done_on > today():
        raise CloudRuleError(_l("実施日に未来の日付は指定できません。"), field="done_on")
    if not isinstance(method, DeletionMethod):
        raise CloudRuleError(_l("消去・返却を証明するものを選択してください。"), field="method")
    if not upload:
        raise CloudRuleError(_l("データの消去を証明する書類を添付してください。"), field="evidence")
    evidence = files.store(upload, user=user)
    deletion = CloudDeletion(service=service, done_on=done_on, kind=method, evidence=evidence, recorded_by_id=user.id,
                             detail=unicodedata.normalize("NFKC", detail or "").strip() or None)
    db.session.add(deletion)
    db.session.flush()
    return deletion


def retire(service: CloudService, user: User, reason: str) -> None:
    """廃止: a service that held information above 自治体機密性1 first needs
    its deletion/return record (record_deletion), on every path (the page,
    the spreadsheet import, the API)."""
    if service.status is ServiceStatus.RETIRED:
        raise CloudRuleError(_l("このサービスは既に廃止されています。"))
    if service.deletion is None and rules.held_classified(service):
        raise CloudRuleError(_l("機密性2以上の情報を保存したサービスは、データの消去・返却を記録してから廃止してください"
                                "（データ消去証明書または事業者の削除報告）。"))
    request = rules.pending(service)
    if request is not None:
        approvals.withdraw(request, user=user, comment=reason)
    service.status = ServiceStatus.RETIRED
    audit.label(service, "retire")
    db.session.flush()


# --- people change (人事異動, core.handover) -------------------------------------------
# The service administrator (管理者) of every service not retired moves to
# a successor, who may hold any role; a pending request for approval moves to
# a successor who may register services (procurement).

def _administered_by(user: User) -> list[CloudService]:
    return list(db.session.scalars(select(CloudService).where(CloudService.administrator_id == user.id,
                                                              CloudService.status != ServiceStatus.RETIRED)
                                   .order_by(CloudService.name, CloudService.id)))


def administrator_items(user: User) -> list[handover.Item]:
    return [handover.Item(_("%(name)s（%(status)s）", name=service.name, status=service.status.label),
                          "cloud.detail", {"service_id": service.id}) for service in _administered_by(user)]


def hand_over_administrator(leaver: User, successor: User) -> None:
    """The successor becomes the administrator of the leaver's services."""
    for service in _administered_by(leaver):
        service.administrator_id = successor.id
    db.session.flush()


def _request_item(approval: Approval) -> handover.Item:
    service = db.session.get(CloudService, approval.subject_id)
    return handover.Item(_("%(name)s の利用申請", name=service.name if service else "?"), "cloud.detail",
                         {"service_id": approval.subject_id})


def add_responsibilities(house) -> None:
    house.add_responsibility(plugins.Responsibility(
        key="cloud_administrator", order=30, label=_l("外部サービスの管理者"), items=administrator_items,
        hand_over=hand_over_administrator))
    house.add_request_kind(rules.KIND, _request_item, roles=frozenset({Role.PROCUREMENT}))


# --- what waits for a user (core.inbox, issue 18) ------------------------------

def inbox_entries(user: User) -> list:
    """The cloud requests ``user`` may decide (an approver or an
    administrator, not the requester nor an editor), and the services the
    user administers that carry flags (rules.FLAGS)."""
    found = []
    if user.has_role(*rules.DECIDERS):
        for request, service in inbox.pending(rules.KIND, CloudService):
            if service is not None and service.status is ServiceStatus.REQUESTED \
                    and inbox.may_decide(request, user):
                found.append(inbox.request_entry(_l("外部サービスの利用申請"), request,
                                                 _("%(name)s の利用申請", name=service.name),
                                                 "cloud.detail", {"service_id": service.id}))
    return found + inbox.flag_entries(rules.FLAGS, CloudService.administrator_id == user.id, _l("外部サービス（管理者）"),
                                      "cloud.detail", "service_id")
