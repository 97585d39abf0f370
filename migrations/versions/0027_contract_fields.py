"""the fields offices keep on a contract (issue 20): the amount (契約金額, tax
included, yen), the contracting method, the signing date the officer enters
(締結日) beside the moment the signing was recorded, the person responsible at
the contractor and the budget item.  Contracts signed before this revision get
both from the audit trail's signing entry (its JST date), when there is one.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03
"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

JST = dt.timedelta(hours=9)


def upgrade():
    with op.batch_alter_table('contracts') as batch:
        batch.add_column(sa.Column('amount', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('method', sa.String(20), nullable=True))
        batch.add_column(sa.Column('signed_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('signed_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('contractor_manager', sa.String(100), nullable=True))
        batch.add_column(sa.Column('contractor_manager_contact', sa.String(200), nullable=True))
        batch.add_column(sa.Column('budget_item', sa.String(200), nullable=True))
    # The signing of contracts signed already: the audit trail's first "sign" entry of each.
    connection = op.get_bind()
    signed = connection.execute(sa.text(
        "SELECT object_id, MIN(at) FROM audit_entries WHERE object_type = 'contracts' AND action = 'sign' "
        "GROUP BY object_id")).all()
    contracts = sa.table('contracts', sa.column('id', sa.Integer()), sa.column('signed_on', sa.Date()),
                         sa.column('signed_at', sa.DateTime()))
    for object_id, at in signed:
        if at is None or not str(object_id).isdigit():
            continue
        if isinstance(at, str):  # SQLite hands the text back
            at = dt.datetime.fromisoformat(at)
        connection.execute(contracts.update().where(contracts.c.id == int(object_id))
                           .values(signed_at=at, signed_on=(at + JST).date()))


def downgrade():
    with op.batch_alter_table('contracts') as batch:
        for name in ('budget_item', 'contractor_manager_contact', 'contractor_manager', 'signed_at', 'signed_on',
                     'method', 'amount'):
            batch.drop_column(name)
