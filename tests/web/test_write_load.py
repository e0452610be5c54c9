"""Issue 11, finding 6: under load, correct sign-ins and form posts are served, not refused with 503 "database is
locked". On SQLite a transaction that read before writing could not wait for the write lock; every transaction
of a writing request now begins with BEGIN IMMEDIATE and queues instead. Real threads, both databases."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from server.auth.models import User
from server.dosing.models import Observation
from server.extensions import db
from server.trials.models import Trial


def test_eight_correct_sign_ins_at_once_all_succeed(app, make_user) -> None:  # type: ignore[no-untyped-def]
    ids = [make_user("nurse") for _ in range(8)]
    with app.app_context():
        names = [db.session.get(User, uid).username for uid in ids]
    clients = [app.test_client() for _ in names]
    for c in clients:
        c.get("/login")
    start = threading.Barrier(len(names))

    def sign_in(pair):  # type: ignore[no-untyped-def]
        client, name = pair
        start.wait()
        return client.login(name).status_code

    with ThreadPoolExecutor(len(names)) as pool:
        assert list(pool.map(sign_in, zip(clients, names, strict=True))) == [303] * len(names)


def test_form_posts_and_page_views_from_many_nurses_at_once_are_all_served(app, make_user, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    ids = [make_user("nurse") for _ in range(10)]
    with app.app_context():
        names = [db.session.get(User, uid).username for uid in ids]
        day_id = db.session.get(Trial, trial_id).days[0].id
    clients = [app.test_client() for _ in names]
    for c, name in zip(clients, names, strict=True):
        assert c.login(name).status_code == 303

    def work(n: int) -> list[int]:
        client = clients[n % len(clients)]
        out = []
        for i in range(4):
            out.append(client.post(f"/days/{day_id}/observations",
                                   data={"trial_day_id": str(day_id), "heart_rate": str(80 + i)}).status_code)
            out.append(client.get(f"/days/{day_id}/monitoring").status_code)
        return out

    with ThreadPoolExecutor(10) as pool:
        statuses = [s for batch in pool.map(work, range(10)) for s in batch]
    assert sorted(set(statuses)) == [200, 303], statuses
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Observation)) == 40
