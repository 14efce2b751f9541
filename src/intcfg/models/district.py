from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import TIMEZONE_EXPECTED, TIMEZONE_PATTERN, Lifecycle, Model, Name, expects


class Site(Model):
    id: Name = Field(description="The site (school or LEA) id, unique in the district.")
    name: str = Field(min_length=1, max_length=200)
    state_school_code: str | None = Field(
        default=None,
        pattern=r"^[0-9A-Za-z-]{1,20}$",
        description="The state's code for the school (in California the CDS code).",
        json_schema_extra=expects("1 to 20 letters, digits or '-'"),
    )
    sis_school_number: str | None = Field(
        default=None,
        pattern=r"^[0-9A-Za-z_-]{1,20}$",
        description="The school's number in the SIS (import-school mapping key).",
        json_schema_extra=expects("1 to 20 letters, digits, '_' or '-'"),
    )


class DistrictSpec(Model):
    name: str = Field(min_length=1, max_length=200, description="Display name of the district.")
    timezone: str = Field(
        pattern=TIMEZONE_PATTERN,
        description="IANA time zone, e.g. America/Los_Angeles; schedules and 'Today' use it.",
        json_schema_extra=expects(TIMEZONE_EXPECTED),
    )
    state: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}$",
        json_schema_extra=expects("a two-letter state code in capitals, e.g. CA"),
    )
    school_year_start: str = Field(
        default="07-01",
        pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
        description="MM-DD on which a school year starts (Enroll School Year).",
        json_schema_extra=expects("a month and day, MM-DD, e.g. 07-01"),
    )
    sites: list[Site] = Field(default_factory=list, description="The district's sites/schools.")


class DistrictMetadata(Model):
    name: Name = Field(description="The district id.")
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


class District(Model):
    api_version: Literal["intcfg/v1"]
    kind: Literal["District"]
    metadata: DistrictMetadata
    spec: DistrictSpec
    lifecycle: Lifecycle | None = None
