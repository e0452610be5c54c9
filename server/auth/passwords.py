"""argon2id password hashing (slow and salted by design)."""

from __future__ import annotations

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


# A real hash to verify against when the username is unknown, so both paths take the same time.
def dummy_verify(password: str) -> None:
    verify_password(hash_password("not-a-real-password"), password)
