"""Command-line tasks: `flask --app server demo-data`, `flask --app server create-admin`."""

from __future__ import annotations

import getpass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import click
from flask import Flask, current_app
from sqlalchemy import select

from .audit.context import Actor, acting_as
from .extensions import db


def register(app: Flask) -> None:
    app.cli.add_command(demo_data)
    app.cli.add_command(create_admin)


@click.command("create-admin")
@click.option("--username", prompt=True)
@click.option("--name", "display_name", prompt="Full name")
def create_admin(username: str, display_name: str) -> None:
    """Create the first admin account (asks for the password): the same form schema and password policy as an
    admin's "New account" page."""
    from werkzeug.datastructures import MultiDict

    from .admin.services import create_staff
    from .auth.policy import rules_text
    from .auth.schemas import StaffCreateSchema
    from .auth.services import StaffError
    from .web.forms import load_form

    click.echo(f"Password: {rules_text()}")
    password = getpass.getpass("Password: ")
    form = MultiDict([("username", username), ("display_name", display_name), ("password", password),
                      ("roles", "admin")])
    data, errors = load_form(StaffCreateSchema(), form)
    with acting_as(Actor(user_id=None, via="cli")):
        if data is not None:
            try:
                create_staff(data)
                db.session.commit()
            except StaffError as exc:
                db.session.rollback()
                errors = exc.errors
    if errors:
        raise click.ClickException("Not created. " + " ".join(
            f"{LABELS.get(field, field)}: {' '.join(messages)}" for field, messages in errors.items()))
    click.echo(f"Admin {data['username'] if data else username} created.")


LABELS = {"username": "Username", "display_name": "Full name", "password": "Password", "_form": "Account"}


DEMO_PASSWORD = "demo-pass"  # noqa: S105 - demo accounts only exist when demo data is loaded on purpose


@click.command("demo-data")
def demo_data() -> None:
    """Load demo staff (password demo-pass) and four children at different trial stages. Never in production."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("Refusing to load demo accounts with APP_ENV=production.")
    if load_demo_data():
        click.echo(f"Demo data loaded: staff pt, nurse, surgeon, admin (password {DEMO_PASSWORD}).")
    else:
        click.echo("Demo data already present; nothing changed.")


def load_demo_data(today: date | None = None, now: datetime | None = None) -> bool:
    """Demo staff and children; False (and nothing changed) when an `admin` account exists already."""
    from .admin.services import create_staff
    from .auth.models import User
    from .protocol import current_protocol
    from .trials.models import Patient
    from .trials.services import create_patient, create_trial
    from .web import clock

    with acting_as(Actor(user_id=None, via="cli")):
        if db.session.scalar(select(User.id).where(User.username == "admin")) is not None:
            return False
        staff = {}
        for username, name, roles in (("pt", "Priya Thomas (PT)", ["pt"]), ("nurse", "Noah Evans (nurse)", ["nurse"]),
                                      ("surgeon", "Sara Gomez (neurosurgeon)", ["surgeon"]),
                                      ("admin", "Alex Morgan (admin)", ["admin"])):
            # The demo's password is published (README), so the password policy has nothing to protect here.
            staff[username] = create_staff({"username": username, "display_name": name,
                                            "password": DEMO_PASSWORD, "roles": roles}, enforce_policy=False)
        today = today or clock.today()
        protocol = current_protocol()
        children = [
            # (first, last, age, mrn, kg, gmfcs, tone, trial day today (None = finished), bed)
            ("Amira", "Hassan", 7, "DEMO-1001", "21.5", 3, "spastic", 1, "2"),
            ("Ben", "Carter", 9, "DEMO-1002", "27.0", 4, "spastic", 2, "4"),
            ("Chloe", "Nguyen", 5, "DEMO-1003", "16.2", 2, "mixed", 3, "7"),
            ("Daniel", "Okafor", 11, "DEMO-1004", "33.8", 4, "spastic", None, None),
        ]
        for first, last, age, mrn, kg, gmfcs, tone, day_today, bed in children:
            patient: Patient = create_patient({
                "first_name": first, "last_name": last, "mrn": mrn, "weight_kg": Decimal(kg),
                "gmfcs_level": gmfcs, "tone_type": tone, "diagnosis": "Bilateral spastic cerebral palsy",
                "date_of_birth": today.replace(year=today.year - age) - timedelta(days=40)})
            start = today - timedelta(days=(day_today or 6) - 1)
            trial = create_trial({"patient_id": patient.id, "start_date": start, "bed": bed,
                                  "catheter_placed_at": None, "small_child": kg < "18",
                                  "day1_dose_mcg": protocol.day1_small_child_mcg if kg < "18"
                                  else protocol.day1_default_mcg,
                                  "dose_time": time(9, 0)}, created_by_id=staff["surgeon"].id)
            if day_today is None:
                trial.status = "completed"
                trial.outcome = "candidate"
                trial.outcome_reason = "Tone clearly lower at 75 mcg on day 3; goals met; family keen."
            db.session.commit()

        from .dosing.demo import add_demo_dosing

        add_demo_dosing(today, now)
        db.session.commit()

        from .assessments.demo import add_demo_assessments

        add_demo_assessments()
        db.session.commit()

        from .decisions.demo import add_demo_decisions

        add_demo_decisions()
        db.session.commit()

        from .goals.demo import add_demo_goals

        add_demo_goals()
        db.session.commit()
    return True
