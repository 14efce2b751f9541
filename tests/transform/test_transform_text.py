"""The text transformations, each with the values a district's records hold."""

from __future__ import annotations

import pytest

from intcfg.transform import (
    Failed,
    direct,
    if_then_else,
    join,
    lower,
    phone_number,
    pick,
    split,
    substitute,
    transliterate,
    upper,
    value_input,
)


@pytest.mark.parametrize(
    ("fn", "value", "expected"),
    [
        (direct, "000123", "000123"),
        (direct, "  Ana ", "  Ana "),
        (direct, None, None),
        (direct, "", ""),
        (lower, "Ana.Lee@Riverside.K12.CA.US", "ana.lee@riverside.k12.ca.us"),
        (lower, "ÉLODIE", "élodie"),
        (lower, "", ""),
        (lower, None, None),
        (upper, "Oak", "OAK"),
        (upper, "straße", "STRASSE"),
        (upper, "000123", "000123"),
        (upper, None, None),
    ],
)
def test_value_steps(fn: object, value: str | None, expected: str | None) -> None:
    assert fn(value) == expected  # type: ignore[operator]


def test_value_input_ignores_the_source() -> None:
    assert value_input("2026") == "2026"


@pytest.mark.parametrize(
    ("record", "sources", "separator", "expected"),
    [
        (
            {"First": "Ana", "Middle": "María", "Last": "Lee"},
            ["First", "Middle", "Last"],
            " ",
            "Ana María Lee",
        ),
        (
            {"First": "Ana", "Middle": "", "Last": "Lee"},
            ["First", "Middle", "Last"],
            " ",
            "Ana Lee",
        ),
        (
            {"First": "Ana", "Middle": None, "Last": "Lee"},
            ["First", "Middle", "Last"],
            " ",
            "Ana Lee",
        ),
        ({"First": "Ana", "Last": "Lee"}, ["First", "Middle", "Last"], " ", "Ana Lee"),
        ({"Last": "Lee", "First": "Ana"}, ["Last", "First"], ", ", "Lee, Ana"),
        ({"Zip": "00501", "Plus4": "0001"}, ["Zip", "Plus4"], "-", "00501-0001"),
        ({"First": " ", "Last": "Lee"}, ["First", "Last"], "/", " /Lee"),  # whitespace is a value
        ({}, ["First", "Last"], " ", ""),
    ],
)
def test_join(
    record: dict[str, str | None], sources: list[str], separator: str, expected: str
) -> None:
    assert join(record, sources, separator) == expected


@pytest.mark.parametrize(
    ("value", "start", "length", "expected"),
    [
        ("Riverside High", 1, 4, "Rive"),
        ("Riverside High", 11, None, "High"),
        ("000123", 1, 3, "000"),
        ("Oak", 1, 4, "Oak"),  # a length past the end takes what there is
        ("Oak", 3, 10, "k"),
        ("Oak", 4, 1, Failed("start 4 is past the end of 'Oak' (3 characters)")),
        ("Oak", 9, None, Failed("start 9 is past the end of 'Oak' (3 characters)")),
        ("", 2, 1, ""),
        (None, 2, 1, None),
        ("Oak", 0, None, Failed("start 0 and length None must be 1 or more")),
    ],
)
def test_pick(value: str | None, start: int, length: int | None, expected: object) -> None:
    assert pick(value, start, length) == expected


@pytest.mark.parametrize(
    ("value", "separator", "part", "expected"),
    [
        ("Denver, CO 80202", ",", 1, "Denver"),
        ("Denver, CO 80202", ",", 2, "CO 80202"),
        ("Lee, Ana", ", ", 2, "Ana"),
        ("a,,c", ",", 2, ""),
        ("no-separator", ",", 1, "no-separator"),
        (
            "Denver, CO 80202",
            ",",
            3,
            Failed("'Denver, CO 80202' has 2 parts split at ','; there is no part 3"),
        ),
        ("Denver", ",", 2, Failed("'Denver' has 1 part split at ','; there is no part 2")),
        ("", ",", 5, ""),
        (None, ",", 1, None),
    ],
)
def test_split(value: str | None, separator: str, part: int, expected: object) -> None:
    assert split(value, separator, part) == expected


@pytest.mark.parametrize(
    ("value", "find", "replace", "expected"),
    [
        ("S-000123", "S-", "", "000123"),
        ("000123", "S-", "", "000123"),
        ("000123", "1", "7", "000723"),
        ("555.010.2030", ".", "-", "555-010-2030"),
        ("a-b-c", "-", "", "abc"),
        ("", "x", "y", ""),
        (None, "x", "y", None),
    ],
)
def test_substitute(value: str | None, find: str, replace: str, expected: str | None) -> None:
    assert substitute(value, find, replace) == expected


