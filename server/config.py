"""Configuration from environment variables. No default secrets outside development and tests."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENVIRONMENTS = ("development", "test", "production")
# Without PUBLIC_BASE_URL: `make run`'s address, and the Flask test client's host. Production sets it, or gives
# out no parent links.
DEFAULT_PUBLIC_BASE_URL = {"development": "http://127.0.0.1:5000", "test": "http://localhost"}


class ConfigError(RuntimeError):
    pass


def _dev_secret(instance_path: str) -> str:
    """A random key kept in the instance folder so development sessions survive a restart."""
    path = Path(instance_path) / "dev-secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load_config(instance_path: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    overrides = dict(overrides or {})
    env = overrides.get("APP_ENV") or os.environ.get("APP_ENV", "production")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV must be one of {ENVIRONMENTS}, not {env!r}")
    production = env == "production"

    secret = overrides.get("SECRET_KEY") or os.environ.get("SECRET_KEY")
    if not secret:
        if production:
            raise ConfigError("SECRET_KEY must be set in production (APP_ENV=production).")
        secret = _dev_secret(instance_path)

    Path(instance_path).mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'itb.sqlite'}"
    if database_url.startswith("postgres://"):  # Heroku-style URLs
        database_url = "postgresql://" + database_url.removeprefix("postgres://")
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

    cfg: dict[str, Any] = {
        "APP_ENV": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", default=production),
        "SESSION_COOKIE_NAME": "itb_session",
        # A sign-in ends after SESSION_HOURS without a request (idle), and SESSION_MAX_HOURS after it began
        # (absolute), however busy; both checked on the server on every request (auth/session.py).
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=int(os.environ.get("SESSION_HOURS", "12"))),
        "SESSION_MAX_HOURS": int(os.environ.get("SESSION_MAX_HOURS", "24")),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(2 * 1024 * 1024))),
        # JSON bodies nested deeper than this are refused with 400 before anything reads them.
        "MAX_JSON_DEPTH": int(os.environ.get("MAX_JSON_DEPTH", "32")),
        # How far a phone's clock may run ahead of the server's: a sync entry saved later than that is rejected.
        "DEVICE_CLOCK_AHEAD_MINUTES": int(os.environ.get("DEVICE_CLOCK_AHEAD_MINUTES", "10")),
        "HOSPITAL_TIMEZONE": os.environ.get("HOSPITAL_TIMEZONE", "Europe/London"),
        # Sign-in throttling by (username, client address): LOGIN_MAX_FAILURES failures in a row go without delay,
        # then each attempt waits LOGIN_DELAY_SECONDS, doubling per failure, at most LOGIN_WINDOW_MINUTES; the
        # count starts again after a success or LOGIN_WINDOW_MINUTES without a failure.
        "LOGIN_MAX_FAILURES": int(os.environ.get("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_DELAY_SECONDS": int(os.environ.get("LOGIN_DELAY_SECONDS", "30")),
        "LOGIN_WINDOW_MINUTES": int(os.environ.get("LOGIN_WINDOW_MINUTES", "15")),
        # argon2id cost; tests lower it so the suite stays fast.
        "PASSWORD_HASH_PROFILE": os.environ.get("PASSWORD_HASH_PROFILE", "RFC_9106_LOW_MEMORY"),
        # The shortest password a person may choose (auth/policy.py); never below 8.
        "PASSWORD_MIN_LENGTH": int(os.environ.get("PASSWORD_MIN_LENGTH", "12")),
        "COMPRESS_MIMETYPES": [
            "text/html", "text/css", "application/javascript", "text/javascript",
            "application/json", "application/fhir+json", "application/manifest+json", "image/svg+xml",
        ],
        "COMPRESS_MIN_SIZE": 500,
        "TRUSTED_PROXY_COUNT": int(os.environ.get("TRUSTED_PROXY_COUNT", "0")),
        # Part of the service worker's version: a new release makes phones fetch the app shell again.
        "APP_RELEASE": os.environ.get("APP_RELEASE", ""),
        # The address families and staff use (links given out, e.g. a parent's link), never the request's Host.
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL") or DEFAULT_PUBLIC_BASE_URL.get(env, ""),
        # Key of the children's study codes in research exports (server/exports/study.py); empty: SECRET_KEY.
        "STUDY_CODE_KEY": os.environ.get("STUDY_CODE_KEY", ""),
        # Rate limits (web/ratelimit.py): counted in the app's database unless this names another store, e.g.
        # redis://127.0.0.1:6379. A parent's link may post PARENT_POSTS_PER_HOUR observations an hour.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or "app-database://",
        "PARENT_POSTS_PER_HOUR": int(os.environ.get("PARENT_POSTS_PER_HOUR", "20")),
    }
    cfg.update(overrides)
    cfg["APP_ENV"] = env
    cfg["TEST_NOW"] = _test_now(cfg.get("TEST_NOW", os.environ.get("TEST_NOW")), env)
    cfg["PUBLIC_BASE_URL"] = _public_base_url(cfg.get("PUBLIC_BASE_URL"))
    if not 8 <= int(cfg["PASSWORD_MIN_LENGTH"]) <= 64:
        raise ConfigError("PASSWORD_MIN_LENGTH must be between 8 and 64.")
    return cfg


def _public_base_url(raw: Any) -> str:
    """PUBLIC_BASE_URL: http(s)://host[:port][/prefix], no query or fragment; trailing slash dropped. Empty (in
    production, unless set) means no link can be given out: making a parent link then says so."""
    text = str(raw or "").strip()
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"PUBLIC_BASE_URL must look like https://itb.hospital.example, not {text!r}.")
    return text.rstrip("/")


def _test_now(raw: Any, env: str) -> datetime | None:
    """TEST_NOW (tests only): an ISO date-time with its offset at which the app's clock stands still."""
    if raw in (None, ""):
        return None
    if env != "test":
        raise ConfigError("TEST_NOW stops the clock for browser tests: it is refused unless APP_ENV=test.")
    value = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
    if value.tzinfo is None:
        raise ConfigError("TEST_NOW needs a UTC offset, e.g. 2026-11-25T18:32:00+00:00.")
    return value


def _flag(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}
