"""Issue 11, acceptance: property-based hostile input on every form and on the sync API, then a crawl.

One test per database run (SQLite, or PostgreSQL with TEST_DATABASE_URL), in three stages on one world:

1. **Every form** (each POST route of the app but the JSON API): Hypothesis fills the route's own schema
   fields with values drawn from the field's validators (choices, the edges of a range and one step past them,
   the longest text and one more) mixed with hostile ones (NUL, lone-surrogate-free non-Latin-1 text, year 1
   and 9999, 2^31 and 2^63, NaN, 40-digit numbers, empty), the URL's ids pointing at real and missing records.
   Each answer must be below 500, and a refusal (4xx, except a 409 that keeps a stale version on purpose)
   must have written nothing: no table's row count changes.
2. **The sync API**: schemathesis generates requests from `/api/openapi.json` (shape fuzzing), and a Hypothesis
   strategy of well-formed entries of every kind with hostile payloads and clocks reaches the handlers.
   Every answer below 500; an entry answered rejected leaves no record and no ledger row; one answered
   applied has exactly one ledger row.
3. **A crawl of every page as every role** (and anonymous), over whatever the fuzzing stored: below 500.

The number of examples is kept small enough for the normal suite (FUZZ_EXAMPLES, default 40 per form and per
API operation).
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import fields, validate
from sqlalchemy import func, select, text

from server.extensions import db
from tests.assessments.conftest import form as assessment_form
from tests.web.crawl import World, build_world, pages

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))

HOSTILE = ["", " ", "\x00", "a\x00b", "\u20ac\u4e2d\U0001f600", "x" * 5000, "-1", "0", "2147483648",
           str(2**63), "9" * 40, "1e999", "NaN", "Infinity", "-0", "0001-01-01", "9999-12-31",
           "0001-01-01T00:00", "9999-12-31T23:59", "2026-02-30", "25:61", "24:00", "true", "null", "[]", "{}",
           "<script>alert(1)</script>", "' OR 1=1 --", "/\\evil.example", "%00", "\ud7ff", "\ufeff"]
hostile = st.sampled_from(HOSTILE) | st.text(max_size=40)


# ---- values from a marshmallow field ------------------------------------------------------------------------

def _plausible(field: fields.Field[Any]) -> list[str]:
    """Values a form could hold for this field: its choices, the edges of its ranges and one step past them."""
    out: list[str] = []
    validators = list(field.validators)
    inner = field.inner if isinstance(field, fields.List) else None
    for v in validators + (list(inner.validators) if inner is not None else []):
        if isinstance(v, validate.OneOf | validate.ContainsOnly):
            out += [str(c) for c in v.choices]
        if isinstance(v, validate.Range):
            for edge in (v.min, v.max):
                if edge is not None:
                    step: Any = timedelta(days=1) if isinstance(edge, date) else 1
                    out += [str(edge), str(edge - step), str(edge + step)]
        if isinstance(v, validate.Length) and v.max is not None:
            out += ["x" * v.max, "x" * (v.max + 1), "A long sentence with four words or more, a reason."]
    if isinstance(field, fields.DateTime):
        now = datetime.now(UTC)
        out += [now.strftime("%Y-%m-%dT%H:%M"), (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")]
    elif isinstance(field, fields.Date):
        out += [date.today().isoformat(), "2018-03-14"]
    elif isinstance(field, fields.Time):
        out += ["09:00", "14:20", "23:59"]
    elif isinstance(field, fields.Decimal | fields.Float):
        out += ["50", "12.5", "0.1", "150", "151", "36.8"]
    elif isinstance(field, fields.Integer):
        out += ["1", "2", "3"]
    elif isinstance(field, fields.Boolean):
        out += ["on", "yes", "off"]
    elif isinstance(field, fields.String):
        out += ["yes", "other", "A reason given in a full sentence of words."]
    return out or ["1"]


def _values(field: fields.Field[Any], ids: list[str]) -> st.SearchStrategy[Any]:
    plausible = st.sampled_from(_plausible(field) + ids)
    single = plausible | hostile
    if isinstance(field, fields.List):
        return st.lists(single, max_size=4)
    return single


def _form_strategy(schema: Any, base: dict[str, Any], ids: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid-looking base form with some fields changed, dropped or added."""
    declared = {f.data_key or name: f for name, f in schema._declared_fields.items()}

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        data = dict(base)
        names = sorted(declared)
        for name in draw(st.lists(st.sampled_from(names), max_size=6, unique=True)) if names else []:
            if draw(st.booleans()) and name in data:
                del data[name]
            else:
                data[name] = draw(_values(declared[name], ids))
        if draw(st.integers(0, 9)) == 0:
            data[draw(st.sampled_from(["surprise", "csrf", "\u20ac", "a" * 300, "next"]))] = draw(hostile)
        return data

    return build()


