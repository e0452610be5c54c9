"""One home for each rule, checked on the source of `server/` (Python with `ast`, templates as text).

- Every clinical number comes from `server/protocol.py`'s `Protocol`, read as it is: no fallback beside it. A
  fallback (`getattr(protocol, "reassess_after_minutes", 240)`, `protocol.obs_early_minutes or 5`,
  `MAS_MAPPINGS.get(protocol.mas_mapping, ...)`) repeats a number the protocol already holds, so renaming or
  changing the field would silently leave the old literal in force.
- Each time derived from the protocol (reassessment, next bolus, observation slots) is worked out in one place.
- The time is read from one clock, `server/web/clock.py`.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

from server.protocol import Protocol

SERVER = Path(__file__).resolve().parents[2] / "server"
FIELDS = frozenset(f.name for f in dataclasses.fields(Protocol))
PROTOCOL_NAMES = frozenset({"protocol", "p", "DEFAULT_PROTOCOL"})  # what code calls a Protocol


def python_files() -> list[Path]:
    return sorted(p for p in SERVER.rglob("*.py") if "migrations" not in p.parts)


def _is_protocol(node: ast.expr) -> bool:
    """`protocol`, `p`, `self` inside Protocol, or `current_protocol()`."""
    if isinstance(node, ast.Name):
        return node.id in PROTOCOL_NAMES
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "current_protocol"


def _is_field_read(node: ast.expr) -> bool:
    """`<anything>.<a Protocol field>`, e.g. `protocol.reassess_after_minutes`, `current_protocol().mas_mapping`."""
    return isinstance(node, ast.Attribute) and node.attr in FIELDS and _is_protocol(node.value)


def fallbacks(source: str) -> list[tuple[int, str]]:
    """(line, what) for every read of a protocol field with a fallback in this Python source."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
            args = node.args
            named_field = len(args) >= 2 and isinstance(args[1], ast.Constant) and args[1].value in FIELDS
            if (args and _is_protocol(args[0])) or (named_field and len(args) == 3):
                found.append((node.lineno, "getattr() on the protocol: read the field as protocol.<field>"))
        elif isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            if any(_is_field_read(v) for v in node.values[:-1]):  # (`value or protocol.x` takes the protocol's)
                found.append((node.lineno, "a fallback after a protocol field (`protocol.x or 5`)"))
        elif isinstance(node, ast.IfExp):
            if _is_field_read(node.test) or (isinstance(node.test, ast.Compare) and _is_field_read(node.test.left)
                                             and any(isinstance(c, ast.Constant) and c.value is None
                                                     for c in node.test.comparators)):
                found.append((node.lineno, "a default chosen when a protocol field is unset"))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and len(node.args) == 2 and _is_field_read(node.args[0])):
            found.append((node.lineno, "a lookup of a protocol field with a default (`.get(protocol.x, ...)`)"))
    return found


TEMPLATE_FALLBACK = re.compile(r"protocol\.(\w+)\s*(?:or\b|\|\s*default\b|\|\s*d\b)")


def test_no_protocol_field_is_read_with_a_fallback() -> None:
    problems = [f"{path.relative_to(SERVER.parent)}:{line}: {what}"
                for path in python_files() for line, what in fallbacks(path.read_text(encoding="utf-8"))]
    problems += [f"{path.relative_to(SERVER.parent)}: `{m.group(0)}`: a fallback beside protocol.{m.group(1)}"
                 for path in sorted((SERVER / "templates").rglob("*.html"))
                 for m in TEMPLATE_FALLBACK.finditer(path.read_text(encoding="utf-8")) if m.group(1) in FIELDS]
    assert not problems, "\n".join(problems)


