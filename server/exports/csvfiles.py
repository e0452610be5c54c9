"""CSV files with a REDCap data dictionary: column definitions, cell formatting and formula neutralisation.

Every file is one REDCap instrument ("Form Name") of a project whose record is a trial (`record_id`, the trial
code). The first file holds one row per trial; the others repeat, so their rows also carry REDCap's own
`redcap_repeat_instrument` and `redcap_repeat_instance` (REDCap makes these itself: they are never listed in a
data dictionary). Every other column is a variable of the dictionary, named once across all files.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ..web.csvfile import neutralise

RECORD_ID = "record_id"
REPEAT_COLUMNS = ("redcap_repeat_instrument", "redcap_repeat_instance")

# REDCap's data dictionary columns, in REDCap's order.
DICTIONARY_COLUMNS = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
)

# kind -> (REDCap field type, REDCap text validation)
KINDS = {
    "text": ("text", ""),
    "notes": ("notes", ""),
    "integer": ("text", "integer"),
    "number": ("text", "number"),
    "date": ("text", "date_ymd"),
    "datetime": ("text", "datetime_seconds_ymd"),
    "yesno": ("yesno", ""),
    "dropdown": ("dropdown", ""),
}

@dataclass(frozen=True)
class Column:
    name: str  # REDCap variable name: lower case, digits and _, unique across the files
    label: str
    kind: str  # a key of KINDS
    source: str  # where the value comes from: table.column, or how it is worked out
    unit: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (code, label) for dropdowns
    note: str = ""
    min: str = ""
    max: str = ""
    identifier: bool = False
    required: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS or not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ValueError(f"bad column {self.name!r} ({self.kind})")


@dataclass(frozen=True)
class FileSpec:
    name: str  # the file's stem, also REDCap's form name
    title: str
    columns: tuple[Column, ...]
    repeating: bool = True

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    def header(self) -> list[str]:
        keys = [RECORD_ID, *REPEAT_COLUMNS] if self.repeating else [RECORD_ID]
        return keys + [c.name for c in self.columns]


def cell(value: Any) -> str:
    """One value as CSV text: numbers as plain decimals, booleans 1/0 (REDCap yes/no), dates ISO, date-times
    in UTC as YYYY-MM-DD HH:MM:SS (REDCap's datetime_seconds_ymd), nothing as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, float):
        return f"{Decimal(str(value)):f}"
    return str(value)


def write_csv(header: list[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """The CSV text (UTF-8, every cell quoted, CRLF line ends), each cell formatted and neutralised. A row with a
    key outside the header is a bug and raises."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow([neutralise(h) for h in header])
    wanted = set(header)
    for row in rows:
        extra = set(row) - wanted
        if extra:
            raise ValueError(f"row has columns outside the header: {sorted(extra)}")
        writer.writerow([neutralise(cell(row.get(name))) for name in header])
    return out.getvalue()


def dictionary_rows(specs: Iterable[FileSpec], record_label: str) -> list[dict[str, str]]:
    """The REDCap data dictionary of these files: `record_id` first (REDCap's rule), then every column of every
    file once, with its form, type, label (with the unit), choices, validation, identifier flag, unit and source
    (Field Note: the unit and any note; Field Annotation: the source)."""
    rows: list[dict[str, str]] = []
    specs = list(specs)
    first = specs[0].name
    rows.append(_dictionary_row(Column(RECORD_ID, record_label, "text", "computed: see docs/exports.md",
                                       required=True), first, section=specs[0].title))
    for spec in specs:
        for i, col in enumerate(spec.columns):
            section = spec.title if i == 0 and spec.name != first else ""
            rows.append(_dictionary_row(col, spec.name, section=section))
    return rows


def _dictionary_row(col: Column, form: str, *, section: str) -> dict[str, str]:
    field_type, validation = KINDS[col.kind]
    label = f"{col.label} ({col.unit})" if col.unit else col.label
    note = "; ".join(part for part in (f"Unit: {col.unit}" if col.unit else "", col.note) if part)
    return {
        "Variable / Field Name": col.name, "Form Name": form, "Section Header": section, "Field Type": field_type,
        "Field Label": label, "Choices, Calculations, OR Slider Labels": " | ".join(
            f"{code}, {text}" for code, text in col.choices),
        "Field Note": note, "Text Validation Type OR Show Slider Number": validation,
        "Text Validation Min": col.min, "Text Validation Max": col.max, "Identifier?": "y" if col.identifier else "",
        "Branching Logic (Show field only if...)": "", "Required Field?": "y" if col.required else "",
        "Custom Alignment": "", "Question Number (surveys only)": "", "Matrix Group Name": "",
        "Matrix Ranking?": "", "Field Annotation": f"Source: {col.source}",
    }
