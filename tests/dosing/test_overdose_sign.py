"""`Observation.overdose_sign`: set when an observation is recorded, from the child's age then, and worked out
again when the child's date of birth is corrected; the ward finds open escalations through it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from server.dosing.models import Observation
from server.dosing.services import open_escalations
from server.extensions import db
from server.trials.models import Trial
from tests.dosing.conftest import DAY, day_id, give, observe

TAKEN = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)


def _sign(app, obs_id: int) -> bool:  # type: ignore[no-untyped-def]
    with app.app_context():
        return bool(db.session.get(Observation, obs_id).overdose_sign)


def _correct_birth(app, trial_id: int, born: date) -> None:  # type: ignore[no-untyped-def]
    from server.trials.schemas import PatientEditSchema
    from server.trials.services import update_patient

    with app.app_context():
        p = db.session.get(Trial, trial_id).patient
        form = {"first_name": p.first_name, "last_name": p.last_name, "date_of_birth": born.isoformat(),
                "mrn": p.mrn, "weight_kg": str(p.weight_kg), "weight_measured_on": p.weight_measured_on.isoformat(),
                "gmfcs_level": str(p.gmfcs_level), "diagnosis": p.diagnosis, "tone_type": p.tone_type,
                "base_revision": str(p.revision)}
        update_patient(p.id, PatientEditSchema().load(form))
        db.session.commit()


def test_the_flag_follows_the_childs_age_and_a_corrected_birth_date(app, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    # An 8-year-old (born March 2018): 20 breaths a minute is within the 18-30 of age 6 to 9.
    tid = trial_on(DAY)
    did = day_id(app, tid, 1)
    give(app, did, staff, time(9, 0))
    normal = observe(app, did, staff["nurse"], TAKEN, resp_rate=20, spo2=98)
    low_spo2 = observe(app, did, staff["nurse"], TAKEN.replace(minute=20), resp_rate=20, spo2=90)
    assert (_sign(app, normal), _sign(app, low_spo2)) == (False, True)
    with app.app_context():
        assert [o.id for o in open_escalations([tid])[tid].observations] == [low_spo2]

    # The date of birth was typed wrong: the child is 2, and 20 breaths a minute is below the 24 of that age.
    _correct_birth(app, tid, date(2024, 6, 1))
    assert (_sign(app, normal), _sign(app, low_spo2)) == (True, True)
    with app.app_context():
        assert [o.id for o in open_escalations([tid])[tid].observations] == [normal, low_spo2]
        assert tid in open_escalations()  # the ward's search (every trial) finds it too

    _correct_birth(app, tid, date(2018, 3, 14))  # and back
    assert (_sign(app, normal), _sign(app, low_spo2)) == (False, True)
