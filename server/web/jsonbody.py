"""JSON request bodies with limits: no nesting deeper than MAX_JSON_DEPTH, no NaN or Infinity.

Python's parser recurses once per level, so about 1,000 nested brackets raise RecursionError (a 500). Here a
body that is too deep is a ValueError, which Werkzeug's `get_json` treats as invalid JSON (a 400): caught while
parsing, then checked again on the parsed value, iteratively, so nothing that reads it later can recurse that
deep either. NaN and Infinity are not JSON: a column or a hash could not hold them. The body's size is bounded
before parsing by MAX_CONTENT_LENGTH (413).
"""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider


class JSONTooDeep(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number.")


def depth_over(value: Any, limit: int) -> bool:
    """True when `value` nests lists and objects more than `limit` levels deep. Never recurses."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class BoundedJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_constant", _refuse_constant)
        limit = int(self._app.config.get("MAX_JSON_DEPTH", 32))
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise JSONTooDeep(f"The JSON is nested more than {limit} levels deep.") from None
        if depth_over(value, limit):
            raise JSONTooDeep(f"The JSON is nested more than {limit} levels deep.")
        return value
