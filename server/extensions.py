"""Extension singletons, bound to an app by init_extensions. Imports nothing from the app."""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

import orjson
from flask import Flask, has_request_context, request
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


def column_json(value: Any) -> str:
    """The text a JSON column stores: orjson's (the values and audit snapshots of a sync batch are written by the
    thousand, and json.dumps was a tenth of its time), json.dumps's for anything orjson refuses (an integer
    beyond 64 bits), so a value stores as it always did, only faster. Read back, both are the same value."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING),
                engine_options={"json_serializer": column_json})
migrate = Migrate()
htmx = HTMX()
compress = Compress()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
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
        cur.execute("PRAGMA busy_timeout=10000")  # a writer waits up to 10 s for the lock (BEGIN IMMEDIATE)
        # 32 MB of page cache (SQLite's default is 2 MB): after years of records the indexes an insert updates
        # (audit log, ledger, entry ids) no longer fit in 2 MB, and each batch would read them from disk again.
        cur.execute("PRAGMA cache_size=-32768")
        cur.close()


# Set for the length of a request that may write (POST, PUT, PATCH, DELETE): see _sqlite_begin.
WRITE_REQUEST: ContextVar[bool] = ContextVar("write_request", default=False)


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """Explicit BEGIN on SQLite; IMMEDIATE when asked (`sqlite_begin`) and for every transaction of a request that
    may write (WRITE_REQUEST). A transaction that reads, then writes, cannot wait for the write lock in SQLite: if
    another writer committed since its first read, the upgrade fails at once ("database is locked", whatever
    busy_timeout says). Taking the lock up front (BEGIN IMMEDIATE) makes it wait, up to busy_timeout, instead:
    form posts, sign-ins and sync batches queue for the single writer rather than fail under load."""
    if conn.dialect.name == "sqlite":
        mode = conn.get_execution_options().get("sqlite_begin") or ("IMMEDIATE" if WRITE_REQUEST.get() else "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())


def write_aside(statement: Any) -> None:
    """One small write that a page view makes while reading (a "last seen" time). In a request that only reads
    (GET), it runs on a connection and transaction of its own, taken with BEGIN IMMEDIATE on SQLite, and is
    committed at once: the request's read transaction could not take SQLite's write lock if another writer
    committed since it began, and its loaded objects are left alone. Anywhere else (a writing request, whose
    transaction already holds the lock; a script; a test) it joins the session's transaction."""
    if has_request_context() and not WRITE_REQUEST.get():
        with db.engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
            conn.execute(statement)
    else:
        db.session.execute(statement.execution_options(synchronize_session=False))


def init_extensions(app: Flask) -> None:
    from pathlib import Path

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    htmx.init_app(app)
    compress.init_app(app)

    @app.before_request
    def _mark_write_request() -> None:
        WRITE_REQUEST.set(request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"))

    @app.teardown_request
    def _unmark_write_request(_exc: BaseException | None) -> None:
        WRITE_REQUEST.set(False)
    # Import models so metadata is complete for migrations and create_all.
    from . import models  # noqa: F401
