"""The schedule arithmetic after a bolus: pure functions, Europe/London, daylight-saving changes included."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.dosing import schedule
from server.protocol import DEFAULT_PROTOCOL, MonitoringPhase
from server.web import clock

LONDON = ZoneInfo("Europe/London")
P = DEFAULT_PROTOCOL


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def labels(times: list[datetime]) -> list[str]:
    return [clock.local_label(t, LONDON) for t in times]


def test_a_0900_dose_is_reassessed_at_1300_within_1200_to_1400() -> None:
    window = schedule.reassessment(local(2026, 11, 25, 9, 0), P)
    assert labels([window.due, window.opens, window.closes]) == ["13:00", "12:00", "14:00"]
    assert window.state(local(2026, 11, 25, 11, 59)) == "before"
    assert window.state(local(2026, 11, 25, 12, 0)) == "open"
    assert window.state(local(2026, 11, 25, 14, 1)) == "closed"


def test_observation_times_follow_the_configured_schedule() -> None:
    slots = schedule.observation_times(local(2026, 11, 25, 9, 0), P)
    assert labels([s.at for s in slots]) == [
        "09:15", "09:30", "09:45", "10:00",  # q15 x 4
        "10:30", "11:00",  # q30 x 2
        "12:00", "13:00", "14:00", "15:00", "16:00", "17:00",  # hourly to 8 h
        "21:00", "01:00", "05:00", "09:00",  # 4-hourly to 24 h
    ]
    assert [s.number for s in slots] == list(range(1, 17))
    assert [s.label for s in slots[:6]] == ["+0:15", "+0:30", "+0:45", "+1:00", "+1:30", "+2:00"]
    assert [s.phase_label for s in (slots[0], slots[4], slots[6], slots[12])] == [
        "q15 min", "q30 min", "hourly", "4-hourly"]


def test_every_interval_is_configurable() -> None:
    custom = replace(P, monitoring=(MonitoringPhase(10, count=3), MonitoringPhase(60, until_minutes=150)),
                     reassess_after_minutes=120, reassess_window_from_minutes=90, reassess_window_to_minutes=180)
    assert [off for off, _ in schedule.observation_offsets(custom)] == [10, 20, 30, 90, 150]
    window = schedule.reassessment(local(2026, 11, 25, 9, 0), custom)
    assert labels([window.due, window.opens, window.closes]) == ["11:00", "10:30", "12:00"]
    with pytest.raises(ValueError, match="positive"):
        schedule.observation_offsets(replace(P, monitoring=(MonitoringPhase(0, count=1),)))


def test_a_late_evening_dose_runs_across_midnight() -> None:
    dose = local(2026, 11, 25, 22, 30)
    window = schedule.reassessment(dose, P)
    assert window.due.astimezone(LONDON) == local(2026, 11, 26, 2, 30)
    assert labels([window.opens, window.closes]) == ["01:30", "03:30"]
    slots = schedule.observation_times(dose, P)
    assert labels([s.at for s in slots[:8]]) == ["22:45", "23:00", "23:15", "23:30", "00:00", "00:30", "01:30",
                                                 "02:30"]
    assert slots[4].at.astimezone(LONDON).date().isoformat() == "2026-11-26"


def test_spring_forward_counts_elapsed_hours() -> None:
    # Sunday 29 March 2026: clocks go from 01:00 GMT to 02:00 BST.
    dose = local(2026, 3, 29, 0, 30)  # GMT
    window = schedule.reassessment(dose, P)
    assert window.due - dose == timedelta(hours=4)
    assert labels([window.opens, window.due, window.closes]) == ["04:30", "05:30", "06:30"]
    slots = schedule.observation_times(dose, P)
    assert labels([s.at for s in slots[:6]]) == ["00:45", "02:00", "02:15", "02:30", "03:00", "03:30"]
    # The evening before: a 23:00 GMT dose is reassessed 4 real hours later, at 04:00 BST.
    assert clock.local_label(schedule.reassessment(local(2026, 3, 28, 23, 0), P).due, LONDON) == "04:00"


def test_fall_back_names_the_repeated_hour() -> None:
    # Sunday 25 October 2026: clocks go from 02:00 BST back to 01:00 GMT; 01:00-01:59 happens twice.
    dose = local(2026, 10, 25, 0, 30)  # BST (23:30 UTC the day before)
    assert dose.astimezone(UTC) == datetime(2026, 10, 24, 23, 30, tzinfo=UTC)
    slots = schedule.observation_times(dose, P)
    assert labels([s.at for s in slots[:7]]) == [
        "00:45", "01:00 BST", "01:15 BST", "01:30 BST", "01:00 GMT", "01:30 GMT", "02:30"]
    window = schedule.reassessment(dose, P)
    assert window.due - dose == timedelta(hours=4)
    assert labels([window.opens, window.due, window.closes]) == ["02:30", "03:30", "04:30"]


def test_an_ordinary_0900_dose_on_a_clock_change_day() -> None:
    for day in (local(2026, 3, 29, 9, 0), local(2026, 10, 25, 9, 0)):
        window = schedule.reassessment(day, P)
        assert labels([window.due, window.opens, window.closes]) == ["13:00", "12:00", "14:00"]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule.reassessment(datetime(2026, 11, 25, 9, 0), P)


DOSE = local(2026, 11, 25, 9, 0)
SLOTS = schedule.observation_times(DOSE, P)


def states(taken: list[datetime], now: datetime) -> list[str]:
    return [s.state for s in schedule.match_observations(SLOTS, taken, now, P)]


def test_nothing_taken_before_the_first_check() -> None:
    result = states([], local(2026, 11, 25, 9, 5))
    assert result[0] == "upcoming" and set(result[1:]) == {"upcoming"}
    assert states([], local(2026, 11, 25, 9, 12))[0] == "due"  # 3 min before: due now
    assert states([], local(2026, 11, 25, 9, 21))[0] == "overdue"  # 6 min after: overdue


def test_checks_taken_on_time_are_done_and_the_next_is_due() -> None:
    taken = [local(2026, 11, 25, 9, 13), local(2026, 11, 25, 9, 31)]
    result = schedule.match_observations(SLOTS, taken, local(2026, 11, 25, 9, 40), P)
    assert [s.state for s in result[:4]] == ["done", "done", "due", "upcoming"]
    assert result[0].taken_at == taken[0]
    nxt = schedule.next_observation(result)
    assert nxt is not None and clock.local_label(nxt.slot.at, LONDON) == "09:45"


def test_a_skipped_check_is_missed_and_an_extra_one_counts_for_nothing() -> None:
    taken = [local(2026, 11, 25, 9, 15), local(2026, 11, 25, 9, 20), local(2026, 11, 25, 9, 50)]
    result = states(taken, local(2026, 11, 25, 9, 56))
    assert result[:4] == ["done", "missed", "done", "due"]


def test_when_several_checks_are_late_the_latest_passed_one_is_overdue() -> None:
    result = states([], local(2026, 11, 25, 10, 10))
    assert result[:5] == ["missed", "missed", "missed", "overdue", "upcoming"]


def test_the_schedule_ends() -> None:
    taken = [s.at for s in SLOTS]
    result = schedule.match_observations(SLOTS, taken, local(2026, 11, 26, 10, 0), P)
    assert {s.state for s in result} == {"done"}
    assert schedule.next_observation(result) is None


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"planned_at": DOSE, "given_at": DOSE, "day_status": "planned"}, "given"),
    ({"planned_at": DOSE, "given_at": None, "day_status": "held"}, "held"),
    ({"planned_at": DOSE, "given_at": None, "day_status": "cancelled"}, "cancelled"),
    ({"planned_at": None, "given_at": None, "day_status": "planned"}, "not planned"),
    ({"planned_at": DOSE, "given_at": None, "day_status": "planned", "now": local(2026, 11, 25, 9, 30)}, "due"),
    ({"planned_at": DOSE, "given_at": None, "day_status": "planned", "now": local(2026, 11, 25, 9, 31)}, "overdue"),
    ({"planned_at": DOSE, "given_at": None, "day_status": "planned", "now": local(2026, 11, 25, 7, 0)}, "due"),
])
def test_dose_status(kwargs: dict, expected: str) -> None:  # type: ignore[type-arg]
    kwargs.setdefault("now", local(2026, 11, 25, 12, 0))
    assert schedule.dose_status(protocol=P, **kwargs) == expected
