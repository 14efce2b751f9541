"""Generate the published JSON Schemas (draft 2020-12) from the pydantic models.

One schema per kind, one for the repository settings and ``any.json`` for any
document. Optional fields are written as "omit it" rather than "null": a config
file spells absence by leaving the key out, and ``anyOf [X, null]`` would only
blur the errors editors and validators show.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .models import KIND_MODELS, Settings

DRAFT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://intcfg.dev/schemas/v1/"


def schema_file_name(kind: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "-", kind).lower().replace("e-transcript", "etranscript") + ".json"


def _clean(node: Any) -> Any:
    if isinstance(node, list):
        return [_clean(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _clean(v) for k, v in node.items()}
    options = node.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        del node["anyOf"]
        if len(rest) == 1:
            node = {**rest[0], **node}
        else:
            node["anyOf"] = rest
    if node.get("default", 0) is None:
        del node["default"]
    props = node.get("properties")
    if isinstance(props, dict):
        for prop in props.values():
            if isinstance(prop, dict):
                prop.pop("title", None)
    return node


def _document(model: type[BaseModel], file_name: str, title: str) -> dict[str, Any]:
    body = _clean(model.model_json_schema(by_alias=True, mode="validation"))
    body["title"] = title
    return {"$schema": DRAFT, "$id": ID_BASE + file_name, **body}


def _any_document() -> dict[str, Any]:
    _, combined = models_json_schema(
        [(m, "validation") for m in KIND_MODELS.values()],
        by_alias=True,
        ref_template="#/$defs/{model}",
    )
    branches = [
        {
            "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
            "then": {"$ref": f"#/$defs/{model.__name__}"},
        }
        for kind, model in KIND_MODELS.items()
    ]
    return {
        "$schema": DRAFT,
        "$id": ID_BASE + "any.json",
        "title": "Any intcfg resource document",
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "intcfg/v1"},
            "kind": {"enum": list(KIND_MODELS)},
        },
        "allOf": branches,
        "$defs": _clean(combined["$defs"]),
    }


def generate() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every published schema."""
    out = {
        schema_file_name(kind): _document(model, schema_file_name(kind), f"intcfg {kind}")
        for kind, model in KIND_MODELS.items()
    }
    out["settings.json"] = _document(Settings, "settings.json", "intcfg repository settings")
    out["any.json"] = _any_document()
    return out


def _sorted(node: Any, names: bool = False) -> Any:
    # Keywords sorted for stable diffs; the names under "properties" keep the models'
    # field order, which `intcfg fmt` uses as the canonical key order.
    if isinstance(node, list):
        return [_sorted(n) for n in node]
    if not isinstance(node, dict):
        return node
    keys = list(node) if names else sorted(node)
    return {k: _sorted(node[k], names=not names and k == "properties") for k in keys}


def render(schema: dict[str, Any]) -> str:
    return json.dumps(_sorted(schema), indent=2) + "\n"


def write(directory: Path) -> list[Path]:
    """Write every schema into ``directory``; returns the files whose content changed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, schema in generate().items():
        path = directory / name
        text = render(schema)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def stale(directory: Path) -> list[Path]:
    """Schema files in ``directory`` that differ from what the models generate."""
    return [
        directory / name
        for name, schema in generate().items()
        if not (directory / name).exists() or (directory / name).read_text(encoding="utf-8") != render(schema)
    ]