def test_the_scan_finds_each_kind_of_fallback() -> None:
    """The check itself: each way of falling back is found, and a plain read is not."""
    cases = {
        'x = getattr(protocol, "reassess_after_minutes", 240)': 1,
        'x = getattr(current_protocol(), "mas_mapping", "ashworth_0_4")': 1,
        'x = getattr(config, "obs_early_minutes", 5)': 1,
        "x = protocol.obs_early_minutes or 5": 1,
        "x = current_protocol().ceiling_mcg or Decimal(100)": 1,
        "x = data.get('dose') or protocol.day1_default_mcg": 0,  # a value, else the protocol's
        "x = MAS_MAPPINGS.get(p.mas_mapping, MAS_MAPPINGS['ashworth_0_4'])": 1,
        "x = 240 if protocol.reassess_after_minutes is None else protocol.reassess_after_minutes": 1,
        "x = protocol.reassess_after_minutes": 0,
        "x = MAS_MAPPINGS[current_protocol().mas_mapping]": 0,
        'x = getattr(obs, "heart_rate")': 0,
    }
    for source, expected in cases.items():
        assert len(fallbacks(source)) == expected, source
    assert TEMPLATE_FALLBACK.search("{{ protocol.min_interval_hours or 24 }}")
    assert TEMPLATE_FALLBACK.search("{{ protocol.min_interval_hours | default(24) }}")
    assert not TEMPLATE_FALLBACK.search("{{ protocol.min_interval_hours }} h")


# The protocol fields a derived time is worked out from: each such time has one function in dosing/schedule.py
# (`reassessment`, `min_interval` and `next_dose_allowed`, `observation_times` and `observation_states`).
DERIVED_FROM = frozenset({"reassess_after_minutes", "reassess_window_from_minutes", "reassess_window_to_minutes",
                          "min_interval_hours", "monitoring"})
SCHEDULE = SERVER / "dosing" / "schedule.py"


def derived_time_reads(source: str) -> list[int]:
    """Lines that do arithmetic with one of DERIVED_FROM (anything but showing it: an f-string or a template)."""
    tree = ast.parse(source)
    shown = {id(n) for node in ast.walk(tree) if isinstance(node, ast.FormattedValue) for n in ast.walk(node)}
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in DERIVED_FROM and id(node) not in shown
            and _is_protocol(node.value)]


def test_each_derived_time_is_worked_out_in_one_place() -> None:
    problems = [f"{path.relative_to(SERVER.parent)}:{line}: use dosing.schedule's function for this time"
                for path in python_files() if path not in (SCHEDULE, SERVER / "protocol.py")
                for line in derived_time_reads(path.read_text(encoding="utf-8"))]
    assert not problems, "\n".join(problems)
    assert derived_time_reads("due = at + timedelta(minutes=protocol.reassess_after_minutes)") == [1]
    assert derived_time_reads('message = f"{protocol.min_interval_hours} h apart"') == []


# Where the time is read from anything but server/web/clock.py, and why.
CLOCK_READS_ALLOWED = {
    # The rate-limit counters (Flask-Limiter's `limits` storage) are kept in epoch seconds, which the library
    # itself compares with time.time(): the storage must use the same clock as the library.
    SERVER / "web" / "ratelimit.py": {"time.time"},
}
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
               ("time", "time"), ("time", "time_ns")}


def clock_reads(source: str) -> list[tuple[int, str]]:
    """(line, call) for every read of the wall clock: datetime.now(), date.today(), time.time() and the like."""
    return [(node.lineno, f"{node.func.value.id}.{node.func.attr}") for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and (node.func.value.id, node.func.attr) in CLOCK_CALLS]


def test_the_app_reads_the_time_from_its_one_clock() -> None:
    """server/web/clock.py is the one clock (now(), today()): the browser tests stop it (TEST_NOW) and the unit
    tests move it (time-machine), so no other module may read the time by itself."""
    problems = [f"{path.relative_to(SERVER.parent)}:{line}: {call}(): use server.web.clock (now(), today())"
                for path in python_files() if path != SERVER / "web" / "clock.py"
                for line, call in clock_reads(path.read_text(encoding="utf-8"))
                if call not in CLOCK_READS_ALLOWED.get(path, set())]
    assert not problems, "\n".join(problems)
    assert clock_reads("x = datetime.now(UTC)\ny = date.today()\nz = clock.now()") == [
        (1, "datetime.now"), (2, "date.today")]
