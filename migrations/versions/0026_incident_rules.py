"""the rules of an incident (issue 19): when a late contractor report was
recorded against the contract (once), and the notes a closed contract incident
leaves for that contract's next verification

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('late_report_at', sa.DateTime(), nullable=True))
    op.create_table(
        'contract_verification_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('contract_id', sa.Integer(), sa.ForeignKey('contracts.id', name=op.f('fk_contract_verification_notes_contract_id_contracts')), nullable=False),
        sa.Column('incident_id', sa.Integer(), sa.ForeignKey('incidents.id', name=op.f('fk_contract_verification_notes_incident_id_incidents')), nullable=True),
        sa.Column('incident_number', sa.String(20), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('done_at', sa.DateTime(), nullable=True),
        sa.Column('verification_id', sa.Integer(), sa.ForeignKey('verifications.id', name=op.f('fk_contract_verification_notes_verification_id_verifications')),
                  nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_verification_notes')),
    )
    op.create_index(op.f('ix_contract_verification_notes_contract_id'), 'contract_verification_notes', ['contract_id'])


def downgrade():
    op.drop_index('ix_contract_verification_notes_contract_id', table_name='contract_verification_notes')
    op.drop_table('contract_verification_notes')
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('late_report_at')
