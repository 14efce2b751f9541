from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import TIMEZONE_EXPECTED, TIMEZONE_PATTERN, Lifecycle, Metadata, Model, Name, expects

Job = Literal["import-school", "import-student", "export-student"]


class ScheduleSpec(Model):
    """A nightly job of a sync connection. On a sandbox connection it runs once, then turns off."""

    connection: Name = Field(description="The SyncConnection (same district).")
    job: Job = Field(description="Which mapping's job runs.")
    time: str = Field(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Time of day, HH:MM (24 h); quote it in YAML.",
        json_schema_extra=expects('a time of day, HH:MM from 00:00 to 23:59, quoted, e.g. "02:00"'),
    )
    timezone: str | None = Field(
        default=None,
        pattern=TIMEZONE_PATTERN,
        description="IANA zone; default: the district's.",
        json_schema_extra=expects(TIMEZONE_EXPECTED),
    )
    enabled: bool = True


class Schedule(Model):
    api_version: Literal["intcfg/v1"]
    kind: Literal["Schedule"]
    metadata: Metadata
    spec: ScheduleSpec
    lifecycle: Lifecycle | None = None
