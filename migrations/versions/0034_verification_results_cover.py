"""an index that holds what the verification export reads of each result
(issue 21): its clause and result, in the order of the results, per
verification; the export's sub-queries read it alone instead of each
result's row (whose comment may be long)

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-03
"""
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_verification_results_verification_id_id_cover", "verification_results",
                    ["verification_id", "id", "clause_id", "result"])


def downgrade():
    op.drop_index("ix_verification_results_verification_id_id_cover", "verification_results")
