"""performance at scale: the stored gap flag of contracts, indexes for the
hot filters (contracts by unit and status, latest verification of a
contract, overdue measures, the audit trail's user filter)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# contracts.rules.has_gap_expression, as plain SQL (a migration does not import the app).
GAP = """
UPDATE contracts SET has_gap = CASE WHEN EXISTS (
    SELECT 1 FROM clauses
    WHERE clauses.active
      AND (EXISTS (SELECT 1 FROM clause_levels
                   WHERE clause_levels.clause_id = clauses.id AND clause_levels.level_id = contracts.classification_id)
           OR (clauses.mandatory_if_personal AND contracts.handles_personal_info))
      AND NOT EXISTS (SELECT 1 FROM contract_clauses
                      WHERE contract_clauses.contract_id = contracts.id AND contract_clauses.clause_id = clauses.id
                        AND contract_clauses.state = 'included')
) THEN TRUE ELSE FALSE END
"""


def upgrade():
    op.add_column("contracts", sa.Column("has_gap", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(GAP)
    op.create_index("ix_contracts_has_gap", "contracts", ["has_gap"])
    op.create_index("ix_contracts_unit_status_number", "contracts", ["unit_id", "status", "number"])
    op.create_index("ix_verifications_contract_status_performed", "verifications",
                    ["contract_id", "status", "performed_on"])
    op.create_index("ix_findings_due_on_status", "findings", ["due_on", "status"])
    op.create_index("ix_audit_entries_username", "audit_entries", ["username"])


def downgrade():
    op.drop_index("ix_audit_entries_username", "audit_entries")
    op.drop_index("ix_findings_due_on_status", "findings")
    op.drop_index("ix_verifications_contract_status_performed", "verifications")
    op.drop_index("ix_contracts_unit_status_number", "contracts")
    op.drop_index("ix_contracts_has_gap", "contracts")
    with op.batch_alter_table("contracts") as batch:
        batch.drop_column("has_gap")
