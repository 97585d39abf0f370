"""What the social-media register contributes to the annual report to the
CISO and the committee (issue 18, core/report.py): accounts with open flags
(social.rules.FLAGS; today's, so of a past year None).  The incidents are
the incident register's (incidents.report)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from core.db import db
from core.report import Figure, is_current
from social import rules
from social.models import SocialAccount

GROUP = _l("SNS公式アカウント")


def figures(fiscal_year: int) -> list[Figure]:
    flagged = or_(*(rules.FLAGS.condition(name) for name in rules.FLAGS.names))

    def count(model, *conditions) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0

    return [
        Figure("social.flagged", GROUP, _l("注意事項のあるアカウント"),
               count(SocialAccount, flagged) if is_current(fiscal_year) else None, better="lower"),
    ]
