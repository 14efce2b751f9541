"""The engine's steps and argument table follow the models (the single source of truth)."""

from __future__ import annotations

import typing

from intcfg.models.mapping import TRANSFORMATIONS, Transformation
from intcfg.transform import ARGUMENTS, STEPS


def _argument_model(step: str) -> type:
    field = next(f for n, f in Transformation.model_fields.items() if (f.alias or n) == step)
    return next(a for a in typing.get_args(field.annotation) if a is not type(None))


def test_every_transformation_of_the_models_has_a_step() -> None:
    assert list(STEPS) == list(TRANSFORMATIONS)


def test_the_argument_table_matches_the_argument_models() -> None:
    for step in TRANSFORMATIONS:
        model = _argument_model(step)
        fields = {f.alias or n: f.is_required() for n, f in model.model_fields.items()}
        table = {name: required for name, (required, _) in ARGUMENTS[step].items()}
        assert table == fields, step
