"""classification follows the data, clauses for every contract: the lowest
level per kind of data (personal → 3C, My Number → 3B), the clause
catalogue's base set and clauses mandatory by contract kind or by access to
systems, and the contract's "access to systems" flag (issue 17)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BASE = ("C01", "C06", "C07", "C13")
KINDS = {"C16": "development", "C19": "cloud"}
ACCESS = ("C04",)
MINIMUMS = (("personal", "C3C", "総務省ガイドライン R6.10（令和6年10月改定）", False),
            ("my_number", "C3B", "特定個人情報（マイナンバー）の取扱いの実務", True))

# contracts.rules.has_gap_expression, as plain SQL (a migration does not import the app).
GAP = """
UPDATE contracts SET has_gap = CASE WHEN EXISTS (
    SELECT 1 FROM clauses
    WHERE clauses.active
      AND (clauses.mandatory_base
           OR EXISTS (SELECT 1 FROM clause_levels
                      WHERE clause_levels.clause_id = clauses.id AND clause_levels.level_id = contracts.classification_id)
           OR (clauses.mandatory_if_personal AND contracts.handles_personal_info)
           OR (clauses.mandatory_if_access AND contracts.system_access)
           OR (',' || COALESCE(clauses.mandatory_kinds, '') || ',') LIKE ('%,' || contracts.kind || ',%'))
      AND NOT EXISTS (SELECT 1 FROM contract_clauses
                      WHERE contract_clauses.contract_id = contracts.id AND contract_clauses.clause_id = clauses.id
                        AND contract_clauses.state = 'included')
) THEN TRUE ELSE FALSE END
"""


def upgrade():
    op.create_table(
        "data_minimums",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("level_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("general_practice", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["level_id"], ["classification_levels.id"],
                                name=op.f("fk_data_minimums_level_id_classification_levels")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_minimums")),
        sa.UniqueConstraint("kind", name=op.f("uq_data_minimums_kind")),
    )
    with op.batch_alter_table("clauses") as batch:
        batch.add_column(sa.Column("mandatory_base", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("mandatory_kinds", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("mandatory_if_access", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("contracts") as batch:
        batch.add_column(sa.Column("system_access", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("cloud_information") as batch:
        batch.add_column(sa.Column("personal", sa.Boolean(), nullable=False, server_default=sa.false()))

    bind = op.get_bind()
    levels = dict(bind.execute(sa.text("SELECT code, id FROM classification_levels")).all())
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    minimums = sa.table("data_minimums", sa.column("kind"), sa.column("level_id"), sa.column("source"),
                        sa.column("general_practice"), sa.column("created_at"), sa.column("updated_at"),
                        sa.column("version"))
    rows = [{"kind": kind, "level_id": levels[code], "source": source, "general_practice": gp,
             "created_at": now, "updated_at": now, "version": 1}
            for kind, code, source, gp in MINIMUMS if code in levels]
    if rows:
        op.bulk_insert(minimums, rows)
    clauses = sa.table("clauses", sa.column("code"), sa.column("mandatory_base"), sa.column("mandatory_kinds"),
                       sa.column("mandatory_if_access"))
    op.execute(clauses.update().where(clauses.c.code.in_(BASE)).values(mandatory_base=True))
    for code, kinds in KINDS.items():
        op.execute(clauses.update().where(clauses.c.code == code).values(mandatory_kinds=kinds))
    op.execute(clauses.update().where(clauses.c.code.in_(ACCESS)).values(mandatory_if_access=True))
    op.execute(GAP)


# The flag as it was before this revision (0008's rule: by level and personal data only).
OLD_GAP = """
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


def downgrade():
    with op.batch_alter_table("cloud_information") as batch:
        batch.drop_column("personal")
    with op.batch_alter_table("contracts") as batch:
        batch.drop_column("system_access")
    with op.batch_alter_table("clauses") as batch:
        batch.drop_column("mandatory_if_access")
        batch.drop_column("mandatory_kinds")
        batch.drop_column("mandatory_base")
    op.drop_table("data_minimums")
    op.execute(OLD_GAP)
