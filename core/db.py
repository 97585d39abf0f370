"""Database handle, declarative base and per-connection SQLite settings."""
from __future__ import annotations

import datetime as dt
import sqlite3

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



def savepoint():
    """``db.session.begin_nested()`` that nests on SQLite too.  The sqlite3
    module opens a transaction only before a write, so a SAVEPOINT issued
    first would open the transaction itself and its RELEASE would commit
    it: open the real transaction first (reads before this point stay
    outside it, so other writers are not held up)."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        driver = connection.connection.dbapi_connection
        if not driver.in_transaction:
            connection.exec_driver_sql("BEGIN")
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
