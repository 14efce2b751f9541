"""map_record (each mapping type, steps in order, errors per field) and merge_into
(the Overwrite column)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from typing import Any

import pytest

from intcfg.transform import (
    ARGUMENTS,
    STEPS,
    Context,
    FieldMapper,
    FieldResult,
    MappedRecord,
    map_record,
    map_records,
    merge_into,
)

CTX = Context(dt.date(2026, 11, 22), "07-01")


def one(fmap: dict[str, Any], record: dict[str, Any]) -> FieldResult:
    return map_record({"students.x": fmap}, record, CTX).fields["students.x"]


def test_each_mapping_type() -> None:
    fields = {
        "students.student_district_id": {"type": "direct", "source": "Id"},
        "students.fname": {
            "type": "transformation",
            "source": "First",
            "transformations": [{"upper": {}}],
        },
        "students.gender": {
            "type": "matchCodes",
            "source": "Sex",
            "matchCodes": {"table": {"F": "Female"}},
        },
        "students.nickname": {"type": "doNotMap"},
    }
    mapped = map_record(fields, {"Id": "000123", "First": "Ana", "Sex": "F", "Nick": "Annie"}, CTX)
    assert mapped == MappedRecord(
        {
            "students.student_district_id": FieldResult("direct", "000123", "000123"),
            "students.fname": FieldResult("transformation", "Ana", "ANA"),
            "students.gender": FieldResult("matchCodes", "F", "Female"),
        }
    )
    assert mapped.ok and mapped.errors == {}


def test_steps_run_in_order() -> None:
    upper_then_pick = {
        "type": "transformation",
        "source": "Name",
        "transformations": [{"upper": {}}, {"pick": {"start": 2}}],
    }
    assert one(upper_then_pick, {"Name": "ana"}).value == "NA"
    substitute_twice = [
        {"substitute": {"find": "a", "replace": "b"}},
        {"substitute": {"find": "b", "replace": "c"}},
    ]
    assert (
        one(
            {"type": "transformation", "source": "V", "transformations": substitute_twice},
            {"V": "ab"},
        ).value
        == "cc"
    )


def test_a_missing_source_value_is_empty_not_an_error() -> None:
    assert one({"type": "direct", "source": "Middle"}, {}) == FieldResult("direct", None, None)
    steps = [
        {"transliterate": {}},
        {"upper": {}},
        {"date": {"from": "MM/DD/YYYY"}},
        {"phoneNumber": {}},
    ]
    assert one(
        {"type": "transformation", "source": "Middle", "transformations": steps}, {"Middle": ""}
    ) == (FieldResult("transformation", "", ""))


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ({"valueInput": {"value": "2026"}}, "2026"),
        ({"today": {"format": "MM/DD/YYYY"}}, "11/22/2026"),
        ({"join": {"sources": ["First", "Last"]}}, "Ana Lee"),
        ({"enrollSchoolYear": {"output": "range"}}, "2026-2027"),
        ({"lower": {}}, None),  # reads the value, and there is none
    ],
)
def test_source_free_first_steps(step: dict[str, Any], expected: str | None) -> None:
    result = one(
        {"type": "transformation", "transformations": [step]}, {"First": "Ana", "Last": "Lee"}
    )
    assert result == FieldResult("transformation", None, expected)


def test_source_free_steps_ignore_a_source_value() -> None:
    fmap = {
        "type": "transformation",
        "source": "Grade",
        "transformations": [{"valueInput": {"value": "K"}}],
    }
    assert one(fmap, {"Grade": "0"}) == FieldResult("transformation", "0", "K")


def test_an_error_names_the_step_and_stops_the_field() -> None:
    steps = [
        {"substitute": {"find": "-", "replace": "/"}},
        {"date": {"from": "MM/DD/YYYY"}},
        {"upper": {}},
    ]
    result = one(
        {"type": "transformation", "source": "Dob", "transformations": steps}, {"Dob": "02-30-2026"}
    )
    assert result == FieldResult(
        "transformation",
        "02-30-2026",
        None,
        "date (step 2): '02/30/2026': day 30 is out of range for February 2026 (expected 1-28)",
    )


def test_one_bad_field_leaves_the_others_mapped() -> None:
    fields = {
        "students.DOB": {
            "type": "transformation",
            "source": "Dob",
            "transformations": [{"date": {"from": "MM/DD/YYYY"}}],
        },
        "students.fname": {"type": "direct", "source": "First"},
    }
    mapped = map_record(fields, {"Dob": "13/01/2020", "First": "Ana"}, CTX)
    assert mapped.values == {"students.fname": "Ana"}
    assert mapped.errors == {
        "students.DOB": "date (step 1): '13/01/2020': month 13 is out of range (expected 1-12)"
    }
    assert not mapped.ok


def test_match_codes_type_error_and_default() -> None:
    fmap = {"type": "matchCodes", "source": "Lang", "matchCodes": {"table": {"ENG": "English"}}}
    assert one(fmap, {"Lang": "KLI"}).error == (
        "'KLI' is not in the match-code table (keys: 'ENG') and there is no default"
    )
    fmap["matchCodes"] = {"table": {"ENG": "English"}, "default": "Other"}
    assert one(fmap, {"Lang": "KLI"}).value == "Other"


def test_values_that_are_not_text_are_read_as_text() -> None:
    assert one({"type": "direct", "source": "Grade"}, {"Grade": 9}).value == "9"
    fmap = {
        "type": "transformation",
        "source": "Grade",
        "transformations": [
            {"ifThenElse": {"condition": {"operator": "equals", "value": "0"}, "then": "K"}}
        ],
    }
    assert one(fmap, {"Grade": 0}).value == "K"


@pytest.mark.parametrize(
    ("fmap", "error"),
    [
        (
            {"type": "transformation", "source": "V", "transformations": [{"reverse": {}}]},
            "reverse (step 1): unknown transformation 'reverse'; expected one of "
            + ", ".join(STEPS),
        ),
        (
            {
                "type": "transformation",
                "source": "V",
                "transformations": [{"upper": {}, "lower": {}}],
            },
            "transformation (step 1): a transformation step is an object with one key, "
            "the transformation's name",
        ),
        (
            {
                "type": "transformation",
                "source": "V",
                "transformations": [{"date": {"to": "YYYY"}}],
            },
            "date (step 1): date needs the argument 'from'",
        ),
        (
            {
                "type": "transformation",
                "source": "V",
                "transformations": [{"pick": {"start": "1"}}],
            },
            "pick (step 1): the argument 'start' of pick has the wrong type",
        ),
        (
            {
                "type": "transformation",
                "source": "V",
                "transformations": [{"pick": {"start": True}}],
            },
            "pick (step 1): the argument 'start' of pick has the wrong type",
        ),
        (
            {"type": "transformation", "source": "V", "transformations": [{"split": ["a"]}]},
            "split (step 1): the arguments of split must be a mapping, e.g. split: {}",
        ),
        (
            {"type": "transformation", "source": "V", "transformations": []},
            "type transformation needs transformations: [ {STEP: {ARGS}} ]",
        ),
        (
            {"type": "matchCodes", "source": "V"},
            "type matchCodes needs matchCodes: {table: {SOURCE: CODE}}",
        ),
        (
            {"type": "matchCodes", "source": "V", "matchCodes": {"default": "x"}},
            "matchCodes needs the argument 'table'",
        ),
        (
            {"type": "matchCodes", "source": "V", "matchCodes": {"table": {"a": 1}}},
            "the argument 'table' of matchCodes has the wrong type",
        ),
        (
            {"type": "lookup", "source": "V"},
            "unknown mapping type 'lookup'; expected one of direct, transformation, "
            "matchCodes, doNotMap",
        ),
    ],
)
def test_an_unchecked_spec_gives_field_errors_not_a_crash(fmap: dict[str, Any], error: str) -> None:
    assert one(fmap, {"V": "x"}).error == error


def test_a_step_without_arguments_may_be_null() -> None:
    assert (
        one(
            {"type": "transformation", "source": "V", "transformations": [{"upper": None}]},
            {"V": "a"},
        ).value
        == "A"
    )


def test_the_argument_table_covers_every_step() -> None:
    assert ARGUMENTS.keys() == STEPS.keys()
    assert list(STEPS) == [
        "date",
        "today",
        "lower",
        "upper",
        "direct",
        "valueInput",
        "join",
        "pick",
        "split",
        "substitute",
        "ifThenElse",
        "phoneNumber",
        "enrollSchoolYear",
        "matchCodes",
        "transliterate",
    ]


# -- Overwrite ---------------------------------------------------------------------------

FIELDS = {
    "students.mname": {"type": "direct", "source": "Middle"},
    "students.state_student_id": {"type": "direct", "source": "Ssid", "overwrite": True},
    "students.nickname": {"type": "doNotMap"},
    "students.DOB": {
        "type": "transformation",
        "source": "Dob",
        "transformations": [{"date": {"from": "MM/DD/YYYY"}}],
    },
}
EXISTING = {
    "students.mname": "Marie",
    "students.state_student_id": "1234567890",
    "students.nickname": "Annie",
    "students.DOB": "2010-05-06",
    "students.grade": "9",
}


@pytest.mark.parametrize(
    ("record", "changed"),
    [
        # a non-empty value replaces, overwrite or not
        (
            {"Middle": "Rose", "Ssid": "0987654321", "Dob": "05/06/2010"},
            {"students.mname": "Rose", "students.state_student_id": "0987654321"},
        ),
        # an empty value blanks the field only where overwrite is on
        ({"Middle": "", "Ssid": "", "Dob": "05/06/2010"}, {"students.state_student_id": None}),
        ({"Dob": "05/06/2010"}, {"students.state_student_id": None}),
        # a field in error leaves the existing value alone
        (
            {"Middle": "Rose", "Ssid": "0987654321", "Dob": "02/30/2010"},
            {"students.mname": "Rose", "students.state_student_id": "0987654321"},
        ),
    ],
)
def test_merge_into(record: dict[str, str], changed: dict[str, str | None]) -> None:
    mapped = map_record(FIELDS, record, CTX)
    assert merge_into(EXISTING, mapped, FIELDS) == {**EXISTING, **changed}


def test_merge_into_a_new_record() -> None:
    mapped = map_record(FIELDS, {"Middle": "", "Ssid": "", "Dob": "05/06/2010"}, CTX)
    assert merge_into({}, mapped, FIELDS) == {
        "students.state_student_id": None,
        "students.DOB": "2010-05-06",
    }


def test_merge_into_does_not_change_the_existing_record() -> None:
    existing = dict(EXISTING)
    merge_into(existing, map_record(FIELDS, {"Middle": "Rose"}, CTX), FIELDS)
    assert existing == EXISTING


def test_map_records_checks_the_spec_once_and_maps_each_record() -> None:
    records = [{"Id": "000123", "Dob": "05/06/2010"}, {"Id": "7", "Dob": "5/6/2010"}, {}]
    mapped = map_records(FIELDS, records, CTX)
    assert mapped == [map_record(FIELDS, r, CTX) for r in records]
    assert [m.values.get("students.DOB") for m in mapped] == ["2010-05-06", None, None]
    assert mapped[1].errors == {
        "students.DOB": "date (step 1): '5/6/2010' does not match the date format 'MM/DD/YYYY'; "
        "MM and DD take two digits (e.g. 03), M and D take one or two"
    }
    assert FieldMapper(FIELDS)({"Dob": "05/06/2010"}, CTX) == map_record(
        FIELDS, {"Dob": "05/06/2010"}, CTX
    )


def test_the_engine_imports_only_the_standard_library() -> None:
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import intcfg.transform\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(' '.join(sorted(new - set(sys.stdlib_module_names))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # zoneinfo reads the build configuration (_sysconfigdata_*), part of the standard library.
    assert [m for m in out.stdout.split() if not m.startswith("_sysconfigdata")] == ["intcfg"]
