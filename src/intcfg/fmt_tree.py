"""The ruamel.yaml side of `intcfg fmt`: one document's tree in canonical order and style.

Every plain scalar is read as its own text (no implicit types), so it is written back
exactly as it was; quoted and block scalars keep their style. Documents are emitted by
ruamel's emitter straight from PyYAML's C-composed nodes (``emit``); ruamel's own
pure-Python loader, several times slower, reads only documents with what those nodes do
not keep: tags, anchors and folded scalars (``load_all``, ``canonical``, ``dump``).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator
from io import StringIO
from typing import Any, cast

import yaml

from . import schemas
from .fmt_comments import Entry, Note, Parts

Schema = dict[str, Any]
_YAML11_ONLY_BOOLEAN = re.compile(r"[yYnN]\Z")
_YAML12_NOT_STRING = re.compile(
    r"""(?:null|Null|NULL|~|true|True|TRUE|false|False|FALSE
    |[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+
    |[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z""",
    re.VERBOSE,
)
_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_RESOLVER = yaml.resolver.Resolver()
_ENVELOPE: Schema = {
    "properties": {
        "apiVersion": {},
        "kind": {},
        "metadata": {"$ref": "#/$defs/Metadata"},
        "spec": {},
        "lifecycle": {"$ref": "#/$defs/Lifecycle"},
    }
}


@functools.cache
def _verbatim() -> type:
    from ruamel.yaml.resolver import VersionedResolver

    class Verbatim(VersionedResolver):
        """Reads every plain scalar as its text, so each is written back as it was."""

        @property
        def versioned_resolver(self) -> dict[Any, Any]:
            return {}

    return Verbatim


def ruamel() -> Any:
    """A new round-trip YAML instance, configured for the canonical layout.

    New for every use: an instance keeps what it last read (a ``%YAML`` directive
    would be written into every later document) and its emitter is spent after emit().
    """
    from ruamel.yaml import YAML

    rt = YAML(typ="rt")
    rt.Resolver = _verbatim()
    rt.preserve_quotes = True
    rt.indent(mapping=2, sequence=4, offset=2)
    rt.width = 1 << 30
    return rt


def load_all(text: str) -> list[Any]:
    """ruamel's documents of ``text``, empty ones left out (as intcfg's loader does)."""
    docs = ruamel().load_all(text)
    return [d for d in docs if d is not None and not (type(d) is str and d == "")]


def dump(data: Any) -> str:
    stream = StringIO()
    ruamel().dump(data, stream)
    return stream.getvalue()


def emit(root: yaml.Node, to_block: set[Parts]) -> str:
    """The canonical text of one document, emitted by ruamel straight from PyYAML's nodes.

    Gives what ruamel's round trip (load, ``canonical``, ``dump``) gives for documents
    without tags, anchors or folded scalars, in about half the time.
    """
    from ruamel.yaml import events as ev

    schema, defs = document_schema(_kind_only(root))
    stream = StringIO()
    ruamel().emit(
        [
            ev.StreamStartEvent(),
            ev.DocumentStartEvent(explicit=False),
            *_events(root, _resolve(schema, defs), defs, (), to_block),
            ev.DocumentEndEvent(explicit=False),
            ev.StreamEndEvent(),
        ],
        stream,
    )
    return stream.getvalue()


def _kind_only(root: yaml.Node) -> dict[str, Any]:
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "kind" and isinstance(value, yaml.ScalarNode):
                return {"kind": value.value}
    return {}


def _scalar_event(node: yaml.ScalarNode, key: bool) -> Any:
    from ruamel.yaml.events import ScalarEvent
    from ruamel.yaml.tag import Tag

    style = node.style or None
    if style is None and node.value and _needs_quotes(node.value, key):
        style = '"'
    return ScalarEvent(None, Tag(suffix=_STR), (True, True), node.value, style=style)


def _events(
    node: yaml.Node, schema: Schema, defs: Schema, path: Parts, to_block: set[Parts]
) -> Iterator[Any]:
    from ruamel.yaml import events as ev

    if isinstance(node, yaml.ScalarNode):
        yield _scalar_event(node, key=False)
        return
    flow = bool(cast(yaml.CollectionNode, node).flow_style) and path not in to_block
    if isinstance(node, yaml.MappingNode):
        yield ev.MappingStartEvent(None, None, True, flow_style=flow)
        pairs = {key.value: (key, value) for key, value in node.value}
        for name in _ordered(list(pairs), schema):
            key, value = pairs[name]
            yield _scalar_event(key, key=True)
            yield from _events(value, _child(schema, name, defs), defs, (*path, name), to_block)
        yield ev.MappingEndEvent()
    else:
        yield ev.SequenceStartEvent(None, None, True, flow_style=flow)
        items = _resolve(schema.get("items"), defs)
        for i, item in enumerate(node.value):
            yield from _events(item, items, defs, (*path, i), to_block)
        yield ev.SequenceEndEvent()


def _resolve(schema: Any, defs: Schema) -> Schema:
    for _ in range(16):
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        if not (isinstance(ref, str) and ref.startswith("#/$defs/")):
            break
        schema = defs.get(ref.removeprefix("#/$defs/"))
    if not isinstance(schema, dict):
        return {}
    branches = schema.get("anyOf") or schema.get("oneOf")
    if not branches:
        return schema
    merged: Schema = {"properties": {}}
    for branch in map(lambda b: _resolve(b, defs), branches):
        for name, sub in branch.get("properties", {}).items():
            merged["properties"].setdefault(name, sub)
        for key in ("items", "additionalProperties", "patternProperties"):
            if key in branch:
                merged.setdefault(key, branch[key])
    return merged


def _child(schema: Schema, key: str, defs: Schema) -> Schema:
    properties = schema.get("properties") or {}
    if key in properties:
        return _resolve(properties[key], defs)
    for pattern, sub in (schema.get("patternProperties") or {}).items():
        if re.search(pattern, key):
            return _resolve(sub, defs)
    return _resolve(schema.get("additionalProperties"), defs)


def _ordered(keys: list[Any], schema: Schema) -> list[Any]:
    rank = {name: i for i, name in enumerate(schema.get("properties") or {})}
    known = sorted((k for k in keys if k in rank), key=lambda k: rank[k])
    return known + [k for k in keys if k not in rank]


def document_schema(data: Any) -> tuple[Schema, Schema]:
    """The schema giving a document's key order (by its kind), and its $defs."""
    kind = data.get("kind") if isinstance(data, dict) else None
    name = schemas.KIND_FILES.get(kind) if isinstance(kind, str) else None
    name = "settings.json" if kind == "Settings" else name
    if name is None:
        return _ENVELOPE, schemas.load("any.json").get("$defs", {})
    schema = schemas.load(name)
    return schema, schema.get("$defs", {})


def _needs_quotes(text: str, key: bool) -> bool:
    """A plain scalar intcfg reads as a string (keys: always) that some reader would not."""
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    if _YAML11_ONLY_BOOLEAN.match(text) or _YAML12_NOT_STRING.match(text):
        return key or tag == _STR
    return key and tag not in (_STR, _TIMESTAMP)


def _quoted(value: Any, key: bool = False) -> Any:
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    if type(value) is str and value and _needs_quotes(value, key):
        return DoubleQuotedScalarString(value)
    return value


def canonical(data: Any, to_block: set[Parts]) -> Any:
    """Reorder keys, quote ambiguous plain scalars, expand flow collections (in place);
    returns the document, which is new when it is a scalar that needed quotes."""
    schema, defs = document_schema(data)
    _canonical(data, _resolve(schema, defs), defs, (), to_block)
    return _quoted(data)


def _canonical(node: Any, schema: Schema, defs: Schema, path: Parts, to_block: set[Parts]) -> None:
    from ruamel.yaml.comments import Comment, CommentedMap, CommentedSeq

    # Comments are put back by fmt_comments.place, where ruamel would not put them.
    if isinstance(node, (CommentedMap, CommentedSeq)):
        setattr(node, Comment.attrib, Comment())
    elif getattr(node, "comment", None) is not None:
        node.comment = None
    if path in to_block:
        node.fa.set_block_style()
    if isinstance(node, CommentedMap):
        items = [(k, node[k]) for k in _ordered(list(node), schema)]
        for key in list(node):
            del node[key]
        for key, value in items:
            node[_quoted(key, key=True)] = _quoted(value)
            _canonical(value, _child(schema, str(key), defs), defs, (*path, str(key)), to_block)
    elif isinstance(node, CommentedSeq):
        for i, value in enumerate(node):
            node[i] = _quoted(value)
            _canonical(value, _resolve(schema.get("items"), defs), defs, (*path, i), to_block)


def to_block(doc: list[Entry], notes: list[Note]) -> set[Parts]:
    """Flow collections to write in block style: nested ones, ones holding a comment, and
    ones holding an empty value (which a flow collection can only write as ``''``)."""
    comments = sorted(note.pos for note in notes if note.text)
    out: set[Parts] = set()
    for entry in doc:
        node = entry.node
        if entry.alias or not isinstance(node, yaml.CollectionNode) or not node.flow_style:
            continue
        children = node.value if isinstance(node, yaml.SequenceNode) else [v for _, v in node.value]
        i = bisect.bisect_left(comments, node.start_mark.index)
        holds_comment = i < len(comments) and comments[i] < node.end_mark.index
        if holds_comment or any(_not_flow(child) for child in children):
            out.add(entry.path)
    return out


def _not_flow(node: yaml.Node) -> bool:
    if isinstance(node, yaml.CollectionNode):
        return bool(node.value)
    return isinstance(node, yaml.ScalarNode) and not node.style and node.value == ""
