"""Hypothesis strategies for hostile config files: intcfg documents from the example
repository with mutations (keys, types, nesting, aliases, tags, control characters, huge
scalars), YAML-ish text, and bytes that are not UTF-8. Shared by test_fuzz.py and the
atheris harness in fuzz/ (which feeds raw bytes instead).

Not a conftest.py: see tests/live/livekit.py.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from intcfg.loader import load_file

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "config-repo-example"
SETTINGS = EXAMPLE / "intcfg.yaml"
DOCUMENTS: list[dict[str, Any]] = [
    doc.data for path in sorted(EXAMPLE.glob("districts/**/*.yaml")) for doc in load_file(str(path)).documents
] + [doc.data for doc in load_file(str(SETTINGS)).documents]


def _keys(data: Any) -> set[str]:
    if isinstance(data, dict):
        return set(data) | {k for v in data.values() for k in _keys(v)}
    if isinstance(data, list):
        return {k for v in data for k in _keys(v)}
    return set()


KEYS = sorted({k for d in DOCUMENTS for k in _keys(d)})
CONTROL = "".join(chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), 127, 0x85, 0xFEFF, 0x2028))
# Text inserted into the YAML at random places: every construct the loader must refuse
# or survive.
SNIPPETS = [
    "&a ", "*a", "<<: *a\n", "? [a, b]\n: c\n", "!!python/object/apply:os.system ['true']\n",
    "!!python/name:os.system\n", "!custom x\n", "!!binary aGVsbG8=\n", "!!set {a, b}\n", "!!omap [a: 1]\n",
    "%YAML 1.1\n---\n", "%TAG ! tag:example.org,2000:\n---\n", "---\n", "...\n", "\t", "\x00", "\x1b[31m",
    "\ufeff", "\r\n", "\r", "key: &x [*x]\n", "{", "}", "[", "]", "'", '"', "|\n", ">-\n", "#", ": ", "- ",
    "a: 1\na: 2\n", "spec: {env: X, file: Y}\n", "metadata: {name: ../x, district: a\nIntcfg-Result: success}\n",
    "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e]\n",
]
BAD_BYTES = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf0\x28\x8c\x28", b"\x80", b"\xe2\x82"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.text(alphabet=st.sampled_from(CONTROL + "ab:-{}[]&*!|>#'\"%@`\\ \n"), max_size=20),
    st.sampled_from(["no", "on", "y", "010", "0o17", "1e3", "1:30", "2026-02-30", "~", "", "null", ".inf"]),
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "é", "\U0001f600", "ab "]), st.integers(0, 70_000)),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=15))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)


def _nested(depth: int, leaf: Any, as_map: bool) -> Any:
    for _ in range(depth):
        leaf = {"k": leaf} if as_map else [leaf]
    return leaf


@st.composite
def mutated_document(draw: st.DrawFn) -> Any:
    """An example document with a few parts replaced, removed, renamed, added or nested."""
    doc: Any = copy.deepcopy(draw(st.sampled_from(DOCUMENTS)))
    for _ in range(draw(st.integers(0, 4))):
        path = _random_path(draw, doc)
        parent, key = _parent(doc, path)
        action = draw(st.sampled_from(["replace", "delete", "rename", "add", "nest"]))
        if parent is None:
            doc = draw(values) if action == "replace" else doc
            continue
        if action == "replace":
            parent[key] = draw(values)
        elif action == "delete":
            del parent[key]
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(keys)] = parent.pop(key)
        elif action == "add" and isinstance(parent, dict):
            parent[draw(keys)] = draw(values)
        elif action == "nest":
            parent[key] = _nested(draw(st.integers(1, 100)), parent[key], draw(st.booleans()))
    return doc


def _random_path(draw: st.DrawFn, doc: Any) -> list[Any]:
    path: list[Any] = []
    node = doc
    while isinstance(node, (dict, list)) and node and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(node, key=str) if isinstance(node, dict) else range(len(node))))
        path.append(key)
        node = node[key]
    return path


def _parent(doc: Any, path: list[Any]) -> tuple[Any, Any]:
    if not path:
        return None, None
    node = doc
    for key in path[:-1]:
        node = node[key]
    return node, path[-1]


def _dump(draw: st.DrawFn, documents: list[Any]) -> str:
    flow = draw(st.sampled_from([None, True, False]))
    try:
        return yaml.safe_dump_all(documents, default_flow_style=flow, allow_unicode=draw(st.booleans()), sort_keys=False)
    except (yaml.YAMLError, ValueError, RecursionError):
        return "apiVersion: intcfg/v1\n"


def _splice(draw: st.DrawFn, text: str) -> str:
    for _ in range(draw(st.integers(0, 5))):
        at = draw(st.integers(0, len(text)))
        choice = draw(st.integers(0, 3))
        if choice == 0:
            text = text[:at] + draw(st.sampled_from(SNIPPETS)) + text[at:]
        elif choice == 1:
            text = text[:at] + text[at + draw(st.integers(1, 20)):]
        elif choice == 2:
            text = text[:at] + draw(st.text(max_size=10)) + text[at:]
        else:
            text = text[:at] + text[at:][:40] * draw(st.integers(1, 3)) + text[at + 40:]
    return text


@st.composite
def yaml_text(draw: st.DrawFn) -> str:
    """YAML-ish text: mutated intcfg documents, dumped, then spliced."""
    documents = [draw(mutated_document()) for _ in range(draw(st.integers(1, 3)))]
    return _splice(draw, _dump(draw, documents))


@st.composite
def file_bytes(draw: st.DrawFn) -> bytes:
    """What a config file may hold: YAML-ish text, bytes that are not UTF-8, or anything."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.binary(max_size=400))
    raw = draw(yaml_text()).encode("utf-8", errors="surrogatepass")
    if kind == 1:
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from(BAD_BYTES)) + raw[at:]
    elif kind == 2:
        raw = raw[: draw(st.integers(0, len(raw)))]  # truncated, maybe inside a character
    elif kind == 3:
        raw = raw.decode("utf-8", errors="replace").encode("latin-1", errors="replace")
    return raw
