"""Match Codes, and the code sets the enrollment system accepts."""

from __future__ import annotations

import datetime as dt

import pytest

from intcfg.transform import (
    CODE_SET_OF_TARGET,
    Context,
    Failed,
    UnknownCode,
    check_codes,
    map_record,
    match_codes,
)

GENDER = {"M": "Male", "F": "Female", "X": "Non-binary"}


@pytest.mark.parametrize(
    ("value", "default", "expected"),
    [
        ("M", None, "Male"),
        ("m", None, "Male"),  # case-insensitive after an exact miss
        ("  f ", None, "Female"),  # surrounding whitespace trimmed
        ("Q", "Unknown", "Unknown"),
        ("Male", "Unknown", "Unknown"),  # a code is not a key
        (
            "Q",
            None,
            Failed(
                "'Q' is not in the match-code table (keys: 'F', 'M', 'X') and there is no default"
            ),
        ),
        (
            "M F",
            None,
            Failed(
                "'M F' is not in the match-code table (keys: 'F', 'M', 'X') and there is no default"
            ),
        ),
        ("", "Unknown", ""),  # empty is not a code
        (None, "Unknown", None),
    ],
)
def test_match_codes(value: str | None, default: str | None, expected: object) -> None:
    assert match_codes(value, GENDER, default) == expected


def test_exact_match_wins_over_case_insensitive() -> None:
    table = {"m": "Mother", "M": "Male"}
    assert match_codes("m", table) == "Mother"
    assert match_codes("M", table) == "Male"
    assert match_codes(" M ", table) == Failed(
        "' M ' matches several match-code keys that differ only in case or spaces"
    )
    assert match_codes(" M ", table, default="Unknown") == Failed(
        "' M ' matches several match-code keys that differ only in case or spaces"
    )


def test_an_empty_value_matches_only_an_explicit_empty_key() -> None:
    table = {"": "Declined to state", "1": "Hispanic or Latino"}
    assert match_codes("", table) == "Declined to state"
    assert match_codes(None, table) == "Declined to state"


def test_the_unmapped_message_lists_at_most_ten_keys() -> None:
    table = {f"{n:02d}": f"code {n}" for n in range(25)}
    assert match_codes("99", table) == Failed(
        "'99' is not in the match-code table (keys: '00', '01', '02', '03', '04', '05', "
        "'06', '07', '08', '09' and 15 more) and there is no default"
    )


def test_leading_zeros_are_part_of_a_key() -> None:
    table = {"01": "English", "1": "Spanish"}
    assert match_codes("01", table) == "English"
    assert match_codes("001", table) == Failed(
        "'001' is not in the match-code table (keys: '01', '1') and there is no default"
    )


CODE_SETS = {
    "genders": {"Male", "Female", "Non-binary", "Unknown"},
    "languages": {"English", "Spanish", "Vietnamese"},
}


def test_check_codes_reports_codes_outside_their_set() -> None:
    fields = {
        "students.gender": {
            "type": "matchCodes",
            "source": "Sex",
            "matchCodes": {
                "table": {"M": "Male", "F": "female", "X": "Nonbinary"},
                "default": "Other",
            },
        },
        "students.language": {
            "type": "transformation",
            "source": "Lang",
            "transformations": [
                {"upper": {}},
                {"matchCodes": {"table": {"ENG": "English", "SPA": "Spanish"}}},
            ],
        },
        "students.ethnicity": {
            "type": "matchCodes",
            "source": "Eth",
            "matchCodes": {"table": {"1": "Anything"}},
        },
        "students.fname": {"type": "direct", "source": "First"},
        "students.nickname": {"type": "doNotMap"},
    }
    problems = check_codes(fields, CODE_SETS)
    assert problems == [
        UnknownCode(
            "students.gender",
            "female",
            "genders",
            ("students.gender", "matchCodes", "table", "F"),
            "Female",
        ),
        UnknownCode(
            "students.gender",
            "Nonbinary",
            "genders",
            ("students.gender", "matchCodes", "table", "X"),
            "Non-binary",
        ),
        UnknownCode(
            "students.gender",
            "Other",
            "genders",
            ("students.gender", "matchCodes", "default"),
            None,
        ),
    ]
    assert [p.message for p in problems] == [
        "students.gender: 'female' is not a code of genders; did you mean 'Female'?",
        "students.gender: 'Nonbinary' is not a code of genders; did you mean 'Non-binary'?",
        "students.gender: 'Other' is not a code of genders",
    ]


def test_check_codes_in_a_transformation_step() -> None:
    fields = {
        "students.language": {
            "type": "transformation",
            "source": "Lang",
            "transformations": [{"matchCodes": {"table": {"ENG": "English", "HMN": "Hmong"}}}],
        },
    }
    assert check_codes(fields, CODE_SETS) == [
        UnknownCode(
            "students.language",
            "Hmong",
            "languages",
            ("students.language", "transformations", 0, "matchCodes", "table", "HMN"),
            None,
        )
    ]


def test_check_codes_is_quiet_when_every_code_is_known_or_no_set_is_given() -> None:
    fields = {
        "students.gender": {"type": "matchCodes", "source": "Sex", "matchCodes": {"table": GENDER}}
    }
    assert check_codes(fields, CODE_SETS) == []
    assert check_codes(fields, {}) == []


def test_every_target_with_a_code_set_is_a_student_field() -> None:
    assert all(t.startswith("students.") for t in CODE_SET_OF_TARGET)
    assert {"genders", "languages", "ethnicities", "races", "states", "countries"} == set(
        CODE_SET_OF_TARGET.values()
    )


def test_map_record_checks_mapped_values_against_the_code_sets() -> None:
    fields = {
        "students.gender": {"type": "direct", "source": "Sex"},
        "students.language": {"type": "direct", "source": "Lang"},
        "students.fname": {"type": "direct", "source": "First"},
    }
    ctx = Context(dt.date(2026, 11, 22), code_sets=CODE_SETS)
    mapped = map_record(fields, {"Sex": "male", "Lang": "Klingon", "First": "Ana"}, ctx)
    assert mapped.errors == {
        "students.gender": "'male' is not a code of genders; did you mean 'Male'?",
        "students.language": "'Klingon' is not a code of languages",
    }
    assert mapped.values == {"students.fname": "Ana"}
    assert map_record(fields, {"Sex": "", "Lang": "English"}, ctx).ok  # empty is not checked
