"""The search key indexed (issue 21): on SQLite a full-text table per
register with the trigram tokenizer, kept by triggers, and a B-tree index of
the key (its covering scan serves keys too short for a trigram); on
PostgreSQL a pg_trgm GIN index of the key.  And the vendor list's order by
reading (core.textkey.reading_order) as an index

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

TABLES = ('vendors', 'contracts', 'cloud_services', 'social_accounts')


def _sqlite_index(table: str) -> list[str]:
    """An external-content FTS5 table over ``table.search_key`` (no second
    copy of the text), case-sensitive (core.textkey.key_contains), and the
    triggers that keep it equal to the rows on every insert, update and
    delete.  A later migration that rebuilds ``table`` by copy-and-drop
    (batch mode) drops the triggers with it and must create them again."""
    fts = f'{table}_fts'
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_key, content='{table}', content_rowid='id', "
        "tokenize='trigram case_sensitive 1')",
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, search_key) VALUES (new.id, new.search_key); END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_key) VALUES ('delete', old.id, old.search_key); END",
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF search_key ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_key) VALUES ('delete', old.id, old.search_key); "
        f"INSERT INTO {fts}(rowid, search_key) VALUES (new.id, new.search_key); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
        # Its vocabulary (the trigrams), and the key's last two characters: a
        # two-character search finds the trigrams it starts and the keys it ends.
        f"CREATE VIRTUAL TABLE {fts}_vocab USING fts5vocab({fts}, 'row')",
        f"CREATE INDEX ix_{table}_search_key_end ON {table} (substr(search_key, -2))",
    ]


def upgrade():
    op.create_index('ix_vendors_reading_order', 'vendors',
                    [sa.text("(coalesce(kana, '') = '')"), sa.text("nullif(kana, '')"), 'name', 'id'])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        for table in TABLES:
            op.create_index(f'ix_{table}_search_key', table, ['search_key'], postgresql_using='gin',
                            postgresql_ops={'search_key': 'gin_trgm_ops'})
        return
    for table in TABLES:
        op.create_index(f'ix_{table}_search_key', table, ['search_key'])
        for statement in _sqlite_index(table):
            op.execute(statement)


def downgrade():
    op.drop_index('ix_vendors_reading_order', table_name='vendors')
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in TABLES:
        if sqlite:
            for trigger in ('insert', 'delete', 'update'):
                op.execute(f'DROP TRIGGER {table}_fts_{trigger}')
            op.execute(f'DROP INDEX ix_{table}_search_key_end')
            op.execute(f'DROP TABLE {table}_fts_vocab')
            op.execute(f'DROP TABLE {table}_fts')
        op.drop_index(f'ix_{table}_search_key', table_name=table)
