"""Japanese order and search (issue 20): a reading (よみ) for cloud services
and social-media accounts, and a folded search key (core.textkey) on
vendors, contracts, cloud services and social-media accounts, filled for the
rows already there

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

from core.textkey import search_key

# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

# table → the columns its key folds, in the order of the model's __search_parts__
PARTS = {
    'vendors': ('name', 'kana', 'corporate_number'),
    'contracts': ('number', 'title'),
    'cloud_services': ('name', 'reading', 'provider_name'),
    'social_accounts': ('name', 'reading', 'handle'),
}


def upgrade():
    for table in ('cloud_services', 'social_accounts'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('reading', sa.String(200), nullable=True))
    for table in PARTS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('search_key', sa.String(1000), nullable=True))
    connection = op.get_bind()
    for table, parts in PARTS.items():
        rows = sa.table(table, sa.column('id'), sa.column('search_key'), *[sa.column(part) for part in parts])
        keys = [{'row_id': row.id, 'key': search_key(*row[1:])[:1000]}
                for row in connection.execute(sa.select(rows.c.id, *[rows.c[part] for part in parts]))]
        if keys:
            connection.execute(rows.update().where(rows.c.id == sa.bindparam('row_id'))
                               .values(search_key=sa.bindparam('key')), keys)


def downgrade():
    for table in PARTS:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('search_key')
    for table in ('cloud_services', 'social_accounts'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('reading')
