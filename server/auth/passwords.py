"""argon2id password hashing (slow and salted by design)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


def _hasher() -> PasswordHasher:
    profile = getattr(profiles, current_app.config["PASSWORD_HASH_PROFILE"])
    return PasswordHasher.from_parameters(profile)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY: dict[str, str] = {}  # profile name -> a hash of a password nobody has, made once per process


def dummy_verify(password: str) -> bool:
    """Verify `password` against a real hash made once with the same profile, so an unknown username costs the
    same one verification as a known one (never a hash *and* a verification). Always False."""
    profile = current_app.config["PASSWORD_HASH_PROFILE"]
    if profile not in _DUMMY:
        _DUMMY[profile] = hash_password(secrets.token_urlsafe(16))
    verify_password(_DUMMY[profile], password)
    return False
