"""Issue 11, finding 7: throttling that slows guessing without locking people out, counts a burst of guesses one
by one, and refuses an unknown username in the same time as a known one."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from argon2 import PasswordHasher
from sqlalchemy import func, select

from server.auth import services
from server.auth.models import LoginAttempt
from server.extensions import db


def _login(client, username: str, password: str, address: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_after_the_free_failures_each_attempt_waits_a_growing_delay_never_a_lock(  # type: ignore[no-untyped-def]
        client, make_user, stopped_clock) -> None:
    make_user("nurse", username="nell")
    for _ in range(5):
        assert _login(client, "nell", "guess-guess").status_code == 401
    waiting = _login(client, "nell", "correct-horse")  # the right password, too early
    assert waiting.status_code == 429 and waiting.headers["Retry-After"] == "30"
    assert "Wait 30 seconds" in waiting.get_data(as_text=True)
    stopped_clock.shift(timedelta(seconds=31))
    assert _login(client, "nell", "guess-guess").status_code == 401  # the 6th failure: now 60 s
    stopped_clock.shift(timedelta(seconds=31))
    assert _login(client, "nell", "correct-horse").status_code == 429
    stopped_clock.shift(timedelta(seconds=30))
    assert _login(client, "nell", "correct-horse").status_code == 303  # in, once the delay has passed


def test_delays_double_up_to_the_window(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        delays = [services.failure_delay(n).total_seconds() for n in range(1, 13)]
    assert delays == [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900]


def test_throttling_is_by_account_and_address(client, make_user, stopped_clock) -> None:  # type: ignore[no-untyped-def]
    make_user("nurse", username="nia")
    make_user("nurse", username="colleague")
    for _ in range(6):
        _login(client, "nia", "guess-guess", address="203.0.113.9")  # someone elsewhere guessing
    assert _login(client, "nia", "guess-guess", address="203.0.113.9").status_code == 429
    assert _login(client, "nia", "correct-horse", address="10.0.0.1").status_code == 303  # the ward: not delayed
    client.post("/logout")
    for n in range(40):  # a ward's shared address: many failures, many usernames
        _login(client, f"typo{n}", "guess-guess")
    assert _login(client, "colleague", "correct-horse").status_code == 303


def test_a_burst_of_guesses_is_counted_one_by_one(app, make_user) -> None:  # type: ignore[no-untyped-def]
    """14 guesses at once: only the 5 free ones get to a password check (the 5th starts the delay)."""
    make_user("nurse", username="target")
    clients = [app.test_client() for _ in range(14)]
    for c in clients:
        c.get("/login")
    start = threading.Barrier(len(clients))

    def guess(client):  # type: ignore[no-untyped-def]
        start.wait()
        return _login(client, "target", "guess-guess").status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        statuses = list(pool.map(guess, clients))
    assert sorted(statuses) == [401] * 5 + [429] * 9, statuses
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 5


def test_an_unknown_username_costs_one_verification_like_a_known_one(client, make_user, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    make_user("pt", username="known")
    client.post("/login", data={"username": "warm-up", "password": "x"})  # the dummy hash is made once per process
    calls: list[str] = []
    real_hash, real_verify = PasswordHasher.hash, PasswordHasher.verify
    monkeypatch.setattr(PasswordHasher, "hash", lambda self, *a, **k: calls.append("hash") or real_hash(self, *a, **k))
    monkeypatch.setattr(PasswordHasher, "verify",
                        lambda self, *a, **k: calls.append("verify") or real_verify(self, *a, **k))
    assert client.post("/login", data={"username": "known", "password": "wrong-wrong"}).status_code == 401
    known, calls[:] = list(calls), []
    assert client.post("/login", data={"username": "nobody", "password": "wrong-wrong"}).status_code == 401
    assert known == calls == ["verify"]


def test_attempts_older_than_ninety_days_are_deleted_at_a_successful_sign_in(  # type: ignore[no-untyped-def]
        app, client, make_user, stopped_clock) -> None:
    make_user("nurse", username="olga")
    assert _login(client, "olga", "guess-guess").status_code == 401
    stopped_clock.shift(timedelta(days=91))
    assert _login(client, "olga", "guess-guess").status_code == 401
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 2  # a failure sweeps nothing
    assert _login(client, "olga", "correct-horse").status_code == 303
    with app.app_context():
        kept = db.session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)).all()
        assert [a.success for a in kept] == [False, True]  # the failure of 91 days ago is gone
