"""Schedule arithmetic after a bolus: pure functions, no Flask, no database.

Each time derived from the protocol is worked out here, once, and every caller uses these: the reassessment
(`reassessment`), the next bolus allowed (`min_interval`, `next_dose_allowed`), the observation slots
(`observation_times`, `observation_states`) and when a check counts as due or overdue (`check_state`).

Every time is a timezone-aware datetime. Intervals are elapsed time (a 4 h reassessment is 4 real hours
after the dose, also across a daylight-saving change); wall-clock times are only made for display, in the
hospital's zone, by `web.clock.local_label`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..protocol import Protocol

DUE, GIVEN, OVERDUE, HELD, CANCELLED, NOT_PLANNED = "due", "given", "overdue", "held", "cancelled", "not planned"
STATUS_LABELS = {DUE: "Due", GIVEN: "Given", OVERDUE: "Overdue", HELD: "Held", CANCELLED: "Cancelled",
                 NOT_PLANNED: "Not planned"}


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("schedule arithmetic needs timezone-aware datetimes")
    return value


@dataclass(frozen=True)
class Window:
    due: datetime
    opens: datetime
    closes: datetime

    def state(self, now: datetime) -> str:
        """"before", "open" or "closed" (past the window)."""
        if now < self.opens:
            return "before"
        return "open" if now <= self.closes else "closed"


def reassessment(dose_at: datetime, protocol: Protocol) -> Window:
    """The PT reassessment: due `reassess_after_minutes` after the dose, within the configured window."""
    at = _aware(dose_at).astimezone(UTC)
    return Window(due=at + timedelta(minutes=protocol.reassess_after_minutes),
                  opens=at + timedelta(minutes=protocol.reassess_window_from_minutes),
                  closes=at + timedelta(minutes=protocol.reassess_window_to_minutes))


def min_interval(protocol: Protocol) -> timedelta:
    """The least time between two boluses (given or planned) of a trial."""
    return timedelta(hours=protocol.min_interval_hours)


def next_dose_allowed(given_at: datetime, protocol: Protocol) -> datetime:
    """The first moment the next bolus may be given after one given at `given_at`."""
    return _aware(given_at) + min_interval(protocol)


def check_state(at: datetime, now: datetime, protocol: Protocol) -> str:
    """A check due at `at`, not yet done: "overdue" `obs_overdue_after_minutes` after its time, "due" from
    `obs_early_minutes` before it, else "upcoming"."""
    if _aware(now) > _aware(at) + timedelta(minutes=protocol.obs_overdue_after_minutes):
        return "overdue"
    return "due" if now >= at - timedelta(minutes=protocol.obs_early_minutes) else "upcoming"


@dataclass(frozen=True)
class Slot:
    number: int  # 1-based, in time order
    at: datetime  # UTC
    offset_minutes: int  # after the dose
    every_minutes: int  # the interval of the phase it belongs to

    @property
    def label(self) -> str:
        h, m = divmod(self.offset_minutes, 60)
        return f"+{h}:{m:02d}"

    @property
    def phase_label(self) -> str:
        every = self.every_minutes
        return f"q{every} min" if every < 60 else ("hourly" if every == 60 else f"{every // 60}-hourly")


def observation_offsets(protocol: Protocol) -> list[tuple[int, int]]:
    """(minutes after the dose, interval) for every scheduled observation, in order."""
    offsets: list[tuple[int, int]] = []
    t = 0
    for phase in protocol.monitoring:
        if phase.every_minutes <= 0:
            raise ValueError("a monitoring interval must be positive")
        if phase.count is not None:
            for _ in range(phase.count):
                t += phase.every_minutes
                offsets.append((t, phase.every_minutes))
        else:
            until = phase.until_minutes or 0
            while t + phase.every_minutes <= until:
                t += phase.every_minutes
                offsets.append((t, phase.every_minutes))
    return offsets


def observation_times(dose_at: datetime, protocol: Protocol) -> list[Slot]:
    """The scheduled observations after a bolus given at `dose_at`."""
    at = _aware(dose_at).astimezone(UTC)
    return [Slot(i, at + timedelta(minutes=off), off, every)
            for i, (off, every) in enumerate(observation_offsets(protocol), start=1)]


def monitoring_length(protocol: Protocol) -> timedelta:
    """From the dose to its last scheduled observation."""
    offsets = observation_offsets(protocol)
    return timedelta(minutes=offsets[-1][0] if offsets else 0)


@dataclass(frozen=True)
class SlotState:
    slot: Slot
    state: str  # "done", "missed", "overdue", "due", "upcoming"
    taken_at: datetime | None = None


def match_observations(slots: Sequence[Slot], taken: Iterable[datetime], now: datetime,
                       protocol: Protocol) -> list[SlotState]:
    """Which scheduled observations were done, missed, are overdue, due or still to come.

    An observation counts for the latest open slot due no later than `obs_early_minutes` after it was taken
    (so 09:13 counts for 09:15). A slot passed over by a later observation was missed; the first slot not yet
    done after the last done one is due (overdue `obs_overdue_after_minutes` after its time).
    """
    now = _aware(now)
    early = timedelta(minutes=protocol.obs_early_minutes)
    done: dict[int, datetime] = {}
    for t in sorted(_aware(x) for x in taken):
        candidates = [s for s in slots if s.at <= t + early and s.number not in done]
        if not candidates:
            continue  # before the first slot (a baseline) or every slot up to now already done
        best = candidates[-1]
        if done and best.number < max(done):
            continue  # an extra observation between slots already counted
        done[best.number] = t
    last_done = max(done, default=0)
    grace = timedelta(minutes=protocol.obs_overdue_after_minutes)
    states: list[SlotState] = []
    next_marked = False
    for s in slots:
        if s.number in done:
            states.append(SlotState(s, "done", done[s.number]))
        elif s.number < last_done:
            states.append(SlotState(s, "missed"))
        elif not next_marked and s.at + grace < now and _later_slot_due(slots, s, now, grace):
            states.append(SlotState(s, "missed"))  # its successor is already overdue: this one was skipped
        elif not next_marked:
            next_marked = True
            states.append(SlotState(s, check_state(s.at, now, protocol)))
        else:
            states.append(SlotState(s, "upcoming"))
    return states


def observation_states(dose_at: datetime, taken: Iterable[datetime], now: datetime,
                       protocol: Protocol) -> list[SlotState]:
    """The observation slots after a bolus given at `dose_at`, each done, missed, overdue, due or to come."""
    return match_observations(observation_times(dose_at, protocol), taken, now, protocol)


def _later_slot_due(slots: Sequence[Slot], slot: Slot, now: datetime, grace: timedelta) -> bool:
    nxt = next((s for s in slots if s.number == slot.number + 1), None)
    return nxt is not None and now > nxt.at + grace


def next_observation(states: Sequence[SlotState]) -> SlotState | None:
    """The observation to take next (due, overdue or upcoming), or None when the schedule is over."""
    return next((s for s in states if s.state in ("overdue", "due", "upcoming")), None)


def dose_status(*, planned_at: datetime | None, given_at: datetime | None, day_status: str, now: datetime,
                protocol: Protocol) -> str:
    """The ward's word for a day's dose: given, held, cancelled, not planned, overdue or due."""
    if given_at is not None:
        return GIVEN
    if day_status == "held":
        return HELD
    if day_status == "cancelled":
        return CANCELLED
    if planned_at is None:
        return NOT_PLANNED
    late = _aware(planned_at) + timedelta(minutes=protocol.dose_overdue_after_minutes)
    return OVERDUE if _aware(now) > late else DUE
