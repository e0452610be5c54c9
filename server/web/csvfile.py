"""CSV for people who open it in a spreadsheet: text that a spreadsheet would run as a formula is neutralised."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

# Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that begins with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?\Z")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet will not run: one that begins with = + - @ TAB or CR gets a leading apostrophe
    (OWASP), unless the whole cell is a plain decimal number such as -15 or -2.5, which a spreadsheet reads as
    that number and nothing else, so negative numbers stay numbers in every column."""
    if cell.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.match(cell):
        return "'" + cell
    return cell


def csv_lines(rows: Iterable[list[str]], *, text: bool = True) -> Iterator[str]:
    """Rows as CSV text, one line at a time (for a streamed response). `text`: every cell is text, neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(c) for c in row] if text else row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
