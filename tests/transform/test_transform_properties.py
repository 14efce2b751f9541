"""Properties over any input: nothing raises, dates round-trip, codes are never invented."""

from __future__ import annotations

import datetime as dt
import string
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from intcfg.models.mapping import TRANSFORMATIONS
from intcfg.transform import (
    Context,
    Failed,
    FieldResult,
    format_date,
    map_record,
    match_codes,
    merge_into,
    parse_date,
    phone_number,
    reformat_date,
    school_year,
    transliterate,
)

# The shapes of models/mapping.py: patterns, limits and literals.
DATE_FORMAT_PATTERN = r"(YYYY|YY|MM|M|DD|D|[-/. ])+"
PHONE_FORMAT_PATTERN = r"[X0-9()+. -]*X[X0-9()+. -]*"
OPERATORS = ["equals", "notEquals", "contains", "startsWith", "endsWith", "isEmpty", "isNotEmpty"]
FAST = settings(deadline=None, database=None)

# Any text, lone surrogates included; None; the empty string.
any_text = st.text(st.characters(exclude_categories=()))
values = (
    st.none()
    | st.just("")
    | any_text
    | st.from_regex(r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}", fullmatch=True)
)
date_formats = st.from_regex(DATE_FORMAT_PATTERN, fullmatch=True)
school_year_starts = st.from_regex(r"(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])", fullmatch=True)
contexts = st.builds(Context, today=st.dates(), school_year_start=school_year_starts)
positive = st.integers(min_value=1, max_value=10**6)
field_names = st.sampled_from(["First", "Middle", "Last", "Dob", "Phone"]) | any_text
tables = st.dictionaries(any_text, any_text, min_size=1, max_size=8)
match_code_args = st.fixed_dictionaries(
    {"table": tables}, optional={"default": st.none() | any_text}
)


DRAWN: list[str] = []  # the transformations the strategies below draw


def _step(name: str, args: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    DRAWN.append(name)
    return args.map(lambda a: {name: a})


STEP_STRATEGIES = [
    _step("date", st.fixed_dictionaries({"from": date_formats}, optional={"to": date_formats})),
    _step("today", st.fixed_dictionaries({}, optional={"format": date_formats})),
    _step("lower", st.just({})),
    _step("upper", st.just({})),
    _step("direct", st.just({})),
    _step("valueInput", st.fixed_dictionaries({"value": st.text(max_size=1000)})),
    _step(
        "join",
        st.fixed_dictionaries(
            {"sources": st.lists(field_names, min_size=2, max_size=4)},
            optional={"separator": any_text},
        ),
    ),
    _step(
        "pick",
        st.fixed_dictionaries({"start": positive}, optional={"length": st.none() | positive}),
    ),
    _step("split", st.fixed_dictionaries({"separator": any_text.filter(bool), "part": positive})),
    _step(
        "substitute",
        st.fixed_dictionaries({"find": any_text.filter(bool)}, optional={"replace": any_text}),
    ),
    _step(
        "ifThenElse",
        st.fixed_dictionaries(
            {
                "condition": st.fixed_dictionaries(
                    {"operator": st.sampled_from(OPERATORS)},
                    optional={"value": st.none() | any_text},
                ),
                "then": any_text,
            },
            optional={"else": st.none() | any_text},
        ),
    ),
    _step(
        "phoneNumber",
        st.fixed_dictionaries(
            {}, optional={"format": st.from_regex(PHONE_FORMAT_PATTERN, fullmatch=True)}
        ),
    ),
    _step(
        "enrollSchoolYear",
        st.fixed_dictionaries({}, optional={"output": st.sampled_from(["start", "end", "range"])}),
    ),
    _step("matchCodes", match_code_args),
    _step("transliterate", st.just({})),
]
steps = st.one_of(STEP_STRATEGIES)
records = st.dictionaries(field_names, st.none() | any_text | st.integers(), max_size=6)
field_maps = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("direct"), "source": field_names}, optional={"overwrite": st.booleans()}
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("transformation"),
            "transformations": st.lists(steps, min_size=1, max_size=4),
        },
        optional={"source": field_names, "overwrite": st.booleans()},
    ),
    st.fixed_dictionaries(
        {"type": st.just("matchCodes"), "source": field_names, "matchCodes": match_code_args}
    ),
    st.just({"type": "doNotMap"}),
)
specs = st.dictionaries(
    st.from_regex(r"students\.[a-z_]{1,12}", fullmatch=True), field_maps, max_size=6
)


def test_the_strategies_draw_every_transformation_of_the_models() -> None:
    assert DRAWN == list(TRANSFORMATIONS)


def _well_formed(result: FieldResult) -> bool:
    if result.error is None:
        return result.value is None or isinstance(result.value, str)
    return result.value is None and isinstance(result.error, str) and result.error != ""


@FAST
@given(step=steps, value=values, record=records, ctx=contexts, sourced=st.booleans())
def test_no_transformation_raises(
    step: dict[str, Any], value: str | None, record: dict[str, Any], ctx: Context, sourced: bool
) -> None:
    fmap: dict[str, Any] = {"type": "transformation", "transformations": [step]}
    if sourced:
        fmap["source"] = "the source"
    mapped = map_record({"students.x": fmap}, {**record, "the source": value}, ctx)
    assert _well_formed(mapped.fields["students.x"])


