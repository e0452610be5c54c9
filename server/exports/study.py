"""The study code: a child's stable pseudonym in research exports made without identifiers.

HMAC-SHA256 of the child's record id under the server's key (`STUDY_CODE_KEY`, or `SECRET_KEY` when that is
not set): the same child always gets the same code, and nobody without the key can compute it from the MRN, the
name or the record id. Changing the key changes every code, so a hospital that rotates `SECRET_KEY` sets
`STUDY_CODE_KEY` once and keeps it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from flask import current_app

from ..trials.models import Patient

PREFIX = "ITB-"
LENGTH = 10  # base32 characters: 50 bits, so hundreds of thousands of children before a clash is likely


def study_code(patient: Patient) -> str:
    key = current_app.config.get("STUDY_CODE_KEY") or current_app.config["SECRET_KEY"]
    digest = hmac.new(str(key).encode(), f"itb-study-code:{patient.id}".encode(), hashlib.sha256).digest()
    return PREFIX + base64.b32encode(digest).decode()[:LENGTH]
