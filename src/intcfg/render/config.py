"""The effective configuration (`intcfg render`) as YAML with provenance comments, or JSON."""

from __future__ import annotations

import io
import json
from typing import Any

from ..desired import DesiredObject, DesiredState

JSON_VERSION = 1


def select(state: DesiredState, districts: tuple[str, ...] = (), site: str | None = None) -> list[DesiredObject]:
    """Objects of the chosen districts; with ``site``, what applies to that site.

    For a site: its own per-site objects where an override exists, else the
    district-wide object; sync connections assigned to it, with their mappings and
    schedules.
    """
    chosen = [o for o in state.objects if not districts or o.address.district in districts]
    if site is None:
        return chosen
    overridden = {(o.address.district, o.address.kind, o.address.name) for o in chosen if o.address.site == site}
    connections = {
        (o.address.district, o.address.name)
        for o in chosen
        if o.address.kind == "SyncConnection" and site in o.spec.get("schools", [])
    }
    out = []
    for o in chosen:
        a = o.address
        if a.site is not None:
            if a.site == site:
                out.append(o)
        elif a.kind == "SyncConnection":
            if (a.district, a.name) in connections:
                out.append(o)
        elif a.kind in ("FieldMapping", "Schedule"):
            if (a.district, o.spec["connection"]) in connections:
                out.append(o)
        elif (a.district, a.kind, a.name) not in overridden:
            out.append(o)
    return out


def as_json(state: DesiredState, objects: list[DesiredObject]) -> str:
    by_district: dict[str, list[dict[str, Any]]] = {}
    for o in objects:
        by_district.setdefault(o.address.district, []).append(
            {
                "address": str(o.address),
                "system": o.address.system,
                "kind": o.address.kind,
                "name": o.address.name,
                "site": o.address.site,
                "spec": o.spec,
                "provenance": {path: str(loc) for path, loc in o.provenance.items()},
            }
        )
    body = {
        "version": JSON_VERSION,
        "districts": [
            {"id": d, "name": state.districts.get(d, {}).get("name"), "objects": objs}
            for d, objs in by_district.items()
        ],
    }
    return json.dumps(body, indent=2) + "\n"


def as_yaml(state: DesiredState, objects: list[DesiredObject]) -> str:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    def annotate(value: Any, prefix: str, provenance: dict[str, Any]) -> Any:
        if isinstance(value, dict):
            out = CommentedMap()
            if len(value) == 1 and next(iter(value)) in ("env", "file"):
                out.update(value)
                out.fa.set_flow_style()  # a secret reference reads best as {env: NAME}
                return out
            for k, v in value.items():
                path = f"{prefix}.{k}" if prefix else str(k)
                out[k] = annotate(v, path, provenance)
                if path in provenance:
                    out.yaml_add_eol_comment(str(provenance[path]), k)
            return out
        if isinstance(value, list) and any(isinstance(v, dict) for v in value):
            seq = CommentedSeq()
            for i, v in enumerate(value):
                seq.append(annotate(v, f"{prefix}.{i}", provenance))
            return seq
        return value

    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096
    out = io.StringIO()
    documents = []
    for o in objects:
        doc = CommentedMap()
        doc["address"] = str(o.address)
        doc["district"] = o.address.district
        doc["kind"] = o.address.kind
        doc["name"] = o.address.name
        if o.address.site:
            doc["site"] = o.address.site
        doc["spec"] = annotate(o.spec, "", o.provenance)
        documents.append(doc)
    yaml.dump_all(documents, out)
    return out.getvalue()


RENDERERS = {"yaml": as_yaml, "json": as_json}
