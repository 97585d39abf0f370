"""subcontractor approval is four-eyes (issue 17, clause C08): a subcontractor
is requested with its approval document, decided by another person, linked
to a vendor when it has a record, and ended instead of deleted.  Existing
rows were typed in as approved: they become 承認 and keep their approval
date and approver (status's server default 'approved').

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

STATUSES = ("pending", "approved", "rejected", "ended", "withdrawn")


def upgrade():
    with op.batch_alter_table("subcontractors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.Enum(*STATUSES, name="subcontractorstatus", native_enum=False,
                                                        length=20), nullable=False, server_default="approved"))
        batch_op.add_column(sa.Column("vendor_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("document_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("requested_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("ended_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("end_reason", sa.String(length=500), nullable=True))
        batch_op.create_index(batch_op.f("ix_subcontractors_vendor_id"), ["vendor_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_subcontractors_vendor_id_vendors"), "vendors", ["vendor_id"], ["id"])
        batch_op.create_foreign_key(batch_op.f("fk_subcontractors_document_id_stored_files"), "stored_files",
                                    ["document_id"], ["id"])
        batch_op.create_foreign_key(batch_op.f("fk_subcontractors_requested_by_id_users"), "users",
                                    ["requested_by_id"], ["id"])


def downgrade():
    with op.batch_alter_table("subcontractors", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_subcontractors_requested_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_subcontractors_document_id_stored_files"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_subcontractors_vendor_id_vendors"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_subcontractors_vendor_id"))
        for column in ("end_reason", "ended_on", "requested_by_id", "document_id", "vendor_id", "status"):
            batch_op.drop_column(column)
