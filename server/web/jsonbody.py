"""JSON request bodies with limits: no nesting deeper than MAX_JSON_DEPTH, no NaN or Infinity.

Python's parser recurses once per level, so about 1,000 nested brackets raise RecursionError (a 500). Here a
body that is too deep is a ValueError, which Werkzeug's `get_json` treats as invalid JSON (a 400): caught while
parsing, then checked again on the parsed value, iteratively, so nothing that reads it later can recurse that
deep either. NaN and Infinity are not JSON: a column or a hash could not hold them. The body's size is bounded
before parsing by MAX_CONTENT_LENGTH (413).

`request_json` also reads a body sent with `Content-Encoding: gzip` (the outbox compresses its pushes: about
13 times smaller on a weak signal), inflated to at most MAX_CONTENT_LENGTH (413 beyond, like a plain body), and
refuses any other encoding (415).
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import orjson
from flask import Request, current_app
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnsupportedMediaType


class JSONTooDeep(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number.")


def depth_over(value: Any, limit: int) -> bool:
    """True when `value` nests lists and objects more than `limit` levels deep. Never recurses."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()  # (a dict or a list)
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        # Most values are texts: their types are gathered in C first, and a level of texts is done.
        if not any(issubclass(kind, dict | list) for kind in {*map(type, children)}):
            continue
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


# A run of 19 digits: an integer orjson may read as a float (past 64 bits), where json.loads keeps it exact. Found
# by mapping every digit to "0" and anything else to " " (C calls: a 800 KB push in under 1 ms; a regular
# expression takes 8).
_DIGITS_ONLY = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_LONG_RUN = b"0" * 19
_NOT_PARSED = object()


def _parse_fast(s: bytes) -> Any:
    """orjson's parse of a request body where it answers what `json.loads` answers, else `_NOT_PARSED`.

    What orjson refuses goes to `json.loads` for its own answer: NaN and Infinity, a number past a float's range
    (`json.loads` makes it infinite), a lone surrogate, bytes that are not UTF-8 or start with a byte order mark, a
    control character in a text, nesting past 1,024. What it accepts it reads as `json.loads` does, but an integer
    past 64 bits, which it makes a float: so a document with 19 digits in a row goes to `json.loads` whole. About
    four times faster on a sync push (`tests/web/test_jsonbody.py` holds the two equal)."""
    if _LONG_RUN in s.translate(_DIGITS_ONLY):
        return _NOT_PARSED
    try:
        return orjson.loads(s)
    except orjson.JSONDecodeError:
        return _NOT_PARSED


class BoundedJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_constant", _refuse_constant)
        limit = int(self._app.config.get("MAX_JSON_DEPTH", 32))
        plain = kwargs == {"parse_constant": _refuse_constant}
        try:
            value = _parse_fast(s) if plain and isinstance(s, bytes) else _NOT_PARSED  # (a request body: bytes)
            if value is _NOT_PARSED:
                value = json.loads(s, **kwargs)
        except RecursionError:
            raise JSONTooDeep(f"The JSON is nested more than {limit} levels deep.") from None
        if depth_over(value, limit):
            raise JSONTooDeep(f"The JSON is nested more than {limit} levels deep.")
        return value


def inflate(raw: bytes, limit: int) -> bytes:
    """A gzip body (one member, as a browser's CompressionStream makes) inflated, never past `limit` bytes."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # a gzip header and trailer
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error:
        raise BadRequest("The body says it is gzip but is not: send it again.") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise RequestEntityTooLarge(f"The body is larger than {limit} bytes once inflated: send fewer entries.")
    if not inflater.eof or inflater.unused_data:
        raise BadRequest("The gzip body is cut short or has data after its end: send it again.")
    return out


class EncodingRefused(UnsupportedMediaType):
    """415 for a body in an encoding this server does not read, saying which it does (RFC 7694)."""

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [*super().get_headers(*args, **kwargs), ("Accept-Encoding", "gzip")]


def request_json(request: Request) -> Any:
    """The request's JSON body, plain or gzip (`Content-Encoding`); None when it is not JSON (as
    `get_json(silent=True)` answers), 413 when too large, 415 for another encoding."""
    encoding = (request.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding == "identity":
        return request.get_json(silent=True)
    if encoding != "gzip":
        raise EncodingRefused(f"Content-Encoding {encoding[:20]!r} is not accepted: send gzip or plain JSON.")
    if not request.is_json:
        return None
    body = inflate(request.get_data(cache=False), int(current_app.config["MAX_CONTENT_LENGTH"]))
    try:
        return current_app.json.loads(body)
    except ValueError:  # not JSON, not UTF-8, too deep, NaN: as get_json(silent=True)
        return None
