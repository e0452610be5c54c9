"""Column types shared by every feature."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator, TypeEngine

# What the column type hands back stays inside this span. Input is bounded (from 2000 to a few minutes ahead of
# the server), but rows stored before those checks may hold year 1 or 9999, where converting to local time or
# adding a few hours overflows Python's datetime and would break every page that shows them. Such a value is
# read as the nearest edge, so it still sorts first or last, and reads as plainly wrong, never as plausible.
READ_FLOOR = datetime(1900, 1, 1)
READ_CEILING = datetime(2999, 12, 31)


class _SQLiteDateTime(sqlite.DATETIME):
    """SQLite's DATETIME, writing the same text (`YYYY-MM-DD HH:MM:SS.ffffff`, its default storage format) with
    `datetime.isoformat`, a C call, rather than a %-format of seven attributes: a sync batch of 500 writes 2,500
    of them. `tests/web/test_types.py` holds the two equal for any datetime."""

    def bind_processor(self, dialect: Any) -> Any:
        def process(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat(" ", "microseconds")

        return process


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC on every backend; always hands back timezone-aware UTC datetimes (within READ_FLOOR and
    READ_CEILING)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return _SQLiteDateTime()
        return super().load_dialect_impl(dialect)

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return min(max(value, READ_FLOOR), READ_CEILING).replace(tzinfo=UTC)
