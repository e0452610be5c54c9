"""Where a redirect may send a browser: only a path on this site, whatever the encoding tricks.

Browsers read a backslash as a slash, drop tabs and newlines inside a URL and decode percent-escapes before
resolving, so `/\\evil.example`, `/%5Cevil.example`, `/\\t/evil.example` and `//evil.example` all leave the site.
`safe_next` decodes the target (several times, for double encodings) and refuses it unless what is left is a plain
absolute path: it begins with one `/`, holds no backslash, no control character, no scheme and no host. What it
hands back is the target as sent with every character outside printable ASCII percent-encoded, so it can always
go into a `Location` or `HX-Redirect` header (gunicorn drops the connection on a header outside Latin-1).
"""

from __future__ import annotations

import string
from urllib.parse import quote, unquote, urlsplit

MAX_TARGET = 2048
# Printable ASCII that may stand as it is in a path and query (everything else is percent-encoded).
_KEEP = "".join(sorted(set(string.ascii_letters + string.digits + "/?&=#%:@!$'()*+,;~-._")))


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code < 0xA0 or ch in "\u2028\u2029\ufeff"


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site (percent-encoded to ASCII), else None."""
    if not target or len(target) > MAX_TARGET:
        return None
    decoded = target
    for _ in range(4):  # /%25255C... : decode until nothing changes (a few rounds are plenty)
        again = unquote(decoded, errors="replace")
        if again == decoded:
            break
        decoded = again
    for text in (target, decoded):
        if "\\" in text or any(_is_control(ch) for ch in text):
            return None
        if not text.startswith("/") or text.startswith("//"):
            return None
        parts = urlsplit(text)
        if parts.scheme or parts.netloc:
            return None
    return quote(target, safe=_KEEP)


def header_safe(url: str) -> str:
    """A URL made fit for a response header: anything outside printable ASCII percent-encoded."""
    return url if url.isascii() and url.isprintable() else quote(url, safe=_KEEP)
