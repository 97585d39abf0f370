"""indexes for one user's due work (issue 21): the inbox and its header count
ask for the contracts a user is the officer of, and the open findings a user
owns, by due date — each a range of an (owner, due date, status) index that
also answers the counts alone; an administrator's certificates expired or
expiring are counted from a (valid until, vendor) index, and the selections
whose justification awaits approval are found from their approval

Revision ID: 0031
Revises: 0029
Create Date: 2026-12-03
"""
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_contracts_officer_verification_due_on", "contracts",
                    ["officer_id", "verification_due_on", "status"])
    op.create_index("ix_findings_owner_due_on_status", "findings", ["owner_id", "due_on", "status"])
    op.create_index("ix_certifications_valid_until_vendor", "certifications", ["valid_until", "vendor_id"])
    op.create_index("ix_selections_approval_id", "selections", ["approval_id"])


def downgrade():
    op.drop_index("ix_selections_approval_id", "selections")
    op.drop_index("ix_certifications_valid_until_vendor", "certifications")
    op.drop_index("ix_findings_owner_due_on_status", "findings")
    op.drop_index("ix_contracts_officer_verification_due_on", "contracts")
