"""Shared helpers at their edges: which database refusals count as a clash with a concurrent write (retried or
answered from what the other stored), and times at the ends of the datetime range (shown, never a 500)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from server.web.clock import local_label
from server.web.errors import is_clash
from server.web.filters import hm, localtime


class _PgError(Exception):
    """What psycopg raises: an exception with the server's SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(("exc", "clash"), [
    (IntegrityError("INSERT", {}, _PgError("23505")), True),  # unique violation: the other stored it first
    (OperationalError("UPDATE", {}, _PgError("40P01")), True),  # deadlock
    (OperationalError("UPDATE", {}, _PgError("40001")), True),  # serialization failure
    (IntegrityError("INSERT", {}, _PgError("23503")), False),  # a foreign key: not a race, a bug or bad data
    (IntegrityError("INSERT", {}, _PgError("23502")), False),  # NOT NULL
    (OperationalError("SELECT", {}, _PgError("57014")), False),  # statement cancelled
    (IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed: assessments.entry_id")), True),
    (IntegrityError("INSERT", {}, sqlite3.IntegrityError("NOT NULL constraint failed: assessments.phase")), False),
    (OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked")), False),
    (ValueError("UNIQUE constraint failed"), False),
])
def test_only_a_concurrent_duplicate_or_deadlock_is_a_clash(exc: BaseException, clash: bool) -> None:
    assert is_clash(exc) is clash


def test_times_at_the_ends_of_the_range_are_shown_as_stored(ctx) -> None:  # type: ignore[no-untyped-def]
    earliest = datetime.min.replace(tzinfo=UTC)  # London's offset then (-0:01:15) falls before year 1
    assert localtime(earliest) == "00:00"
    assert localtime(earliest, "%d %b %Y") == "01 Jan 1"
    assert hm(earliest) == "0001-01-01T00:00+00:00"
    assert hm(None) == "" and localtime(None) == ""


def test_a_label_needs_a_time_with_its_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_label(datetime(2026, 11, 2, 9, 0), UTC)  # naive: which 09:00 is unknowable


def test_an_error_keeps_its_own_headers_on_json_and_on_pages(client, signed_in) -> None:  # type: ignore[no-untyped-def]
    """A 405 says which methods the path takes (Allow), on the API's JSON and on a page alike."""
    signed_in("pt")
    api = client.put("/api/sync", json={})
    assert api.status_code == 405 and api.is_json
    assert "POST" in api.headers["Allow"]
    page = client.put("/today")
    assert page.status_code == 405 and page.mimetype == "text/html"
    assert "GET" in page.headers["Allow"]