# ---- the world ------------------------------------------------------------------------------------------------

def _counts(app: Flask) -> dict[str, int]:
    """Rows per table, but the ones every request may touch (sign-in records, sessions)."""
    skip = {"login_attempts", "login_throttles", "user_sessions", "rate_limit_counters"}
    with app.app_context():
        return {t.name: db.session.scalar(select(func.count()).select_from(t)) or 0
                for t in db.metadata.sorted_tables if t.name not in skip}


# ---- 1. every form --------------------------------------------------------------------------------------------

def _form_targets(w: World) -> dict[str, tuple[list[str], Any, dict[str, Any]]]:
    """endpoint -> (URLs to post to, schema, a valid-looking base form). Every POST route of the app but the API."""
    from server.assessments.schemas import AssessmentSchema, TimingSchema
    from server.assessments.schemas import PlanSchema as ItemsSchema
    from server.auth.schemas import (
        LoginSchema,
        PasswordChangeSchema,
        StaffActiveSchema,
        StaffCreateSchema,
        StaffRolesSchema,
        TemporaryPasswordSchema,
    )
    from server.decisions.schemas import DecisionSchema, OutcomeSchema
    from server.dosing.schemas import (
        AmendSchema,
        DoseSchema,
        EscalationResponseSchema,
        HoldSchema,
        ObservationSchema,
        VoidSchema,
    )
    from server.dosing.schemas import PlanSchema as DosePlanSchema
    from server.exports.schemas import ExportSchema
    from server.goals.schemas import GoalsSchema, ratings_schema
    from server.parents.schemas import ParentLinkSchema, ParentObservationSchema
    from server.trials.schemas import PatientEditSchema, PatientSchema, TrialEditSchema, TrialSchema

    i = w.ids
    t, d, dose, a, link, u = i["trial_id"], i["day_id"], i["dose_id"], i["assessment_id"], i["link_id"], i["user_id"]
    spare, p = w.users["spare"], i["patient_id"]
    missing = 2**31 - 1
    staff = {"given_by_id": str(w.users["all"]), "checked_by_id": str(w.users["checker"])}
    afm = assessment_form(t)
    return {
        "auth.login": (["/login", "/login?next=/%5Cevil"], LoginSchema(), {"username": "x", "password": "y"}),
        "auth.logout": (["/logout"], LoginSchema(), {}),
        "admin.staff_new": (["/admin/staff/new"], StaffCreateSchema(),
                            {"username": "new.person", "display_name": "New", "password": "long-enough-1",
                             "roles": ["pt"]}),
        "admin.staff_roles": ([f"/admin/staff/{u}/roles", f"/admin/staff/{missing}/roles"], StaffRolesSchema(),
                              {"roles": ["nurse"]}),
        "admin.staff_active": ([f"/admin/staff/{spare}/active", f"/admin/staff/{w.users['all']}/active"],
                               StaffActiveSchema(), {"active": "1"}),
        "admin.staff_password": ([f"/admin/staff/{spare}/password", f"/admin/staff/{missing}/password"],
                                 TemporaryPasswordSchema(), {"password": "violet-harbour-lamp"}),
        # The signed-in user's own password: whatever a change stored, correct-horse is put back afterwards.
        "auth.password": (["/account/password", "/account/password?next=//evil"], PasswordChangeSchema(),
                          {"current_password": "correct-horse", "new_password": "violet-harbour-lamp",
                           "new_password_again": "violet-harbour-lamp"}),
        "trials.patient_edit": ([f"/patients/{p}/edit", f"/patients/{missing}/edit"], PatientEditSchema(),
                                {"first_name": "Eve", "last_name": "Stone", "date_of_birth": "2017-01-02",
                                 "mrn": "F-2", "weight_kg": "20.4", "weight_measured_on": date.today().isoformat(),
                                 "gmfcs_level": "3", "diagnosis": "CP", "tone_type": "spastic",
                                 "base_revision": "1"}),
        "trials.trial_edit": ([f"/trials/{t}/edit", f"/trials/{missing}/edit"], TrialEditSchema(),
                              {"start_date": date.today().isoformat(), "bed": "4", "base_revision": "1"}),
        "trials.patient_new": (["/patients/new"], PatientSchema(),
                               {"first_name": "Eve", "last_name": "Stone", "date_of_birth": "2017-01-02",
                                "mrn": "F-1", "weight_kg": "20.4", "gmfcs_level": "3", "diagnosis": "CP",
                                "tone_type": "spastic"}),
        "trials.trial_new": (["/trials/new"], TrialSchema(),
                             {"patient_id": "1", "start_date": date.today().isoformat(), "day1_dose_mcg": "50",
                              "dose_time": "09:00"}),
        "assessments.new": ([f"/trials/{t}/days/1/baseline", f"/trials/{t}/days/2/post-dose?repeat=1",
                             f"/trials/{missing}/days/1/baseline"], AssessmentSchema(), afm),
        "assessments.correct": ([f"/assessments/{a}/correct"], AssessmentSchema(),
                                {**afm, "correction_reason": "Scored the wrong side."}),
        "assessments.resolve": ([f"/assessments/{a}/timing", f"/assessments/{missing}/timing"], TimingSchema(),
                                {"action": "confirm", "reason": "The dose was given late."}),
        "assessments.plan": ([f"/trials/{t}/assessment-plan", f"/trials/{t}/assessment-plan?next=//evil"],
                             ItemsSchema(), {"items": ["mas.hip_adductors"]}),
        "dosing.plan": ([f"/days/{d}/plan"], DosePlanSchema(),
                        {"dose_mcg": "50", "planned_time": "09:00", "base_revision": "1"}),
        "dosing.hold": ([f"/days/{d}/hold"], HoldSchema(),
                        {"action": "hold", "reason": "Drowsy this morning.", "base_revision": "1"}),
        "dosing.record": ([f"/days/{d}/dose", f"/days/{missing}/dose"], DoseSchema(),
                          {"given_time": "09:00", "dose_mcg": "50", "route": "catheter", **staff}),
        "dosing.amend": ([f"/doses/{dose}/amend"], AmendSchema(),
                         {"given_time": "00:10", "dose_mcg": "50", "checked_by_id": staff["checked_by_id"],
                          "reason": "The time was typed wrong by me.", "base_version": "1"}),
        "dosing.void": ([f"/doses/{dose}/void"], VoidSchema(),
                        {"reason": "Entered for the wrong child today.", "confirm": "yes", "base_version": "1"}),
        "dosing.escalation_acted_on": ([f"/days/{d}/escalation"], EscalationResponseSchema(),
                                       {"acted_by_id": str(w.users["all"]), "action_taken": "Called the team.",
                                        "acted_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
                                        "escalation_key": "1"}),
        "dosing.observe": ([f"/days/{d}/observations"], ObservationSchema(),
                           {"trial_day_id": str(d), "heart_rate": "90"}),
        "decisions.day_save": ([f"/days/{d}/decision"], DecisionSchema(),
                               {"effect": "some", "next_step": "repeat", "dose_mcg": "50", "planned_time": "09:00",
                                "rationale": "Some effect, no side effects.", "team_present": ["surgeon"],
                                "base_revision": "0"}),
        "decisions.outcome_save": ([f"/trials/{t}/outcome"], OutcomeSchema(),
                                   {"outcome": "inconclusive", "outcome_reason": "Not enough days to judge it.",
                                    "base_revision": "1"}),
        "goals.save": ([f"/trials/{t}/goals"], GoalsSchema(), {"goal_1": "Sit at the table", "weight_1": "2"}),
        "goals.rate": ([f"/days/{d}/goal-ratings"], ratings_schema([i["goal_id"]]), {f"score_{i['goal_id']}": "1"}),
        "exports.download": (["/exports"], ExportSchema(), {"trial_id": str(t), "file": "zip"}),
        "parents.create": ([f"/trials/{t}/parent-links"], ParentLinkSchema(), {"label": "Dad", "expires_in_days": "7"}),
        "parents.observe": ([f"/p/{w.token}/days/{d}/observation", f"/p/{w.token}/days/{missing}/observation",  # type: ignore[attr-defined]
                             f"/p/{w.token}/days/{d}/observation?lang=es", f"/p/{'A' * 43}/days/{d}/observation"],  # type: ignore[attr-defined]
                            ParentObservationSchema(), {"comfort": "3", "note": "Slept well.",
                                                  "csrf_token": w.form_token}),  # type: ignore[attr-defined]
        "parents.refuse_post": ([f"/p/{w.token}", f"/p/{w.token}/days/{2**31}/observation"],  # type: ignore[attr-defined]
                                ParentObservationSchema(), {"comfort": "3", "csrf_token": w.form_token}),  # type: ignore[attr-defined]
        "parents.revoke": ([f"/trials/{t}/parent-links/{link}/revoke", f"/trials/{t}/parent-links/{missing}/revoke"],
                           ParentLinkSchema(), {}),
    }


