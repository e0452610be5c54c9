"""Column types shared by every feature."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC on every backend; always hands back timezone-aware UTC datetimes."""

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
        return value.replace(tzinfo=UTC)


_FIXED_NOW: datetime | None = None  # tests only (config TEST_NOW, refused outside APP_ENV=test)


def set_fixed_now(value: datetime | None) -> None:
    """Stop the app's clock at `value` (browser tests of the ward at a given hour), or let it run (None)."""
    global _FIXED_NOW
    _FIXED_NOW = value.astimezone(UTC) if value is not None else None


def utcnow() -> datetime:
    return _FIXED_NOW if _FIXED_NOW is not None else datetime.now(UTC)
