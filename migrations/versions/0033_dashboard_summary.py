"""the dashboard of one unit counts its findings by status from an index
alone (issue 21): findings(contract_id, status, due_on), replacing
the index on contract_id alone

Revision ID: 0033
Revises: 0029
Create Date: 2026-12-03
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0033'
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade():
    # A unit's findings are those of its contracts: the dashboard walks the unit's
    # contracts and, per contract, this index (status and due date included, so the
    # table itself is not read).  It serves every lookup by contract_id as well, so it
    # replaces the index on contract_id alone (which the planner would otherwise prefer
    # until the statistics are refreshed).
    op.create_index('ix_findings_contract_status_due_on', 'findings', ['contract_id', 'status', 'due_on'])
    op.drop_index('ix_findings_contract_id', 'findings')


def downgrade():
    op.create_index('ix_findings_contract_id', 'findings', ['contract_id'])
    op.drop_index('ix_findings_contract_status_due_on', 'findings')