def _form_test(app: Flask, client: Any, w: World, seen: dict[str, int], endpoint: str, urls: list[str],
               forms: st.SearchStrategy[dict[str, Any]]) -> Any:
    @SETTINGS
    @given(url=st.sampled_from(urls), data=forms, htmx=st.booleans())
    def post(url: str, data: dict[str, Any], htmx: bool) -> None:
        before = _counts(app)
        response = client.post(url, data=data, headers={"HX-Request": "true"} if htmx else {})
        status = response.status_code
        assert status < 500, (endpoint, url, data, status, response.get_data(as_text=True)[:500])
        if status >= 400 and status != 409:  # a 409 may keep the stale version on purpose (dosing plans)
            assert _counts(app) == before, (endpoint, url, data, status)
        seen[f"{endpoint} {status}"] = seen.get(f"{endpoint} {status}", 0) + 1
        if endpoint == "auth.password" and status < 400:
            _restore_password(app, w.users["all"])  # so the later stages can still sign in as this user
        if endpoint == "auth.logout" or (endpoint == "auth.login" and status == 303):
            client.login(w.usernames["all"])  # type: ignore[attr-defined]  # signed out: sign in again

    return post


def _restore_password(app: Flask, user_id: int) -> None:
    from server.auth.models import User
    from server.auth.passwords import hash_password

    with app.app_context():
        db.session.get(User, user_id).password_hash = hash_password("correct-horse")
        db.session.commit()


