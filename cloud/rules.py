"""Rules of the cloud-service register (DOMAIN.md §3, policy §6(8)).

What the app enforces:
- a 約款・利用規約 service is never approved for 自治体機密性2 or above;
- a service whose planned or held information exceeds its ceiling is flagged
  and is never approved;
- a T-A service without a valid ISMAP / ISMAP-LIU listing or an equivalent
  certification carries a warning the approver acknowledges in the comment;
- a service without an administrator (or usage rules, or — under a negotiated
  contract — the contract record) is never approved;
- changing the ceiling, the agreement, the data location, the provider, the
  ISMAP listing (its removal, or its expiry moved or removed), the
  information or the usage rules of an approved service returns it to
  申請中 for re-approval (cloud.services.APPROVED_FIELDS);
- a user who may decide and edits a request while it is 申請中 is named
  in the request (its details' "editors") and cannot decide it;
- the approver is never the requester (core.approvals).

The flags (FLAGS, core.flags) exist in Python for one service (its page)
and as SQL conditions for the list filters and the dashboard counts; the
tests check that the two agree.

This module says what the rules find (flags, blockers, warnings, the
approval history); cloud.services makes the changes they govern.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from cloud.models import (
    IN_USE,
    LIVE,
    Agreement,
    CloudInformation,
    CloudService,
    CloudServiceUnit,
    DataLocation,
    InformationState,
    IsmapListing,
    Track,
)
from core import due
from core import flags as core_flags
from core.approvals import Approval, Decision
from core.db import db
from core.due import EVERYONE, DueItem, DueScope
from core.models import ClassificationLevel, Role
from core.refusals import Refusal
from core.timeutil import today

KIND = "cloud_service"
# Who decides a request (approves, with or without conditions, or rejects).
DECIDERS = frozenset({Role.ADMIN, Role.APPROVER})
# The level from which a service is T-A and terms of service are not enough.
CLASS2_CODE = "C2"


class CloudRuleError(Refusal):
    """A change or decision the rules refuse; the message is for the user."""


def class2_rank() -> int:
    rank = db.session.scalar(select(ClassificationLevel.rank).where(ClassificationLevel.code == CLASS2_CODE))
    return rank if rank is not None else 2


# --- flags of one service --------------------------------------------------------

def track(service: CloudService) -> Track | None:
    if service.ceiling is None:
        return None
    return Track.TA if service.ceiling.rank >= class2_rank() else Track.TB


def over_ceiling(service: CloudService) -> list[CloudInformation]:
    """The information kinds above the ceiling (all of them when there is none)."""
    limit = service.ceiling.rank if service.ceiling else -1
    return [info for info in service.information if info.classification.rank > limit]


def terms_violation(service: CloudService) -> bool:
    """約款・利用規約 service meant for, or holding, class-2-or-above information."""
    if service.agreement is not Agreement.TERMS:
        return False
    threshold = class2_rank()
    ranks = [info.classification.rank for info in service.information]
    if service.ceiling is not None:
        ranks.append(service.ceiling.rank)
    return any(rank >= threshold for rank in ranks)


def held_classified(service: CloudService) -> bool:
    """The service held information above 自治体機密性1: a kind of
    information recorded as held, or any once the service was approved."""
    in_use, threshold = service.status in IN_USE, class2_rank()
    return any(info.classification.rank >= threshold and (in_use or info.state is InformationState.HELD)
               for info in service.information)


def review_overdue(service: CloudService, on: dt.date | None = None) -> bool:
    return (service.status in IN_USE and service.next_review_on is not None
            and service.next_review_on < (on or today()))


def ismap_expired(service: CloudService, on: dt.date | None = None) -> bool:
    return (service.status in LIVE and service.ismap_listing is not IsmapListing.NONE
            and service.ismap_valid_until is not None and service.ismap_valid_until < (on or today()))


def ismap_listed(service: CloudService, on: dt.date | None = None) -> bool:
    """Listed in ISMAP or ISMAP-LIU, and the listing still valid."""
    return service.ismap_listing is not IsmapListing.NONE and (
        service.ismap_valid_until is None or service.ismap_valid_until >= (on or today()))


@dataclass
class Flags:
    over_ceiling: list[CloudInformation] = field(default_factory=list)
    terms_violation: bool = False
    review_overdue: bool = False
    ismap_expired: bool = False

    def __bool__(self) -> bool:
        return bool(self.over_ceiling or self.terms_violation or self.review_overdue or self.ismap_expired)


def flags(service: CloudService, on: dt.date | None = None) -> Flags:
    """The service's flags (FLAGS) as its page shows them, with the
    information above the ceiling.  A rejected or retired service carries
    none: it is not in use."""
    names = FLAGS.of(service, on)
    return Flags(over_ceiling(service) if "over" in names else [], "terms" in names, "overdue" in names,
                 "ismap" in names)


# --- what stands in the way of an approval ---------------------------------------

def blockers(service: CloudService) -> list[str]:
    """Why the service cannot be approved (with or without conditions)."""
    reasons = []
    if service.administrator_id is None:
        reasons.append(_l("外部サービス管理者が決まっていません。"))
    if service.ceiling is None:
        reasons.append(_l("取扱上限（機密性）が決まっていません。"))
    if terms_violation(service):
        reasons.append(_l("約款・利用規約による外部サービスでは、自治体機密性2以上の情報を取り扱えません。"))
    above = over_ceiling(service)
    if above and service.ceiling is not None:
        reasons.append(_("取扱上限を超える情報があります: %(names)s",
                          names="、".join(info.name for info in above)))
    if service.current_rules is None:
        reasons.append(_l("利用規定が登録されていません。"))
    if service.agreement is Agreement.CONTRACT and service.contract_id is None:
        reasons.append(_l("個別契約のサービスには契約を登録してください。"))
    return reasons


# Warning codes (stored with the decision) and their messages.
WARNINGS = {
    "ismap": _l("機密性2以上を扱う（T-A）サービスですが、有効な ISMAP / ISMAP-LIU 登録も同等の認証もありません。"),
    "abroad": _l("機密性2以上を扱う（T-A）サービスのデータが国外に保存されます。外国の法令による差押え等のおそれを確認してください。"),
}


def warnings(service: CloudService, on: dt.date | None = None) -> list[str]:
    """Codes of the warnings the approver must acknowledge in the comment."""
    if track(service) is not Track.TA:
        return []
    codes = []
    if not ismap_listed(service, on) and not (service.other_certifications or "").strip():
        codes.append("ismap")
    if service.data_location in (DataLocation.ABROAD, DataLocation.BOTH, DataLocation.UNKNOWN):
        codes.append("abroad")
    return codes


# --- SQL: the same flags for lists and counts -------------------------------------

def _rank_of(level_id_column):
    level = aliased(ClassificationLevel)
    return select(level.rank).where(level.id == level_id_column).correlate_except(level).scalar_subquery()


def over_ceiling_expr():
    info_level = aliased(ClassificationLevel)
    return exists(
        select(CloudInformation.id)
        .join(info_level, info_level.id == CloudInformation.classification_id)
        .where(CloudInformation.service_id == CloudService.id,
               info_level.rank > func.coalesce(_rank_of(CloudService.ceiling_id), -1))
        .correlate(CloudService))


def terms_violation_expr():
    threshold = class2_rank()
    info_level = aliased(ClassificationLevel)
    class2_info = exists(
        select(CloudInformation.id)
        .join(info_level, info_level.id == CloudInformation.classification_id)
        .where(CloudInformation.service_id == CloudService.id, info_level.rank >= threshold)
        .correlate(CloudService))
    return and_(CloudService.agreement == Agreement.TERMS,
                or_(func.coalesce(_rank_of(CloudService.ceiling_id), -1) >= threshold, class2_info))


def review_overdue_expr(on: dt.date | None = None):
    return and_(CloudService.status.in_(IN_USE), CloudService.next_review_on < (on or today()))


def ismap_expired_expr(on: dt.date | None = None):
    return and_(CloudService.status.in_(LIVE), CloudService.ismap_listing != IsmapListing.NONE,
                CloudService.ismap_valid_until < (on or today()))


def track_expr(value: Track):
    rank = func.coalesce(_rank_of(CloudService.ceiling_id), -1)
    return rank >= class2_rank() if value is Track.TA else and_(CloudService.ceiling_id.is_not(None),
                                                                rank < class2_rank())


def used_by_unit_expr(unit_id: int):
    return exists(select(CloudServiceUnit.service_id).where(
        CloudServiceUnit.service_id == CloudService.id, CloudServiceUnit.unit_id == unit_id).correlate(CloudService))


FLAGS = core_flags.FlagSet(CloudService.status, LIVE, [
    core_flags.Flag("over", _l("取扱上限超過"), lambda service, on: bool(over_ceiling(service)),
                    lambda on: over_ceiling_expr()),
    core_flags.Flag("terms", _l("約款型で機密性2以上"), lambda service, on: terms_violation(service),
                    lambda on: terms_violation_expr()),
    core_flags.Flag("overdue", _l("見直し期限超過"), review_overdue, review_overdue_expr, sign="✖"),
    core_flags.Flag("ismap", _l("ISMAP登録の期限切れ"), ismap_expired, ismap_expired_expr, sign="✖"),
], unit=used_by_unit_expr)


# --- the approval workflow ----------------------------------------------------------

def approvals_for(service: CloudService) -> list[Approval]:
    if service.id is None:
        return []
    return db.session.scalars(select(Approval).where(
        Approval.kind == KIND, Approval.subject_id == service.id,
        Approval.subject_type == CloudService.__tablename__).options(
        selectinload(Approval.requested_by), selectinload(Approval.approver))
        .order_by(Approval.requested_at.desc(), Approval.id.desc())).all()


def pending(service: CloudService) -> Approval | None:
    return next((a for a in approvals_for(service) if a.decision is Decision.PENDING), None)


def last_granted(service: CloudService) -> Approval | None:
    return next((a for a in approvals_for(service) if a.decision.granted), None)


def snapshot(service: CloudService) -> dict:
    """What a decision approved, kept with it: the ceiling, the information
    and the usage-rules version."""
    rules = service.current_rules
    return {
        "ceiling": service.ceiling.code if service.ceiling else None,
        "agreement": service.agreement.value,
        "information": [{"name": info.name, "classification": info.classification.code, "state": info.state.value}
                        for info in service.information],
        "rules_version": rules.number if rules else None,
    }


# --- due items (reminders, calendar) -------------------------------------------------

def _due_statements(scope: DueScope) -> list:
    """(statement, its due date column, kind, title) per kind of the services
    in use and per owner asked for (the service's administrator)."""
    owners = scope.owners()
    parts = []
    for due_on, kind, title, condition in (
            (CloudService.next_review_on, "cloud_review", "外部サービスの見直し", None),
            (CloudService.ismap_valid_until, "cloud_ismap", "ISMAP登録の有効期限",
             CloudService.ismap_listing != IsmapListing.NONE)):
        stmt = (select(CloudService.id, CloudService.name, due_on, CloudService.administrator_id)
                .where(CloudService.status.in_(IN_USE), due_on.is_not(None)))
        if condition is not None:
            stmt = stmt.where(condition)
        parts += [(stmt, due_on, kind, title)] if owners is None else [
            (stmt.where(due.owned(CloudService.administrator_id, owner)), due_on, kind, title) for owner in owners]
    return parts


def due_items(scope: DueScope = EVERYONE) -> list[DueItem]:
    """Each service in use: its review (利用の見直し) and its ISMAP listing's expiry."""
    return [DueItem(key=f"{kind}:{service_id}:{due_on.isoformat()}", kind=kind, title=f"{title} {name}",
                    due_on=due_on, owner_id=administrator_id, endpoint="cloud.detail",
                    params={"service_id": service_id})
            for stmt, column, kind, title in _due_statements(scope)
            for service_id, name, due_on, administrator_id in db.session.execute(
                due.window(scope, stmt, column, CloudService.id))]


def due_count(scope: DueScope = EVERYONE) -> int:
    return due.tally_all(scope, [(stmt, column, dt.timedelta()) for stmt, column, _kind, _title in _due_statements(scope)])


# --- what the vendor register asks ---------------------------------------------------

def vendor_has_services(vendor) -> bool:
    """A vendor providing a registered service is never deleted (vendors.services.has_history)."""
    return bool(db.session.scalar(select(exists().where(CloudService.vendor_id == vendor.id))))
