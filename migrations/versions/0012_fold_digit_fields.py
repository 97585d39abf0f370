"""fold digit fields: corporate numbers and contact phone numbers stored
before the rule (issue 17, "Input") are NFKC-folded as the forms now fold
them (full-width ７ becomes 7, a full-width hyphen －, -)

- vendors.corporate_number: NFKC, without spaces and hyphens; stored when
  the result is 13 ASCII digits.  A number that would then equal another
  vendor's is a duplicate the unique index cannot hold: that row is LEFT AS
  IT IS and a warning naming the vendor's id is logged (alembic's log), so
  that someone merges the two vendors by hand; the migration does not fail.
  A number that does not fold to 13 digits is left as well (logged): the
  vendor form asks for a correct one at its next edit.
- vendor_contacts.phone: NFKC (hyphens and parentheses stay, as the phone
  rule allows them), when the folded text still fits the column.

Data only; the downgrade changes nothing (the folded text is the same
number).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""
import logging
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

_vendors = sa.table("vendors", sa.column("id", sa.Integer), sa.column("corporate_number", sa.String))
_contacts = sa.table("vendor_contacts", sa.column("id", sa.Integer), sa.column("phone", sa.String))
PHONE_LENGTH = 30


def _folded_number(stored: str) -> str | None:
    folded = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", stored))
    return folded if re.fullmatch(r"[0-9]{13}", folded) else None


def fold(connection) -> list[tuple[int, str]]:
    """Fold the stored rows; the vendors left as they were because their
    folded number is another vendor's, as (id, stored number)."""
    rows = connection.execute(sa.select(_vendors.c.id, _vendors.c.corporate_number)
                              .where(_vendors.c.corporate_number.is_not(None)).order_by(_vendors.c.id)).all()
    taken = {number for _, number in rows}
    collisions = []
    for vendor_id, stored in rows:
        folded = _folded_number(stored)
        if folded == stored:
            continue
        if folded is None:
            log.warning("0012: vendor %s: corporate number %r is not 13 digits once folded; left as it is",
                        vendor_id, stored)
            continue
        if folded in taken:
            log.warning("0012: vendor %s: corporate number %r folds to %s, which another vendor holds; "
                        "left as it is (merge the two vendors by hand)", vendor_id, stored, folded)
            collisions.append((vendor_id, stored))
            continue
        connection.execute(_vendors.update().where(_vendors.c.id == vendor_id).values(corporate_number=folded))
        taken.discard(stored)
        taken.add(folded)
    for contact_id, stored in connection.execute(sa.select(_contacts.c.id, _contacts.c.phone)
                                                 .where(_contacts.c.phone.is_not(None))).all():
        folded = unicodedata.normalize("NFKC", stored).strip()
        if folded != stored and len(folded) <= PHONE_LENGTH:
            connection.execute(_contacts.update().where(_contacts.c.id == contact_id).values(phone=folded))
    return collisions


def upgrade():
    fold(op.get_bind())


def downgrade():
    pass
