"""A FieldMapping spec applied to one record, and the result merged into what the
enrollment system holds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from .base import Context, Failed, is_empty
from .codes import code_problem
from .steps import Carry, Compiled, Env, compile_step, compile_steps, run_steps

MAPPING_TYPES = ("direct", "transformation", "matchCodes", "doNotMap")


class FieldResult(NamedTuple):
    """One target field of a mapped record (a row of the Mapped Value column)."""

    type: str  # the mapping type: direct, transformation, matchCodes
    source_value: str | None  # the source field's value; None without a source
    value: str | None  # the mapped value; None when there is an error
    error: str | None = None  # why the field could not be mapped


@dataclass(frozen=True)
class MappedRecord:
    """Each mapped target field (Do Not Map targets are absent) and its result."""

    fields: dict[str, FieldResult]

    @property
    def values(self) -> dict[str, str | None]:
        """The mapped values of the fields without an error."""
        return {t: r.value for t, r in self.fields.items() if r.error is None}

    @property
    def errors(self) -> dict[str, str]:
        """Target field -> why it could not be mapped."""
        return {t: r.error for t, r in self.fields.items() if r.error is not None}

    @property
    def ok(self) -> bool:
        return not self.errors


class _Field(NamedTuple):
    target: str
    kind: str
    source: str | None
    steps: tuple[Compiled, ...]  # none for Direct
    problem: str | None  # why the spec cannot map this field: every record's error


class FieldMapper:
    """A FieldMapping spec's ``fields``, checked once, to map many records.

    ``FieldMapper(fields)(record, context)`` is ``map_record(fields, record, context)``
    without checking the spec again for each record.
    """

    def __init__(self, field_maps: Mapping[str, Any]) -> None:
        self._fields = tuple(
            _compile(str(target), fmap)
            for target, fmap in field_maps.items()
            if not (isinstance(fmap, Mapping) and fmap.get("type") == "doNotMap")
        )

    def __call__(self, record: Mapping[str, Any], context: Context) -> MappedRecord:
        env = Env(_plain(record), context)
        return MappedRecord(
            {f.target: _checked(f.target, _run(f, env), context) for f in self._fields}
        )


def map_record(
    field_maps: Mapping[str, Any], record: Mapping[str, Any], context: Context
) -> MappedRecord:
    """Apply a FieldMapping spec's ``fields`` to one source record.

    ``record`` maps source field names to text or None; a missing key is a missing
    value, and a value that is not text is read as ``str(value)``. Each target gets
    its source value, mapping type, mapped value and error: Direct passes the value
    as it is, Transformation runs the steps in order, Match Codes looks the value up
    in the field's table, and a Do Not Map target is left out. When ``context`` has
    the code set of a target, a mapped value outside it is an error. Never raises.
    To map many records with one spec, use ``map_records`` or a ``FieldMapper``.
    """
    return FieldMapper(field_maps)(record, context)


def map_records(
    field_maps: Mapping[str, Any], records: Iterable[Mapping[str, Any]], context: Context
) -> list[MappedRecord]:
    """``map_record`` for each of ``records``, checking the spec once."""
    mapper = FieldMapper(field_maps)
    return [mapper(record, context) for record in records]


def _plain(record: Mapping[str, Any]) -> dict[str, str | None]:
    return {str(k): v if v is None or isinstance(v, str) else str(v) for k, v in record.items()}


def _compile(target: str, fmap: Any) -> _Field:
    if not isinstance(fmap, Mapping):
        return _Field(target, "", None, (), "a field map must be a mapping with a type")
    kind, source = str(fmap.get("type")), fmap.get("source")
    source = source if isinstance(source, str) else None
    steps = _steps_of(kind, fmap)
    if isinstance(steps, Failed):
        return _Field(target, kind, source, (), steps.message)
    return _Field(target, kind, source, steps, None)


def _steps_of(kind: str, fmap: Mapping[str, Any]) -> tuple[Compiled, ...] | Failed:
    if kind == "direct":
        return ()
    if kind == "matchCodes" and fmap.get("matchCodes") is not None:
        step = compile_step({"matchCodes": fmap["matchCodes"]}, label="")
        return step if isinstance(step, Failed) else (step,)
    transformations = fmap.get("transformations")
    if kind == "transformation" and isinstance(transformations, list) and transformations:
        return compile_steps(transformations)
    return Failed(_type_problem(kind))


def _run(field: _Field, env: Env) -> FieldResult:
    value = None if field.source is None else env.record.get(field.source)
    if field.problem is not None:
        return FieldResult(field.kind, value, None, field.problem)
    result = run_steps(field.steps, Carry(value, given=field.source is not None), env)
    if isinstance(result, Failed):
        return FieldResult(field.kind, value, None, result.message)
    return FieldResult(field.kind, value, result.value)


def _type_problem(kind: str) -> str:
    if kind == "transformation":
        return "type transformation needs transformations: [ {STEP: {ARGS}} ]"
    if kind == "matchCodes":
        return "type matchCodes needs matchCodes: {table: {SOURCE: CODE}}"
    return f"unknown mapping type {kind!r}; expected one of {', '.join(MAPPING_TYPES)}"


def _checked(target: str, result: FieldResult, context: Context) -> FieldResult:
    if result.error is not None or result.value is None or not context.code_sets:
        return result
    problem = code_problem(target, result.value, context.code_sets)
    return result if problem is None else result._replace(value=None, error=problem.message)


def merge_into(
    existing: Mapping[str, Any], mapped: MappedRecord, field_maps: Mapping[str, Any]
) -> dict[str, Any]:
    """The record as the enrollment system stores it after the import.

    A non-empty mapped value replaces the existing one. An empty mapped value (None or
    '') replaces it with null only where the field's ``overwrite`` is on ("insert a
    null value in Enroll, replacing the existing field value with a blank");
    otherwise the existing value stays. A field with an error leaves the existing
    value alone, and fields the mapping does not map are kept as they are.
    """
    merged = dict(existing)
    for target, result in mapped.fields.items():
        if result.error is not None:
            continue
        if result.value is not None and not is_empty(result.value):
            merged[target] = result.value
        elif _overwrites(field_maps.get(target)):
            merged[target] = None
    return merged


def _overwrites(fmap: Any) -> bool:
    return isinstance(fmap, Mapping) and fmap.get("overwrite") is True
