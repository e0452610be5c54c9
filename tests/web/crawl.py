"""A world to crawl, and the crawl: every GET page of the app as every role and anonymously. Used by the
hostile-input test (no page answers 5xx) and the wording test (no page shows internal labels)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import text
from werkzeug.test import TestResponse

from server.extensions import db
from tests.assessments.conftest import form as assessment_form


class World:
    def __init__(self) -> None:
        self.users: dict[str, int] = {}
        self.ids: dict[str, int] = {}


def build_world(app: Flask, make_user: Any, make_trial: Any) -> World:
    """Staff of every role, a trial with a dose, an observation, an assessment, goals and a parent link."""
    from server.assessments.services import record_assessment
    from server.auth.models import User
    from server.dosing.services import record_dose, record_observation
    from server.goals.services import set_goals
    from server.parents.services import create_link, form_token
    from server.trials.models import Trial
    from tests.assessments.conftest import loaded

    w = World()
    for role in ("pt", "nurse", "surgeon", "admin"):
        w.users[role] = make_user(role)
    w.users["all"] = make_user("pt", "nurse", "surgeon", "admin")
    w.users["checker"] = make_user("nurse")
    w.users["spare"] = make_user("pt")  # the account whose password and active state the admin forms fuzz
    trial_id = make_trial()
    with app.app_context():
        trial = db.session.get(Trial, trial_id)
        day = trial.days[0]
        now = datetime.now(UTC)
        dose = record_dose(day.id, {"given_time": time(0, 5), "dose_mcg": Decimal(50), "override_reason": None,
                                    "route": "catheter", "given_by_id": w.users["all"],
                                    "checked_by_id": w.users["checker"]}, recorded_by_id=w.users["all"], now=now)
        obs = record_observation({"trial_day_id": day.id, "heart_rate": 90, "effects": []},
                                 author_id=w.users["nurse"], entry_id=str(uuid.uuid4()), now=now)
        assessment = record_assessment(loaded(assessment_form(trial_id)), author_id=w.users["pt"], recorded_at=now,
                                       entry_id=str(uuid.uuid4()))
        goals = set_goals(trial_id, [("Sit at the table for a meal", 2)], author_id=w.users["pt"])
        link = create_link(trial_id, {"label": "Mum", "expires_in_days": 7}, author_id=w.users["surgeon"])
        db.session.commit()
        w.ids = {"trial_id": trial_id, "day_id": day.id, "dose_id": dose.id, "observation_id": obs.id,
                 "assessment_id": assessment.id, "goal_id": goals[0].id, "link_id": link.link.id,
                 "user_id": w.users["nurse"], "token": 0, "patient_id": trial.patient_id}
        w.token = link.token  # type: ignore[attr-defined]
        w.form_token = form_token(link.link)  # type: ignore[attr-defined]
        w.usernames = {r: db.session.get(User, uid).username for r, uid in w.users.items()}  # type: ignore[attr-defined]
    return w


def pages(app: Flask, w: World) -> Iterator[tuple[str, str, TestResponse]]:
    """GET every page (ids of the world and the latest rows stored since) as every role and anonymously: yields
    (role, path, response)."""
    with app.app_context():
        def latest(table: str) -> list[int]:
            return list(db.session.scalars(text(f"SELECT id FROM {table} ORDER BY id DESC LIMIT 3")))

        values: dict[str, list[Any]] = {
            "trial_id": sorted({w.ids["trial_id"], *latest("trials")}),
            "day_id": sorted({w.ids["day_id"], *latest("trial_days")}),
            "dose_id": sorted({w.ids["dose_id"], *latest("dose_administrations")}),
            "assessment_id": sorted({w.ids["assessment_id"], *latest("assessments")}),
            "link_id": [w.ids["link_id"]], "user_id": [w.ids["user_id"]], "day_number": [1, 3, 4],
            "patient_id": sorted({w.ids["patient_id"], *latest("patients")}),
            "phase": ["baseline", "post-dose", "nope"], "token": [w.token, "x" * 43],  # type: ignore[attr-defined]
            "entry_id": [str(uuid.uuid4())], "filename": ["css/app.css"],
        }
    rules = [r for r in app.url_map.iter_rules() if "GET" in (r.methods or set())]
    clients = {"anonymous": app.test_client()}
    for role in ("pt", "nurse", "surgeon", "admin"):
        c = app.test_client()
        assert c.login(w.usernames[role]).status_code == 303  # type: ignore[attr-defined]
        clients[role] = c
    for rule in rules:
        combos: list[dict[str, Any]] = [{}]
        for arg in sorted(rule.arguments):
            combos = [{**c, arg: v} for c in combos for v in values[arg]]
        for args in combos[:12]:
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m, a=args: str(a[m.group(1)]), rule.rule)
            for role, c in clients.items():
                yield role, path, c.get(path)
