"""CSV for people who open it in a spreadsheet: text that a spreadsheet would run as a formula is neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A leading apostrophe before text that begins like a formula (OWASP: CSV injection). Callers pass only
    text columns: a negative number in a numeric column stays a number."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_lines(rows: Iterable[list[str]], *, text: bool = True) -> Iterator[str]:
    """Rows as CSV text, one line at a time (for a streamed response). `text`: every cell is text, neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(c) for c in row] if text else row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
