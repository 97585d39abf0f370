"""audit plans and findings (issue 18, policy §7): a 年度's audit plan with its
scope (units, registers, chosen records), auditors, period and method; its
findings, numbered within the plan (unique, so two saved at once cannot share a
number), with the audited party's response and the auditor's closure

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('method', sa.String(length=200), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('registers', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'in_progress', 'reported', name='planstatus', native_enum=False, length=20), nullable=False),
    sa.Column('independence_note', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_audit_plans_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_plans'))
    )
    with op.batch_alter_table('audit_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_plans_fiscal_year'), ['fiscal_year'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_plans_status'), ['status'], unique=False)

    op.create_table('audit_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('severity', sa.Enum('serious', 'moderate', 'minor', 'observation', name='severity', native_enum=False, length=20), nullable=False),
    sa.Column('criterion_code', sa.String(length=20), nullable=True),
    sa.Column('criterion_text', sa.String(length=200), nullable=True),
    sa.Column('condition', sa.Text(), nullable=False),
    sa.Column('recommendation', sa.Text(), nullable=True),
    sa.Column('record_kind', sa.String(length=40), nullable=True),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('responded_by_id', sa.Integer(), nullable=True),
    sa.Column('responded_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.Enum('open', 'responded', 'closed', name='findingstatus', native_enum=False, length=20), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closure_note', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_audit_findings_closed_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_audit_findings_created_by_id_users')),
    sa.ForeignKeyConstraint(['plan_id'], ['audit_plans.id'], name=op.f('fk_audit_findings_plan_id_audit_plans')),
    sa.ForeignKeyConstraint(['responded_by_id'], ['users.id'], name=op.f('fk_audit_findings_responded_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'], name=op.f('fk_audit_findings_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_findings')),
    sa.UniqueConstraint('plan_id', 'number', name=op.f('uq_audit_findings_plan_id'))
    )
    with op.batch_alter_table('audit_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_findings_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_findings_status'), ['status'], unique=False)
        batch_op.create_index('ix_audit_findings_status_severity', ['status', 'severity'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_findings_unit_id'), ['unit_id'], unique=False)

    op.create_table('audit_plan_auditors',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['audit_plans.id'], name=op.f('fk_audit_plan_auditors_plan_id_audit_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_plan_auditors_user_id_users')),
    sa.PrimaryKeyConstraint('plan_id', 'user_id', name=op.f('pk_audit_plan_auditors'))
    )
    with op.batch_alter_table('audit_plan_auditors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_plan_auditors_user_id'), ['user_id'], unique=False)

    op.create_table('audit_plan_units',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['audit_plans.id'], name=op.f('fk_audit_plan_units_plan_id_audit_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'], name=op.f('fk_audit_plan_units_unit_id_org_units')),
    sa.PrimaryKeyConstraint('plan_id', 'unit_id', name=op.f('pk_audit_plan_units'))
    )
    with op.batch_alter_table('audit_plan_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_plan_units_unit_id'), ['unit_id'], unique=False)

    op.create_table('audit_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['audit_plans.id'], name=op.f('fk_audit_targets_plan_id_audit_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_targets')),
    sa.UniqueConstraint('plan_id', 'kind', 'record_id', name=op.f('uq_audit_targets_plan_id'))
    )
    with op.batch_alter_table('audit_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_targets_plan_id'), ['plan_id'], unique=False)



def downgrade():
    with op.batch_alter_table('audit_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_targets_plan_id'))

    op.drop_table('audit_targets')
    with op.batch_alter_table('audit_plan_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_plan_units_unit_id'))

    op.drop_table('audit_plan_units')
    with op.batch_alter_table('audit_plan_auditors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_plan_auditors_user_id'))

    op.drop_table('audit_plan_auditors')
    with op.batch_alter_table('audit_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_findings_unit_id'))
        batch_op.drop_index('ix_audit_findings_status_severity')
        batch_op.drop_index(batch_op.f('ix_audit_findings_status'))
        batch_op.drop_index(batch_op.f('ix_audit_findings_plan_id'))

    op.drop_table('audit_findings')
    with op.batch_alter_table('audit_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_plans_status'))
        batch_op.drop_index(batch_op.f('ix_audit_plans_fiscal_year'))

    op.drop_table('audit_plans')