def _fuzz_forms(app: Flask, w: World) -> dict[str, int]:
    targets = _form_targets(w)
    post_routes = {r.endpoint for r in app.url_map.iter_rules() if "POST" in (r.methods or set())}
    assert post_routes - set(targets) == {"sync_api.push"}, "a new form must be fuzzed here too"
    client = app.test_client()
    assert client.login(w.usernames["all"]).status_code == 303  # type: ignore[attr-defined]
    ids = [str(v) for v in w.ids.values()] + [str(2**31 - 1)]
    seen: dict[str, int] = {}
    for endpoint, (urls, schema, base) in sorted(targets.items()):
        _form_test(app, client, w, seen, endpoint, urls, _form_strategy(schema, base, ids))()
    return seen


# ---- 2. the sync API ------------------------------------------------------------------------------------------

EDGE_TIMES = ["9999-12-30T00:00:00.000Z", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59",
              "1999-12-31T23:59:59Z", "2099-01-01T00:00:00Z", "2026-13-01T00:00:00Z", "yesterday"]


def _sync_entries(w: World) -> st.SearchStrategy[list[dict[str, Any]]]:
    i = w.ids
    kinds = {"assessments.record": assessment_form(i["trial_id"]),
             "assessments.correct": {**assessment_form(i["trial_id"]), "supersedes_id": str(i["assessment_id"]),
                                     "correction_reason": "Wrong side."},
             "dosing.observe": {"trial_day_id": str(i["day_id"]), "heart_rate": "90", "taken_at": ""}}
    keys = sorted({k for payload in kinds.values() for k in payload})

    @st.composite
    def one(draw: st.DrawFn) -> dict[str, Any]:
        kind = draw(st.sampled_from(sorted(kinds)))
        payload = dict(kinds[kind])
        for key in draw(st.lists(st.sampled_from(keys), max_size=4, unique=True)):
            payload[key] = draw(hostile | st.integers() | st.none() | st.lists(hostile, max_size=2))
        now = datetime.now(UTC)
        when = draw(st.sampled_from([now.isoformat(), (now - timedelta(hours=3)).isoformat(), *EDGE_TIMES]))
        return {"id": str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4)), "kind": kind,
                "payload": payload, "author_id": w.users["all"], "device_id": draw(st.sampled_from(["p", "p\x00"])),
                "recorded_at": when, "base_rev": draw(st.none() | st.sampled_from([0, 1, 2**31, 2**63])),
                "form_version": draw(st.sampled_from([1, 1, 2, 2**31]))}

    return st.lists(one(), min_size=1, max_size=4)


