"""The suggested starting pump dose (issue 13, finding 5): the label's rule in one pure function.

Twice the effective bolus per 24 h, or the bolus itself per 24 h when its effect lasted more than 8 h (Lioresal
Intrathecal prescribing information). "Effective" is the responder criterion the app computes: a dose given on a
day whose tone result meets the tone criterion; the basis is the lowest effective bolus.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from server.decisions.pump import Bolus, suggest_pump_dose
from server.protocol import DEFAULT_PROTOCOL

P = DEFAULT_PROTOCOL


def _bolus(day: int, mcg: str | None, responder: bool | None, hours: str | None) -> Bolus:
    return Bolus(day, Decimal(mcg) if mcg else None, responder, Decimal(hours) if hours else None)


def test_an_effective_75_mcg_bolus_gives_150_mcg_per_24_h_after_6_h_and_75_mcg_after_10_h() -> None:
    six = suggest_pump_dose([_bolus(1, "75", True, "6")], P)
    assert six is not None and six.per_24h_mcg == Decimal(150) and six.factor == 2 and not six.long_effect
    ten = suggest_pump_dose([_bolus(1, "75", True, "10")], P)
    assert ten is not None and ten.per_24h_mcg == Decimal(75) and ten.factor == 1 and ten.long_effect


def test_none_is_suggested_without_an_effective_dose() -> None:
    assert suggest_pump_dose([], P) is None
    # Doses given, but none met the tone criterion (False) or could be judged (None: not enough data).
    assert suggest_pump_dose([_bolus(1, "50", False, "6"), _bolus(2, "75", None, "6"),
                              _bolus(3, "100", False, "9")], P) is None
    # A day that met the criterion without a dose given (held) is no bolus to start from.
    assert suggest_pump_dose([_bolus(1, None, True, None)], P) is None


def test_exactly_8_h_is_not_more_than_8_h() -> None:
    at_eight = suggest_pump_dose([_bolus(1, "50", True, "8")], P)
    assert at_eight is not None and at_eight.per_24h_mcg == Decimal(100)
    just_over = suggest_pump_dose([_bolus(1, "50", True, "8.1")], P)
    assert just_over is not None and just_over.per_24h_mcg == Decimal(50)


def test_the_basis_is_the_lowest_effective_bolus() -> None:
    """50 mcg did not meet the criterion, 75 and 100 did: 75 mcg is the basis, with its own day's duration."""
    s = suggest_pump_dose([_bolus(1, "50", False, "3"), _bolus(2, "100", True, "12"), _bolus(3, "75", True, "6")], P)
    assert s is not None and (s.bolus_mcg, s.days, s.effect_hours, s.per_24h_mcg) == (
        Decimal(75), (3,), Decimal(6), Decimal(150))


def test_the_same_dose_effective_on_two_days_uses_the_longest_effect_recorded() -> None:
    """The more cautious starting dose: if either effect lasted more than 8 h, the bolus itself per 24 h."""
    s = suggest_pump_dose([_bolus(2, "75", True, "6"), _bolus(3, "75", True, "10")], P)
    assert s is not None and (s.days, s.effect_hours, s.per_24h_mcg) == ((2, 3), Decimal(10), Decimal(75))
    unknown_one = suggest_pump_dose([_bolus(2, "75", True, None), _bolus(3, "75", True, "5.5")], P)
    assert unknown_one is not None and unknown_one.per_24h_mcg == Decimal(150)


def test_an_effective_dose_without_a_duration_names_the_basis_but_no_number() -> None:
    s = suggest_pump_dose([_bolus(1, "25", True, None)], P)
    assert s is not None and s.bolus_mcg == Decimal(25) and s.days == (1,)
    assert s.per_24h_mcg is None and s.factor is None and s.effect_hours is None


def test_the_numbers_come_from_the_protocol() -> None:
    hospital = replace(P, pump_dose_factor=Decimal(3), pump_long_effect_hours=Decimal(6),
                       pump_long_effect_factor=Decimal("1.5"))
    six = suggest_pump_dose([_bolus(1, "50", True, "6")], hospital)
    seven = suggest_pump_dose([_bolus(1, "50", True, "7")], hospital)
    assert six is not None and seven is not None
    assert (six.per_24h_mcg, seven.per_24h_mcg) == (Decimal(150), Decimal(75))
