"""Migrations upgrade an empty database to head, and the models and migrations never drift apart."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from server import create_app
from server.extensions import db
from tests.conftest import TEST_CONFIG
from tests.dbutil import create_database


def test_upgrade_empty_database_to_head_matches_models(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, drop = create_database(tmp_path)
    try:
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
            tables = set(inspect(db.engine).get_table_names())
            assert {"users", "patients", "trials", "trial_days", "audit_events"} <= tables
            with db.engine.connect() as conn:
                ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
                diff = compare_metadata(ctx, db.metadata)
            assert diff == [], f"models and migrations differ; run `make db-revision m=...`: {diff}"
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()
    finally:
        drop()
