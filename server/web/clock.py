"""Hospital-local time: the ward works in local time, the database in UTC."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app

from .types import utcnow


def hospital_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["HOSPITAL_TIMEZONE"])


def local_now() -> datetime:
    return utcnow().astimezone(hospital_tz())


def local_today() -> date:
    return local_now().date()


def to_local(value: datetime | None) -> datetime | None:
    return value.astimezone(hospital_tz()) if value is not None else None


def local_to_utc(day: date, at: time) -> datetime:
    """A wall-clock time on a hospital date, as an aware datetime (DST resolved by zoneinfo, fold=0)."""
    return datetime.combine(day, at, tzinfo=hospital_tz())
