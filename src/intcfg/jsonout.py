"""JSON for people, fast: what ``json.dumps(value, indent=2)`` writes, byte for byte.

``indent=`` makes the standard library encode in Python instead of C; the plan and audit
record of a 10,000-object apply took 8 s each that way. orjson writes the same text
(two-space indent, ``", "``/``": "`` separators) about 30x faster; what it writes
differently is put back: non-ASCII characters are escaped as ``json.dumps`` escapes them
(``ensure_ascii``), and values orjson refuses (integers beyond 64 bits) take the standard
library's way. The configuration's schemas hold no numbers but whole ones, so the float
spellings in which the two differ never arise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

import orjson

_NON_ASCII = re.compile(r"[^\x00-\x7e]")  # and DEL, as json escapes it


def _escape(match: re.Match[str]) -> str:
    n = ord(match.group())
    if n < 0x10000:
        return f"\\u{n:04x}"
    n -= 0x10000
    return f"\\u{0xD800 | (n >> 10):04x}\\u{0xDC00 | (n & 0x3FF):04x}"


def pretty(value: Any, sort_keys: bool = False) -> str:
    """``json.dumps(value, indent=2, sort_keys=sort_keys)``, without its trailing newline."""
    return pretty_bytes(value, sort_keys).decode("ascii")


def pretty_bytes(value: Any, sort_keys: bool = False) -> bytes:
    """``pretty`` as the ASCII bytes of a file, without a copy as text on the way."""
    option = orjson.OPT_INDENT_2 | (orjson.OPT_SORT_KEYS if sort_keys else 0)
    try:
        data = orjson.dumps(value, option=option)
    except TypeError:  # orjson.JSONEncodeError: a value orjson does not take
        return json.dumps(value, indent=2, sort_keys=sort_keys).encode("ascii")
    if data.isascii() and b"\x7f" not in data:
        return data
    return _NON_ASCII.sub(_escape, data.decode("utf-8")).encode("ascii")


def canonical(value: Any) -> bytes:
    """``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
    as UTF-8: the text digests are taken of."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def compact(value: Any) -> bytes:
    """What httpx sends for ``json=value``: ``json.dumps(value, ensure_ascii=False,
    separators=(",", ":"), allow_nan=False)`` as UTF-8, through orjson (a batch of a hundred
    specs in a tenth of the time). For values without floats (a spec: the schemas hold whole
    numbers only), where the two write the same bytes; a value orjson refuses takes the
    standard library's way."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


_GROUP = 200  # list items written by one encoder call: a few hundred KB of a record


def canonical_chunks(value: Any, depth: int = 2) -> Iterator[bytes]:
    """``canonical`` in pieces, joined the same bytes: dicts less than ``depth`` levels deep
    key by key, lists that deep a few hundred items at a time. The digest of a state's
    plan hashes them as they come instead of holding its 30 MB text."""
    if depth <= 0 or not isinstance(value, dict | list) or not value:
        yield canonical(value)
    elif isinstance(value, list):
        for start in range(0, len(value), _GROUP):
            group = canonical(value[start : start + _GROUP])
            yield (b"," if start else b"[") + group[1:-1]
        yield b"]"
    elif not all(isinstance(k, str) for k in value):
        yield canonical(value)
    else:
        for i, key in enumerate(sorted(value)):
            yield (b"," if i else b"{") + canonical(key) + b":"
            yield from canonical_chunks(value[key], depth - 1)
        yield b"}"


class Made(NamedTuple):
    """A list whose items' text was made ahead, in runs (``items_text``, in any form: an
    audit record's plan changes, deflated district by district while the reads go on).
    ``pretty_chunks`` writes the list's brackets around the runs and yields each run as
    it is; only ``pretty_chunks`` takes it, at a level it writes member by member."""

    runs: tuple[Any, ...]


def items_text(items: list[Any], sort_keys: bool, level: int) -> bytes:
    """The text of ``items`` (not empty) as a list ``level`` levels deep holds them: what
    ``pretty_bytes`` writes between the line of the list's bracket and its last newline.
    Runs of a list's items, in order, joined by a comma and a newline, are the text of
    all of them."""
    inner = pretty_bytes(items, sort_keys)[2:-2]
    return b"  " * level + inner.replace(b"\n", b"\n" + b"  " * level) if level else inner


def pretty_chunks(value: Any, sort_keys: bool = False, depth: int = 3) -> Iterator[bytes | Any]:
    """``pretty_bytes`` in pieces: dicts less than ``depth`` levels deep are written key by
    key, lists that deep a few hundred items at a time, each deeper value whole. An audit
    record holds the plan of every change of a run: its text whole would be tens of
    megabytes on top of the objects it comes from. A list of flat items (scalars, or
    dicts and lists of scalars) is written in groups at any depth: item by item, each
    would be a handful of tiny pieces (a record's 10,000 results were 180,000 of them).
    A ``Made`` list's runs are yielded as they are, in their place."""
    yield from _chunks(value, sort_keys, 0, depth)


def _chunks(value: Any, sort_keys: bool, level: int, depth: int) -> Iterator[Any]:
    if isinstance(value, Made):
        if level >= depth:
            raise ValueError(f"a list made ahead {level} levels deep, where values are written whole")
        if not value.runs:
            yield b"[]"
            return
        yield b"[\n"
        for i, run in enumerate(value.runs):
            if i:
                yield b",\n"
            yield run
        yield b"\n" + b"  " * level + b"]"
        return
    whole = level >= depth or not isinstance(value, dict | list) or not value
    if whole or (isinstance(value, dict) and not all(isinstance(k, str) for k in value)):
        data = pretty_bytes(value, sort_keys)
        yield data.replace(b"\n", b"\n" + b"  " * level) if level else data
        return
    pad = b"  " * (level + 1)
    if isinstance(value, dict):
        items = sorted(value.items()) if sort_keys else list(value.items())
        yield b"{\n"
        for i, (key, item) in enumerate(items):
            yield pad + pretty_bytes(key) + b": "
            yield from _chunks(item, sort_keys, level + 1, depth)
            yield b",\n" if i < len(items) - 1 else b"\n"
        yield b"  " * level + b"}"
        return
    yield b"[\n"
    if level + 1 < depth and not all(_flat(item) for item in value):
        for i, item in enumerate(value):
            yield pad
            yield from _chunks(item, sort_keys, level + 1, depth)
            yield b",\n" if i < len(value) - 1 else b"\n"
    else:
        # Items written whole, a group at a time: the group's text without its brackets is
        # its items' text one level in, separated as they are in the list.
        for start in range(0, len(value), _GROUP):
            yield items_text(value[start : start + _GROUP], sort_keys, level)
            yield b",\n" if start + _GROUP < len(value) else b"\n"
    yield b"  " * level + b"]"


def _flat(value: Any) -> bool:
    """Whether ``value`` holds no dict or list: a scalar, or a dict or list of scalars."""
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return not any(isinstance(item, dict | list) for item in items)
