"""Counting the SQL statements a request runs (a `before_cursor_execute` listener on the app's engine): pages and
exports that read many rows must run a fixed number of statements however many rows there are."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event

from server.extensions import db


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    """The statements run inside the block, in order."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def statements_for(app: Flask, call: Callable[[], Any]) -> int:
    """How many statements `call` (a request that must answer 200) runs."""
    with counting(app) as seen:
        response = call()
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return len(seen)
