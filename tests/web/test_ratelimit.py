"""The rate-limit store on the app's database (web/ratelimit.py): counts per key in a fixed window, shared by
every worker (it is a table), reset when the window has passed."""

from __future__ import annotations

import time

from server.web.ratelimit import DatabaseStorage


def test_counts_per_key_in_a_fixed_window_then_start_again(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store = DatabaseStorage("app-database://")
    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    with app.app_context():
        assert store.check()
        assert [store.incr("a", 3600) for _ in range(3)] == [1, 2, 3]
        assert store.incr("b", 3600, amount=2) == 2
        assert (store.get("a"), store.get("b"), store.get("unknown")) == (3, 2, 0)
        assert store.get_expiry("a") == 1_000_000.0 + 3600
        now[0] += 3600  # the window has passed
        assert store.get("a") == 0
        assert store.incr("a", 3600) == 1
        store.clear("a")
        assert store.get("a") == 0 and store.get("b") == 0  # b's window passed too
        store.incr("c", 60)
        assert store.reset() == 2 and store.get("c") == 0  # the rows of b and c
