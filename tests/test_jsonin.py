"""jsonin reads every text to the value (or the error) the standard library's json gives:
live objects, batch answers and simulator requests are compared and stored by value."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intcfg.jsonin import loads

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.integers(min_value=2**64, max_value=2**80)  # orjson would read these as floats
    | st.integers(min_value=-(2**80), max_value=-(2**63) - 1)
    | st.floats()  # NaN and the infinities: orjson refuses them, the standard library reads them
    | st.text()  # astral code points, control characters, lone surrogates (as \\u escapes)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=30,
)


def same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN and an int never equal to a float."""
    return repr(a) == repr(b) and type(a) is type(b)


@settings(max_examples=400, deadline=None)
@given(VALUES, st.booleans(), st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_loads_reads_what_the_standard_library_reads(value: Any, ascii_only: bool, encoding: str) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode(encoding, "surrogatepass")
    try:
        expected = json.loads(raw)
    except ValueError:
        with pytest.raises(ValueError):
            loads(raw)
        return
    assert same(loads(raw), expected)


@pytest.mark.parametrize(
    "raw",
    [b'{"n": 18446744073709551616}', b'{"id": "12345678901234567890"}', b"[NaN, -Infinity]", b"\xef\xbb\xbf[1]"],
)
def test_texts_orjson_would_read_otherwise_or_refuse(raw: bytes) -> None:
    assert same(loads(raw), json.loads(raw))


@pytest.mark.parametrize("raw", [b"", b"{", b"[1,]", b"\xff"])
def test_what_is_not_json_is_the_standard_librarys_error(raw: bytes) -> None:
    with pytest.raises(ValueError):
        loads(raw)
