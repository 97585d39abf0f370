"""recorded self-inspections (issue 18): an inspection per 年度 and unit (or the whole
body) with its sign-off, each item's answer with a snapshot of the item as it was asked
(so a retired item stays in past inspections), and evidence files per answer; at most
one inspection not yet approved per (年度, unit | whole body), held by a partial unique
index on a never-NULL scope key (0: the whole body)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('inspections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('scope_key', sa.Integer(), nullable=False),
    sa.Column('edition', sa.Integer(), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('responsible_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'checked', 'approved', 'superseded', name='inspectionstatus', native_enum=False, length=20), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.Column('editor_ids', sa.JSON(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('inspector_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('checker_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(), nullable=True),
    sa.Column('approver_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('superseded_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['approver_id'], ['users.id'], name=op.f('fk_inspections_approver_id_users')),
    sa.ForeignKeyConstraint(['checker_id'], ['users.id'], name=op.f('fk_inspections_checker_id_users')),
    sa.ForeignKeyConstraint(['corrects_id'], ['inspections.id'], name=op.f('fk_inspections_corrects_id_inspections')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_inspections_created_by_id_users')),
    sa.ForeignKeyConstraint(['inspector_id'], ['users.id'], name=op.f('fk_inspections_inspector_id_users')),
    sa.ForeignKeyConstraint(['responsible_id'], ['users.id'], name=op.f('fk_inspections_responsible_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'], name=op.f('fk_inspections_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspections'))
    )
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspections_responsible_id'), ['responsible_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspections_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspections_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index('ix_inspections_year_scope', ['fiscal_year', 'scope_key'], unique=False)
        batch_op.create_index('uq_inspections_one_open', ['fiscal_year', 'scope_key'], unique=True, sqlite_where=sa.text("status IN ('draft', 'submitted', 'checked')"), postgresql_where=sa.text("status IN ('draft', 'submitted', 'checked')"))

    op.create_table('inspection_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('text_ja', sa.Text(), nullable=False),
    sa.Column('text_en', sa.Text(), nullable=True),
    sa.Column('area', sa.String(length=20), nullable=False),
    sa.Column('area_name', sa.String(length=100), nullable=True),
    sa.Column('frequency', sa.String(length=100), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.Column('general_practice', sa.Boolean(), nullable=False),
    sa.Column('result', sa.Enum('conforming', 'partial', 'nonconforming', 'not_applicable', name='answerresult', native_enum=False, length=20), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('measure', sa.Text(), nullable=True),
    sa.Column('measure_owner_id', sa.Integer(), nullable=True),
    sa.Column('measure_due_on', sa.Date(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_inspection_answers_answered_by_id_users')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_inspection_answers_inspection_id_inspections')),
    sa.ForeignKeyConstraint(['measure_owner_id'], ['users.id'], name=op.f('fk_inspection_answers_measure_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_answers')),
    sa.UniqueConstraint('inspection_id', 'code', name=op.f('uq_inspection_answers_inspection_id'))
    )
    with op.batch_alter_table('inspection_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_answers_inspection_id'), ['inspection_id'], unique=False)

    op.create_table('inspection_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['inspection_answers.id'], name=op.f('fk_inspection_evidence_answer_id_inspection_answers')),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_inspection_evidence_file_id_stored_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_evidence'))
    )
    with op.batch_alter_table('inspection_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_evidence_answer_id'), ['answer_id'], unique=False)



def downgrade():
    with op.batch_alter_table('inspection_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_evidence_answer_id'))

    op.drop_table('inspection_evidence')
    with op.batch_alter_table('inspection_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_answers_inspection_id'))

    op.drop_table('inspection_answers')
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_index('uq_inspections_one_open', sqlite_where=sa.text("status IN ('draft', 'submitted', 'checked')"), postgresql_where=sa.text("status IN ('draft', 'submitted', 'checked')"))
        batch_op.drop_index('ix_inspections_year_scope')
        batch_op.drop_index(batch_op.f('ix_inspections_unit_id'))
        batch_op.drop_index(batch_op.f('ix_inspections_status'))
        batch_op.drop_index(batch_op.f('ix_inspections_responsible_id'))

    op.drop_table('inspections')
