"""Fresh databases for tests: a SQLite file by default, a new PostgreSQL database when TEST_DATABASE_URL is set.

TEST_DATABASE_URL names a PostgreSQL server and a database to connect to for CREATE DATABASE, for example
postgresql://postgres@127.0.0.1:5432/postgres. Each test session (unit and browser) gets its own database,
dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def using_postgres() -> bool:
    return os.environ.get("TEST_DATABASE_URL", "").startswith("postgres")


def create_database(tmp_dir: Path) -> tuple[str, Callable[[], None]]:
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgres"):
        path = Path(tmp_dir) / f"itb-test-{uuid.uuid4().hex[:8]}.sqlite"
        return f"sqlite:///{path}", lambda: None
    url = make_url(base).set(drivername="postgresql+psycopg")
    name = f"itb_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop

