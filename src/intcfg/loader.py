"""Read YAML files into plain data, keeping the node tree for source positions.

This is the validate hot path, so it uses PyYAML's C composer (libyaml) and builds the
data itself instead of PyYAML's constructor. Building it here is also where the input is
made safe: duplicate keys, custom tags, merge keys, alias bombs, deep nesting, non-UTF-8
and oversized files all become findings instead of surprises. Nothing here resolves a
secret or touches the network.
"""

from __future__ import annotations

import functools
import math
import os
from typing import Any, NamedTuple

import yaml

from .findings import Finding
from .location import Location

try:
    from yaml import CSafeLoader as _Loader
except ImportError as e:  # pragma: no cover - the PyPI wheels ship libyaml
    raise ImportError(
        "PyYAML was built without libyaml (yaml.CSafeLoader is missing); the pure-Python "
        "parser is about 8x slower. Reinstall PyYAML from a wheel: pip install --force-reinstall PyYAML"
    ) from e

MAX_DEPTH = 64
MAX_NODES = 100_000  # per document, counting every alias expansion
# libyaml's composer recurses in C; tens of thousands of nested flow collections crash
# the process. A file with this many nesting indicators is checked event by event first.
_NESTING_SUSPICION = 5_000

_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_NULL = "tag:yaml.org,2002:null"
_SCALAR_TAGS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    _NULL,
    _TIMESTAMP,
}
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_TAGS: dict[str, str] = {}
_TAGS_LIMIT = 65_536


class _Composer(_Loader):  # type: ignore[misc]
    """libyaml's composer, with the tag of each plain scalar looked up once per text.

    The C composer asks Python for the tag of every scalar and walks the (empty) path
    resolvers at every node: a quarter of the compose time. For a plain scalar the answer
    depends on its text alone, since the safe loader has no path resolvers.
    """

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = _TAGS.get(value)
            if tag is None:
                if len(_TAGS) >= _TAGS_LIMIT:
                    _TAGS.clear()
                tag = _TAGS[value] = _Loader.resolve(self, kind, value, implicit)
            return tag
        return _Loader.resolve(self, kind, value, implicit)  # type: ignore[no-any-return]

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


assert not _Loader.yaml_path_resolvers, "the tag cache assumes no path resolvers"
_TOO_DEEP = f"nesting deeper than {MAX_DEPTH} levels is not supported; flatten the structure"


class Document:
    """One YAML document of a file: its data, and the node tree to locate paths in.

    Given ``text`` (the whole file) instead of ``node``, the tree is composed only if a
    location is asked for: most documents never need one, and trees are most of the memory.
    """

    __slots__ = ("file", "index", "data", "_node", "text")

    def __init__(
        self,
        file: str,
        index: int,
        data: Any,
        node: yaml.Node | None = None,
        text: str | None = None,
    ) -> None:
        self.file = file
        self.index = index
        self.data = data
        self._node = node
        self.text = text

    @property
    def node(self) -> yaml.Node | None:
        if self._node is None and self.text is not None:
            self._node = _composed(self.text)[self.index]
        return self._node

    def __repr__(self) -> str:
        return f"Document({self.file!r}, {self.index})"

    def locate(self, path: tuple[str | int, ...], key: bool = False) -> Location:
        node = locate_node(self.node, path, key)
        return _location(self.file, node) if node is not None else Location(self.file)

    def node_at(self, path: tuple[str | int, ...]) -> yaml.Node | None:
        return locate_node(self.node, path)


class LoadedFile(NamedTuple):
    file: str
    documents: list[Document]
    findings: list[Finding]


class _Refused(Exception):
    def __init__(self, rule: str, message: str, node: yaml.Node | None) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.node = node


def _location(file: str, node: yaml.Node) -> Location:
    start, end = node.start_mark, node.end_mark
    return Location(file, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def locate_node(
    node: yaml.Node | None, path: tuple[str | int, ...], key: bool = False
) -> yaml.Node | None:
    """The node at ``path`` (the key's node when ``key``), or the deepest one that exists."""
    for i, part in enumerate(path):
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == part:
                    if key and i == len(path) - 1:
                        return k  # type: ignore[no-any-return]
                    node = v
                    break
            else:
                return node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node
            node = node.value[part]
        else:
            return node
    return node


class _Builder:
    """Turns one composed document into plain data, enforcing the loader's limits."""

    def __init__(self, file: str, root: yaml.Node) -> None:
        self.file = file
        self.root = root
        self.nodes = 0
        self.findings: list[Finding] = []

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Refused(
                "INTCFG-E005",
                f"the document expands to more than {MAX_NODES:,} values (aliases included); "
                "this looks like an alias bomb: write the values out",
                # An alias shares its anchor's node, so only the document is a truthful place.
                self.root,
            )
        if depth > MAX_DEPTH:
            raise _Refused("INTCFG-E005", _TOO_DEEP, node)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                raise self.bad_tag(node)
            return [self.build(n, depth + 1) for n in node.value]
        if node.tag != _MAP:
            raise self.bad_tag(node)
        return self.mapping(node, depth)

    def mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                raise _Refused(
                    "INTCFG-E007",
                    "merge keys (<<) are not supported: write the fields out, so every "
                    "value is visible where it applies",
                    key_node,
                )
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused("INTCFG-E008", "a mapping key must be a plain string", key_node)
            if key_node.tag not in _SCALAR_TAGS:
                raise self.bad_tag(key_node)
            key = key_node.value
            if key in first_line:
                self.findings.append(
                    Finding(
                        _location(self.file, key_node),
                        "INTCFG-E002",
                        f"duplicate key {key!r} (first defined on line {first_line[key]}); "
                        "a key may appear once in a mapping",
                    )
                )
                continue
            first_line[key] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, depth + 1)
        return out

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if tag == _STR or tag == _TIMESTAMP:
            # Dates stay text: the schema checks their form, and `credentialsRotated:
            # 2026-09-01` must not need quotes.
            return node.value
        if tag not in _SCALAR_TAGS:
            raise self.bad_tag(node)
        return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, node)

    def bad_tag(self, node: yaml.Node) -> _Refused:
        return _Refused(
            "INTCFG-E006",
            f"the YAML tag {node.tag!r} is not allowed; intcfg reads only plain strings, "
            "numbers, booleans, lists and mappings",
            node,
        )


