"""Routes of the parent links (filled in below)."""

from __future__ import annotations

from . import bp  # noqa: F401
