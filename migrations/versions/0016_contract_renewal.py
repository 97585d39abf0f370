"""renewal of single-year contracts (issue 17): a contract names the contract
it renews (contracts.predecessor_id, unique: one successor per contract); the
disposal method 'handover' (後継契約へ引継ぎ) needs no change (disposals.kind is a
VARCHAR(20) without a CHECK constraint)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("predecessor_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_contracts_predecessor_id"), ["predecessor_id"])
        batch_op.create_foreign_key(batch_op.f("fk_contracts_predecessor_id_contracts"), "contracts",
                                    ["predecessor_id"], ["id"])


def downgrade():
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_contracts_predecessor_id_contracts"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_contracts_predecessor_id"), type_="unique")
        batch_op.drop_column("predecessor_id")
