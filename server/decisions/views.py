"""Routes of the team's decisions (filled in below)."""

from __future__ import annotations

from . import bp  # noqa: F401
