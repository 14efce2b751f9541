"""Dates: the Date, Today and Enroll School Year transformations.

A date format is made of the tokens YYYY YY MM M DD D and the separators - / . and
space. Parsing is strict:

- YYYY takes exactly four digits, YY two, MM and DD exactly two (leading zero
  required), M and D one or two (leading zero optional). Digits are ASCII only.
- The separators must be the ones the format names; whitespace around the whole
  value is ignored.
- The month must be 1-12 and the day must exist in that month of that year
  (02/30 and 2023-02-29 are errors; 2024-02-29 is valid). Year 0 does not exist.
- A two-digit year (YY) is the latest year ending in those digits that is not after
  the current year: in 2026, 00-26 are 2000-2026 and 27-99 are 1927-1999. That is
  right for birth dates and past entry dates; a future date needs a four-digit year.
- A format that cannot be parsed is an error, not a guess: it must hold one year, one
  month and one day, and M or D directly followed by another number (MDYYYY) is
  ambiguous.

Writing a date uses the same tokens: YYYY is zero-padded to four digits, YY is the
year's last two digits, MM and DD are zero-padded, M and D are not. Any tokens may be
written (a format may leave out parts).
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from dataclasses import dataclass

from .base import Failed, Result, is_empty, show

_FORMAT = re.compile(r"(?:YYYY|YY|MM|M|DD|D|[-/. ])*")
_TOKEN = re.compile(r"YYYY|YY|MM|M|DD|D|[-/. ]")
_GROUP = {
    "YYYY": "(?P<Y>[0-9]{4})",
    "YY": "(?P<Y>[0-9]{2})",
    "MM": "(?P<M>[0-9]{2})",
    "M": "(?P<M>[0-9]{1,2})",
    "DD": "(?P<D>[0-9]{2})",
    "D": "(?P<D>[0-9]{1,2})",
}
_WRITE = {
    "YYYY": "{0.year:04d}",
    "YY": "{1:02d}",
    "MM": "{0.month:02d}",
    "M": "{0.month}",
    "DD": "{0.day:02d}",
    "D": "{0.day}",
}
_LENIENT = {**_GROUP, "MM": _GROUP["M"], "DD": _GROUP["D"]}
_MONTHS = (
    "", "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_SCHOOL_YEAR_START = re.compile(r"(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")
SCHOOL_YEAR_OUTPUTS = ("start", "end", "range")


@dataclass(frozen=True)
class DateFormat:
    """A compiled date format: its tokens, and why it cannot be read or written."""

    text: str
    tokens: tuple[str, ...]
    pattern: re.Pattern[str] | None
    lenient: re.Pattern[str] | None
    problem: str | None  # why values cannot be read in this format
    unwritable: str | None  # why dates cannot be written in this format
    writer: str = ""  # str.format template: {0} the date, {1} the year's last two digits


@functools.lru_cache(maxsize=512)
def compile_format(fmt: str) -> DateFormat:
    """Compile a date format once; formats come from a handful of mappings."""
    if not _FORMAT.fullmatch(fmt):
        unusable = (
            f"{show(fmt)} is not a date format: expected the tokens YYYY YY MM M DD D "
            "and the separators - / . and space, e.g. MM/DD/YYYY"
        )
        return DateFormat(fmt, (), None, None, unusable, unusable)
    tokens = tuple(_TOKEN.findall(fmt))
    writer = "".join(_WRITE.get(t, t) for t in tokens)
    problem = format_problem(fmt, tokens)
    if problem:
        return DateFormat(fmt, tokens, None, None, problem, None, writer)
    return DateFormat(
        fmt, tokens, _regex(tokens, _GROUP), _regex(tokens, _LENIENT), None, None, writer
    )


def format_problem(fmt: str, tokens: tuple[str, ...]) -> str | None:
    """Why values cannot be read in a (tokenised) format, or None."""
    counts = [sum(t.startswith(c) for t in tokens) for c in "YMD"]
    if counts != [1, 1, 1]:
        return (
            f"the date format {fmt!r} needs one year (YYYY or YY), one month (MM or M) "
            "and one day (DD or D) to read a date"
        )
    for token, after in zip(tokens, tokens[1:], strict=False):
        if token in ("M", "D") and after in _GROUP:
            return (
                f"the date format {fmt!r} is ambiguous: put a separator after {token}, "
                f"or use {token * 2}"
            )
    return None


def _regex(tokens: tuple[str, ...], groups: dict[str, str]) -> re.Pattern[str]:
    return re.compile("".join(groups.get(t) or re.escape(t) for t in tokens))


def parse_date(text: str, fmt: str, today: dt.date) -> dt.date | Failed:
    """Read ``text`` in the date format ``fmt``; ``today`` pivots two-digit years."""
    compiled = compile_format(fmt)
    if compiled.pattern is None or compiled.problem:
        return Failed(compiled.problem or "")
    found = compiled.pattern.fullmatch(text.strip())
    if found is None:
        return Failed(_mismatch(text, compiled))
    year = int(found["Y"])
    if len(found["Y"]) == 2:
        year = pivot_year(year, today)
    return _checked(text, year, int(found["M"]), int(found["D"]))


def _mismatch(text: str, compiled: DateFormat) -> str:
    message = f"{show(text)} does not match the date format {compiled.text!r}"
    if compiled.lenient is not None and compiled.lenient.fullmatch(text.strip()):
        message += "; MM and DD take two digits (e.g. 03), M and D take one or two"
    return message


def _checked(text: str, year: int, month: int, day: int) -> dt.date | Failed:
    if year < 1:
        return Failed(f"{show(text)}: year {year} is out of range (expected 1-9999)")
    if not 1 <= month <= 12:
        return Failed(f"{show(text)}: month {month} is out of range (expected 1-12)")
    days = _days_in(year, month)
    if not 1 <= day <= days:
        return Failed(
            f"{show(text)}: day {day} is out of range for {_MONTHS[month]} {year} "
            f"(expected 1-{days})"
        )
    return dt.date(year, month, day)


def _days_in(year: int, month: int) -> int:
    if month == 2 and calendar.isleap(year):
        return 29
    return _DAYS[month]


def pivot_year(two_digits: int, today: dt.date) -> int:
    """The latest year ending in ``two_digits`` that is not after today's year."""
    year = today.year // 100 * 100 + two_digits
    return year - 100 if year > today.year else year