@FAST
@given(
    spec=specs,
    record=records,
    ctx=contexts,
    existing=st.dictionaries(any_text, st.none() | any_text, max_size=4),
)
def test_map_record_never_raises(
    spec: dict[str, Any], record: dict[str, Any], ctx: Context, existing: dict[str, Any]
) -> None:
    mapped = map_record(spec, record, ctx)
    assert set(mapped.fields) == {t for t, f in spec.items() if f["type"] != "doNotMap"}
    assert all(_well_formed(r) for r in mapped.fields.values())
    merged = merge_into(existing, mapped, spec)
    assert set(existing) <= set(merged)
    for target, fmap in spec.items():
        if fmap["type"] == "doNotMap" or mapped.fields[target].error:
            assert merged.get(target, "absent") == existing.get(target, "absent")


@FAST
@given(value=values, source=date_formats, target=date_formats, today=st.dates())
def test_dates_in_any_format_never_raise(
    value: str | None, source: str, target: str, today: dt.date
) -> None:
    result = reformat_date(value, source, target, today)
    assert result is None or isinstance(result, (str, Failed))


@FAST
@given(
    day=st.dates(),
    start=school_year_starts | any_text,
    output=st.sampled_from(["start", "end", "range"]) | any_text,
)
def test_school_year_never_raises(day: dt.date, start: str, output: str) -> None:
    assert isinstance(school_year(day, start, output), (str, Failed))


def _complete_formats(year: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Formats that hold one year, one month and one day, each separated."""
    parts = st.tuples(year, st.sampled_from(["MM", "M"]), st.sampled_from(["DD", "D"])).flatmap(
        st.permutations
    )
    seps = st.lists(st.sampled_from(list("-/. ")), min_size=2, max_size=2)
    return st.tuples(parts, seps).map(
        lambda ps: ps[0][0] + ps[1][0] + ps[0][1] + ps[1][1] + ps[0][2]
    )


four_digit_formats = _complete_formats(st.just("YYYY")) | st.sampled_from(
    ["YYYYMMDD", "MMDDYYYY", "DDMMYYYY"]
)


@FAST
@given(day=st.dates(), a=four_digit_formats, b=four_digit_formats, today=st.dates())
def test_dates_round_trip(day: dt.date, a: str, b: str, today: dt.date) -> None:
    text = format_date(day, a)
    assert isinstance(text, str)
    assert parse_date(text, a, today) == day
    there = reformat_date(text, a, b, today)
    assert isinstance(there, str)
    assert reformat_date(there, b, a, today) == text


@FAST
@given(
    today=st.dates(min_value=dt.date(1900, 1, 1)),
    years_ago=st.integers(min_value=0, max_value=99),
    month_day=st.dates(min_value=dt.date(2001, 1, 1), max_value=dt.date(2001, 12, 31)),
    a=_complete_formats(st.just("YY")),
    b=four_digit_formats,
)
def test_two_digit_years_round_trip_within_a_century(
    today: dt.date, years_ago: int, month_day: dt.date, a: str, b: str
) -> None:
    day = month_day.replace(year=today.year - years_ago)
    text = format_date(day, a)
    assert isinstance(text, str)
    there = reformat_date(text, a, b, today)
    assert there == format_date(day, b)
    assert reformat_date(there, b, a, today) == text


def _variants(table: dict[str, str]) -> st.SearchStrategy[str]:
    keys = st.sampled_from(sorted(table))
    return (
        keys | keys.map(str.upper) | keys.map(str.lower) | keys.map(lambda k: f"  {k} ") | any_text
    )


@FAST
@given(data=st.data(), table=tables, default=st.none() | any_text)
def test_match_codes_never_invent_a_value(
    data: st.DataObject, table: dict[str, str], default: str | None
) -> None:
    value = data.draw(st.none() | _variants(table))
    result = match_codes(value, table, default)
    if isinstance(result, Failed):
        # unmapped without a default, or keys that differ only in case and spaces
        assert default is None or "matches several match-code keys" in result.message
    elif value is None or value == "":
        assert result == value or result == table.get("")
    else:
        assert result in set(table.values()) | {default}


@FAST
@given(value=values)
def test_transliterate_gives_ascii_or_says_why(value: str | None) -> None:
    result = transliterate(value)
    if isinstance(result, str):
        assert result.isascii()
        assert transliterate(result) == result
    elif result is not None:
        assert "has characters with no ASCII form" in result.message


@FAST
@given(
    value=values
    | st.from_regex(r"\+?1?[ (.-]*[0-9]{3}[) .-]*[0-9]{3}[ .-]*[0-9]{4}", fullmatch=True)
)
def test_a_formatted_phone_number_has_exactly_the_format_digits(value: str | None) -> None:
    result = phone_number(value, "(XXX) XXX-XXXX")
    if isinstance(result, str) and result:
        assert len(result) == 14 and result[0] + result[4:6] + result[9] == "() -"
        digits = [c for c in value or "" if c in string.digits]
        assert [c for c in result if c.isdigit()] == digits[-10:]
