"""Field mappings of a sync connection and the transformation catalogue.

A transformation step is an object with exactly one key, the transformation's name,
whose value holds its arguments: ``{date: {from: MM/DD/YYYY, to: YYYY-MM-DD}}``.
Steps run in order.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .. import defaults
from .base import Lifecycle, Metadata, Model, Name, expects, unique

MappingType = Literal["import-school", "import-student", "export-student"]
DATE_FORMAT_PATTERN = r"^(YYYY|YY|MM|M|DD|D|[-/. ])+$"
DATE_FORMAT_EXPECTED = (
    "a date format of the tokens YYYY YY MM M DD D and the separators - / . and space, "
    "e.g. MM/DD/YYYY"
)
ISO_DATE_FORMAT = "YYYY-MM-DD"
TARGET_FIELD_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$"


class NoArgs(Model):
    pass


class DateArgs(Model):
    from_: str = Field(
        alias="from",
        pattern=DATE_FORMAT_PATTERN,
        description="Source format from the tokens YYYY YY MM M DD D and - / . space.",
        json_schema_extra=expects(DATE_FORMAT_EXPECTED),
    )
    to: str = Field(
        default=ISO_DATE_FORMAT,
        pattern=DATE_FORMAT_PATTERN,
        json_schema_extra=expects(DATE_FORMAT_EXPECTED),
    )


class TodayArgs(Model):
    format: str = Field(
        default=ISO_DATE_FORMAT,
        pattern=DATE_FORMAT_PATTERN,
        json_schema_extra=expects(DATE_FORMAT_EXPECTED),
    )


class ValueInputArgs(Model):
    value: str = Field(max_length=1000)


class JoinArgs(Model):
    sources: list[str] = Field(min_length=2, description="Source fields joined in order.")
    separator: str = " "


class PickArgs(Model):
    start: int = Field(ge=1, description="First character to keep (1-based).")
    length: int | None = Field(default=None, ge=1, description="How many; default: to the end.")


class SplitArgs(Model):
    separator: str = Field(min_length=1)
    part: int = Field(ge=1, description="Which part to keep (1-based).")


class SubstituteArgs(Model):
    find: str = Field(min_length=1)
    replace: str = ""


class Condition(Model):
    operator: Literal[
        "equals", "notEquals", "contains", "startsWith", "endsWith", "isEmpty", "isNotEmpty"
    ]
    value: str | None = None


class IfThenElseArgs(Model):
    condition: Condition
    then: str
    else_: str | None = Field(
        default=None, alias="else", description="Default: the value passes through unchanged."
    )


class PhoneNumberArgs(Model):
    format: str = Field(
        default="(XXX) XXX-XXXX",
        pattern=r"^[X0-9()+. -]*X[X0-9()+. -]*$",
        description="Each X takes the next digit.",
        json_schema_extra=expects("a phone format in which each X takes the next digit, e.g. (XXX) XXX-XXXX"),
    )


class EnrollSchoolYearArgs(Model):
    output: Literal["start", "end", "range"] = Field(
        default="start",
        description="The school year in which the date (default: today) falls: its start "
        "year, end year, or 'YYYY-YYYY'.",
    )


class MatchCodes(Model):
    table: dict[str, str] = Field(min_length=1, description="Source value -> target code.")
    default: str | None = Field(default=None, description="Code for values not in the table.")


class Transformation(Model):
    """One step; exactly one key."""

    model_config = {"json_schema_extra": {"minProperties": 1, "maxProperties": 1}}

    date: DateArgs | None = None
    today: TodayArgs | None = None
    lower: NoArgs | None = None
    upper: NoArgs | None = None
    direct: NoArgs | None = None
    value_input: ValueInputArgs | None = None
    join: JoinArgs | None = None
    pick: PickArgs | None = None
    split: SplitArgs | None = None
    substitute: SubstituteArgs | None = None
    if_then_else: IfThenElseArgs | None = None
    phone_number: PhoneNumberArgs | None = None
    enroll_school_year: EnrollSchoolYearArgs | None = None
    match_codes: MatchCodes | None = None
    transliterate: NoArgs | None = None

    @model_validator(mode="after")
    def _one_step(self) -> Transformation:
        # The schema says this with minProperties/maxProperties.
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("a transformation step has exactly one key, the transformation's name")
        return self


TRANSFORMATIONS: tuple[str, ...] = tuple(
    f.alias or n for n, f in Transformation.model_fields.items()
)


class FieldMap(Model):
    type: Literal["direct", "transformation", "matchCodes", "doNotMap"] = Field(
        description="Mapping Type: how (or whether) the field is mapped."
    )
    source: str | None = Field(default=None, max_length=200, description="The source field.")
    transformations: list[Transformation] | None = Field(default=None, min_length=1)
    match_codes: MatchCodes | None = None
    overwrite: bool = Field(
        default=False,
        description="A null in the source replaces the existing value (Overwrite column).",
    )


class FieldMappingSpec(Model):
    connection: Name = Field(description="The SyncConnection (same district).")
    type: MappingType
    sample_students: list[str] = Field(
        default_factory=list,
        max_length=defaults.MAX_SAMPLE_STUDENTS,
        description="Student Unique IDs of up to five sample students for previews.",
        json_schema_extra={"uniqueItems": True},
    )
    fields: dict[str, FieldMap] = Field(
        description="Target field (e.g. students.fname) -> how it is mapped.",
        json_schema_extra={
            "propertyNames": {
                "pattern": TARGET_FIELD_PATTERN,
                "x-intcfg-expected": "a target field, table.field (e.g. students.fname)",
            }
        },
    )

    _unique_samples = field_validator("sample_students")(unique)

    @field_validator("fields")
    @classmethod
    def _target_names(cls, fields: dict[str, FieldMap]) -> dict[str, FieldMap]:
        bad = [name for name in fields if not re.search(TARGET_FIELD_PATTERN, name)]
        if bad:
            raise ValueError(f"not target field names (table.field): {', '.join(map(repr, bad))}")
        return fields


class FieldMapping(Model):
    api_version: Literal["intcfg/v1"]
    kind: Literal["FieldMapping"]
    metadata: Metadata
    spec: FieldMappingSpec
    lifecycle: Lifecycle | None = None
