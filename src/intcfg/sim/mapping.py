"""How the enrollment system applies a field mapping to one record (preview, test record,
scheduled run). The live system's own implementation: the simulator does not import
intcfg's engine."""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from collections.abc import Callable
from typing import Any

Record = dict[str, Any]
_TOKENS = re.compile(r"YYYY|YY|MM|M|DD|D")
_FOLD = str.maketrans(
    {
        "ß": "ss",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "æ": "ae",
        "Æ": "AE",
        "đ": "d",
        "Đ": "D",
        "ı": "i",
    }
)


class MappingError(Exception):
    pass


def today() -> dt.date:
    fixed = os.environ.get("INTCFG_TODAY")
    return dt.date.fromisoformat(fixed) if fixed else dt.datetime.now(dt.UTC).date()


def apply(fields: dict[str, Any], source: Record, school_year_start: str = "07-01") -> Record:
    """The target record: each mapped field's value; Do Not Map fields left out; a null
    replaces the existing value only where Overwrite is on."""
    out: Record = {}
    for target, fmap in fields.items():
        if fmap["type"] == "doNotMap":
            continue
        value = _value(fmap, source, school_year_start)
        if value is not None or fmap.get("overwrite"):
            out[target] = value
    return out


def _value(fmap: dict[str, Any], source: Record, start: str) -> Any:
    value = _text(source.get(fmap["source"])) if fmap.get("source") else None
    if fmap["type"] == "matchCodes":
        return match_codes(fmap["matchCodes"], value)
    for step in fmap.get("transformations") or []:
        ((name, args),) = step.items()
        value = STEPS[name](value, args or {}, source, start)
    return value


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


_GROUPS = {
    "YYYY": r"(?P<Y4>\d{4})",
    "YY": r"(?P<Y2>\d{2})",
    "MM": r"(?P<M>\d{2})",
    "M": r"(?P<M>\d{1,2})",
    "DD": r"(?P<D>\d{2})",
    "D": r"(?P<D>\d{1,2})",
}


def parse_date(text: str, fmt: str) -> dt.date:
    pattern, last = "", 0
    for m in _TOKENS.finditer(fmt):
        pattern += re.escape(fmt[last : m.start()]) + _GROUPS[m.group(0)]
        last = m.end()
    pattern += re.escape(fmt[last:])
    try:
        found = re.fullmatch(pattern, text.strip())
    except re.error as e:  # a format naming a part twice
        raise MappingError(f"the date format {fmt!r} is not usable ({e})") from e
    if found is None:
        raise MappingError(f"{text!r} does not match the date format {fmt!r}")
    parts = found.groupdict()
    year = int(parts["Y4"]) if parts.get("Y4") else _century(int(parts.get("Y2") or 0))
    try:
        return dt.date(year, int(parts.get("M") or 1), int(parts.get("D") or 1))
    except ValueError as e:
        raise MappingError(f"{text!r} is not a valid date ({e})") from e


def _century(yy: int) -> int:
    # Two-digit years: not in the future, so 12 is 2012 and 95 is 1995.
    this = today().year
    year = 2000 + yy
    return year if year <= this else year - 100


def format_date(d: dt.date, fmt: str) -> str:
    values = {
        "YYYY": f"{d.year:04d}",
        "YY": f"{d.year % 100:02d}",
        "MM": f"{d.month:02d}",
        "M": str(d.month),
        "DD": f"{d.day:02d}",
        "D": str(d.day),
    }
    return _TOKENS.sub(lambda m: values[m.group(0)], fmt)


def match_codes(table: dict[str, Any], value: str | None) -> str | None:
    if value is not None and value in table["table"]:
        return str(table["table"][value])
    return table.get("default") if table.get("default") is not None else value


def _date(value: str | None, args: dict[str, Any], source: Record, start: str) -> str | None:
    if value is None:
        return None
    return format_date(parse_date(value, args["from"]), args.get("to", "YYYY-MM-DD"))


def _today(value: str | None, args: dict[str, Any], source: Record, start: str) -> str:
    return format_date(today(), args.get("format", "YYYY-MM-DD"))


def _join(value: str | None, args: dict[str, Any], source: Record, start: str) -> str | None:
    parts = [_text(source.get(s)) for s in args["sources"]]
    return args.get("separator", " ").join(p for p in parts if p) or None


def _pick(value: str | None, args: dict[str, Any], source: Record, start: str) -> str | None:
    if value is None:
        return None
    begin = args["start"] - 1
    length = args.get("length")
    return value[begin:] if length is None else value[begin : begin + length]


def _split(value: str | None, args: dict[str, Any], source: Record, start: str) -> str | None:
    if value is None:
        return None
    parts = value.split(args["separator"])
    return parts[args["part"] - 1].strip() if args["part"] <= len(parts) else None


def _if_then_else(
    value: str | None, args: dict[str, Any], source: Record, start: str
) -> str | None:
    cond = args["condition"]
    text, other = value or "", cond.get("value") or ""
    held = {
        "equals": text == other,
        "notEquals": text != other,
        "contains": other in text,
        "startsWith": text.startswith(other),
        "endsWith": text.endswith(other),
        "isEmpty": not text,
        "isNotEmpty": bool(text),
    }[cond["operator"]]
    return args["then"] if held else (args["else"] if args.get("else") is not None else value)


def _phone(value: str | None, args: dict[str, Any], source: Record, start: str) -> str | None:
    if value is None:
        return None
    digits = iter(re.sub(r"\D", "", value))
    return "".join(
        next(digits, "") if c == "X" else c for c in args.get("format", "(XXX) XXX-XXXX")
    )


def _school_year(value: str | None, args: dict[str, Any], source: Record, start: str) -> str:
    day = today()
    if value:
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            day = parse_date(value, "MM/DD/YYYY")
    month, dom = (int(x) for x in start.split("-"))
    first = day.year if (day.month, day.day) >= (month, dom) else day.year - 1
    output = args.get("output", "start")
    return {"start": str(first), "end": str(first + 1), "range": f"{first}-{first + 1}"}[output]


def _transliterate(
    value: str | None, args: dict[str, Any], source: Record, start: str
) -> str | None:
    if value is None:
        return None
    folded = unicodedata.normalize("NFKD", value.translate(_FOLD))
    return "".join(c for c in folded if not unicodedata.combining(c))


def _simple(
    fn: Callable[[str], str],
) -> Callable[[str | None, dict[str, Any], Record, str], str | None]:
    return lambda value, args, source, start: None if value is None else fn(value)


STEPS: dict[str, Callable[[str | None, dict[str, Any], Record, str], Any]] = {
    "date": _date,
    "today": _today,
    "lower": _simple(str.lower),
    "upper": _simple(str.upper),
    "direct": lambda value, args, source, start: value,
    "valueInput": lambda value, args, source, start: args["value"],
    "join": _join,
    "pick": _pick,
    "split": _split,
    "substitute": lambda value, args, source, start: (
        None if value is None else value.replace(args["find"], args.get("replace", ""))
    ),
    "ifThenElse": _if_then_else,
    "phoneNumber": _phone,
    "enrollSchoolYear": _school_year,
    "matchCodes": lambda value, args, source, start: match_codes(args, value),
    "transliterate": _transliterate,
}
