"""What the social-media register contributes to the annual report to the
CISO and the committee (issue 18, core/report.py): accounts with open flags
(social.rules.FLAGS; today's, so of a past year None) and the incidents
recorded in the year (their date is recorded: known for every year)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from core.db import db
from core.report import Figure, as_of, is_current
from core.timeutil import fiscal_year_range
from social import rules
from social.models import SEVERE, Incident, SocialAccount

GROUP = _l("SNS公式アカウント")


def figures(fiscal_year: int) -> list[Figure]:
    start, day = fiscal_year_range(fiscal_year)[0], as_of(fiscal_year)
    flagged = or_(*(rules.FLAGS.condition(name) for name in rules.FLAGS.names))
    in_year = (Incident.occurred_on >= start, Incident.occurred_on <= day)

    def count(model, *conditions) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0

    return [
        Figure("social.flagged", GROUP, _l("注意事項のあるアカウント"),
               count(SocialAccount, flagged) if is_current(fiscal_year) else None, better="lower"),
        Figure("social.incidents", GROUP, _l("年度内に発生したインシデント"), count(Incident, *in_year),
               better="lower"),
        Figure("social.incidents.severe", GROUP, _l("うち、なりすまし・乗っ取り"),
               count(Incident, *in_year, Incident.kind.in_(SEVERE)), better="lower"),
    ]
