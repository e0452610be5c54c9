"""Goals and their daily ratings: services and the goals page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from server.audit.models import AuditEvent
from server.extensions import db
from server.goals.models import Goal, GoalRating
from server.goals.services import GoalError, goals_for, rate_goals, set_goals, t_scores
from server.trials.models import Trial
from tests.conftest import field_error
from tests.decisions.conftest import day_id

GOALS = [("Sits at the table for a whole meal", 2), ("Easier to dress in the morning", 1)]


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_goals_are_set_in_order_rated_per_day_and_scored(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    pt = make_user("pt")
    trial_id = make_trial()
    goals = set_goals(trial_id, GOALS, author_id=pt)
    db.session.commit()
    assert [(g.position, g.description, g.weight) for g in goals_for(trial_id)] == [
        (1, GOALS[0][0], 2), (2, GOALS[1][0], 1)]
    rate_goals(day_id(trial_id, 1), {goals[0].id: 1, goals[1].id: -1}, author_id=pt)
    db.session.commit()
    trial = db.session.get(Trial, trial_id)
    # 50 + 10 * (2*1 + 1*-1) / sqrt(0.7 * 5 + 0.3 * 9) = 50 + 10 / 2.49 = 54.0
    assert t_scores(trial) == {day_id(trial_id, 1): Decimal("54.0")}
    # Re-rating the same day updates it (audited), it does not add a second rating.
    rate_goals(day_id(trial_id, 1), {goals[1].id: 0}, author_id=pt)
    db.session.commit()
    assert _count(GoalRating) == 2
    assert t_scores(trial)[day_id(trial_id, 1)] == Decimal("58.0")  # 50 + 10 * 2 / 2.49
    updates = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.entity_type == "GoalRating", AuditEvent.action == "update"))
    assert updates == 1


def test_goals_can_change_until_rated_then_they_are_fixed(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    pt = make_user("pt")
    trial_id = make_trial()
    set_goals(trial_id, GOALS, author_id=pt)
    db.session.commit()
    changed = set_goals(trial_id, [("Stands to transfer", 3)], author_id=pt)
    db.session.commit()
    assert [g.description for g in goals_for(trial_id)] == ["Stands to transfer"]
    deleted = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.entity_type == "Goal", AuditEvent.action == "delete"))
    assert deleted == 2  # each removed goal is in the audit log
    rate_goals(day_id(trial_id, 1), {changed[0].id: 0}, author_id=pt)
    db.session.commit()
    with pytest.raises(GoalError, match="fixed"):
        set_goals(trial_id, GOALS, author_id=pt)
    db.session.rollback()
    assert [g.description for g in goals_for(trial_id)] == ["Stands to transfer"]


def test_refusals_write_nothing(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    pt = make_user("pt")
    trial_id, other = make_trial(), make_trial()
    with pytest.raises(GoalError, match="At most 5 goals"):
        set_goals(trial_id, [("g", 1)] * 6, author_id=pt)
    db.session.rollback()
    foreign = set_goals(other, GOALS, author_id=pt)[0].id
    db.session.commit()
    with pytest.raises(GoalError) as exc:  # another trial's goal
        rate_goals(day_id(trial_id, 1), {foreign: 1}, author_id=pt)
    assert exc.value.errors == {f"score_{foreign}": ["This goal is not one of this trial's goals."]}
    db.session.rollback()
    db.session.get(Trial, trial_id).status = "completed"
    db.session.commit()
    with pytest.raises(GoalError, match="completed"):
        set_goals(trial_id, GOALS, author_id=pt)
    db.session.rollback()
    assert _count(Goal) == 2 and _count(GoalRating) == 0


@pytest.mark.parametrize("role", ["pt", "nurse", "surgeon", "admin"])
def test_every_staff_role_reads_the_goals_and_only_pt_and_surgeon_edit(client, signed_in, make_trial, role) -> None:  # type: ignore[no-untyped-def]
    signed_in(role)
    trial_id = make_trial()
    page = client.get(f"/trials/{trial_id}/goals")
    assert page.status_code == 200
    assert ('id="goals-form"' in page.get_data(as_text=True)) is (role in ("pt", "surgeon"))
    response = client.post(f"/trials/{trial_id}/goals", data={"goal_1": "Sits at the table", "weight_1": "1"})
    assert response.status_code == (303 if role in ("pt", "surgeon") else 403)


def test_the_goals_page_saves_rates_and_shows_the_t_score(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    signed_in("pt")
    trial_id = make_trial()
    saved = client.post(f"/trials/{trial_id}/goals", data={"goal_1": GOALS[0][0], "weight_1": "2",
                                                           "goal_2": GOALS[1][0], "weight_2": "1"})
    assert saved.status_code == 303
    with app.app_context():
        ids = [g.id for g in goals_for(trial_id)]
        first = day_id(trial_id, 1)
    rated = client.post(f"/days/{first}/goal-ratings", data={f"score_{ids[0]}": "1", f"score_{ids[1]}": "-1"})
    assert rated.status_code == 303
    html = client.get(f"/trials/{trial_id}/goals").get_data(as_text=True)
    assert "<strong>54.0</strong>" in html and "The goals are fixed" in html
    decisions = client.get(f"/trials/{trial_id}/decisions").get_data(as_text=True)
    assert "GAS T-score <strong>54.0</strong>" in decisions


@pytest.mark.parametrize(("data", "field", "message"), [
    ({}, "goal_1", "Write at least one goal agreed with the family."),
    ({"goal_1": "x" * 301}, "goal_1", "Keep it to 300 characters."),
    ({"goal_1": "Sits", "weight_1": "7"}, "weight_1", "Choose how important this goal is."),
    ({"goal_1": "Sits", "weight_1": "lots"}, "weight_1", "Choose how important this goal is."),
])
def test_bad_goals_are_shown_beside_the_field_and_nothing_is_written(  # type: ignore[no-untyped-def]
        app, client, signed_in, make_trial, data, field, message) -> None:
    signed_in("surgeon")
    trial_id = make_trial()
    response = client.post(f"/trials/{trial_id}/goals", data=data)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field) == message
    if data.get("goal_1") == "Sits":
        assert ">Sits</textarea>" in response.get_data(as_text=True)  # what was typed is kept
    with app.app_context():
        assert _count(Goal) == 0


@pytest.mark.parametrize("score", ["3", "-3", "x", "1.5"])
def test_bad_ratings_are_refused_and_nothing_is_written(app, client, signed_in, make_trial, score) -> None:  # type: ignore[no-untyped-def]
    signed_in("pt")
    trial_id = make_trial()
    client.post(f"/trials/{trial_id}/goals", data={"goal_1": "Sits", "weight_1": "1"})
    with app.app_context():
        goal = goals_for(trial_id)[0].id
        first = day_id(trial_id, 1)
    response = client.post(f"/days/{first}/goal-ratings", data={f"score_{goal}": score})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), f"score_{goal}") == "Choose a rating from -2 to +2."
    with app.app_context():
        assert _count(GoalRating) == 0
