"""The vocabulary every transformation shares: a value, a failure, the context of a run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ConfigError

ISO_FORMAT = "YYYY-MM-DD"
_SHOWN = 40


@dataclass(frozen=True, slots=True)
class Failed:
    """Why a value could not be mapped; the field's error, never a silent blank."""

    message: str


# A mapped value: text, None (no value), or why there is none.
Result = str | None | Failed


@dataclass(frozen=True)
class Context:
    """What a mapping run knows besides the record.

    ``today`` is the district's date (see ``today_in``), ``school_year_start`` its
    MM-DD, ``code_sets`` the enrollment system's code sets by name (genders,
    languages, ...): when given, a mapped value of a target field that uses a set must
    be one of its codes.
    """

    today: dt.date
    school_year_start: str = "07-01"
    code_sets: Mapping[str, Set[str]] = field(default_factory=dict)


def today_in(timezone: str, now: dt.datetime | None = None) -> dt.date:
    """The date in ``timezone`` (IANA name) at ``now`` (default: the current time).

    A naive ``now`` is read as UTC. Raises ConfigError for an unknown time zone.
    """
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ConfigError(
            f"unknown time zone {show(timezone)}; expected an IANA time zone name, "
            "e.g. America/Los_Angeles"
        ) from e
    moment = now or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone).date()


def is_empty(value: str | None) -> bool:
    """No value: missing (None) or the empty string. Whitespace is a value."""
    return value is None or value == ""


def show(value: str) -> str:
    """A value quoted for a message, cut short: records can hold anything."""
    if len(value) <= _SHOWN:
        return repr(value)
    return repr(value[:_SHOWN]) + f"... ({len(value)} characters)"
