"""Date, Today and Enroll School Year: the dates a district's records hold."""

from __future__ import annotations

import datetime as dt

import pytest

from intcfg.errors import ConfigError
from intcfg.transform import (
    Context,
    Failed,
    compile_format,
    map_record,
    parse_date,
    pivot_year,
    reformat_date,
    school_year,
    today_in,
)

TODAY = dt.date(2026, 11, 22)


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        ("01/02/05", "M/D/YY", "YYYY-MM-DD", "2005-01-02"),
        ("01/02/05", "MM/DD/YY", "YYYY-MM-DD", "2005-01-02"),
        ("3/4/98", "M/D/YY", "YYYY-MM-DD", "1998-03-04"),
        ("12/31/26", "MM/DD/YY", "YYYY-MM-DD", "2026-12-31"),  # this year's digits: 2000s
        ("01/01/27", "MM/DD/YY", "YYYY-MM-DD", "1927-01-01"),  # next year's digits: 1900s
        ("2024-02-29", "YYYY-MM-DD", "MM/DD/YYYY", "02/29/2024"),
        ("2008-07-04", "YYYY-MM-DD", "M/D/YYYY", "7/4/2008"),
        ("2008-07-04", "YYYY-MM-DD", "D.M.YY", "4.7.08"),
        ("20080704", "YYYYMMDD", "YYYY-MM-DD", "2008-07-04"),
        ("07042008", "MMDDYYYY", "YYYY/MM/DD", "2008/07/04"),
        ("4 7 2008", "D M YYYY", "YYYY-MM-DD", "2008-07-04"),
        (" 07/04/2008 ", "MM/DD/YYYY", "YYYY-MM-DD", "2008-07-04"),  # padding of fixed-width files
        ("0999-01-01", "YYYY-MM-DD", "YYYY-MM-DD", "0999-01-01"),
        ("", "MM/DD/YYYY", "YYYY-MM-DD", ""),  # no birth date: empty, not an error
        (None, "MM/DD/YYYY", "YYYY-MM-DD", None),
    ],
)
def test_date_converts(value: str | None, source: str, target: str, expected: str | None) -> None:
    assert reformat_date(value, source, target, TODAY) == expected


@pytest.mark.parametrize(
    ("value", "source", "message"),
    [
        (
            "02/30/2026",
            "MM/DD/YYYY",
            "'02/30/2026': day 30 is out of range for February 2026 (expected 1-28)",
        ),
        (
            "2023-02-29",
            "YYYY-MM-DD",
            "'2023-02-29': day 29 is out of range for February 2023 (expected 1-28)",
        ),
        (
            "04/31/2020",
            "MM/DD/YYYY",
            "'04/31/2020': day 31 is out of range for April 2020 (expected 1-30)",
        ),
        ("13/01/2020", "MM/DD/YYYY", "'13/01/2020': month 13 is out of range (expected 1-12)"),
        ("00/10/2020", "MM/DD/YYYY", "'00/10/2020': month 0 is out of range (expected 1-12)"),
        (
            "01/00/2020",
            "MM/DD/YYYY",
            "'01/00/2020': day 0 is out of range for January 2020 (expected 1-31)",
        ),
        ("01/01/0000", "MM/DD/YYYY", "'01/01/0000': year 0 is out of range (expected 1-9999)"),
        (
            "3/4/98",
            "MM/DD/YY",
            "'3/4/98' does not match the date format 'MM/DD/YY'; "
            "MM and DD take two digits (e.g. 03), M and D take one or two",
        ),
        ("2005-01-02", "MM/DD/YYYY", "'2005-01-02' does not match the date format 'MM/DD/YYYY'"),
        ("01-02-2005", "MM/DD/YYYY", "'01-02-2005' does not match the date format 'MM/DD/YYYY'"),
        ("01/02/205", "MM/DD/YYYY", "'01/02/205' does not match the date format 'MM/DD/YYYY'"),
        ("١٢/٠١/٢٠٢٠", "MM/DD/YYYY", "'١٢/٠١/٢٠٢٠' does not match the date format 'MM/DD/YYYY'"),
        ("   ", "MM/DD/YYYY", "'   ' does not match the date format 'MM/DD/YYYY'"),
        ("unknown", "MM/DD/YYYY", "'unknown' does not match the date format 'MM/DD/YYYY'"),
        (
            "1112020",
            "MDYYYY",
            "the date format 'MDYYYY' is ambiguous: put a separator after M, or use MM",
        ),
        (
            "2020",
            "YYYY",
            "the date format 'YYYY' needs one year (YYYY or YY), one month (MM or M) "
            "and one day (DD or D) to read a date",
        ),
        (
            "01/02/2020",
            "MM/DD/YYYY hh",
            "'MM/DD/YYYY hh' is not a date format: expected the tokens YYYY YY MM M DD D "
            "and the separators - / . and space, e.g. MM/DD/YYYY",
        ),
    ],
)
def test_date_errors(value: str, source: str, message: str) -> None:
    assert reformat_date(value, source, "YYYY-MM-DD", TODAY) == Failed(message)


