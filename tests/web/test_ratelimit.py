"""The rate-limit store on the app's database (web/ratelimit.py): counts per key in a fixed window, shared by
every worker (it is a table), reset when the window has passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from server.extensions import db
from server.web.ratelimit import DatabaseStorage, RateLimitCounter

START = datetime.fromtimestamp(1_000_000, UTC)


def test_counts_per_key_in_a_fixed_window_then_start_again(app, time_machine) -> None:  # type: ignore[no-untyped-def]
    store = DatabaseStorage("app-database://")
    time_machine.move_to(START, tick=False)  # the library and this store count in epoch seconds (time.time())
    with app.app_context():
        assert store.check()
        assert [store.incr("a", 3600) for _ in range(3)] == [1, 2, 3]
        assert store.incr("b", 3600, amount=2) == 2
        assert (store.get("a"), store.get("b"), store.get("unknown")) == (3, 2, 0)
        assert store.get_expiry("a") == 1_000_000.0 + 3600
        time_machine.shift(timedelta(seconds=3600))  # the window has passed
        assert store.get("a") == 0
        assert store.incr("a", 3600) == 1
        store.clear("a")
        assert store.get("a") == 0 and store.get("b") == 0  # b's window passed too
        store.incr("c", 60)
        assert store.reset() == 2 and store.get("c") == 0  # the rows of b and c


def test_windows_long_over_are_deleted_when_a_new_key_is_counted(app, time_machine) -> None:  # type: ignore[no-untyped-def]
    store = DatabaseStorage("app-database://")
    time_machine.move_to(START, tick=False)
    with app.app_context():
        store.incr("old", 60)
        store.incr("recent", 3600)
        time_machine.shift(timedelta(minutes=59))
        store.incr("new", 3600)  # "old" ended 58 min ago: kept for now
        assert set(db.session.scalars(select(RateLimitCounter.key))) == {"old", "recent", "new"}
        db.session.rollback()
        time_machine.shift(timedelta(minutes=2))
        assert store.incr("old", 60) == 1  # an existing key starts its window again: nothing is swept
        time_machine.shift(timedelta(hours=2))
        store.incr("newer", 3600)  # every window but this one ended over an hour ago
        assert set(db.session.scalars(select(RateLimitCounter.key))) == {"newer"}
