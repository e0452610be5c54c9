"""The clinical protocol: every default the app uses, in one place, each with its source.

These are DEFAULTS proposed in ../shared/docs/clinical-brief.md for sign-off by the hospital's ITB team;
the app flags numbers against them, the team decides. Sources are the brief's tags ([S3] etc.).
Every interval is a field here, so a hospital changes the protocol in one place (and the Protocol page,
which staff read, shows what is in force with its source).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class MonitoringPhase:
    """Observations every `every_minutes`, either `count` times or until `until_minutes` after the dose."""

    every_minutes: int
    count: int | None = None
    until_minutes: int | None = None

    def describe(self) -> str:
        every = f"every {self.every_minutes} min" if self.every_minutes < 60 or self.every_minutes % 60 else (
            "hourly" if self.every_minutes == 60 else f"every {self.every_minutes // 60} h")
        if self.count is not None:
            return f"{every} \u00d7 {self.count}"
        return f"{every} to {_hours(self.until_minutes or 0)} after the dose"


def _hours(minutes: int) -> str:
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes // 60} h {minutes % 60:02d}"


DEFAULT_MONITORING = (
    MonitoringPhase(every_minutes=15, count=4),
    MonitoringPhase(every_minutes=30, count=2),
    MonitoringPhase(every_minutes=60, until_minutes=8 * 60),
    MonitoringPhase(every_minutes=240, until_minutes=24 * 60),
)


@dataclass(frozen=True)
class Protocol:
    # Dosing (brief 1.5)
    allowed_bolus_mcg: tuple[Decimal, ...] = tuple(Decimal(v) for v in ("12.5", "25", "50", "75", "100"))
    ceiling_mcg: Decimal = Decimal("100")
    override_role: str = "surgeon"  # only a neurosurgeon may go above the ceiling, and must give a reason
    # No bolus above this on any path, whatever the override (hospital default: needs clinical sign-off).
    absolute_max_mcg: Decimal = Decimal("150")
    min_interval_hours: int = 24
    concentration_mcg_per_ml: Decimal = Decimal("50")
    day1_default_mcg: Decimal = Decimal("50")
    day1_small_child_mcg: Decimal = Decimal("25")
    trial_days: int = 3
    default_dose_time: str = "09:00"
    # A planned dose not given this long after its planned time shows as overdue on the ward.
    dose_overdue_after_minutes: int = 30
    # PT reassessment after the bolus (brief 2)
    reassess_after_minutes: int = 4 * 60
    reassess_window_from_minutes: int = 3 * 60
    reassess_window_to_minutes: int = 5 * 60
    # PT tone criterion (brief 3.1, 4.1, 4.2): numeric MAS mapping for means, and the responder threshold
    mas_mapping: str = "ashworth_0_4"  # a key of server.assessments.instruments.MAS_MAPPINGS
    tone_response_threshold: Decimal = Decimal("1.0")  # mean lower-limb reduction, same-day baseline vs post-dose
    # Goal Attainment Scaling (brief 6): at most this many goals per trial; rho in the aggregate T-score formula
    gas_max_goals: int = 5
    gas_rho: Decimal = Decimal("0.3")
    # Nursing observations after the bolus (brief 5.4)
    monitoring: tuple[MonitoringPhase, ...] = DEFAULT_MONITORING
    # An observation taken up to this early still counts for its slot; later than this after it, it is overdue.
    obs_early_minutes: int = 5
    obs_overdue_after_minutes: int = 5
    # A final observation left undone keeps the child on the ward this long after its time, whatever the
    # trial's status; then the monitoring after that dose has ended.
    monitoring_overdue_shown_hours: int = 12
    # While an overdose sign is open (not yet recorded as acted on), observations are due this often.
    escalation_obs_every_minutes: int = 15
    # A reason that must be "at least a sentence" (ceiling override, dose correction, acted-on record, an
    # outcome recorded with evidence missing): this many characters and words, at least.
    reason_min_chars: int = 20
    reason_min_words: int = 4
    sources: dict[str, str] = field(default_factory=lambda: {
        "allowed_bolus_mcg": "Brief 1.5 DEFAULT; label 50/75/100 mcg [S3][S5]; 12.5-25 mcg [S16][S19]",
        "ceiling_mcg": "Brief 1.5 DEFAULT: no response at 100 mcg means not a candidate [S1][S3]",
        "override_role": "Brief 1.5 DEFAULT: above the ceiling only by a neurosurgeon, with a reason and an "
                         "explicit confirmation showing mcg, mL and mcg/kg",
        "absolute_max_mcg": "Brief 1.5 DEFAULT (hospital default, needs clinical sign-off): no public source sets "
                            "an absolute maximum for a screening bolus; 150 mcg is 1.5 x the label's last "
                            "screening step (100 mcg [S1][S3])",
        "min_interval_hours": "Brief 1.5 DEFAULT: one bolus per calendar day, ≥ 24 h after the previous one "
                              "[S3][S18]",
        "concentration_mcg_per_ml": "Brief 1.5: 50 mcg/mL, 1 mL per 50 mcg, for the nurse's double-check [S29]",
        "day1_default_mcg": "Label screening dose 50 mcg; 25 mcg in very small children [S5][S6]",
        "dose_overdue_after_minutes": "App DEFAULT (not in the brief): for the ward list only",
        "reassess_after_minutes": "Brief 2 DEFAULT: reassess at 4 h, window 3-5 h; lowest MAS at 4 h [S21][S22]; "
                                  "units reassess at ~3-4 h [S9]",
        "mas_mapping": "Brief 3.1/4.2 DEFAULT: raw grade stored, averages via a configurable mapping shown beside "
                       "every mean; original 0-4 Ashworth scale [S17] with 1+ = 1.5 (UNVERIFIED); 0-5 coding [S33]",
        "gas_rho": "Brief 6: GAS aggregate T = 50 + 10*sum(w*x)/sqrt((1-rho)*sum(w^2) + rho*(sum w)^2), "
                   "rho = 0.3 [S48][S49]",
        "gas_max_goals": "App DEFAULT (not in the brief): a handful of individual goals agreed with the family",
        "tone_response_threshold": "Brief 4.1/4.2 DEFAULT: responder = mean lower-limb Ashworth reduction "
                                   ">= 1.0 [S17]",
        "monitoring": "Brief 5.4 DEFAULT (UNVERIFIED: no public paediatric source for q15 min after an IT "
                      "bolus): q15 min x 4, q30 min x 2, hourly to 8 h (onset, 4 h peak, 8 h tail [S4]), then "
                      "4-hourly; 4-hourly checks stop at 24 h, when the next bolus may be given (app DEFAULT)",
        "obs_tolerance": "App DEFAULT (not in the brief): an observation up to 5 min early counts for its "
                         "slot; one not taken 5 min after its time is overdue",
        "monitoring_overdue_shown_hours": "App DEFAULT (not in the brief): the ward keeps a child whose final "
                                          "check is overdue for 12 h after it, also once the trial is closed",
        "escalation_obs_every_minutes": "Brief 5.1/5.3 escalation; q15 min until reviewed is an app DEFAULT "
                                        "(brief 5.4 gives the routine schedule only; needs sign-off)",
        "reason_min_chars": "App DEFAULT (not in the brief): a reason of at least a sentence, 20 characters "
                            "and 4 words",
    })

    def volume_ml(self, dose_mcg: Decimal) -> Decimal:
        """The volume to draw up at the configured concentration, to 0.01 mL."""
        return (Decimal(dose_mcg) / self.concentration_mcg_per_ml).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def above_absolute_max(self, dose_mcg: Decimal) -> str | None:
        """The message for a bolus above the absolute maximum (no override passes it), else None. The schemas
        (at the edge) and dosing.services.dose_errors (on every path) both use it."""
        if Decimal(dose_mcg) <= self.absolute_max_mcg:
            return None
        return (f"{format_mcg(Decimal(dose_mcg))} mcg is above the absolute maximum of "
                f"{format_mcg(self.absolute_max_mcg)} mcg per bolus: no override allows it. Enter a dose up to "
                f"{format_mcg(self.absolute_max_mcg)} mcg.")

    def mcg_per_kg(self, dose_mcg: Decimal, weight_kg: Decimal) -> Decimal:
        """The dose per kilogram of body weight, to 0.01 mcg/kg."""
        return (Decimal(dose_mcg) / Decimal(weight_kg)).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def is_full_reason(self, text: str | None) -> bool:
        """At least a sentence: `reason_min_chars` characters and `reason_min_words` words."""
        words = [w for w in (text or "").split() if any(c.isalnum() for c in w)]
        return len((text or "").strip()) >= self.reason_min_chars and len(words) >= self.reason_min_words

    def reason_rule(self) -> str:
        return f"at least a sentence ({self.reason_min_chars} characters and {self.reason_min_words} words)"

    def monitoring_summary(self) -> str:
        return ", ".join(p.describe() for p in self.monitoring)

    def reassessment_summary(self) -> str:
        return (f"{_hours(self.reassess_after_minutes)} after the dose (window "
                f"{_hours(self.reassess_window_from_minutes)} to {_hours(self.reassess_window_to_minutes)})")


DEFAULT_PROTOCOL = Protocol()


def current_protocol() -> Protocol:
    return DEFAULT_PROTOCOL


def format_mcg(value: Decimal | None) -> str:
    if value is None:
        return "not set"
    return f"{value.normalize():f}"
