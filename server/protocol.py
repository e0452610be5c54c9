"""The clinical protocol: every default the app uses, in one place, each with its source.

These are DEFAULTS proposed in ../shared/docs/clinical-brief.md for sign-off by the hospital's ITB team;
the app flags numbers against them, the team decides. Sources are the brief's tags ([S3] etc.).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Protocol:
    allowed_bolus_mcg: tuple[Decimal, ...] = tuple(Decimal(v) for v in ("12.5", "25", "50", "75", "100"))
    ceiling_mcg: Decimal = Decimal("100")
    day1_default_mcg: Decimal = Decimal("50")
    day1_small_child_mcg: Decimal = Decimal("25")
    trial_days: int = 3
    default_dose_time: str = "09:00"
    sources: dict[str, str] = field(default_factory=lambda: {
        "allowed_bolus_mcg": "Brief 1.5 DEFAULT; label 50/75/100 mcg [S3][S5]; 12.5-25 mcg [S16][S19]",
        "ceiling_mcg": "Brief 1.5 DEFAULT: no response at 100 mcg means not a candidate [S1][S3]",
        "day1_default_mcg": "Label screening dose 50 mcg; 25 mcg in very small children [S5][S6]",
    })


DEFAULT_PROTOCOL = Protocol()


def current_protocol() -> Protocol:
    return DEFAULT_PROTOCOL


def format_mcg(value: Decimal | None) -> str:
    if value is None:
        return "not set"
    return f"{value.normalize():f}"
