"""JSON Schemas of each kind's spec as the admin API speaks it, derived from the models.

The config holds secret *references*; the admin API takes secret *values* (write-only
strings) and never returns them. So each spec has two variants:

- write (``<Name>Write``): what a PUT sends; every SecretRef becomes a write-only string;
- read (``<Name>``): what the API returns; secret fields are absent.

Only definitions that contain a secret, directly or below, get a write variant. The
simulator validates PUT bodies with the write variant, and openapi.py publishes both, so
the contract and the simulator cannot drift apart.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema_rs

from ..models import KIND_MODELS

DEFS = "#/$defs/"
SECRET_DEF = "SecretRef"
WRITE_ONLY_SECRET = {"type": "string", "minLength": 1, "maxLength": 4096, "writeOnly": True}


def spec_title(kind: str) -> str:
    return f"{kind}Spec"


@cache
def _raw(kind: str) -> dict[str, dict[str, Any]]:
    from pydantic import TypeAdapter

    model: Any = KIND_MODELS[kind].model_fields["spec"].annotation
    schema = TypeAdapter(model).json_schema(ref_template=DEFS + "{model}", by_alias=True)
    defs = dict(schema.pop("$defs", {}))
    defs[spec_title(kind)] = schema
    return defs


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = (
            {node["$ref"][len(DEFS) :]}
            if isinstance(node.get("$ref"), str) and node["$ref"].startswith(DEFS)
            else set()
        )
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def _with_secrets(defs: dict[str, Any]) -> set[str]:
    holding = {SECRET_DEF}
    changed = True
    while changed:
        changed = False
        for name, schema in defs.items():
            if name not in holding and _refs(schema) & holding:
                holding.add(name)
                changed = True
    return holding - {SECRET_DEF}


def _is_secret(node: Any) -> bool:
    return isinstance(node, dict) and node.get("$ref") == DEFS + SECRET_DEF


def _write(node: Any, renamed: set[str]) -> Any:
    if _is_secret(node):
        extra = {"description": node["description"]} if "description" in node else {}
        return {**WRITE_ONLY_SECRET, **extra}
    if isinstance(node, dict):
        out = {k: _write(v, renamed) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref[len(DEFS) :] in renamed:
            out["$ref"] = ref + "Write"
        return out
    if isinstance(node, list):
        return [_write(v, renamed) for v in node]
    return node


def _read(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _read(v) for k, v in node.items()}
        props = node.get("properties")
        if isinstance(props, dict):
            secret = {k for k, v in props.items() if _is_secret(v)}
            out["properties"] = {k: _read(v) for k, v in props.items() if k not in secret}
            if "required" in out:
                out["required"] = [r for r in out["required"] if r not in secret]
        return out
    if isinstance(node, list):
        return [_read(v) for v in node]
    return node


@cache
def definitions(kind: str) -> dict[str, dict[str, Any]]:
    """Read and write definitions of ``kind``'s spec, with refs to ``#/$defs/``."""
    raw = _raw(kind)
    holding = _with_secrets(raw)
    out: dict[str, dict[str, Any]] = {}
    for name, schema in raw.items():
        if name == SECRET_DEF:
            continue
        out[name] = _read(schema)
        if name in holding:
            out[name + "Write"] = _write(schema, holding)
    return out


def write_name(kind: str) -> str:
    title = spec_title(kind)
    return title + "Write" if title + "Write" in definitions(kind) else title


@cache
def write_validator(kind: str) -> Any:
    """A validator of PUT specs; its messages show no instance values."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": DEFS + write_name(kind),
        "$defs": definitions(kind),
    }
    return jsonschema_rs.validator_for(schema, mask="(value not shown)", validate_formats=True)


def for_openapi(node: Any) -> Any:
    """The same schema with refs into an OpenAPI document's components."""
    if isinstance(node, dict):
        out = {k: for_openapi(v) for k, v in node.items()}
        if isinstance(out.get("$ref"), str) and out["$ref"].startswith(DEFS):
            out["$ref"] = "#/components/schemas/" + out["$ref"][len(DEFS) :]
        return out
    if isinstance(node, list):
        return [for_openapi(v) for v in node]
    return node
