"""Extension singletons, bound to an app by init_extensions. Imports nothing from the app."""

from __future__ import annotations

from flask import Flask
from flask_compress import Compress
from flask_htmx import HTMX
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
migrate = Migrate()
htmx = HTMX()
compress = Compress()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
    """SQLite: WAL for concurrent readers, FULL sync for durability, enforced foreign keys.

    pysqlite's own transaction handling breaks SAVEPOINTs (the sync engine needs one per entry inside one
    batch transaction), so it is switched off and SQLAlchemy emits BEGIN itself (see _sqlite_begin).
    """
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
    """Explicit BEGIN on SQLite; IMMEDIATE when asked (`sqlite_begin`), so a batch that reads then writes
    waits for the write lock up front instead of failing on a lock upgrade under concurrency."""
    if conn.dialect.name == "sqlite":
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())


def init_extensions(app: Flask) -> None:
    from pathlib import Path

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    htmx.init_app(app)
    compress.init_app(app)
    # Import models so metadata is complete for migrations and create_all.
    from . import models  # noqa: F401
