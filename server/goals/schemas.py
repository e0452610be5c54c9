"""Form schemas for goals: marshmallow at the edge, errors by field name (goal_1, weight_1, score_<goal id>)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from ..web.forms import FormSchema, max_length
from .models import WEIGHTS
from .scoring import SCALE

DESCRIPTION_MAX = 300
ROWS = 5  # rows on the form; the protocol's gas_max_goals is checked by the service
WEIGHT_MESSAGE = "Choose how important this goal is."
SCORE_MESSAGE = "Choose a rating from -2 to +2."


def _goal_fields() -> dict[str, fields.Field[Any]]:
    out: dict[str, fields.Field[Any]] = {}
    for n in range(1, ROWS + 1):
        out[f"goal_{n}"] = fields.String(load_default=None, validate=max_length(DESCRIPTION_MAX))
        out[f"weight_{n}"] = fields.Integer(load_default=1, strict=False, validate=validate.OneOf(
            list(WEIGHTS), error=WEIGHT_MESSAGE), error_messages={"invalid": WEIGHT_MESSAGE})
    return out


class _GoalsBase(FormSchema):
    @validates_schema
    def _at_least_one(self, data: dict[str, Any], **_: Any) -> None:
        if not any(data.get(f"goal_{n}") for n in range(1, ROWS + 1)):
            raise ValidationError("Write at least one goal agreed with the family.", "goal_1")

    @post_load
    def _shape(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """{"goals": [(description, weight), ...]} in row order, empty rows left out."""
        return {"goals": [(data[f"goal_{n}"], data[f"weight_{n}"]) for n in range(1, ROWS + 1)
                          if data.get(f"goal_{n}")]}


GoalsSchema = _GoalsBase.from_dict(_goal_fields(), name="GoalsSchema")


class _RatingsBase(FormSchema):
    @validates_schema
    def _at_least_one(self, data: dict[str, Any], **_: Any) -> None:
        if all(v is None for v in data.values()):
            raise ValidationError("Rate at least one goal.", "_form")

    @post_load
    def _shape(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """{"scores": {goal_id: score}} for the goals rated."""
        return {"scores": {int(k[6:]): v for k, v in data.items() if v is not None}}


@lru_cache(maxsize=256)
def _ratings_class(goal_ids: tuple[int, ...]) -> type[Schema]:
    score: dict[str, fields.Field[Any]] = {
        f"score_{gid}": fields.Integer(load_default=None, strict=False, validate=validate.OneOf(
            list(SCALE), error=SCORE_MESSAGE), error_messages={"invalid": SCORE_MESSAGE})
        for gid in goal_ids}
    return _RatingsBase.from_dict(score, name="RatingsSchema")


def ratings_schema(goal_ids: list[int]) -> Schema:
    """A schema with one score_<id> field per goal of the trial (the goals are the trial's own)."""
    return _ratings_class(tuple(sorted(goal_ids)))()