@pytest.mark.parametrize(
    ("value", "operator", "operand", "expected"),
    [
        ("0", "equals", "0", "then"),
        ("00", "equals", "0", "else"),
        ("K", "equals", "k", "else"),  # exact: case counts
        ("0", "notEquals", "0", "else"),
        ("9", "notEquals", "0", "then"),
        ("ana@x.org", "contains", "@", "then"),
        ("ana", "contains", "@", "else"),
        ("TK-1", "startsWith", "TK", "then"),
        ("1-TK", "startsWith", "TK", "else"),
        ("Lee Jr", "endsWith", "Jr", "then"),
        ("Jr Lee", "endsWith", "Jr", "else"),
        ("", "isEmpty", None, "then"),
        (None, "isEmpty", None, "then"),
        (" ", "isEmpty", None, "else"),
        ("x", "isEmpty", None, "else"),
        ("x", "isNotEmpty", None, "then"),
        (None, "isNotEmpty", None, "else"),
        (None, "equals", "", "then"),  # empty compares as ''
    ],
)
def test_if_then_else_operators(
    value: str | None, operator: str, operand: str | None, expected: str
) -> None:
    assert if_then_else(value, operator, operand, "then", "else") == expected


def test_if_then_else_passes_the_value_through_without_else() -> None:
    assert if_then_else("5", "equals", "0", "K") == "5"
    assert if_then_else(None, "equals", "0", "K") is None
    assert if_then_else("0", "equals", "0", "K") == "K"


def test_if_then_else_unknown_operator() -> None:
    assert if_then_else("5", "greaterThan", "0", "K") == Failed(
        "operator 'greaterThan' is not one of equals, notEquals, contains, startsWith, "
        "endsWith, isEmpty, isNotEmpty"
    )


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        ("5550102030", "(XXX) XXX-XXXX", "(555) 010-2030"),
        ("(555) 010-2030", "(XXX) XXX-XXXX", "(555) 010-2030"),
        ("555.010.2030", "XXX-XXX-XXXX", "555-010-2030"),
        ("+1 (555) 010-2030", "(XXX) XXX-XXXX", "(555) 010-2030"),
        ("1-555-010-2030", "XXX.XXX.XXXX", "555.010.2030"),
        ("555 010 2030", "+1 XXX XXX XXXX", "+1 555 010 2030"),
        ("010-2030", "XXX-XXXX", "010-2030"),
        ("", "(XXX) XXX-XXXX", ""),
        (None, "(XXX) XXX-XXXX", None),
        (
            "010-2030",
            "(XXX) XXX-XXXX",
            Failed("'010-2030' has 7 digits; the format '(XXX) XXX-XXXX' takes 10"),
        ),
        (
            "2-555-010-2030",
            "(XXX) XXX-XXXX",
            Failed("'2-555-010-2030' has 11 digits; the format '(XXX) XXX-XXXX' takes 10"),
        ),
        (
            "555-010-2030 x12",
            "(XXX) XXX-XXXX",
            Failed("'555-010-2030 x12' has 12 digits; the format '(XXX) XXX-XXXX' takes 10"),
        ),
        (
            "+44 20 7946 0958",
            "(XXX) XXX-XXXX",
            Failed("'+44 20 7946 0958' has 12 digits; the format '(XXX) XXX-XXXX' takes 10"),
        ),
        (
            "none on file",
            "(XXX) XXX-XXXX",
            Failed("'none on file' has 0 digits; the format '(XXX) XXX-XXXX' takes 10"),
        ),
        ("1", "X", "1"),
        (
            "15",
            "X",
            Failed("'15' has 2 digits; the format 'X' takes 1"),
        ),  # the country code is for 10 digits
    ],
)
def test_phone_number(value: str | None, fmt: str, expected: object) -> None:
    assert phone_number(value, fmt) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("José Ñúñez", "Jose Nunez"),
        ("Zoë", "Zoe"),
        ("Øystein", "Oystein"),
        ("Łukasz", "Lukasz"),
        ("Straße", "Strasse"),
        ("Ærøskøbing", "AEroskobing"),
        ("Đorđe", "Dorde"),
        ("Þórunn", "THorunn"),
        ("François-Xavier", "Francois-Xavier"),
        ("O’Brien", "O'Brien"),
        ("Nguyễn Thị Ánh", "Nguyen Thi Anh"),
        ("Ana\u0301", "Ana"),  # already decomposed
        ("Anna-Lena ", "Anna-Lena "),
        ("000123", "000123"),
        ("", ""),
        (None, None),
    ],
)
def test_transliterate(value: str | None, expected: str | None) -> None:
    assert transliterate(value) == expected


def test_transliterate_never_shortens_a_name_silently() -> None:
    assert transliterate("王芳") == Failed(
        "'王芳' has characters with no ASCII form: '王' (CJK UNIFIED IDEOGRAPH-738B), "
        "'芳' (CJK UNIFIED IDEOGRAPH-82B3)"
    )
    assert transliterate("Ana 😀") == Failed(
        "'Ana 😀' has characters with no ASCII form: '😀' (GRINNING FACE)"
    )
    assert transliterate("αβγδεζη") == Failed(
        "'αβγδεζη' has characters with no ASCII form: 'α' (GREEK SMALL LETTER ALPHA), "
        "'β' (GREEK SMALL LETTER BETA), 'γ' (GREEK SMALL LETTER GAMMA), "
        "'δ' (GREEK SMALL LETTER DELTA), 'ε' (GREEK SMALL LETTER EPSILON) and 2 more"
    )
