"""jsonout writes exactly what the standard library's json writes (plans, audit records
and state are compared by digest and by golden files: a different byte would be a change)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intcfg.jsonout import Made, canonical, canonical_chunks, compact, items_text, pretty, pretty_chunks

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.integers(min_value=2**64, max_value=2**80)  # beyond orjson: the standard library's way
    | st.text()  # every code point: astral ones, control characters, lone surrogates
)


def values(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
        max_leaves=30,
    )


@settings(max_examples=400, deadline=None)
@given(values(SCALARS), st.booleans())
def test_pretty_is_json_dumps_with_indent_two(value: Any, sort_keys: bool) -> None:
    assert pretty(value, sort_keys) == json.dumps(value, indent=2, sort_keys=sort_keys)


@settings(max_examples=400, deadline=None)
@given(values(SCALARS.filter(lambda v: not isinstance(v, str)) | st.text(st.characters(exclude_categories=("Cs",)))))
def test_canonical_is_the_compact_sorted_utf8_text(value: Any) -> None:
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert canonical(value) == expected


@settings(max_examples=400, deadline=None)
@given(values(SCALARS.filter(lambda v: not isinstance(v, str)) | st.text(st.characters(exclude_categories=("Cs",)))))
def test_compact_is_what_httpx_sends_for_json(value: Any) -> None:
    body = {"operations": value}  # json=None would send no body at all
    assert compact(body) == httpx.Request("POST", "http://127.0.0.1/", json=body).content


@settings(max_examples=300, deadline=None)
@given(values(SCALARS.filter(lambda v: not isinstance(v, str)) | st.text(st.characters(exclude_categories=("Cs",)))), st.integers(0, 3))
def test_canonical_in_chunks_is_canonical(value: Any, depth: int) -> None:
    assert b"".join(canonical_chunks(value, depth)) == canonical(value)


def test_canonical_chunks_of_lists_longer_than_a_group() -> None:
    body = {"changes": [{"n": i, "big": 2**70 if i == 250 else i, "é": "☕"} for i in range(450)], "format": "x", "1": {}}
    for depth in range(4):
        assert b"".join(canonical_chunks(body, depth)) == canonical(body)


def test_a_plan_sized_record_is_unchanged() -> None:
    record = {
        "changes": [
            {"address": f"sis/d{i}/ETranscriptVendor/v", "fields": [{"path": "displayName", "after": "Café ☕ 𝄞"}]}
            for i in range(50)
        ],
        "empty": {},
        "none": [],
    }
    assert pretty(record, sort_keys=True) == json.dumps(record, indent=2, sort_keys=True)
    # Lists longer than the groups pretty_chunks writes at once, at every depth.
    record["results"] = [{"index": i, "big": 2**70 if i == 333 else i, "note": "é"} for i in range(450)]
    record["changes"] *= 9
    for depth in range(5):
        chunks = b"".join(pretty_chunks({"plan": record, "list": record["results"]}, True, depth))
        assert chunks.decode("ascii") == json.dumps({"plan": record, "list": record["results"]}, indent=2, sort_keys=True)


@settings(max_examples=300, deadline=None)
@given(values(SCALARS), st.booleans(), st.integers(0, 4))
def test_pretty_in_chunks_is_pretty(value: Any, sort_keys: bool, depth: int) -> None:
    assert b"".join(pretty_chunks(value, sort_keys, depth)).decode("ascii") == pretty(value, sort_keys)


@settings(max_examples=200, deadline=None)
@given(st.lists(values(SCALARS), max_size=12), st.booleans(), st.integers(0, 2), st.data())
def test_a_list_made_ahead_in_runs_is_the_same_text(items: list[Any], sort_keys: bool, level: int, data: Any) -> None:
    # The list ``level`` levels deep in dicts that are written member by member.
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(items) - 1)))) if len(items) > 1 else set())
    parts = [items[a:b] for a, b in zip([0, *cuts], [*cuts, len(items)], strict=True) if items[a:b]]
    runs = tuple(items_text(part, sort_keys, level) for part in parts)

    def nest(value: Any) -> Any:
        for _ in range(level):
            value = {"k": value, "a": 1}
        return value

    pieces = list(pretty_chunks(nest(Made(runs)), sort_keys, depth=level + 1))
    assert b"".join(pieces).decode("ascii") == pretty(nest(items), sort_keys)
    assert all(any(piece is run for piece in pieces) for run in runs)  # as they are, not remade


def test_a_list_made_ahead_is_refused_where_values_are_written_whole() -> None:
    with pytest.raises(ValueError, match="made ahead 1 levels deep"):
        b"".join(pretty_chunks({"k": Made((b"  1",))}, depth=1))


@settings(max_examples=400, deadline=None)
@given(values(SCALARS | st.floats(allow_nan=False)))
def test_a_plan_texts_values_are_json_as_the_standard_library_writes_it(value: Any) -> None:
    from intcfg.render.plan import _value

    expected = "(sensitive)" if value == "(sensitive)" else json.dumps(value, ensure_ascii=False)
    assert _value(value) == expected
