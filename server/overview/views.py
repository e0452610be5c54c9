"""The overview pages. Each reads the features through their read APIs and renders; no rule lives here."""

from __future__ import annotations

from flask import request

from ..assessments.instruments import MAS_MAPPINGS
from ..assessments.today import NEEDS, pt_days
from ..auth.decorators import STAFF, roles_required
from ..decisions.services import waiting_for
from ..dosing import schedule, vitals
from ..dosing.services import open_escalations
from ..extensions import db
from ..protocol import current_protocol
from ..trials.models import TRIAL_STATUSES
from ..trials.services import active_trials_on, trials_query
from ..web import clock
from ..web.htmx import render
from . import bp


@bp.get("/today")
@roles_required("pt")
def today():
    day = clock.today()
    now = clock.now()
    trials = active_trials_on(day)
    escalations = open_escalations([t.id for t in trials])
    rows = pt_days(trials, day, now)
    # An open escalation first, then what needs the PT now (stable: beds stay in order within each group).
    rows.sort(key=lambda r: (r.trial.id not in escalations, NEEDS.index(r.needs)))
    return render("overview/today.html", rows=rows, day=day, escalations=escalations, now=now)


@bp.get("/trials")
@roles_required("surgeon", "admin")
def trials():
    status = request.args.get("status")
    statuses = (status,) if status in TRIAL_STATUSES else None
    found = list(db.session.scalars(trials_query(statuses=statuses)).all())
    escalations = open_escalations([t.id for t in found])
    found.sort(key=lambda t: t.id not in escalations)  # an open escalation first, whatever the trial's status
    return render("overview/trials.html", "overview/_trial_list.html", trials=found, chosen_status=status,
                  waiting=waiting_for(found, clock.now()), escalations=escalations, now=clock.now(),
                  statuses=TRIAL_STATUSES, day=clock.today())


@bp.get("/protocol")
@roles_required(*STAFF)
def protocol():
    p = current_protocol()
    return render("overview/protocol.html", protocol=p, offsets=schedule.observation_offsets(p), vitals=vitals,
                  mapping=MAS_MAPPINGS[p.mas_mapping])
