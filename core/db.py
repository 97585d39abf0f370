"""Database handle, declarative base and per-connection SQLite settings."""
from __future__ import annotations

import datetime as dt
import sqlite3

from flask import has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Integer, MetaData, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from core.timeutil import utcnow

# Named constraints, so Alembic can alter and drop them (SQLite batch mode
# needs the names too).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class VersionMixin:
    """Optimistic locking: SQLAlchemy adds ``WHERE version = :old`` to every
    UPDATE and raises StaleDataError when someone else saved first; forms
    carry the version they were opened with (core.forms.VersionedForm)."""

    version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.__table__.c.version}


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no branch
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


# --- SQLite transactions -------------------------------------------------------------
#
# SQLite has one writer at a time.  A transaction that reads and then writes
# must take the write lock at its start (BEGIN IMMEDIATE): begun deferred, its
# first write has to upgrade a read snapshot, and if another writer committed
# meanwhile SQLite refuses at once ("database is locked") rather than waiting
# out busy_timeout.  So:
#
# * a request that may write (any method but GET, HEAD and OPTIONS) begins
#   its transactions with BEGIN IMMEDIATE: it waits its turn (busy_timeout,
#   10 s) at its first statement, then reads and writes without being
#   refused.  The lock is held until the view commits (and, for what the
#   template loads afterwards, until the request ends): a few milliseconds
#   for a form, the password hash's time for a sign-in (scrypt, ~50 ms).
#   A long import holds it for its whole confirm (issue 15 §4 moves those
#   off the request);
# * reads (GET…), CLI commands and scripts keep the sqlite3 module's own
#   way: each read outside any transaction, and a deferred BEGIN issued
#   just before the first write, which waits its turn like IMMEDIATE since
#   no read precedes it inside the transaction.  So a page or a long
#   read-only command (audit-verify) never holds up writers, and the rare
#   write of a GET (a print's audit entry, a token's last use) still waits
#   instead of failing;
# * savepoint() below, the one place that reads then writes inside an
#   explicit transaction, opens it with BEGIN IMMEDIATE wherever it runs.
#   A command that must check then write atomically does the write first
#   (e.g. reminders claim with INSERT … ON CONFLICT DO NOTHING).
# PostgreSQL needs none of this: its writers wait on row locks.

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _writing_request() -> bool:
    return has_request_context() and request.method not in SAFE_METHODS


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.dbapi_connection
    if not driver.in_transaction and _writing_request():
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def savepoint():
    """``db.session.begin_nested()`` that nests on SQLite too.  The sqlite3
    module opens a transaction only before a write, so a SAVEPOINT issued
    first would open the transaction itself and its RELEASE would commit
    it: open the real transaction first, with the write lock (the save rule
    inside reads before it writes; see above)."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        driver = connection.connection.dbapi_connection
        if not driver.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    return db.session.begin_nested()


def distinct_values(attribute) -> list:
    """The distinct values (not NULL) of an indexed column, in order.

    SQLite answers SELECT DISTINCT by skipping through the index (its
    skip-scan, given statistics).  PostgreSQL (before 18) reads every row
    (the trail's 260,000 entries: 35–120 ms a filter), so there the index is
    skipped by hand: a recursive query, one seek per value."""
    column = attribute.property.columns[0] if hasattr(attribute, "property") else attribute
    if db.session.get_bind().dialect.name == "sqlite":
        return db.session.scalars(select(column).distinct().where(column.is_not(None)).order_by(column)).all()
    other = column.table.alias().c[column.name]
    skip = select(func.min(column).label("value")).cte("skip", recursive=True)
    skip = skip.union_all(select(select(func.min(other)).where(other > skip.c.value).scalar_subquery())
                          .where(skip.c.value.is_not(None)))
    return db.session.scalars(select(skip.c.value).where(skip.c.value.is_not(None)).order_by(skip.c.value)).all()


def lock_rows(model, ids, *, shared: bool = False) -> list:
    """Hold the rows of ``model`` with these ids until the transaction ends
    and return them as they are now (re-read, not from the session's cache).

    PostgreSQL: SELECT … FOR UPDATE (``shared``: FOR SHARE, which lets other
    sharers in but waits for an updater and then sees its commit), in id
    order so two lockers never deadlock.  SQLite has one writer at a time: the
    transaction is opened with BEGIN IMMEDIATE (as a writing request's
    already is), so what is read here stays true until the commit."""
    query = select(model).where(model.id.in_(list(ids))).order_by(model.id).execution_options(populate_existing=True)
    # Pending changes are not flushed first: the caller may be half-way
    # through building a record, and the lock comes before its writes.
    with db.session.no_autoflush:
        connection = db.session.connection()
        if connection.dialect.name == "sqlite":
            driver = connection.connection.dbapi_connection
            if not driver.in_transaction:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            query = query.with_for_update(read=shared)
        return list(db.session.scalars(query).all())
