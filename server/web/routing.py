"""URL routing: ids in URLs are the database's INTEGER ids."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # INTEGER primary keys


def digits_up_to(n: int) -> str:
    """A regex for the decimal numbers 0..n (n > 0): shorter numbers, then each way of staying below n."""
    text = str(n)
    parts = [rf"\d{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    for i, ch in enumerate(text):
        low = 1 if i == 0 and len(text) > 1 else 0  # no leading zero, except the number 0 itself
        if int(ch) - 1 >= low:
            rest = len(text) - i - 1
            parts.append(text[:i] + f"[{low}-{int(ch) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    return "|".join([*parts, text])


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in every route only matches numbers that fit the database's INTEGER ids: a bigger one is no
    record, 404 for every method (PostgreSQL would refuse it with a 500; SQLite would not). The bound is in
    the regex, not only in `max`, because a converter that refuses after matching turns a POST into a 405."""

    regex = f"(?:{digits_up_to(MAX_ID)})"

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)
