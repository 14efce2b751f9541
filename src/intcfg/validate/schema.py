"""Schema checks: the published JSON Schemas, run by jsonschema-rs, errors made readable.

jsonschema-rs's own messages echo values, and a value may be a secret pasted into the
wrong place, so every message is written here from the error's kind, quoting a value
only where the schema does not mark the field as a secret.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import jsonschema_rs
import yaml

from .. import schemas
from ..findings import Finding
from ..loader import Document
from ..location import json_path

Path = tuple[str | int, ...]

_TYPE_NAMES = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    list: "list",
    dict: "mapping",
    type(None): "null",
}
_SCHEMA_TYPE_NAMES = {"object": "mapping", "array": "list"}


@cache
def _validator(kind: str) -> Any:
    return jsonschema_rs.validator_for(schemas.load(schemas.KIND_FILES[kind]))


@cache
def settings_validator() -> Any:
    return jsonschema_rs.validator_for(schemas.load("settings.json"))


def type_name(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def _expected(sub: dict[str, Any]) -> str:
    """The form a pattern asks for, in words (the models write it as x-intcfg-expected)."""
    text = sub.get("x-intcfg-expected") or f"a value matching {sub.get('pattern', '')}"
    return str(text).rstrip(".")


def show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _resolve(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref = node["$ref"]
        node = root["$defs"][ref.rsplit("/", 1)[1]] if ref.startswith("#/$defs/") else {}
    return node


def schema_at(root: dict[str, Any], path: Path) -> dict[str, Any]:
    """The subschema that describes the value at ``path`` (empty when unknown)."""
    node = _resolve(root, root)
    for part in path:
        if isinstance(part, int):
            nxt = node.get("items", {})
        else:
            nxt = node.get("properties", {}).get(part, node.get("additionalProperties", {}))
        if not isinstance(nxt, dict):
            return {}
        node = _resolve(root, nxt)
    return node


def _is_secret(root: dict[str, Any], path: Path) -> bool:
    return any(schema_at(root, path[:i]).get("x-intcfg-secret") for i in range(len(path) + 1))


def _field(path: Path) -> str:
    names = [p for p in path if isinstance(p, str)]
    return names[-1] if names else "the document"


def _yaml11_surprise(node: yaml.Node | None, value: Any) -> str | None:
    if isinstance(node, yaml.ScalarNode) and not node.style and not isinstance(value, str):
        if value is None:
            read_as = "null"
        else:
            kind = {bool: "boolean", int: "integer", float: "number"}.get(type(value), type_name(value))
            read_as = f"the {kind} {str(value).lower() if isinstance(value, bool) else repr(value)}"
        return (
            f"the unquoted value {node.value!r} was read as {read_as} (YAML 1.1), "
            f"but a string is expected here: quote it, e.g. \"{node.value}\""
        )
    return None


Locator = Callable[[Path, bool], tuple[Document, Path]]


def _keys_as_loaded(data: Any, instance_path: Any) -> Path:
    """The error's path with mapping keys as the loader made them: always strings
    (jsonschema-rs reports a key that looks like a number, "1", as the number)."""
    out: list[str | int] = []
    for part in instance_path:
        if isinstance(data, dict):
            part = str(part)
            data = data.get(part)
        else:
            data = data[part] if isinstance(data, list) and isinstance(part, int) and part < len(data) else None
        out.append(part)
    return tuple(out)


class _Translator:
    """Turns jsonschema-rs errors on ``data`` into findings.

    ``locator`` maps a path in ``data`` to the document and path it came from (a site's
    merged configuration draws values from the base and from the override).
    """

    def __init__(self, data: Any, root: dict[str, Any], locator: Locator) -> None:
        self.data = data
        self.root = root
        self.locator = locator

    def finding(self, rule: str, path: Path, message: str, key: bool = False) -> Finding:
        doc, full = self.locator(path, key)
        return Finding(doc.locate(full, key), rule, message, json_path=json_path(full))

    def node_at(self, path: Path) -> yaml.Node | None:
        doc, full = self.locator(path, False)
        return doc.node_at(full)

    def translate(self, error: Any) -> list[Finding]:
        path: Path = _keys_as_loaded(self.data, error.instance_path)
        kind = error.kind
        name = type(kind).__name__
        secret = _is_secret(self.root, path)
        sub = schema_at(self.root, path)
        handler = getattr(self, "on_" + name, None)
        if secret and name not in ("AdditionalProperties", "Required", "MinProperties", "MaxProperties"):
            return [self.plaintext_secret(path)]
        if handler is None:
            return [self.finding("INTCFG-E199", path, f"{_field(path)} is invalid ({name})")]
        return handler(path, kind, sub, secret)  # type: ignore[no-any-return]

    def value(self, path: Path) -> Any:
        data = self.data
        for part in path:
            data = data[part]
        return data

    def plaintext_secret(self, path: Path) -> Finding:
        return self.finding(
            "INTCFG-E110",
            path,
            f"{_field(path)} is a secret: write a reference, {{env: NAME}} or {{file: PATH}}, "
            "not the value itself (the value is not shown)",
        )

    def on_AdditionalProperties(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        if secret:
            # `password: {hunter2}` is YAML for {hunter2: null}: the key is the secret.
            return [
                self.finding(
                    "INTCFG-E110",
                    path,
                    f"{_field(path)} is a secret reference and takes only env or file, "
                    "e.g. {env: NAME} (the other keys are not shown)",
                )
            ]
        allowed = ", ".join(sorted(sub.get("properties", {}))) or "none"
        return [
            self.finding(
                "INTCFG-E102",
                path + (extra,),
                f"unknown field {extra!r} in {_field(path)} (allowed: {allowed})",
                key=True,
            )
            for extra in kind.unexpected
        ]

    def on_FalseSchema(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        spec = self.value(path[:-1]) if path else {}
        vendor = spec.get("vendor") if isinstance(spec, dict) else None
        return [
            self.finding(
                "INTCFG-E112",
                path,
                f"{_field(path)!r} credentials do not belong to a {vendor} connection; "
                f"write them under {vendor!r} or change vendor",
                key=True,
            )
        ]

    def on_Required(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        where = f"in {_field(path)}" if path else "in the document"
        return [
            self.finding(
                "INTCFG-E103",
                path,
                f"missing required field {kind.property!r} {where}",
                key=bool(path),
            )
        ]

    def on_Type(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        value = self.value(path)
        expected = [_SCHEMA_TYPE_NAMES.get(t, t) for t in kind.types]
        if "string" in expected:
            surprise = _yaml11_surprise(self.node_at(path), value)
            if surprise:
                return [self.finding("INTCFG-E010", path, f"{_field(path)}: {surprise}")]
        shown = "" if isinstance(value, (dict, list)) else f" {show(value)}"
        return [
            self.finding(
                "INTCFG-E104",
                path,
                f"{_field(path)} must be {' or '.join(map(_a, expected))}, "
                f"not {_a(type_name(value))}{shown}",
            )
        ]

    def _enum(self, path: Path, allowed: list[Any]) -> list[Finding]:
        value = self.value(path)
        options = ", ".join(repr(a) for a in allowed)
        if path == ("apiVersion",):
            return [self.finding("INTCFG-E100", path, f"apiVersion must be 'intcfg/v1', not {show(value)}")]
        return [self.finding("INTCFG-E105", path, f"{_field(path)} is {show(value)}; expected one of: {options}")]

    def on_Enum(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        return self._enum(path, list(kind.options))

    def on_Constant(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        return self._enum(path, [kind.expected_value])

    def _length(self, path: Path, bound: str, limit: int) -> list[Finding]:
        value = self.value(path)
        return [
            self.finding(
                "INTCFG-E106",
                path,
                f"{_field(path)} is {len(value)} characters long; {bound} {limit} allowed",
            )
        ]

    def on_MaxLength(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        return self._length(path, "at most", kind.limit)

    def on_MinLength(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        return self._length(path, "at least", kind.limit)

    def _range(self, path: Path, words: str, limit: Any) -> list[Finding]:
        value = self.value(path)
        return [self.finding("INTCFG-E107", path, f"{_field(path)} is {value}; it must be {words} {limit}")]

    def on_Maximum(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        return self._range(path, "at most", kind.limit)

    def on_Minimum(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        return self._range(path, "at least", kind.limit)

    def on_ExclusiveMaximum(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        return self._range(path, "less than", kind.limit)

    def on_ExclusiveMinimum(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        return self._range(path, "greater than", kind.limit)

    def on_Pattern(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        if sub.get("x-intcfg-url"):
            return [
                self.finding(
                    "INTCFG-E111",
                    path,
                    f"{_field(path)}: The API URL needs to be a valid URL string. "
                    f"Got {show(self.value(path))}; expected https://host/path",
                )
            ]
        return [
            self.finding(
                "INTCFG-E108",
                path,
                f"{_field(path)} is {show(self.value(path))}; expected {_expected(sub)}",
            )
        ]

    def on_PropertyNames(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        names = sub.get("propertyNames", {})
        pattern, limit = names.get("pattern", ""), names.get("maxLength")
        bad = [
            k
            for k in self.value(path)
            if (pattern and not _matches(pattern, k)) or (limit is not None and len(k) > limit)
        ]
        return [
            self.finding(
                "INTCFG-E108",
                path + (k,),
                f"{show(k)} is not a valid key of {_field(path)}; expected {_expected(names)}",
                key=True,
            )
            for k in bad
        ] or [self.finding("INTCFG-E108", path, f"a key of {_field(path)} has the wrong form")]

    def _items(self, path: Path, words: str, limit: int, noun: str = "entries") -> list[Finding]:
        count = len(self.value(path))
        return [
            self.finding(
                "INTCFG-E109",
                path,
                f"{_field(path)} has {count} {noun}; {words} {limit} allowed",
            )
        ]

    def on_MaxItems(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        return self._items(path, "at most", kind.limit)

    def on_MinItems(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        return self._items(path, "at least", kind.limit)

    def on_MaxProperties(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        if secret:
            return [self._secret_shape(path)]
        keys = ", ".join(repr(k) for k in self.value(path))
        return [
            self.finding(
                "INTCFG-E109",
                path,
                f"a transformation step has exactly one key, the transformation's name; "
                f"this one has {keys}: make each a step of its own",
            )
        ]

    def on_MinProperties(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        if secret:
            return [self._secret_shape(path)]
        return self._items(path, "at least", kind.limit)

    def _secret_shape(self, path: Path) -> Finding:
        return self.finding(
            "INTCFG-E110",
            path,
            f"{_field(path)} needs exactly one of env or file, e.g. {{env: NAME}}",
        )

    def on_UniqueItems(self, path: Path, kind: Any, sub: dict[str, Any], secret: bool) -> list[Finding]:
        seen: set[Any] = set()
        dupes = []
        for item in self.value(path):
            if item in seen:
                dupes.append(item)
            seen.add(item)
        return [
            self.finding(
                "INTCFG-E109",
                path,
                f"{_field(path)} lists {', '.join(show(d) for d in dupes)} more than once",
            )
        ]


def _matches(pattern: str, text: str) -> bool:
    return re.search(pattern, text) is not None


def check_document(doc: Document) -> list[Finding]:
    """Schema findings for one resource document (the envelope first, then its kind's schema)."""
    data = doc.data
    if not isinstance(data, dict):
        return [
            Finding(
                doc.locate(()),
                "INTCFG-E008",
                f"a document must be a mapping with apiVersion, kind, metadata and spec, "
                f"not a {type_name(data)}",
            )
        ]
    api, kind = data.get("apiVersion"), data.get("kind")
    if api != "intcfg/v1":
        shown = "missing" if api is None else show(api)
        return [
            Finding(
                doc.locate(("apiVersion",)),
                "INTCFG-E100",
                f"apiVersion is {shown}; expected 'intcfg/v1'",
                json_path="$.apiVersion",
            )
        ]
    if not isinstance(kind, str) or kind not in schemas.KIND_FILES:
        shown = "missing" if kind is None else show(kind)
        return [
            Finding(
                doc.locate(("kind",)),
                "INTCFG-E101",
                f"kind is {shown}; expected one of: {', '.join(schemas.KINDS)}",
                json_path="$.kind",
            )
        ]
    return _translate_all(_validator(kind), schemas.load(schemas.KIND_FILES[kind]), data, _in(doc))


@cache
def _spec_validator(kind: str) -> tuple[Any, dict[str, Any]]:
    root = schemas.load(schemas.KIND_FILES[kind])
    spec_schema = {**schema_at(root, ("spec",)), "$defs": root.get("$defs", {})}
    return jsonschema_rs.validator_for(spec_schema), spec_schema


def check_spec(kind: str, data: Any, locator: Locator) -> list[Finding]:
    """Check a spec assembled from several documents (a site's merged configuration)."""
    validator, spec_schema = _spec_validator(kind)
    return _translate_all(validator, spec_schema, data, locator)


def _in(doc: Document) -> Locator:
    return lambda path, key: (doc, path)


def check_settings(doc: Document) -> list[Finding]:
    findings = _translate_all(settings_validator(), schemas.load("settings.json"), doc.data, _in(doc))
    return [
        Finding(f.location, "INTCFG-E222", f"intcfg.yaml: {f.message}", f.severity, f.json_path)
        if f.rule in ("INTCFG-E199",)
        else f
        for f in findings
    ]


def _translate_all(validator: Any, root: dict[str, Any], data: Any, locator: Locator) -> list[Finding]:
    translator = _Translator(data, root, locator)
    out: list[Finding] = []
    for error in validator.iter_errors(data):
        out.extend(translator.translate(error))
    return out
