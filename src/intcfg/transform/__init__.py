"""The field-mapping transformation engine: how a FieldMapping turns a source record
into the record the enrollment system stores.

Pure: no I/O, no clock (the caller passes today, see ``today_in``), the standard
library only. It works on the plain spec dicts the validator has checked (the YAML
shape, camelCase keys) and never raises for any record: a value that cannot be mapped
is the field's error, never a silent blank. The catalogue (one typed function each):

- dates: ``reformat_date`` (Date), ``format_date`` (Today), ``school_year`` (Enroll
  School Year), with ``parse_date`` and the two-digit-year rule ``pivot_year``;
- text: ``lower``, ``upper``, ``direct``, ``value_input``, ``join``, ``pick``,
  ``split``, ``substitute``, ``if_then_else``, ``phone_number``, ``transliterate``;
- codes: ``match_codes``; ``check_codes`` reports table codes outside a code set.

``STEPS`` maps each step name of the YAML to its runner; ``map_record`` applies a
spec's ``fields`` to one record (``map_records`` and ``FieldMapper`` check the spec
once for many) and ``merge_into`` applies the Overwrite rule.
"""

from __future__ import annotations

from .base import Context, Failed, Result, is_empty, today_in
from .codes import CODE_SET_OF_TARGET, UnknownCode, check_codes, match_codes
from .dates import compile_format, format_date, parse_date, pivot_year, reformat_date, school_year
from .records import FieldMapper, FieldResult, MappedRecord, map_record, map_records, merge_into
from .steps import ARGUMENTS, STEPS, arguments_problem
from .text import (
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

__all__ = [
    "ARGUMENTS",
    "CODE_SET_OF_TARGET",
    "STEPS",
    "Context",
    "Failed",
    "FieldMapper",
    "FieldResult",
    "MappedRecord",
    "Result",
    "UnknownCode",
    "arguments_problem",
    "check_codes",
    "compile_format",
    "direct",
    "format_date",
    "if_then_else",
    "is_empty",
    "join",
    "lower",
    "map_record",
    "map_records",
    "match_codes",
    "merge_into",
    "parse_date",
    "phone_number",
    "pick",
    "pivot_year",
    "reformat_date",
    "school_year",
    "split",
    "substitute",
    "today_in",
    "transliterate",
    "upper",
    "value_input",
]
