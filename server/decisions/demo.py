"""Demo team decisions matching the demo dosing (server/cli.py load_demo_data calls add_demo_decisions).

Ben: day 1 at 50 mcg judged inadequate, escalated to 75 mcg. Chloe: day 1 at 25 mcg inadequate (escalated to
50), day 2 good (repeat 50 tomorrow). Daniel (finished): days 1-3, ending in the candidacy outcome the demo
trial already holds. The plans they name were set by the dosing demo, so the rows are added directly (the
service would re-plan days whose doses the demo has already given), with the effect's onset and duration checked
against the protocol's bounds as the service checks them. Flushes only: the caller commits.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from ..audit.context import Actor, acting_as
from ..auth.models import User
from ..dosing.demo import day_of, has_dose, trial_by_mrn
from ..extensions import db
from ..protocol import current_protocol
from ..web import clock
from .models import DayDecision

# mrn -> [(day number, effect, next step, next dose, rationale, parents' view, effect onset and duration in h)]
Row = tuple[int, str, str, str | None, str, str | None, tuple[str, str] | None]
DEMO: dict[str, list[Row]] = {
    "DEMO-1002": [(1, "inadequate", "escalate", "75", "Only a small fall in tone; no side effects.",
                   "His legs felt the same to us.", None)],
    "DEMO-1003": [(1, "inadequate", "escalate", "50", "Small change at 25 mcg; well tolerated.", None, None),
                  (2, "good", "repeat", "50", "Tone clearly lower; sitting easier; drowsy once at 4 h.",
                   "She sat at the table for lunch.", ("1", "6"))],
    "DEMO-1004": [(1, "inadequate", "escalate", "75", "Little change at 50 mcg.", None, None),
                  (2, "good", "repeat", "75", "Tone lower; walking with the frame unchanged.",
                   "Much easier to dress him.", ("1", "6.5")),
                  (3, "good", "end", None, "Same response again at 75 mcg: ready to decide.", "We'd like the pump.",
                   ("0.5", "7"))],
}


def add_demo_decisions() -> None:
    surgeon = db.session.scalar(select(User.id).where(User.username == "surgeon"))
    if surgeon is None:
        return
    now = clock.now()
    with acting_as(Actor(user_id=None, via="cli")):
        for mrn, rows in DEMO.items():
            trial = trial_by_mrn(mrn)
            if trial is None:
                continue
            for number, effect, step, dose, why, parents, hours in rows:
                onset, lasted = (Decimal(hours[0]), Decimal(hours[1])) if hours else (None, None)
                errors = current_protocol().effect_hours_errors(onset, lasted)
                if errors:
                    raise ValueError(f"demo decision for {mrn} day {number}: {errors}")
                day = day_of(trial, number)
                if not has_dose(day) or db.session.scalar(
                        select(DayDecision.id).where(DayDecision.trial_day_id == day.id)) is not None:
                    continue
                db.session.add(DayDecision(
                    trial_day_id=day.id, revision=1, effect=effect, next_step=step,
                    next_dose_mcg=Decimal(dose) if dose else None, rationale=why,
                    team_present=["surgeon", "pt", "nurse"], parents_present=parents is not None,
                    parents_view=parents, effect_onset_hours=onset, effect_duration_hours=lasted,
                    decided_by_id=surgeon, decided_at=now, updated_at=now))
    db.session.flush()
