"""Jinja filters shared by every template."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Flask

from ..protocol import REFERENCES, current_protocol, format_mcg
from .clock import hospital_tz, local_label, to_local


def mcg(value: Decimal | None) -> str:
    return "not set" if value is None else f"{format_mcg(value)} mcg"


def localtime(value: datetime | None, fmt: str = "%H:%M") -> str:
    """A time in hospital time; never raises (a value at the edge of the datetime range is shown as stored,
    in UTC, rather than breaking the page)."""
    if value is None:
        return ""
    try:
        local = to_local(value)
    except (OverflowError, ValueError):
        local = value
    try:
        return local.strftime(fmt) if local else ""
    except (OverflowError, ValueError):
        return local.isoformat() if local else ""


def hm(value: datetime | None) -> str:
    """Hospital-local HH:MM (with the zone name in the repeated hour of a daylight-saving change)."""
    if value is None:
        return ""
    try:
        return local_label(value, hospital_tz())
    except (OverflowError, ValueError):  # at the edge of the datetime range: shown as stored, never a 500
        return value.isoformat(timespec="minutes")


def hours(value: Decimal | None) -> str:
    """A number of hours: "6 h", "5.5 h"; empty when not recorded."""
    return "" if value is None else f"{format_mcg(value)} h"


def zip_filter(a: Iterable[Any], b: Iterable[Any]) -> list[tuple[Any, Any]]:
    return list(zip(a, b, strict=False))


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(mcg=mcg, mcg_value=format_mcg, localtime=localtime, hm=hm, zip=zip_filter,
                                   hours=hours)
    # Citations and sign-off status for any template (templates/macros/sources.html)
    app.jinja_env.globals.update(references=REFERENCES, current_protocol=current_protocol)