def format_date(day: dt.date, fmt: str) -> str | Failed:
    """Write ``day`` in the date format ``fmt``."""
    compiled = compile_format(fmt)
    if compiled.unwritable:
        return Failed(compiled.unwritable)
    return compiled.writer.format(day, day.year % 100)


def reformat_date(value: str | None, source: str, target: str, today: dt.date) -> Result:
    """Date: read ``value`` in the ``source`` format, write it in ``target``.

    An empty value stays empty. A value that is not a date in ``source`` (wrong
    shape, month or day out of range) is an error naming the problem.
    """
    if value is None or is_empty(value):
        return value
    day = parse_date(value, source, today)
    return day if isinstance(day, Failed) else format_date(day, target)


def school_year(day: dt.date, school_year_start: str, output: str = "start") -> str | Failed:
    """Enroll School Year: the school year in which ``day`` falls.

    A school year starts each year on ``school_year_start`` (MM-DD) and runs to the
    day before it the next year. ``output`` is ``start`` (its first calendar year),
    ``end`` (the next one) or ``range`` ("2026-2027").
    """
    found = _SCHOOL_YEAR_START.fullmatch(school_year_start)
    if found is None:
        return Failed(
            f"the school year start {show(school_year_start)} is not a month and day, "
            "MM-DD (e.g. 07-01)"
        )
    if output not in SCHOOL_YEAR_OUTPUTS:
        return Failed(f"output {show(output)} is not one of start, end, range")
    begins = (int(found[1]), int(found[2]))
    first = day.year if (day.month, day.day) >= begins else day.year - 1
    return {"start": str(first), "end": str(first + 1), "range": f"{first}-{first + 1}"}[output]
