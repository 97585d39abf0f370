"""contract amendments (変更契約, issue 17): the one way the protected terms of
a signed or in-force contract change; one open (draft or pending) amendment
per contract, held by a partial unique index (SQLite and PostgreSQL)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contract_amendments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('amended_on', sa.Date(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'pending', 'approved', 'rejected', 'withdrawn', name='amendmentstatus', native_enum=False, length=20), nullable=False),
    sa.Column('approver_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['approver_id'], ['users.id'], name=op.f('fk_contract_amendments_approver_id_users')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_contract_amendments_author_id_users')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_amendments_contract_id_contracts')),
    sa.ForeignKeyConstraint(['document_id'], ['stored_files.id'], name=op.f('fk_contract_amendments_document_id_stored_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_amendments')),
    sa.UniqueConstraint('contract_id', 'number', name=op.f('uq_contract_amendments_contract_id'))
    )
    with op.batch_alter_table('contract_amendments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_amendments_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index('uq_contract_amendments_open', ['contract_id'], unique=True, sqlite_where=sa.text("status IN ('draft', 'pending')"), postgresql_where=sa.text("status IN ('draft', 'pending')"))



def downgrade():
    with op.batch_alter_table('contract_amendments', schema=None) as batch_op:
        batch_op.drop_index('uq_contract_amendments_open', sqlite_where=sa.text("status IN ('draft', 'pending')"), postgresql_where=sa.text("status IN ('draft', 'pending')"))
        batch_op.drop_index(batch_op.f('ix_contract_amendments_contract_id'))

    op.drop_table('contract_amendments')
