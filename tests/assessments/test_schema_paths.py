# ruff: noqa: RUF001  (a typographic minus on purpose)
"""The cheap ways the assessment schema runs give marshmallow's own answers, refusals included.

`schema_for` (a schema restricted to the fields a payload fills in), the schema's own field loop, the values it
remembers for texts a field loaded before (`_MEMO`) and the fast paths of `Number` and `Choice` are all
measured shortcuts for the sync ingest. Here hundreds of payloads, valid and broken in every way a field can
be, go through them (twice, so the second time is answered from what was remembered) and through marshmallow
alone: the full `AssessmentSchema`, marshmallow's field loop and every field's full `deserialize`. The data and
the errors must be the same.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from marshmallow import ValidationError, fields

from server.assessments import schemas
from server.assessments.instruments import CELLS, ITEMS
from server.web.forms import load_form
from tests.assessments.conftest import form

GOOD = {"mas": ["0", "1", "1+", "2", "3", "4"], "quality": ["0", "1", "2", "3", "4", "5"]}
BROKEN: list[Any] = ["", " ", "5", "1 +", "abc", "NaN", "Infinity", "-0", "1e2", "12.345", "35.5", "3,5", "−3",
                     "400", "-400", "0x10", " 7 ", "٣", "1_000", 40, 12.3, -1, True, False, None, ["1", "2"], [],
                     {}, "1" * 40, "2.50", "5.0", "+4", "00012", "1+ ", "left", "both", "yes", "on", "1", "0"]


def _value(name: str, rng: random.Random, broken: bool) -> Any:
    cell = CELLS.get(name)
    if broken and rng.random() < 0.25:
        return rng.choice(BROKEN)
    if cell is None:
        return rng.choice(["yes", "left", "right", "both", "Asleep", "1", "on"])
    if cell.measure.is_choice:
        return rng.choice(cell.measure.choice_values())
    lo, hi = int(cell.measure.min or 0), int(cell.measure.max or 0)
    number = rng.randint(lo, hi)
    return str(number) if cell.measure.decimals == 0 else rng.choice([str(number), f"{number}.5", f"{number},25"])


def _payloads(n: int) -> list[dict[str, Any]]:
    rng = random.Random(18)
    names = list(CELLS)
    extra = [i.not_tested_name for i in ITEMS.values()] + [i.reason_name for i in ITEMS.values()]
    out = []
    plain = [n for n in names if not n.startswith(("tardieu.", "function.penn."))]  # no cross-checks between them
    for k in range(n):
        broken = k % 2 == 1
        payload: dict[str, Any] = dict(form(rng.randint(1, 40), day_number=rng.randint(1, 3),
                                            phase=rng.choice(["baseline", "post_dose"])))
        for name in rng.sample(names if broken else plain, rng.randint(0, 12)):
            payload[name] = _value(name, rng, broken)
        if not broken:
            out.append(payload)
            continue
        for name in rng.sample(extra, rng.randint(0, 3)):
            payload[name] = _value(name, rng, broken)
        for name in rng.sample(list(payload), rng.randint(0, 2)):
            payload[name] = rng.choice(BROKEN)
        if rng.random() < 0.2:
            payload[rng.choice(["repeat", "notes", "supersedes_id", "correction_reason", "trial_id",
                                "day_number", "phase", "mas.nose.left", "rom.hip_flexion"])] = rng.choice(
                ["1", "0", "x", "", "12", "2147483648", "Wrong side", *BROKEN[:5]])
        out.append(payload)
    return out


def test_every_shortcut_gives_marshmallows_own_data_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    payloads = _payloads(600)
    fast = [load_form(schemas.schema_for(p), p) for p in payloads]
    again = [load_form(schemas.schema_for(p), p) for p in payloads]  # now answered from what was remembered
    assert again == fast
    assert any(schemas._MEMO.values()), "nothing was remembered: the test does not exercise the memo"
    assert sum(data is None for data, _ in fast) > 100 and sum(data is not None for data, _ in fast) > 100

    # marshmallow alone: its own field loop (any `partial` takes it) and every field's full deserialize.
    monkeypatch.setattr(schemas.Number, "deserialize", fields.Decimal.deserialize)
    monkeypatch.setattr(schemas.Choice, "deserialize", fields.String.deserialize)
    reference = []
    for p in payloads:
        schema = schemas.AssessmentSchema()
        data, errors = load_form(schema, p)  # the full schema, every field
        try:
            slow = schema.load(p, partial=()), {}
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
            slow = None, {k: (v if isinstance(v, list) else [str(v)]) for k, v in messages.items()}
        assert slow == (data, errors)
        reference.append(slow)
    for p, got, want in zip(payloads, fast, reference, strict=True):
        assert got == want, p
