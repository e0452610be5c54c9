"""The suggested starting pump dose, from the drug label's rule: pure arithmetic, no Flask and no database.

Lioresal Intrathecal prescribing information (dose titration phase): the starting daily dose is twice the
screening bolus that gave a positive effect, infused over 24 h, or that bolus itself over 24 h when its effect
lasted more than 8 h (the factors and the 8 h are `Protocol.pump_dose_factor`, `pump_long_effect_factor`,
`pump_long_effect_hours`). The app only suggests; the team confirms (and titrates) the pump dose.

"Effective" is the app's responder criterion: a bolus given on a day whose tone result meets the tone criterion
(mean lower-limb MAS reduction of at least `Protocol.tone_response_threshold`, Gilmartin et al. 2000). The basis
is the lowest effective bolus (the usual basis: the smallest dose that worked; many children respond below the
label's 50 mcg, Hoving et al. 2007). When that dose was effective on several days, the longest effect recorded on
them is used: the smaller (more cautious) starting dose when any of them lasted more than 8 h.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ..protocol import Protocol


@dataclass(frozen=True)
class Bolus:
    """One trial day's bolus as the evidence holds it."""

    day_number: int
    dose_mcg: Decimal | None  # the dose given (None: no dose given that day)
    responder: bool | None  # the day's tone result meets the tone criterion (None: not enough data)
    effect_hours: Decimal | None  # how long the effect lasted, from the team's day decision


@dataclass(frozen=True)
class PumpSuggestion:
    """The suggestion, or why there is no number yet (`per_24h_mcg` None: no effect duration recorded)."""

    bolus_mcg: Decimal  # the lowest effective bolus
    days: tuple[int, ...]  # the trial days it was given and effective
    effect_hours: Decimal | None  # the longest effect recorded on those days
    factor: Decimal | None
    per_24h_mcg: Decimal | None
    long_effect: bool = False  # the effect lasted more than the protocol's hours: the bolus itself per 24 h


def suggest_pump_dose(boluses: Iterable[Bolus], protocol: Protocol) -> PumpSuggestion | None:
    """The label's rule applied to the trial's effective boluses; None when no bolus was effective."""
    effective = [b for b in boluses if b.dose_mcg is not None and b.responder is True]
    if not effective:
        return None
    lowest = min(b.dose_mcg for b in effective if b.dose_mcg is not None)
    basis = [b for b in effective if b.dose_mcg == lowest]
    hours = [b.effect_hours for b in basis if b.effect_hours is not None]
    days = tuple(sorted(b.day_number for b in basis))
    if not hours:
        return PumpSuggestion(lowest, days, None, None, None)
    longest = max(hours)
    long_effect = longest > protocol.pump_long_effect_hours
    factor = protocol.pump_long_effect_factor if long_effect else protocol.pump_dose_factor
    return PumpSuggestion(lowest, days, longest, factor, lowest * factor, long_effect)
