"""an official account's life (issue 17): opening is a request (social_accounts.status
'requested' or 'rejected': the column is a VARCHAR(20) without a CHECK constraint, so
nothing changes for it, and every existing account keeps its status: it was opened
before the rule, so it counts as approved); closing follows a checklist whose items are
recorded in social_closure_steps

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "social_closure_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Enum("announce", "delete_or_lock", "revoke", "website", name="closurestep",
                                  native_enum=False, length=20), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["social_accounts.id"],
                                name=op.f("fk_social_closure_steps_account_id_social_accounts"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"],
                                name=op.f("fk_social_closure_steps_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_closure_steps")),
        sa.UniqueConstraint("account_id", "step", name=op.f("uq_social_closure_steps_account_id")),
    )
    with op.batch_alter_table("social_closure_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_social_closure_steps_account_id"), ["account_id"], unique=False)


def downgrade():
    with op.batch_alter_table("social_closure_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_social_closure_steps_account_id"))
    op.drop_table("social_closure_steps")
