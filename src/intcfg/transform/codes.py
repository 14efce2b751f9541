"""Match Codes, and the enrollment system's code sets the target fields draw from."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Set
from typing import Any, NamedTuple

from .base import Failed, Result, is_empty, show

# Which code set (as named in the product's "Field Codes" downloads) each target takes.
CODE_SET_OF_TARGET: dict[str, str] = {
    "students.gender": "genders",
    "students.language": "languages",
    "students.home_language": "languages",
    "students.ethnicity": "ethnicities",
    "students.race": "races",
    "students.state": "states",
    "students.country": "countries",
    "students.birth_country": "countries",
}
_LISTED = 10


def match_codes(value: str | None, table: Mapping[str, str], default: str | None = None) -> Result:
    """Match Codes: the code the table gives the value.

    The value is looked up exactly first, then without regard to case and to
    whitespace around it ('  m' finds 'M'); a value that matches several keys that way
    with different codes is an error. A value not in the table takes ``default``;
    without one it is an error naming the value. An empty value is not a code: it
    stays empty unless the table has an entry for ''. The result is always a code
    from the table, the default, or empty; never the unmatched value itself.
    """
    if value is None or is_empty(value):
        return table[""] if "" in table else value
    found = _lookup(value, table)
    if found is not None:
        return found
    if default is not None:
        return default
    return Failed(
        f"{show(value)} is not in the match-code table ({_keys(table)}) and there is no default"
    )


def _lookup(value: str, table: Mapping[str, str]) -> Result:
    if value in table:
        return table[value]
    wanted = value.strip().casefold()
    codes = {code for key, code in table.items() if key.strip().casefold() == wanted}
    if len(codes) > 1:
        return Failed(
            f"{show(value)} matches several match-code keys that differ only in case or spaces"
        )
    return codes.pop() if codes else None


def _keys(table: Mapping[str, str]) -> str:
    keys = sorted(table)
    listed = ", ".join(show(k) for k in keys[:_LISTED])
    return "keys: " + listed + (f" and {len(keys) - _LISTED} more" if len(keys) > _LISTED else "")


class UnknownCode(NamedTuple):
    """A match-code target that is not a code of the set its target field takes."""

    target: str
    code: str
    code_set: str
    path: tuple[
        str | int, ...
    ]  # from the spec's ``fields``, e.g. (target, "matchCodes", "default")
    suggestion: str | None

    @property
    def message(self) -> str:
        hint = f"; did you mean {self.suggestion!r}?" if self.suggestion else ""
        return f"{self.target}: {self.code!r} is not a code of {self.code_set}{hint}"


def check_codes(
    field_maps: Mapping[str, Any], code_sets: Mapping[str, Set[str]]
) -> list[UnknownCode]:
    """The match-code targets (table codes and defaults) of ``field_maps`` that are
    not in the code set their target field takes (``CODE_SET_OF_TARGET``).

    Fields whose target takes no code set, or whose set is not in ``code_sets``, are
    not checked. The result is in the order of the spec.
    """
    found: list[UnknownCode] = []
    for target, fmap in field_maps.items():
        codes = code_sets.get(CODE_SET_OF_TARGET.get(target, ""))
        if codes is None or not isinstance(fmap, Mapping):
            continue
        for path, code in _targets(fmap):
            if code not in codes:
                name = CODE_SET_OF_TARGET[target]
                found.append(
                    UnknownCode(target, code, name, (target, *path), _suggest(code, codes))
                )
    return found


def _targets(fmap: Mapping[str, Any]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(fmap.get("matchCodes"), Mapping):
        yield from _table_targets(("matchCodes",), fmap["matchCodes"])
    for i, step in enumerate(fmap.get("transformations") or []):
        if isinstance(step, Mapping) and isinstance(step.get("matchCodes"), Mapping):
            yield from _table_targets(("transformations", i, "matchCodes"), step["matchCodes"])


def _table_targets(
    at: tuple[str | int, ...], spec: Mapping[str, Any]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    table = spec.get("table")
    for key, code in table.items() if isinstance(table, Mapping) else ():
        yield (*at, "table", key), str(code)
    if spec.get("default") is not None:
        yield (*at, "default"), str(spec["default"])


def _suggest(code: str, codes: Set[str]) -> str | None:
    folded = {c.casefold(): c for c in codes}
    if code.strip().casefold() in folded:
        return folded[code.strip().casefold()]
    close = difflib.get_close_matches(code, sorted(codes), n=1, cutoff=0.75)
    return close[0] if close else None


def code_problem(target: str, value: str, code_sets: Mapping[str, Set[str]]) -> Failed | None:
    """Why a mapped ``value`` cannot be stored in ``target``: not a code of its set."""
    name = CODE_SET_OF_TARGET.get(target)
    codes = code_sets.get(name) if name else None
    if codes is None or is_empty(value) or value in codes:
        return None
    suggestion = _suggest(value, codes)
    hint = f"; did you mean {suggestion!r}?" if suggestion else ""
    return Failed(f"{show(value)} is not a code of {name}{hint}")
