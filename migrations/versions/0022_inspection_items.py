"""self-inspection item catalogue (issue 18): the body's own items and the
retirement of built-in ones (core.inspection_items.InspectionItem); the built-in
items themselves come from the domains through the registry, not from this table

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('inspection_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.Column('area', sa.String(length=10), nullable=False),
    sa.Column('area_name_ja', sa.String(length=100), nullable=True),
    sa.Column('area_name_en', sa.String(length=100), nullable=True),
    sa.Column('text_ja', sa.String(length=300), nullable=False),
    sa.Column('text_en', sa.String(length=300), nullable=True),
    sa.Column('frequency_ja', sa.String(length=50), nullable=False),
    sa.Column('frequency_en', sa.String(length=50), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('source_kind', sa.String(length=20), nullable=False),
    sa.Column('general_practice', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.Column('retired_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_inspection_items_created_by_id_users')),
    sa.ForeignKeyConstraint(['retired_by_id'], ['users.id'], name=op.f('fk_inspection_items_retired_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_items')),
    sa.UniqueConstraint('code', name=op.f('uq_inspection_items_code'))
    )


def downgrade():
    op.drop_table('inspection_items')