def _too_deep(text: str) -> yaml.Mark | None:
    """Where the nesting first exceeds MAX_DEPTH, for texts that could crash the composer."""
    if text.count("[") + text.count("{") + text.count("-") + text.count("?") < _NESTING_SUSPICION:
        return None
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return None  # not too deep before the error; composing reports the error itself
    return None


def _decode(file: str, raw: bytes) -> tuple[str | None, Finding | None]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        before = raw[: e.start]
        line = before.count(b"\n") + 1
        column = e.start - (before.rfind(b"\n") + 1) + 1
        return None, Finding(
            Location(file, line, column),
            "INTCFG-E003",
            f"the file is not valid UTF-8 (byte 0x{raw[e.start]:02x} at offset {e.start}); "
            "save it as UTF-8",
        )
    return text, None


def _reader_finding(file: str, text: str, e: yaml.reader.ReaderError) -> Finding:
    # libyaml reports the byte offset into the UTF-8 encoding of the text.
    before = text.encode("utf-8")[: e.position].decode("utf-8", errors="ignore")
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    char = e.character if isinstance(e.character, int) else ord(e.character or "\0")
    return Finding(
        Location(file, line, column),
        "INTCFG-E001",
        f"invalid YAML: the control character U+{char:04X} is not allowed; remove it "
        "(only tab, line feed and carriage return may appear)",
    )


def _syntax_finding(file: str, text: str, e: yaml.YAMLError) -> Finding:
    if isinstance(e, yaml.reader.ReaderError):
        return _reader_finding(file, text, e)
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    problem = getattr(e, "problem", None) or str(e)
    context = getattr(e, "context", None)
    context_mark = getattr(e, "context_mark", None)
    message = str(problem)
    if context:
        message += f" ({context}"
        if context_mark is not None and mark is not None and context_mark.line != mark.line:
            message += f" started at line {context_mark.line + 1}, column {context_mark.column + 1}"
        message += ")"
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        message = "a tab where YAML expects spaces; YAML does not allow tabs for indentation: use spaces"
    return Finding(Location(file, line, column), "INTCFG-E001", f"invalid YAML: {message}")


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    return lines[line][column : column + 1] if line < len(lines) else ""


def load_text(file: str, text: str) -> LoadedFile:
    """Compose every document of ``text``; never raises for bad input."""
    deep = _too_deep(text)
    if deep is not None:
        where = Location(file, deep.line + 1, deep.column + 1)
        return LoadedFile(file, [], [Finding(where, "INTCFG-E005", _TOO_DEEP)])
    documents: list[Document] = []
    findings: list[Finding] = []
    try:
        nodes = list(yaml.compose_all(text, Loader=_Composer))
    except yaml.YAMLError as e:
        return LoadedFile(file, [], [_syntax_finding(file, text, e)])
    except RecursionError:  # pragma: no cover - guarded by _too_deep
        return LoadedFile(file, [], [Finding(Location(file), "INTCFG-E005", _TOO_DEEP)])
    for index, node in enumerate(nodes):
        if node is None:
            continue
        if _is_empty(node):
            findings.append(
                Finding(_location(file, node), "INTCFG-W001", f"document {index + 1} is empty", "warning")
            )
            continue
        builder = _Builder(file, node)
        try:
            data = builder.build(node)
        except _Refused as refusal:
            where = _location(file, refusal.node) if refusal.node else Location(file)
            findings.append(Finding(where, refusal.rule, refusal.message))
            continue
        findings.extend(builder.findings)
        documents.append(Document(file, index, data, node, text))
    if not nodes:
        findings.append(Finding(Location(file), "INTCFG-W001", "the file has no YAML documents", "warning"))
    return LoadedFile(file, documents, findings)


@functools.lru_cache(maxsize=8)
def _composed(text: str) -> list[yaml.Node | None]:
    # Only for texts that composed before, so this cannot fail.
    return list(yaml.compose_all(text, Loader=_Composer))


def _is_empty(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL and node.value == ""


def load_file(file: str, max_bytes: int = 1_048_576) -> LoadedFile:
    """Read and load one file, as ``file`` names it in findings."""
    try:
        size = os.stat(file).st_size
        if size > max_bytes:
            return LoadedFile(
                file,
                [],
                [
                    Finding(
                        Location(file),
                        "INTCFG-E004",
                        f"the file is {_size(size)}, over the limit of {_size(max_bytes)} "
                        "(limits.maxFileBytes in intcfg.yaml); split it into smaller files",
                    )
                ],
            )
        with open(file, "rb") as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as e:
        return LoadedFile(file, [], [Finding(Location(file), "INTCFG-E001", f"cannot read the file: {e.strerror}")])
    text, bad = _decode(file, raw)
    if bad is not None or text is None:
        return LoadedFile(file, [], [bad] if bad else [])
    return load_text(file, text)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    exp = min(int(math.log(n, 1024)), 3)
    return f"{n / 1024**exp:.1f} {['bytes', 'KiB', 'MiB', 'GiB'][exp]}"
