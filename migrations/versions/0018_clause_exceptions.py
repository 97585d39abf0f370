"""clause exceptions decided by the security lead (issue 17): one request per
clause, at most one pending per clause of a contract, and an expiry date.

approvals.topic names what within the subject a request is about (a clause
code); a partial unique index lets only one request per (kind, subject,
topic) be pending, on SQLite and PostgreSQL alike.  approvals.expires_on is
the last day a granted decision holds.  Existing pending exceptions that name
one clause get it as their topic (the newest only, should two ask for the
same clause); older multi-clause requests keep no topic and are still read
from details["clauses"].

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

PENDING = sa.text("decision = 'pending' AND topic IS NOT NULL")


def upgrade():
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("topic", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("expires_on", sa.Date(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT id, subject_type, subject_id, details FROM approvals "
        "WHERE kind = 'clause_exception' AND decision = 'pending' ORDER BY id DESC")).all()
    taken = set()
    for approval_id, subject_type, subject_id, details in rows:
        if isinstance(details, str):
            details = json.loads(details)
        clauses = (details or {}).get("clauses") or []
        if len(clauses) != 1 or (subject_type, subject_id, clauses[0]) in taken:
            continue
        taken.add((subject_type, subject_id, clauses[0]))
        connection.execute(sa.text("UPDATE approvals SET topic = :topic WHERE id = :id"),
                           {"topic": clauses[0], "id": approval_id})
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.create_index("uq_approvals_one_pending", ["kind", "subject_type", "subject_id", "topic"],
                              unique=True, sqlite_where=PENDING, postgresql_where=PENDING)


def downgrade():
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_index("uq_approvals_one_pending", sqlite_where=PENDING, postgresql_where=PENDING)
        batch_op.drop_column("expires_on")
        batch_op.drop_column("topic")