def test_a_long_value_is_shown_cut_short() -> None:
    result = reformat_date("9" * 500, "MM/DD/YYYY", "YYYY-MM-DD", TODAY)
    assert result == Failed(
        "'9999999999999999999999999999999999999999'... (500 characters) "
        "does not match the date format 'MM/DD/YYYY'"
    )


@pytest.mark.parametrize(
    ("two_digits", "today", "year"),
    [
        (0, TODAY, 2000),
        (26, TODAY, 2026),
        (27, TODAY, 1927),
        (99, TODAY, 1999),
        (5, dt.date(2100, 3, 1), 2005),
        (0, dt.date(2100, 3, 1), 2100),
        (1, dt.date(2100, 3, 1), 2001),
    ],
)
def test_two_digit_years_are_never_in_the_future(
    two_digits: int, today: dt.date, year: int
) -> None:
    assert pivot_year(two_digits, today) == year


def test_the_pivot_follows_the_context_year() -> None:
    assert reformat_date("06/01/27", "MM/DD/YY", "YYYY-MM-DD", dt.date(2027, 1, 1)) == "2027-06-01"
    assert (
        reformat_date("06/01/27", "MM/DD/YY", "YYYY-MM-DD", dt.date(2026, 12, 31)) == "1927-06-01"
    )


def test_output_formats_may_leave_parts_out() -> None:
    assert reformat_date("2008-07-04", "YYYY-MM-DD", "YYYY", TODAY) == "2008"
    assert compile_format("YYYY").problem is not None  # but nothing can be read in it


def test_parse_returns_a_date() -> None:
    assert parse_date("7/4/2008", "M/D/YYYY", TODAY) == dt.date(2008, 7, 4)


# -- Today ------------------------------------------------------------------------------


def _today_field(fmt: str | None = None) -> dict[str, object]:
    step = {"today": {} if fmt is None else {"format": fmt}}
    return {"students_annual.sis_entrydate": {"type": "transformation", "transformations": [step]}}


def test_today_where_utc_is_already_tomorrow() -> None:
    evening_in_los_angeles = dt.datetime(2026, 11, 23, 3, 30, tzinfo=dt.UTC)
    local = today_in("America/Los_Angeles", evening_in_los_angeles)
    assert local == dt.date(2026, 11, 22)
    mapped = map_record(_today_field(), {}, Context(local))
    assert mapped.values == {"students_annual.sis_entrydate": "2026-11-22"}


def test_today_where_the_district_is_already_tomorrow() -> None:
    noon_utc = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
    assert today_in("Pacific/Auckland", noon_utc) == dt.date(2026, 11, 23)
    assert today_in("Pacific/Honolulu", noon_utc) == dt.date(2026, 11, 22)


def test_today_reads_a_naive_time_as_utc() -> None:
    assert today_in("America/Denver", dt.datetime(2026, 1, 1, 5, 0)) == dt.date(2025, 12, 31)


def test_today_without_now_is_the_current_date_there() -> None:
    assert today_in("UTC") == dt.datetime.now(dt.UTC).date()


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../etc/passwd", ""])
def test_today_in_an_unknown_zone(zone: str) -> None:
    with pytest.raises(ConfigError) as caught:
        today_in(zone)
    assert str(caught.value) == (
        f"unknown time zone {zone!r}; expected an IANA time zone name, e.g. America/Los_Angeles"
    )


