"""a user created or reset by an administrator chooses a new password at the
next sign-in (issue 20): users.must_change_password

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    # Existing accounts keep their passwords: nobody is forced by the upgrade.
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_column('must_change_password')
