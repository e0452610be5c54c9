"""The password policy: the one check every path that sets a password goes through (an admin's new account or
temporary password, a user's own change, `flask create-admin`), and the words the forms show beside the field.

Rules, after NIST SP 800-63B §3.1.1.2 (length and a list of known-bad passwords, no composition rules):
- at least PASSWORD_MIN_LENGTH characters (default 12), at most MAX_LENGTH;
- not a common password from the list shipped in `data/common-passwords.txt` (see its README), compared in
  lower case, also with digits or symbols added before or after it, or repeated (`Password2024!`, `monkeymonkey`);
- not the username, and not containing it;
- not a run of the alphabet, the digits or a keyboard row (`abcdefghijkl`, `123456789012`), and not so few
  different characters that it is mostly one repeated (`aaaaaaaaaaaa`, `abababababab`).
"""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

from flask import current_app

MAX_LENGTH = 256
COMMON_PASSWORDS = Path(__file__).with_name("data") / "common-passwords.txt"
MIN_DIFFERENT = 5  # fewer different characters than this is one or two repeated
# The digits, the alphabet, keyboard rows read across (QWERTY, QWERTZ, AZERTY) and down.
RUNS = ("0123456789", string.ascii_lowercase, "qwertyuiopasdfghjklzxcvbnm", "qwertzuiopasdfghjklyxcvbnm",
        "azertyuiopqsdfghjklmwxcvbn", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "qazwsxedcrfvtgbyhnujmikolp")
_PADDING = string.digits + string.punctuation + " "


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#!comment:"))


def min_length() -> int:
    return int(current_app.config["PASSWORD_MIN_LENGTH"])


def rules_text() -> str:
    """The policy in a line, shown beside every field where a password is chosen."""
    return (f"At least {min_length()} characters; not a common password, not your username. "
            "Three or four unrelated words are easy to type and hard to guess.")


def _repeated_unit(text: str) -> str:
    """'abcabcabc' -> 'abc'; a text that is not a repetition comes back whole."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


def _is_common(lowered: str) -> bool:
    """A listed password as it is, with digits or symbols around it, or repeated (with or without separators)."""
    common = common_passwords()
    letters = "".join(ch for ch in lowered if ch.isalnum())
    candidates = set()
    for text in (lowered, letters):
        core = text.strip(_PADDING)
        candidates |= {text, core, _repeated_unit(text), _repeated_unit(core)}
    return any(c in common for c in candidates if c)


def _is_run(lowered: str) -> bool:
    return any(lowered in run * 3 or lowered in (run * 3)[::-1] for run in RUNS)


def password_problems(password: str, username: str | None) -> list[str]:
    """What is wrong with `password` for the account `username` (empty list: it may be used)."""
    if len(password) < min_length():
        return [f"Use at least {min_length()} characters (this has {len(password)})."]
    if len(password) > MAX_LENGTH:
        return [f"Use at most {MAX_LENGTH} characters."]
    lowered = password.lower()
    name = (username or "").strip().lower()
    if name and (lowered == name or (len(name) >= 4 and name in lowered)):
        return ["Do not use your username in the password."]
    if _is_run(lowered) or len(set(lowered)) < MIN_DIFFERENT:
        return ["This is a run of keys or one character repeated: choose something less predictable."]
    if _is_common(lowered):
        return ["This is one of the most common passwords (perhaps with digits or symbols added): choose another."]
    return []
