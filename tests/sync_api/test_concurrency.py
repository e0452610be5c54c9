"""Issue 11, finding 5: the same work sent by several phones at once is answered duplicate or conflict, never 5xx.

Real threads, each with its own client (its own session cookie and database connection), start together. A barrier
right after each request has read the sync ledger makes them all believe the entry is new, so the database's
unique constraints meet the race every time, on PostgreSQL (READ COMMITTED: the losers' INSERTs wait for the
winner's commit, then fail) as on SQLite (writers queue; the race cannot happen, the answers must be the same).
`make test-pg` / TEST_DATABASE_URL runs these on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from server.assessments.models import Assessment, AssessmentPlan
from server.auth.models import User
from server.extensions import db
from server.sync_api.models import SyncConflict, SyncLedger
from server.sync_api.store import SqlStore
from tests.assessments.conftest import form
from tests.dbutil import using_postgres

PHONES = 4


@pytest.fixture
def race(monkeypatch):  # type: ignore[no-untyped-def]
    """Hold every request at the barrier once it has read the ledger, so all of them go on believing the
    entry is new. A request that never gets there (it was answered before) does not hold the others up long.
    On SQLite a batch holds the write lock from its first read (BEGIN IMMEDIATE), so the others could never
    reach the barrier: there the requests just run at once and queue."""
    barrier = threading.Barrier(PHONES, timeout=2)
    if not using_postgres():
        return barrier
    real = SqlStore.get_ledger_many
    seen = threading.local()  # only a batch's first read of the ledger waits (not the re-reads after a clash)

    def held(self, entry_ids):  # type: ignore[no-untyped-def]
        rows = real(self, entry_ids)
        if getattr(seen, "store", None) is not self:
            seen.store = self
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()
        return rows

    monkeypatch.setattr(SqlStore, "get_ledger_many", held)
    return barrier


def _clients(app, make_user, n: int = PHONES) -> tuple[int, list[Any]]:  # type: ignore[no-untyped-def]
    """n clients signed in as the same PT (one phone each)."""
    uid = make_user("pt")
    with app.app_context():
        name = db.session.get(User, uid).username
    clients = []
    for _ in range(n):
        c = app.test_client()
        assert c.login(name).status_code == 303
        clients.append(c)
    return uid, clients


def _together(clients: list[Any], send: Callable[[Any, int], Any]) -> list[Any]:
    with ThreadPoolExecutor(len(clients)) as pool:
        return list(pool.map(lambda pair: send(*pair), [(c, n) for n, c in enumerate(clients)]))


def _entry(author: int, payload: dict[str, Any], kind: str = "assessments.record") -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "kind": kind, "payload": payload, "author_id": author, "device_id": "p",
            "recorded_at": datetime.now(UTC).isoformat(), "base_rev": None, "form_version": 1}


def _push(client, entries: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    return client.post("/api/sync", json={"protocol_version": 1, "device_id": "p", "entries": entries})


def _count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_the_same_batch_from_four_phones_at_once_is_applied_once(app, make_user, make_trial, race) -> None:  # type: ignore[no-untyped-def]
    pt, clients = _clients(app, make_user)
    trials = [make_trial() for _ in range(3)]
    batch = [_entry(pt, form(t, phase=phase)) for t in trials for phase in ("baseline", "post_dose")]
    responses = _together(clients, lambda c, _n: _push(c, batch))
    assert [r.status_code for r in responses] == [200] * PHONES, [r.get_data(as_text=True) for r in responses]
    statuses = Counter(res["status"] for r in responses for res in r.get_json()["results"])
    assert statuses == {"applied": len(batch), "duplicate": len(batch) * (PHONES - 1)}
    assert _count(app, Assessment) == len(batch) and _count(app, SyncLedger) == len(batch)
    assert _count(app, AssessmentPlan) == len(trials)


def test_the_same_observations_from_four_phones_at_once_are_applied_once(app, make_user, make_trial, race) -> None:  # type: ignore[no-untyped-def]
    from server.dosing.models import Observation
    from server.trials.models import Trial

    uid = make_user("nurse")
    trial_id = make_trial()
    with app.app_context():
        name = db.session.get(User, uid).username
        day_id = db.session.get(Trial, trial_id).days[0].id
    clients = [app.test_client() for _ in range(PHONES)]
    for c in clients:
        assert c.login(name).status_code == 303
    batch = [_entry(uid, {"trial_day_id": str(day_id), "heart_rate": str(80 + n)}, kind="dosing.observe")
             for n in range(3)]
    responses = _together(clients, lambda c, _n: _push(c, batch))
    assert [r.status_code for r in responses] == [200] * PHONES, [r.get_data(as_text=True) for r in responses]
    statuses = Counter(res["status"] for r in responses for res in r.get_json()["results"])
    assert statuses == {"applied": 3, "duplicate": 3 * (PHONES - 1)}
    assert _count(app, Observation) == 3


def test_one_version_corrected_on_four_phones_at_once_is_one_correction_and_three_conflicts(  # type: ignore[no-untyped-def]
        app, make_user, make_trial, race) -> None:
    pt, clients = _clients(app, make_user)
    trial_id = make_trial()
    first = _push(clients[0], [_entry(pt, form(trial_id))]).get_json()["results"][0]
    assert first["status"] == "applied"
    race.reset()

    def correct(client, n):  # type: ignore[no-untyped-def]
        payload = {**form(trial_id, grade=str(n)), "supersedes_id": str(first["record"]["id"]),
                   "correction_reason": f"Phone {n} re-checked"}
        return _push(client, [_entry(pt, payload, kind="assessments.correct")])

    responses = _together(clients, correct)
    assert [r.status_code for r in responses] == [200] * PHONES, [r.get_data(as_text=True) for r in responses]
    statuses = Counter(r.get_json()["results"][0]["status"] for r in responses)
    assert statuses == {"applied": 1, "conflict": PHONES - 1}
    assert _count(app, Assessment) == 2 and _count(app, SyncConflict) == PHONES - 1


def test_the_same_reused_id_from_four_phones_at_once_keeps_one_copy(app, make_user, make_trial, race) -> None:  # type: ignore[no-untyped-def]
    pt, clients = _clients(app, make_user)
    trial_id = make_trial()
    entry = _entry(pt, form(trial_id))
    assert _push(clients[0], [entry]).get_json()["results"][0]["status"] == "applied"
    race.reset()
    changed = {**entry, "payload": form(trial_id, grade="4")}
    responses = _together(clients, lambda c, _n: _push(c, [changed]))
    assert [r.status_code for r in responses] == [200] * PHONES, [r.get_data(as_text=True) for r in responses]
    assert {r.get_json()["results"][0]["status"] for r in responses} == {"conflict"}
    assert _count(app, SyncConflict) == 1


def test_the_first_assessments_of_a_trial_from_four_phones_make_one_plan(app, make_user, make_trial, race) -> None:  # type: ignore[no-untyped-def]
    pt, clients = _clients(app, make_user)
    trial_id = make_trial()
    # (each a repeat: the PTs mean four baselines of the same day)
    responses = _together(clients, lambda c, n: _push(c, [_entry(pt, form(trial_id, phase="baseline",
                                                                         repeat="1"))]))
    assert [r.status_code for r in responses] == [200] * PHONES, [r.get_data(as_text=True) for r in responses]
    assert {r.get_json()["results"][0]["status"] for r in responses} == {"applied"}
    assert _count(app, AssessmentPlan) == 1 and _count(app, Assessment) == PHONES


def test_the_first_assessments_by_plain_form_from_four_phones_at_once(app, make_user, make_trial) -> None:  # type: ignore[no-untyped-def]
    _pt, clients = _clients(app, make_user)
    trial_id = make_trial()
    responses = _together(clients, lambda c, _n: c.post(f"/trials/{trial_id}/days/1/baseline",
                                                      data={**form(trial_id, repeat="1"),
                                                            "entry_id": str(uuid.uuid4())}))
    assert [r.status_code for r in responses] == [303] * PHONES, [r.get_data(as_text=True)[:300] for r in responses]
    assert _count(app, AssessmentPlan) == 1 and _count(app, Assessment) == PHONES


def test_one_form_saved_twice_at_once_is_one_assessment(app, make_user, make_trial) -> None:  # type: ignore[no-untyped-def]
    """A double tap on a slow network: the same entry id posted by the plain form twice at once."""
    _pt, clients = _clients(app, make_user, 2)
    trial_id = make_trial()
    data = {**form(trial_id), "entry_id": str(uuid.uuid4())}
    responses = _together(clients, lambda c, _n: c.post(f"/trials/{trial_id}/days/1/baseline", data=data))
    assert [r.status_code for r in responses] == [303, 303], [r.get_data(as_text=True)[:300] for r in responses]
    assert _count(app, Assessment) == 1
