"""the stored date each contract's next verification is due, with the
indexes the dashboard's due counts and the verification schedule use; the
dashboard's other counts (contracts, overdue measures) read covering indexes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The contracts, their levels' default cycle and their latest submitted
# verification, as plain SQL (a migration does not read the app's models).
ROWS = """
SELECT contracts.id, contracts.verification_cycle, classification_levels.verification_cycle,
       contracts.start_on, contracts.end_on, last.done
FROM contracts
LEFT JOIN classification_levels ON classification_levels.id = contracts.classification_id
LEFT JOIN (SELECT contract_id, MAX(performed_on) AS done FROM verifications
           WHERE status = 'submitted' GROUP BY contract_id) AS last ON last.contract_id = contracts.id
WHERE contracts.status IN ('signed', 'in_force')
  AND contracts.start_on IS NOT NULL AND contracts.end_on IS NOT NULL
"""


def _date(value):
    import datetime as dt
    return value if isinstance(value, dt.date) or value is None else dt.date.fromisoformat(value)


def upgrade():
    # The rule itself is a pure function of dates: the same one the app uses.
    from contracts.schedule import Cycle, next_due

    op.add_column("contracts", sa.Column("verification_due_on", sa.Date(), nullable=True))
    connection = op.get_bind()
    changes = []
    for cid, own, default, start_on, end_on, done in connection.execute(sa.text(ROWS)):
        cycle = Cycle.parse(own or "") or Cycle.parse(default or "") or Cycle.YEARLY
        changes.append({"cid": cid, "due": next_due(cycle, _date(start_on), _date(end_on), _date(done))})
    if changes:
        connection.execute(sa.text("UPDATE contracts SET verification_due_on = :due WHERE id = :cid")
                           .bindparams(sa.bindparam("due", type_=sa.Date())), changes)
    op.create_index("ix_contracts_verification_due_on", "contracts", ["verification_due_on"])
    op.create_index("ix_contracts_unit_verification_due_on", "contracts", ["unit_id", "verification_due_on"])
    op.create_index("ix_contracts_has_gap_status_unit", "contracts", ["has_gap", "status", "unit_id"])
    op.drop_index("ix_contracts_has_gap", "contracts")
    op.create_index("ix_contracts_end_on_status_unit", "contracts", ["end_on", "status", "unit_id"])
    op.drop_index("ix_contracts_end_on", "contracts")
    op.create_index("ix_findings_status_due_on", "findings", ["status", "due_on"])
    op.drop_index("ix_findings_due_on_status", "findings")


def downgrade():
    op.create_index("ix_findings_due_on_status", "findings", ["due_on", "status"])
    op.drop_index("ix_findings_status_due_on", "findings")
    op.create_index("ix_contracts_end_on", "contracts", ["end_on"])
    op.drop_index("ix_contracts_end_on_status_unit", "contracts")
    op.create_index("ix_contracts_has_gap", "contracts", ["has_gap"])
    op.drop_index("ix_contracts_has_gap_status_unit", "contracts")
    op.drop_index("ix_contracts_unit_verification_due_on", "contracts")
    op.drop_index("ix_contracts_verification_due_on", "contracts")
    with op.batch_alter_table("contracts") as batch:
        batch.drop_column("verification_due_on")
