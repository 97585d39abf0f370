"""end of contract without bypasses (issue 17): a retired cloud service's
deletion/return record (cloud_deletions); the disposal method is a
choice (existing rows keep their text, with no choice recorded); a draft
can be withdrawn (contracts.status 'withdrawn': the column is a VARCHAR(20)
without a CHECK constraint, so nothing changes for it)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cloud_deletions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.Enum("certificate", "provider_report", name="deletionmethod", native_enum=False,
                                  length=20), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["cloud_services.id"], name=op.f("fk_cloud_deletions_service_id_cloud_services"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["evidence_id"], ["stored_files.id"],
                                name=op.f("fk_cloud_deletions_evidence_id_stored_files")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_cloud_deletions_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cloud_deletions")),
        sa.UniqueConstraint("service_id", name=op.f("uq_cloud_deletions_service_id")),
    )
    with op.batch_alter_table("disposals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.Enum("return", "erasure", "destruction", name="disposalmethod",
                                                      native_enum=False, length=20), nullable=True))


def downgrade():
    op.drop_table("cloud_deletions")
    with op.batch_alter_table("disposals", schema=None) as batch_op:
        batch_op.drop_column("kind")
