"""The app's one clock: what time it is, and what day and hour it is on the ward.

Code reads the time here only: `now()` (timezone-aware UTC, what the database stores) and `today()` (the date in
the hospital's zone, `HOSPITAL_TIMEZONE`); the ward works in local time, the database in UTC. Unit tests move
this clock with time-machine (`time_machine.move_to(...)`, which moves `datetime.now` itself); the browser tests'
servers stop it at `TEST_NOW` (config.py, refused unless APP_ENV=test), which `create_app` applies with
`set_fixed_now`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app

_FIXED_NOW: datetime | None = None  # browser tests only (TEST_NOW)


def set_fixed_now(value: datetime | None) -> None:
    """Stop the app's clock at `value` (a browser test's server at a given hour), or let it run (None)."""
    global _FIXED_NOW
    _FIXED_NOW = value.astimezone(UTC) if value is not None else None


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return _FIXED_NOW if _FIXED_NOW is not None else datetime.now(UTC)


def hospital_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["HOSPITAL_TIMEZONE"])


def local_now() -> datetime:
    """The current time in the hospital's zone."""
    return now().astimezone(hospital_tz())


def today() -> date:
    """Today's date on the ward (in the hospital's zone)."""
    return local_now().date()


def to_local(value: datetime | None) -> datetime | None:
    return value.astimezone(hospital_tz()) if value is not None else None


def local_to_utc(day: date, at: time) -> datetime:
    """A wall-clock time on a hospital date, as an aware datetime (DST resolved by zoneinfo, fold=0)."""
    return datetime.combine(day, at, tzinfo=hospital_tz())


def local_label(value: datetime, tz: ZoneInfo) -> str:
    """HH:MM in the zone `tz`; during the repeated hour of a daylight-saving change the zone name is added
    (01:30 BST, then 01:30 GMT), so two different instants never read the same."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("local_label needs a timezone-aware datetime")
    local = value.astimezone(tz)
    text = local.strftime("%H:%M")
    other = local.replace(fold=1 - local.fold)
    if other.utcoffset() != local.utcoffset():
        text += f" {local.tzname()}"
    return text
