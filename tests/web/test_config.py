from __future__ import annotations

import pytest

from server import create_app
from server.config import ConfigError, load_config


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(str(tmp_path))


def test_default_database_is_sqlite_in_instance_folder(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("DATABASE_URL", raising=False)
    cfg = load_config(str(tmp_path), {"APP_ENV": "development"})
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'itb.sqlite'}"


def test_postgres_url_uses_psycopg(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/itb")
    cfg = load_config(str(tmp_path), {"APP_ENV": "test"})
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://postgres@127.0.0.1:5432/itb"


def test_sqlite_runs_in_wal_mode(app) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from server.extensions import db
    from tests.dbutil import using_postgres

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        else:
            assert using_postgres() and db.engine.dialect.name == "postgresql"


def test_unknown_app_env_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError):
        create_app({"APP_ENV": "staging", "SECRET_KEY": "x"})


def test_test_now_stops_the_clock_in_tests_only(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from server.web import clock

    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("TEST_NOW", "2026-11-25T18:32:00+00:00")
    for env in ("production", "development"):
        with pytest.raises(ConfigError, match="TEST_NOW"):
            load_config(str(tmp_path), {"APP_ENV": env})
    with pytest.raises(ConfigError, match="offset"):
        load_config(str(tmp_path), {"APP_ENV": "test", "TEST_NOW": "2026-11-25T18:32"})
    try:
        create_app({"APP_ENV": "test", "SECRET_KEY": "x"})
        assert clock.now() == datetime(2026, 11, 25, 18, 32, tzinfo=UTC)
    finally:
        monkeypatch.delenv("TEST_NOW")
        create_app({"APP_ENV": "test", "SECRET_KEY": "x"})  # back to the real clock
    assert clock.now() != datetime(2026, 11, 25, 18, 32, tzinfo=UTC)
