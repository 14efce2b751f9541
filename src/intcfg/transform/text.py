"""Text transformations: Lower, Upper, Direct, Value Input, Join, Pick, Split,
Substitute, If Then Else, Phone Number and Transliterate.

Each takes the value (the source value, or the output of the previous step) and its
typed arguments, and returns the new value or a Failed. An empty value (None or '')
stays empty through every one of them except Value Input and Join, which do not read
it, and If Then Else, whose condition may test for it. Whitespace is a value.
Comparisons are exact (case and whitespace count); characters are Unicode code points.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from .base import Failed, Result, is_empty, show

OPERATORS = ("equals", "notEquals", "contains", "startsWith", "endsWith", "isEmpty", "isNotEmpty")
US_FORMAT_DIGITS = 10
PHONE_FORMAT = "(XXX) XXX-XXXX"
_DIGIT = re.compile(r"[0-9]")
# Letters that Unicode does not decompose into a base letter and a mark, and the
# punctuation names are written with.
_FOLD = str.maketrans(
    {
        "ß": "ss", "ẞ": "SS", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe",
        "Ø": "O", "ø": "o", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ð": "D", "ð": "d",
        "Þ": "TH", "þ": "th", "Ħ": "H", "ħ": "h", "ı": "i", "Ŀ": "L", "ŀ": "l",
        "Ŧ": "T", "ŧ": "t", "ĸ": "q", "Ŋ": "N", "ŋ": "n",
        "’": "'", "‘": "'", "ʻ": "'", "ʼ": "'", "“": '"', "”": '"',
        "‐": "-", "‑": "-", "–": "-", "—": "-",
    }
)  # fmt: skip
_SHOWN_CHARACTERS = 5


def lower(value: str | None) -> Result:
    """Lower: the value in lower case."""
    return value if value is None else value.lower()


def upper(value: str | None) -> Result:
    """Upper: the value in upper case."""
    return value if value is None else value.upper()


def direct(value: str | None) -> Result:
    """Direct: the value as it is (leading zeros, spaces and case kept)."""
    return value


def value_input(value: str) -> Result:
    """Value Input: the fixed ``value``, whatever the source holds."""
    return value


def join(record: Mapping[str, str | None], sources: Sequence[str], separator: str = " ") -> Result:
    """Join: the values of the ``sources`` fields, in order, between ``separator``.

    Missing and empty parts are skipped, so an empty middle name leaves no double
    separator; when every part is empty the result is ''.
    """
    parts = [record.get(name) for name in sources]
    return separator.join(p for p in parts if p is not None and not is_empty(p))


def pick(value: str | None, start: int, length: int | None = None) -> Result:
    """Pick: ``length`` characters (default: the rest) from ``start`` (1-based).

    A length running past the end takes what there is. A start past the end of a
    non-empty value is an error: there is nothing to pick there.
    """
    if value is None or is_empty(value):
        return value
    if start < 1 or (length is not None and length < 1):
        return Failed(f"start {start} and length {length} must be 1 or more")
    if start > len(value):
        return Failed(f"start {start} is past the end of {show(value)} ({len(value)} characters)")
    end = None if length is None else start - 1 + length
    return value[start - 1 : end]


def split(value: str | None, separator: str, part: int) -> Result:
    """Split: the ``part``-th (1-based) piece of the value cut at each ``separator``.

    The piece is returned without surrounding whitespace ("Denver, CO" part 2 is
    "CO"). A part beyond the last is an error naming how many there are.
    """
    if value is None or is_empty(value):
        return value
    if not separator or part < 1:
        return Failed(
            f"separator {separator!r} must not be empty and part {part} must be 1 or more"
        )
    parts = value.split(separator)
    if part > len(parts):
        return Failed(
            f"{show(value)} has {len(parts)} part{'s' * (len(parts) != 1)} split at "
            f"{separator!r}; there is no part {part}"
        )
    return parts[part - 1].strip()


def substitute(value: str | None, find: str, replace: str = "") -> Result:
    """Substitute: every occurrence of ``find`` replaced by ``replace``."""
    if value is None or is_empty(value) or not find:
        return value
    return value.replace(find, replace)


def if_then_else(
    value: str | None, operator: str, operand: str | None, then: str, else_: str | None = None
) -> Result:
    """If Then Else: ``then`` when the condition holds, else ``else_``.

    Without ``else_`` the value passes through unchanged. The condition compares the
    value (an empty value as '') with ``operand`` (a missing operand as ''), exactly.
    """
    if operator not in OPERATORS:
        return Failed(f"operator {show(operator)} is not one of {', '.join(OPERATORS)}")
    held = _holds(operator, value or "", operand or "")
    if held:
        return then
    return value if else_ is None else else_


def _holds(operator: str, text: str, operand: str) -> bool:
    tests = {
        "equals": lambda: text == operand,
        "notEquals": lambda: text != operand,
        "contains": lambda: operand in text,
        "startsWith": lambda: text.startswith(operand),
        "endsWith": lambda: text.endswith(operand),
        "isEmpty": lambda: text == "",
        "isNotEmpty": lambda: text != "",
    }
    return tests[operator]()


def phone_number(value: str | None, fmt: str = PHONE_FORMAT) -> Result:
    """Phone Number: the value's digits written into ``fmt``, each X taking the next.

    Everything but the ASCII digits is dropped first ("+1 (555) 010-2030" has 11).
    The digit count must equal the number of X; for a ten-digit (US) format, eleven
    digits starting with the country code 1 are accepted and the 1 dropped. Any other
    count is an error naming it.
    """
    if value is None or is_empty(value):
        return value
    digits = _DIGIT.findall(value)
    wanted = fmt.count("X")
    if wanted == US_FORMAT_DIGITS and len(digits) == wanted + 1 and digits[0] == "1":
        digits = digits[1:]
    if len(digits) != wanted or not wanted:
        return Failed(
            f"{show(value)} has {len(digits)} digit{'s' * (len(digits) != 1)}; "
            f"the format {fmt!r} takes {wanted}"
        )
    taken = iter(digits)
    return "".join(next(taken) if c == "X" else c for c in fmt)


def transliterate(value: str | None) -> Result:
    """Transliterate: the value in ASCII letters.

    First a small table folds letters that do not decompose (ß->ss, Æ->AE, Ø->O,
    Ł->L, đ->d, Þ->TH, ...) and typographic quotes and dashes (’->', –->-); then
    Unicode NFKD splits accented letters into base letter and marks, and the marks
    are dropped (José Ñúñez -> Jose Nunez). A character still not ASCII after that
    (王, α, an emoji) is an error naming it: a name is never silently shortened.
    """
    if value is None or is_empty(value):
        return value
    folded = unicodedata.normalize("NFKD", value.translate(_FOLD))
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    left = sorted({c for c in plain if not c.isascii()})
    if left:
        return Failed(f"{show(value)} has characters with no ASCII form: {_characters(left)}")
    return plain


def _characters(chars: list[str]) -> str:
    named = ", ".join(
        f"{c!r} ({unicodedata.name(c, f'U+{ord(c):04X}')})" for c in chars[:_SHOWN_CHARACTERS]
    )
    more = len(chars) - _SHOWN_CHARACTERS
    return named + (f" and {more} more" if more > 0 else "")
