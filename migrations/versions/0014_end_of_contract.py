"""end of contract without bypasses (issue 17): the disposal method is a
choice (existing rows keep their text, with no choice recorded); a draft
can be withdrawn (contracts.status 'withdrawn': the column is a VARCHAR(20)
without a CHECK constraint, so nothing changes for it)

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("disposals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.Enum("return", "erasure", "destruction", name="disposalmethod",
                                                      native_enum=False, length=20), nullable=True))


def downgrade():
    with op.batch_alter_table("disposals", schema=None) as batch_op:
        batch_op.drop_column("kind")
