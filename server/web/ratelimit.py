"""Rate limits (Flask-Limiter), counted in the app's own database.

Why the database and not Redis: the app already runs on one database (SQLite or PostgreSQL) that every gunicorn
worker shares, so a count kept there holds across workers and restarts with no other service to run, secure and
watch, on the ward's server or in CI. An in-memory count would be per worker (three workers: three times the
limit). The limits here are small (a parent's 20 posts an hour), so one UPDATE per counted request costs nothing.
A deployment that has a Redis may set RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379 instead; nothing else changes.

Counters are a fixed window: one row per key, reset when its window has passed; rows whose window ended over an hour
ago are deleted whenever a new key is first counted, so the table holds only the recent keys. Each hit is its own
short transaction on a connection of its own (BEGIN IMMEDIATE on SQLite), committed at once, so a refused post is
still counted and the request's own transaction is left alone. Limits are checked before the view runs (the
decorator); the parents' pages touch no table before that (auth/session.py reads no staff session under /p/). Should
a writing request on SQLite already hold the writer's lock there, the hit joins its transaction instead of waiting
for itself (see DatabaseStorage._writing).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, has_request_context
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.storage import Storage
from sqlalchemy import Float, Integer, String, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import WRITE_REQUEST, db

DATABASE_SCHEME = "app-database"
KEY_MAX = 255
STALE_AFTER = 3600  # seconds: a window this long over is deleted when a new key is counted

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)


class RateLimitCounter(db.Model):  # type: ignore[name-defined]
    """One fixed-window count: how many hits `key` had since its window began, and when the window ends."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(KEY_MAX), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # seconds since the epoch (time.time())


class DatabaseStorage(Storage):
    """A `limits` storage on the app's database (fixed window only). Used inside an app context."""

    STORAGE_SCHEME = [DATABASE_SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    @staticmethod
    def _key(key: str) -> str:
        return key[:KEY_MAX]

    @staticmethod
    @contextmanager
    def _writing() -> Iterator[Connection]:
        """A connection and transaction of their own, committed at once; but on SQLite, when this request's session
        already holds the single writer's lock (a writing request that read first), its own transaction: waiting
        for a lock the request itself holds would only time out."""
        if (db.engine.dialect.name == "sqlite" and has_request_context() and WRITE_REQUEST.get()
                and db.session().in_transaction()):
            with db.session.begin_nested():
                yield db.session.connection()
            return
        with db.engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
            yield conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        key, table = self._key(key), RateLimitCounter.__table__
        for _ in range(3):  # a concurrent first hit (PostgreSQL) makes the INSERT fail: count again
            now = time.time()
            try:
                with self._writing() as conn:
                    row = conn.execute(select(table.c.count, table.c.expires_at).where(table.c.key == key)
                                       .with_for_update()).first()
                    if row is None:
                        # A new key: the windows long over (other links, other hours) are swept out first.
                        conn.execute(delete(table).where(table.c.expires_at < now - STALE_AFTER))
                        conn.execute(insert(table).values(key=key, count=amount, expires_at=now + expiry))
                        return amount
                    if row[1] <= now:
                        conn.execute(update(table).where(table.c.key == key).values(
                            count=amount, expires_at=now + expiry))
                        return amount
                    conn.execute(update(table).where(table.c.key == key).values(count=table.c.count + amount))
                    return int(row[0]) + amount
            except IntegrityError:
                continue
        raise RuntimeError("rate limit counter kept changing")  # pragma: no cover

    def _row(self, key: str) -> Any:
        table = RateLimitCounter.__table__
        with db.engine.connect() as conn:
            return conn.execute(select(table.c.count, table.c.expires_at).where(
                table.c.key == self._key(key), table.c.expires_at > time.time())).first()

    def get(self, key: str) -> int:
        row = self._row(key)
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return float(row[1]) if row else time.time()

    def check(self) -> bool:
        try:
            with db.engine.connect() as conn:
                conn.execute(select(1))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with db.engine.begin() as conn:
            return conn.execute(delete(RateLimitCounter.__table__)).rowcount

    def clear(self, key: str) -> None:
        with db.engine.begin() as conn:
            conn.execute(delete(RateLimitCounter.__table__).where(RateLimitCounter.__table__.c.key == self._key(key)))


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", f"{DATABASE_SCHEME}://")
    app.config.setdefault("RATELIMIT_STRATEGY", "fixed-window")
    limiter.init_app(app)