@pytest.mark.parametrize(
    ("fmt", "expected"), [(None, "2026-02-03"), ("MM/DD/YYYY", "02/03/2026"), ("M/D/YY", "2/3/26")]
)
def test_today_with_a_format(fmt: str | None, expected: str) -> None:
    mapped = map_record(_today_field(fmt), {"anything": "x"}, Context(dt.date(2026, 2, 3)))
    assert mapped.values == {"students_annual.sis_entrydate": expected}


# -- Enroll School Year -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "start", "output", "expected"),
    [
        (dt.date(2026, 6, 30), "07-01", "start", "2025"),
        (dt.date(2026, 7, 1), "07-01", "start", "2026"),
        (dt.date(2026, 6, 30), "07-01", "end", "2026"),
        (dt.date(2026, 7, 1), "07-01", "end", "2027"),
        (dt.date(2026, 6, 30), "07-01", "range", "2025-2026"),
        (dt.date(2026, 7, 1), "07-01", "range", "2026-2027"),
        (dt.date(2026, 7, 31), "08-01", "start", "2025"),
        (dt.date(2026, 8, 1), "08-01", "start", "2026"),
        (dt.date(2026, 8, 1), "08-01", "range", "2026-2027"),
        (dt.date(2026, 1, 15), "08-01", "range", "2025-2026"),
        (dt.date(2026, 12, 31), "01-01", "range", "2026-2027"),
    ],
)
def test_school_year_around_the_start(day: dt.date, start: str, output: str, expected: str) -> None:
    assert school_year(day, start, output) == expected


def test_school_year_errors() -> None:
    assert school_year(TODAY, "7-1") == Failed(
        "the school year start '7-1' is not a month and day, MM-DD (e.g. 07-01)"
    )
    assert school_year(TODAY, "07-01", "both") == Failed(
        "output 'both' is not one of start, end, range"
    )


def _school_year_field(source: str | None, *steps: dict[str, object]) -> dict[str, object]:
    fmap: dict[str, object] = {"type": "transformation", "transformations": list(steps)}
    if source:
        fmap["source"] = source
    return {"students.sis_school_year": fmap}


@pytest.mark.parametrize(
    ("today", "start", "expected"),
    [
        (dt.date(2026, 6, 30), "07-01", "2025-2026"),
        (dt.date(2026, 7, 1), "07-01", "2026-2027"),
        (dt.date(2026, 7, 31), "08-01", "2025-2026"),
        (dt.date(2026, 8, 1), "08-01", "2026-2027"),
    ],
)
def test_school_year_without_a_source_is_todays(today: dt.date, start: str, expected: str) -> None:
    spec = _school_year_field(None, {"enrollSchoolYear": {"output": "range"}})
    assert map_record(spec, {}, Context(today, start)).values == {
        "students.sis_school_year": expected
    }


def test_school_year_of_the_source_date() -> None:
    spec = _school_year_field("EntryDate", {"enrollSchoolYear": {}})
    ctx = Context(TODAY, "08-01")
    assert map_record(spec, {"EntryDate": "2026-07-31"}, ctx).values == {
        "students.sis_school_year": "2025"
    }
    assert map_record(spec, {"EntryDate": "2026-08-01"}, ctx).values == {
        "students.sis_school_year": "2026"
    }


def test_school_year_of_the_previous_steps_date() -> None:
    read = {"date": {"from": "MM/DD/YYYY", "to": "M/D/YY"}}
    spec = _school_year_field("EntryDate", read, {"enrollSchoolYear": {"output": "end"}})
    mapped = map_record(spec, {"EntryDate": "06/30/2026"}, Context(TODAY))
    assert mapped.values == {"students.sis_school_year": "2026"}


def test_school_year_needs_a_date_in_the_source() -> None:
    spec = _school_year_field("EntryDate", {"enrollSchoolYear": {}})
    ctx = Context(TODAY)
    assert map_record(spec, {"EntryDate": "08/15/2026"}, ctx).errors == {
        "students.sis_school_year": "enrollSchoolYear (step 1): '08/15/2026' does not match the "
        "date format 'YYYY-MM-DD'; read other formats with a date step first"
    }
    assert map_record(spec, {}, ctx).errors == {
        "students.sis_school_year": "enrollSchoolYear (step 1): the value is empty: "
        "there is no date to take the school year from"
    }
