"""Column types shared by every feature."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

# What the column type hands back stays inside this span. Input is bounded (from 2000 to a few minutes ahead of
# the server), but rows stored before those checks may hold year 1 or 9999, where converting to local time or
# adding a few hours overflows Python's datetime and would break every page that shows them. Such a value is
# read as the nearest edge, so it still sorts first or last, and reads as plainly wrong, never as plausible.
READ_FLOOR = datetime(1900, 1, 1)
READ_CEILING = datetime(2999, 12, 31)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC on every backend; always hands back timezone-aware UTC datetimes (within READ_FLOOR and
    READ_CEILING)."""

    impl = DateTime
    cache_ok = True

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
