"""A FieldMapping spec applied to one record, and the result merged into what the
enrollment system holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from .base import Context, Failed, is_empty
from .codes import code_problem
from .steps import Carry, Env, run_step, run_steps

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
    """
    env = Env(_plain(record), context)
    fields: dict[str, FieldResult] = {}
    for target, fmap in field_maps.items():
        if isinstance(fmap, Mapping) and fmap.get("type") == "doNotMap":
            continue
        fields[target] = _checked(str(target), _map_field(fmap, env), context)
    return MappedRecord(fields)


def _plain(record: Mapping[str, Any]) -> dict[str, str | None]:
    return {str(k): v if v is None or isinstance(v, str) else str(v) for k, v in record.items()}


def _map_field(fmap: Any, env: Env) -> FieldResult:
    if not isinstance(fmap, Mapping):
        return FieldResult("", None, None, "a field map must be a mapping with a type")
    kind, source = str(fmap.get("type")), fmap.get("source")
    value = env.record.get(source) if isinstance(source, str) else None
    start = Carry(value, given=isinstance(source, str))
    if kind == "direct":
        return FieldResult(kind, value, value)
    if kind == "matchCodes" and fmap.get("matchCodes") is not None:
        result = run_step({"matchCodes": fmap.get("matchCodes")}, start, env)
    elif kind == "transformation" and fmap.get("transformations"):
        result = run_steps(fmap["transformations"], start, env)
    else:
        return FieldResult(kind, value, None, _type_problem(kind))
    if isinstance(result, Failed):
        return FieldResult(kind, value, None, result.message)
    return FieldResult(kind, value, result.value)


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
