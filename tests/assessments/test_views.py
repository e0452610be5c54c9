# ruff: noqa: RUF001  (the app shows a real minus sign and en dashes; the tests check that text)
"""The pages: who may use them, the bedside form (plain and htmx), refusals beside the fields, corrections,
history, the comparison and the plan."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func, select

from server.assessments.models import Assessment, AssessmentPlan
from server.auth.models import ROLES
from server.extensions import db
from server.trials.models import Trial
from tests.assessments.conftest import form
from tests.conftest import bundles_in, field_error


def _count(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Assessment))


def _new_url(trial_id: int, day: int = 1, phase: str = "baseline") -> str:
    return f"/trials/{trial_id}/days/{day}/{phase}"


def _save(client, trial_id: int, phase: str = "baseline", **extra: str):  # type: ignore[no-untyped-def]
    slug = "post-dose" if phase == "post_dose" else "baseline"
    return client.post(_new_url(trial_id, 1, slug), data={**form(trial_id, phase=phase, **extra),
                                                            "entry_id": str(uuid.uuid4())})


@pytest.mark.parametrize("role", ROLES)
def test_only_a_pt_records_and_every_staff_role_reads(app, client, signed_in, make_trial, role) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in(role)
    expected = 200 if role == "pt" else 403
    assert client.get(_new_url(trial_id)).status_code == expected
    assert _save(client, trial_id).status_code == (303 if role == "pt" else 403)
    for url in (f"/trials/{trial_id}/assessments/compare", f"/trials/{trial_id}/assessments"):
        assert client.get(url).status_code == 200, (role, url)
    assert client.get(f"/trials/{trial_id}/assessment-plan").status_code == expected


def test_anonymous_is_sent_to_sign_in(client, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    for url in (_new_url(trial_id), f"/trials/{trial_id}/assessments/compare", "/assessments/1"):
        response = client.get(url)
        assert response.status_code == 303 and response.headers["Location"].startswith("/login")


def test_the_form_follows_the_offline_contract_and_the_bedside_layout(client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("pt")
    response = client.get(_new_url(trial_id))
    html = response.get_data(as_text=True)
    assert response.headers["Vary"].count("HX-Request") == 1
    assert 'data-outbox="assessments.record"' in html and 'data-form-version="1"' in html
    entry = re.search(r'data-entry-id="([0-9a-f-]{36})"', html)
    assert entry and f'name="entry_id" value="{entry.group(1)}"' in html
    assert f'data-outbox-next="/assessments/entry/{entry.group(1)}?saved=1"' in html
    assert f'data-draft-key="assessment-form:{trial_id}:1:baseline"' in html
    assert 'method="post"' in html and 'action="/trials/' in html
    # MAS as one tap per grade: 6 radios per side, 7 lower-limb groups, left and right; each radio with its own
    # visible label (the grade), each side one radio group with a visible legend, named with the muscle group.
    choices = re.findall(r'<input type="radio" id="(mas\.[a-z_]+\.(?:left|right))=([^"]+)" name="\1" value="\2">'
                         r'<label for="\1=\2">\2</label>', html)
    assert len(choices) == 7 * 2 * 6 == html.count('type="radio" id="mas.')
    assert re.search(r'<fieldset class="seg-field" data-field="mas.hip_adductors.left" aria-label="Hip adductors, '
                     r'Left">\s*<legend>Left</legend>', html)
    assert 'name="rom.popliteal_angle.left"' in html and 'inputmode="decimal"' in html
    assert 'data-min="0" data-max="180"' in html
    assert "style=" not in html and "<script>" not in html  # strict CSP: no inline styles or scripts
    # Its own bundle (draft + bedside checks) after the staff pages' common ones; no htmx (no hx-* attribute).
    assert bundles_in(html) == ["theme.js", "app.css", "outbox-core.js", "common.js", "assessment.js"]
    assert "becomes this child's plan" in html  # first baseline: the plan is chosen here


def test_htmx_get_returns_only_the_form(client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("pt")
    response = client.get(_new_url(trial_id), headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html and '<form id="assessment-form"' in html
    assert response.headers["Vary"].count("HX-Request") == 1


def test_a_plain_save_redirects_to_the_saved_assessment(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("pt")
    response = _save(client, trial_id)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert re.fullmatch(r"/assessments/\d+\?saved=1", location)
    page = client.get(location)
    html = page.get_data(as_text=True)
    assert "Baseline saved." in html
    assert f'data-draft-clear="assessment-form:{trial_id}:1:baseline"' in html
    assert "Hip adductors" in html and "12.5 s" in html
    assert "0.8 m/s" in html and "Hamstrings: R2−R1 (dynamic component)" in html and "25°" in html
    assert _count(app) == 1
    with app.app_context():
        assert db.session.scalar(select(AssessmentPlan.items).where(AssessmentPlan.trial_id == trial_id))


def test_an_htmx_save_answers_with_hx_redirect(client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("pt")
    response = client.post(_new_url(trial_id), data={**form(trial_id), "entry_id": str(uuid.uuid4())},
                           headers={"HX-Request": "true"})
    assert response.status_code == 204 and re.fullmatch(r"/assessments/\d+\?saved=1", response.headers["HX-Redirect"])
    assert response.headers["Vary"].count("HX-Request") == 1


def test_a_double_submit_is_one_assessment(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("pt")
    data = {**form(trial_id), "entry_id": str(uuid.uuid4())}
    first = client.post(_new_url(trial_id), data=data)
    second = client.post(_new_url(trial_id), data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert _count(app) == 1


@pytest.mark.parametrize(("field", "value", "message"), [
    ("rom.popliteal_angle.left", "400", "Popliteal angle must be between 0 and 180 degrees."),
    ("gait.walk_10m_seconds", "-3", "10 m walk time must be between 2 and 600 seconds."),
    ("mas.hip_adductors.left", "5", "Choose a grade: 0, 1, 1+, 2, 3 or 4."),
    ("tardieu.hamstrings.right.r2", "abc",
     "Enter Hamstrings R2 slow range in whole degrees, e.g. 35."),
])
def test_bad_values_are_refused_beside_the_field_keeping_what_was_typed(app, client, signed_in, make_trial, field,  # type: ignore[no-untyped-def]
                                                                        value, message) -> None:
    trial_id = make_trial()
    signed_in("pt")
    response = client.post(_new_url(trial_id), data={**form(trial_id), field: value, "notes": "kept note"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, field) == message
    if not field.startswith("mas."):
        assert f'value="{value}"' in html
    assert 'value="2" checked' in html and "kept note" in html  # the rest of what was entered stays
    assert _count(app) == 0


def test_unknown_muscle_group_is_refused_at_the_top_and_nothing_written(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("pt")
    response = client.post(_new_url(trial_id), data={**form(trial_id), "mas.big_toe.left": "1"})
    assert response.status_code == 422
    assert "Unknown muscle group “big_toe” for Muscle tone (Modified Ashworth)." in response.get_data(as_text=True)
    assert _count(app) == 0


def test_htmx_post_with_errors_gets_the_form_fragment(client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("pt")
    response = client.post(_new_url(trial_id), data={**form(trial_id), "rom.popliteal_angle.left": "400"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<form") and "<html" not in html
    assert response.headers["Vary"].count("HX-Request") == 1


def test_unknown_trial_day_or_phase_is_404(client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("pt")
    assert client.get(_new_url(999)).status_code == 404
    assert client.post(_new_url(999), data=form(999)).status_code == 404
    assert client.get(_new_url(trial_id, day=9)).status_code == 404
    assert client.get(_new_url(trial_id, phase="lunch")).status_code == 404


def test_the_url_decides_the_trial_day_and_phase_of_a_plain_post(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("pt")
    response = client.post(_new_url(trial_id, 2, "post-dose"), data={**form(999, 3, "baseline")})
    assert response.status_code == 303
    with app.app_context():
        a = db.session.scalars(select(Assessment)).one()
        assert (a.trial_id, a.trial_day.day_number, a.phase) == (trial_id, 2, "post_dose")


def test_closed_trial_shows_no_form_and_refuses_a_post(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    with app.app_context():
        db.session.get(Trial, trial_id).status = "stopped"
        db.session.commit()
    signed_in("pt")
    html = client.get(_new_url(trial_id)).get_data(as_text=True)
    assert "assessments can no longer be recorded" in html and "<form id=\"assessment-form\"" not in html
    response = _save(client, trial_id)
    assert response.status_code == 422 and "assessments can no longer be recorded" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_post_dose_form_shows_the_same_day_baseline_beside_each_field_and_the_dose_flag(client, signed_in,  # type: ignore[no-untyped-def]
                                                                                       make_trial) -> None:
    trial_id = make_trial()
    signed_in("pt")
    _save(client, trial_id, grade="1+", rom__popliteal_angle__left="55")
    html = client.get(_new_url(trial_id, phase="post-dose")).get_data(as_text=True)
    assert '<p class="baseline" id="mas.hip_adductors.left-baseline">Baseline <strong>1+</strong></p>' in html
    assert '<p class="baseline" id="rom.popliteal_angle.left-baseline">Baseline <strong>55°</strong></p>' in html
    assert 'aria-describedby="rom.popliteal_angle.left-baseline"' in html
    assert "No dose is recorded for this day yet" in html


def test_correction_flow_keeps_both_versions_and_the_reason(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("pt")
    first = _save(client, trial_id, grade="3").headers["Location"].split("?")[0]
    first_id = int(first.rsplit("/", 1)[1])
    page = client.get(f"/assessments/{first_id}/correct").get_data(as_text=True)
    assert 'data-outbox="assessments.correct"' in page and f'name="supersedes_id" value="{first_id}"' in page
    assert 'name="mas.hip_adductors.left" value="3" checked' in page  # starts from what was recorded
    assert 'value="12.5"' in page
    data = {**form(trial_id, grade="2"), "entry_id": str(uuid.uuid4())}
    refused = client.post(f"/assessments/{first_id}/correct", data=data)
    assert refused.status_code == 422
    assert field_error(refused.get_data(as_text=True), "correction_reason") == "Give the reason for the correction."
    saved = client.post(f"/assessments/{first_id}/correct", data={**data, "correction_reason": "Wrong side scored"})
    assert saved.status_code == 303
    detail = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Baseline saved (correction, version 2)." in detail and "Wrong side scored" in detail
    old = client.get(f"/assessments/{first_id}").get_data(as_text=True)
    assert "This is version 1; it was corrected." in old
    history = client.get(f"/trials/{trial_id}/assessments").get_data(as_text=True)
    assert "Version 1" in history and "Version 2" in history and "Reason: Wrong side scored" in history
    assert "superseded" in history
    again = client.post(f"/assessments/{first_id}/correct", data={**data, "entry_id": str(uuid.uuid4()),
                                                                  "correction_reason": "x"})
    assert again.status_code == 422 and "already corrected" in again.get_data(as_text=True)
    assert _count(app) == 2


def test_by_entry_finds_the_saved_assessment(client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("pt")
    entry = str(uuid.uuid4())
    saved = client.post(_new_url(trial_id), data={**form(trial_id), "entry_id": entry})
    response = client.get(f"/assessments/entry/{entry}?saved=1")
    assert response.status_code == 303 and response.headers["Location"] == saved.headers["Location"]
    assert client.get(f"/assessments/entry/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_comparison_shows_changes_the_mean_with_its_mapping_and_the_flag(client, signed_in, make_trial, make_user,  # type: ignore[no-untyped-def]
                                                                        role) -> None:
    trial_id = make_trial()
    signed_in("pt")
    _save(client, trial_id, grade="2")
    _save(client, trial_id, phase="post_dose", grade="1", mas__soleus__left="1+", gait__walk_10m_seconds="10")
    client.post("/logout")
    signed_in(role)
    response = client.get(f"/trials/{trial_id}/assessments/compare")
    html = response.get_data(as_text=True)
    # 13 pairs 2 -> 1 and one 2 -> 1+: mean change -(13 + 0.5) / 14 = -0.96 on Ashworth 0-4 (1+ = 1.5).
    assert "Mean lower-limb MAS <strong>2 → 1.04</strong>" in html
    assert "change <strong>−0.96</strong> <span class=\"mapping-name\">(Ashworth 0–4, 1+ = 1.5)</span>" in html
    assert "Does not meet the tone criterion (mean reduction ≥ 1.0)" in html
    assert "14 of 14 muscle-side pairs" in html
    assert "The app flags numbers; the team decides." in html
    text = re.sub(r"<[^>]+>", "", html)
    assert "0.8 m/s → 1 m/s" in text and "faster" in text
    assert "Mean MAS −0.96 (Ashworth 0–4, 1+ = 1.5) · not met" in text  # the day's summary line names it too
    assert "No dose recorded yet for this day" in html
    ordinal = client.get(f"/trials/{trial_id}/assessments/compare?mapping=ordinal_0_5").get_data(as_text=True)
    assert "(Ordinal 0–5 (1+ = 2))" in ordinal and "Meets the tone criterion" in ordinal
    fragment = client.get(f"/trials/{trial_id}/assessments/compare?mapping=ordinal_0_5",
                          headers={"HX-Request": "true"})
    assert '<div id="comparison">' in fragment.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    assert fragment.headers["Vary"].count("HX-Request") == 1


def test_comparison_and_history_with_nothing_recorded(client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("surgeon")
    assert "No assessments recorded yet." in client.get(f"/trials/{trial_id}/assessments/compare").get_data(
        as_text=True)
    history = client.get(f"/trials/{trial_id}/assessments", headers={"HX-Request": "true"})
    assert '<div id="history">' in history.get_data(as_text=True) and "<html" not in history.get_data(as_text=True)
    assert history.headers["Vary"].count("HX-Request") == 1
    assert client.get("/trials/999/assessments/compare").status_code == 404


def test_plan_page_saves_and_refuses_a_stale_revision(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("pt")
    page = client.get(f"/trials/{trial_id}/assessment-plan").get_data(as_text=True)
    assert 'value="mas.hip_adductors" checked' in page and 'value="mas.elbow_flexors">' in page
    response = client.post(f"/trials/{trial_id}/assessment-plan",
                           data={"items": ["mas.soleus", "rom.popliteal_angle"], "next": _new_url(trial_id)})
    assert response.status_code == 303 and response.headers["Location"] == _new_url(trial_id)
    form_html = client.get(_new_url(trial_id)).get_data(as_text=True)
    assert 'name="mas.soleus.left"' in form_html and 'name="mas.hip_adductors.left"' not in form_html
    stale = client.post(f"/trials/{trial_id}/assessment-plan", data={"items": ["mas.soleus"], "base_rev": "0"})
    assert stale.status_code == 409 and "changed this child" in stale.get_data(as_text=True)
    bad = client.post(f"/trials/{trial_id}/assessment-plan", data={"items": []}, headers={"HX-Request": "true"})
    assert bad.status_code == 422 and bad.get_data(as_text=True).lstrip().startswith("<form")
    with app.app_context():
        assert db.session.scalar(select(AssessmentPlan.items)) == ["mas.soleus", "rom.popliteal_angle"]


def test_trial_page_and_todays_card_link_to_todays_baseline_and_post_dose(client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("pt")
    for url in (f"/trials/{trial_id}", "/today"):
        html = client.get(url).get_data(as_text=True)
        assert f'href="/trials/{trial_id}/days/1/baseline"' in html, url
        assert f'href="/trials/{trial_id}/days/1/post-dose"' in html, url
        assert f'href="/trials/{trial_id}/assessments/compare"' in html, url
    client.post("/logout")
    signed_in("nurse")
    html = client.get(f"/trials/{trial_id}").get_data(as_text=True)
    assert "/days/1/baseline" not in html and f'href="/trials/{trial_id}/assessments/compare"' in html


def test_with_a_dose_on_record_the_form_and_detail_show_the_time_after_it(app, client, signed_in, make_trial,  # type: ignore[no-untyped-def]
                                                                         make_user, time_machine) -> None:
    from datetime import UTC, date, datetime

    from tests.assessments.conftest import give_dose

    time_machine.move_to(datetime(2026, 11, 25, 13, 2, tzinfo=UTC), tick=False)  # 13:02 in London (GMT)
    trial_id = make_trial(start_date=date(2026, 11, 25))
    nurse = make_user("nurse")
    with app.app_context():
        give_dose(trial_id, 1, datetime(2026, 11, 25, 9, 0, tzinfo=UTC), nurse)
    signed_in("pt")
    html = client.get(_new_url(trial_id, phase="post-dose")).get_data(as_text=True)
    assert "Dose 50 mcg given at 09:00 · now 4 h 02 after (window 3 h 00–5 h 00 ✓)" in html
    assert "No dose is recorded" not in html
    saved = _save(client, trial_id, phase="post_dose")
    detail = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "4 h 02 after the dose (window 3 h 00–5 h 00 ✓)" in detail
    assert "saved before the dose record" not in detail


def test_every_instrument_renders_when_the_plan_holds_everything(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    from server.assessments.instruments import CELLS, ITEMS

    trial_id = make_trial()
    signed_in("pt")
    client.post(f"/trials/{trial_id}/assessment-plan", data={"items": list(ITEMS)})
    html = client.get(_new_url(trial_id)).get_data(as_text=True)
    for name in CELLS:
        assert f'name="{name}"' in html, name
    for item in ITEMS.values():
        assert f'name="{item.not_tested_name}"' in html and f'name="{item.reason_name}"' in html
    assert "<h3>Lower limb</h3>" in html and "<h3>Upper limb</h3>" in html
    # Everything at once, with every item not tested except one, saves; nothing is stored as zero.
    data = {**form(trial_id)}
    for item in ITEMS.values():
        if item.instrument in ("tardieu", "function") or item.id == "gait.tug_seconds":
            data[item.not_tested_name] = "both" if item.sided else "yes"
            data[item.reason_name] = "Child asleep"
            for cell in item.cells():
                data.pop(cell.name, None)
    assert client.post(_new_url(trial_id), data=data).status_code == 303
    with app.app_context():
        a = db.session.scalars(select(Assessment)).one()
        assert a.not_tested["function.penn"] == {"sides": [], "reason": "Child asleep"}
        assert not any(k.startswith("tardieu.") for k in a.values)