def _entry_rows(app: Flask, entry_ids: list[str]) -> dict[str, tuple[int, int]]:
    """Per entry id: (ledger rows, assessment + observation rows)."""
    out = {}
    with app.app_context():
        for entry_id in entry_ids:
            ledger = db.session.execute(text("SELECT count(*) FROM sync_ledger WHERE entry_id = :i"),
                                        {"i": entry_id}).scalar() or 0
            records = sum(db.session.execute(text(f"SELECT count(*) FROM {table} WHERE entry_id = :i"),
                                             {"i": entry_id}).scalar() or 0
                          for table in ("assessments", "observations"))
            out[entry_id] = (ledger, records)
    return out


def _check_sync_answer(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]],
                       body: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """A rejected entry wrote nothing; an applied one has one ledger row and at most one record."""
    statuses: dict[str, set[str]] = {}
    for entry, result in zip(entries, body["results"], strict=True):
        assert result["id"] == entry["id"]
        statuses.setdefault(entry["id"], set()).add(result["status"])
    for entry_id, answered in statuses.items():
        if answered == {"rejected"}:
            assert after[entry_id] == before[entry_id], (entry_id, answered)
        if "applied" in answered:
            assert after[entry_id][0] == 1 and after[entry_id][1] <= 1, (entry_id, answered, after[entry_id])


def _api_test(app: Flask, operation: Any, token: str, cookie: str, seen: dict[str, int]) -> Any:
    @SETTINGS
    @given(case=operation.as_strategy())
    def call(case: Any) -> None:
        before = _counts(app)
        response = case.call(headers={"X-CSRFToken": token}, cookies={app.config["SESSION_COOKIE_NAME"]: cookie})
        assert response.status_code < 500, (case.body, response.text[:500])
        if response.status_code != 200:
            assert _counts(app) == before
        key = f"schemathesis {operation.method.upper()} {operation.path} {response.status_code}"
        seen[key] = seen.get(key, 0) + 1

    return call


def _fuzz_sync(app: Flask, w: World) -> dict[str, int]:
    client = app.test_client()
    assert client.login(w.usernames["all"]).status_code == 303  # type: ignore[attr-defined]
    token = client.get("/api/session").get_json()["csrf_token"]
    seen: dict[str, int] = {}

    @SETTINGS
    @given(entries=_sync_entries(w))
    def push(entries: list[dict[str, Any]]) -> None:
        before, rows = _counts(app), _entry_rows(app, [e["id"] for e in entries])
        response = client.post("/api/sync", json={"protocol_version": 1, "device_id": "p", "entries": entries})
        assert response.status_code < 500, (entries, response.get_data(as_text=True)[:500])
        if response.status_code == 200:
            _check_sync_answer(rows, _entry_rows(app, [e["id"] for e in entries]), response.get_json(), entries)
        else:
            assert _counts(app) == before
        seen[f"entries {response.status_code}"] = seen.get(f"entries {response.status_code}", 0) + 1

    push()

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    for result in schema.get_all_operations():
        _api_test(app, result.ok(), token, cookie, seen)()
    return seen


# ---- 3. the crawl ---------------------------------------------------------------------------------------------

def _crawl(app: Flask, w: World) -> int:
    """GET every page (ids of the world and the latest rows the fuzzing stored) as every role and anonymously."""
    visited = 0
    for role, path, response in pages(app, w):
        visited += 1
        assert response.status_code < 500, (role, path, response.status_code)
    return visited


def test_hostile_input_on_every_form_and_the_sync_api_then_every_page_as_every_role(  # type: ignore[no-untyped-def]
        app, make_user, make_trial) -> None:
    w = build_world(app, make_user, make_trial)
    forms = _fuzz_forms(app, w)
    sync = _fuzz_sync(app, w)
    pages = _crawl(app, w)
    print(f"\nforms: {sum(forms.values())} posts {dict(sorted(forms.items()))}\nsync: {dict(sorted(sync.items()))}"
          f"\ncrawl: {pages} page views")
    assert sum(forms.values()) >= len(_form_targets(w)) and pages > 100
