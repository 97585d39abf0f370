"""selection per contract (issue 17): the selection that covers a contract
(contracts.selection_*: one recorded for the contract, or a vendor's valid
selection confirmed with a comment); the justification of a 選定 with a
不適合 criterion and its four-eyes approval (selections.justification,
selections.approval_id).  Contracts already signed are linked to their
vendor's latest positive selection, so their history stays valid.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

SIGNED = ("signed", "in_force", "ended", "terminated")
MIGRATED = "移行時に、締結済みの契約を委託事業者の最新の選定記録に紐付けました。"


def upgrade():
    with op.batch_alter_table("selections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("justification", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("approval_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_selections_approval_id_approvals"), "approvals", ["approval_id"], ["id"])
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("selection_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("selection_basis", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("selection_comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("selection_confirmed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("selection_confirmed_on", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_contracts_selection_id"), ["selection_id"], unique=False)
        batch_op.create_foreign_key(op.f("fk_contracts_selection_id_selections"), "selections",
                                    ["selection_id"], ["id"])
        batch_op.create_foreign_key(op.f("fk_contracts_selection_confirmed_by_id_users"), "users",
                                    ["selection_confirmed_by_id"], ["id"])

    # Signed contracts: their vendor's latest positive selection, confirmed on its own date.
    contracts = sa.table("contracts", sa.column("id", sa.Integer), sa.column("vendor_id", sa.Integer),
                         sa.column("status", sa.String), sa.column("selection_id", sa.Integer),
                         sa.column("selection_basis", sa.String), sa.column("selection_comment", sa.Text),
                         sa.column("selection_confirmed_on", sa.Date))
    selections = sa.table("selections", sa.column("id", sa.Integer), sa.column("vendor_id", sa.Integer),
                          sa.column("decision", sa.String), sa.column("decided_on", sa.Date))
    latest = (sa.select(sa.func.max(selections.c.id))
              .where(selections.c.vendor_id == contracts.c.vendor_id, selections.c.decision == "selected")
              .scalar_subquery())
    op.execute(contracts.update().where(contracts.c.status.in_(SIGNED), contracts.c.selection_id.is_(None))
               .values(selection_id=latest, selection_basis="vendor", selection_comment=MIGRATED))
    decided = sa.select(selections.c.decided_on).where(selections.c.id == contracts.c.selection_id).scalar_subquery()
    op.execute(contracts.update().where(contracts.c.selection_id.is_not(None))
               .values(selection_confirmed_on=decided))


def downgrade():
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_contracts_selection_confirmed_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(op.f("fk_contracts_selection_id_selections"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_contracts_selection_id"))
        batch_op.drop_column("selection_confirmed_on")
        batch_op.drop_column("selection_confirmed_by_id")
        batch_op.drop_column("selection_comment")
        batch_op.drop_column("selection_basis")
        batch_op.drop_column("selection_id")
    with op.batch_alter_table("selections", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_selections_approval_id_approvals"), type_="foreignkey")
        batch_op.drop_column("approval_id")
        batch_op.drop_column("justification")
