"""The admin contract as OpenAPI 3.1, one document per live system (openapi/*.yaml).

Built from the same tables and spec schemas the simulator serves, and checked in;
``python -m intcfg.sim.openapi [DIR]`` rewrites the files, and a test fails when they
are stale.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from . import schemas
from .contract import API, COLLECTIONS, MAX_BATCH, MAX_LIMIT, SITE_KINDS
from .openapi_parts import PARAMETERS, RESPONSES, describe, responses
from .openapi_schemas import COMMON_SCHEMAS, EXAMPLE_SPECS, batch_operation, object_schema, ref

TITLES = {
    "sis": "SIS: eTranscript electronic release",
    "portal": "Student & parent portal: ETS CAASPP/ELPAC integration",
    "enroll": "Enroll sync service: connections, mappings, schedules",
}
SERVER = "http://127.0.0.1:8787"
OVERVIEW = """\
The admin contract intcfg speaks to the {system} live system. The real products' admin
APIs are not public; this contract is intcfg's, the providers in `intcfg.providers`
implement its client side and `intcfg sim serve` implements it faithfully.

Objects are addressed by natural keys from the config: district, kind and name{site}.
`PUT .../{{name}}` upserts (idempotent: safe to retry and after a crash) and
`DELETE .../{{name}}` removes (a missing object is a 404, which a client may treat as
done). Every object carries `id` (stable, assigned here), `revision` (grows by one on
every change, also when only a secret changed; a PUT that changes nothing keeps it),
`managedBy` (set by the writer; objects made by hand in the admin screen have none),
`createdAt`, `updatedAt`, the natural key, and `spec` spelled exactly as the config
spells it, except that secret fields are write-only: they are sent as plain strings
and never returned; `secretsSetAt` says when each was last set.

`If-Match: "<revision>"` on PUT and DELETE makes the write conditional (`"0"`: the
object must not exist yet); a mismatch is 412. Lists are paginated: `limit` (1 to
{max_limit}) and the opaque `cursor` from the previous page's `next`. The batch endpoint
applies up to {max_batch} upserts and deletes, each on its own; one item failing does not
fail the batch.

Every call needs `Authorization: Bearer <admin token>`. A 429 or 503 is transient:
retry idempotent calls with backoff, honouring `Retry-After`.
"""


def _overview(system: str) -> str:
    site = (
        " and, for ETS integrations, an optional `site` (absent: All Sites)"
        if system == "portal"
        else ""
    )
    return OVERVIEW.format(system=system, site=site, max_limit=MAX_LIMIT, max_batch=MAX_BATCH)


def document(system: str) -> dict[str, Any]:
    """The OpenAPI document of ``system`` ("sis", "portal" or "enroll")."""
    kinds = COLLECTIONS[system]
    base = f"/{system}/{API}"
    paths: dict[str, Any] = {
        f"{base}/status": {
            "get": _op(
                "status", "Token check and the districts this system knows", {200: ref("Status")}
            )
        },
        f"{base}/districts/{{district}}": {
            "get": _op(
                "getDistrict",
                "A district and its schools (seeded; sites are references to them)",
                {200: ref("District"), 404: None},
                params=["district"],
            )
        },
        f"{base}/batch": {
            "post": _op(
                "batch",
                f"Up to {MAX_BATCH} upserts and deletes; per-item results",
                {200: ref("BatchResults"), 400: None},
                body=ref("BatchRequest"),
                description=describe("batch"),
            )
        },
    }
    components: dict[str, Any] = dict(COMMON_SCHEMAS)
    for kind, collection in kinds.items():
        paths.update(_kind_paths(f"{base}/districts/{{district}}/{collection}", kind))
        components.update(_kind_schemas(kind, system))
    components["BatchOperation"] = batch_operation(list(kinds))
    paths.update(EXTRA_PATHS[system](base))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"intcfg admin contract — {TITLES[system]}",
            "version": API,
            "description": _overview(system),
        },
        "servers": [{"url": SERVER, "description": "intcfg sim serve (default port 8787)"}],
        "security": [{"adminToken": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "adminToken": {"type": "http", "scheme": "bearer", "description": "The admin token"}
            },
            "parameters": PARAMETERS,
            "headers": {
                "ETag": {"schema": {"type": "string"}, "description": 'the revision, quoted: "3"'}
            },
            "responses": RESPONSES,
            "schemas": components,
        },
    }


def _op(
    op_id: str,
    summary: str,
    codes: dict[int, Any],
    *,
    params: list[str] | None = None,
    body: Any = None,
    description: str | None = None,
    body_required: bool = True,
) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": op_id, "summary": summary}
    if description:
        op["description"] = description
    if params:
        op["parameters"] = [{"$ref": f"#/components/parameters/{p}"} for p in params]
    if body is not None:
        op["requestBody"] = {
            "required": body_required,
            "content": {"application/json": {"schema": body}},
        }
    op["responses"] = responses(codes, has_body=body is not None)
    return op


def _kind_paths(path: str, kind: str) -> dict[str, Any]:
    key = ["district", "name", *(["site"] if kind in SITE_KINDS else [])]
    obj = ref(f"{kind}Object")
    headers = {"ETag": {"$ref": "#/components/headers/ETag"}}
    return {
        path: {
            "get": _op(
                f"list{kind}",
                f"List the district's {kind} objects (paginated)",
                {200: ref(f"{kind}Page"), 400: None, 404: None},
                params=["district", "limit", "cursor"],
            )
        },
        f"{path}/{{name}}": {
            "get": _op(
                f"get{kind}",
                f"Read one {kind}",
                {200: (obj, headers), 400: None, 404: None},
                params=key,
            ),
            "put": _op(
                f"put{kind}",
                f"Create or update a {kind} (upsert by natural key)",
                {
                    200: (obj, headers),
                    201: (obj, headers),
                    400: None,
                    404: None,
                    409: None,
                    412: None,
                    413: None,
                    422: None,
                },
                params=[*key, "ifMatch"],
                body=ref(f"{kind}Put"),
                description=describe("put", kind),
            ),
            "delete": _op(
                f"delete{kind}",
                f"Delete a {kind}",
                {204: None, 400: None, 404: None, 409: None, 412: None},
                params=[*key, "ifMatch"],
                description=describe("delete", kind),
            ),
        },
        f"{path}/{{name}}/test": {
            "post": _op(
                f"test{kind}",
                f"Test the stored {kind} (the admin screen's Test button)",
                {200: ref("TestOutcome"), 400: None, 404: None},
                params=key,
                description=describe("test", kind),
            )
        },
    }


def _kind_schemas(kind: str, system: str) -> dict[str, Any]:
    out = {name: schemas.for_openapi(s) for name, s in schemas.definitions(kind).items()}
    out[f"{kind}Object"] = object_schema(kind, schemas.spec_title(kind), kind in SITE_KINDS)
    out[f"{kind}Page"] = {
        "type": "object",
        "required": ["items", "next"],
        "additionalProperties": False,
        "properties": {
            "items": {"type": "array", "items": ref(f"{kind}Object")},
            "next": {
                "type": ["string", "null"],
                "description": "cursor of the next page; null on the last",
            },
        },
    }
    out[f"{kind}Put"] = {
        "type": "object",
        "required": ["spec"],
        "additionalProperties": False,
        "examples": [{"spec": EXAMPLE_SPECS[kind], "managedBy": "intcfg"}],
        "properties": {
            "spec": ref(schemas.write_name(kind)),
            "managedBy": {
                "type": ["string", "null"],
                "minLength": 1,
                "maxLength": 100,
                "description": "who manages the object, e.g. intcfg; null or absent: made by hand",
            },
        },
    }
    return out


def _portal_paths(base: str) -> dict[str, Any]:
    return {
        f"{base}/districts/{{district}}/integration-log": {
            "get": _op(
                "integrationLog",
                "Configured Integrations: the log of each add, update and removal",
                {200: ref("IntegrationLogPage"), 400: None, 404: None},
                params=["district", "limit", "cursor"],
            )
        }
    }


def _enroll_paths(base: str) -> dict[str, Any]:
    d = f"{base}/districts/{{district}}"
    key = ["district", "name"]
    conn = ref("SyncConnectionObject")
    return {
        f"{d}/sync-connections/{{name}}/assign-schools": {
            "post": _op(
                "assignSchools",
                "Bulk Action > Set Sync Connection: assign the connection to schools",
                {200: conn, 400: None, 404: None, 413: None, 422: None},
                params=key,
                body=ref("AssignSchools"),
                description=describe("assign"),
            )
        },
        f"{d}/field-mappings/{{name}}/test-record": {
            "post": _op(
                "sendTestRecord",
                "Send a Test Record: one student through the mapping",
                {200: ref("TestRecord"), 400: None, 404: None, 409: None, 413: None, 422: None},
                params=key,
                body=ref("TestRecordRequest"),
                description=describe("test-record"),
            )
        },
        f"{d}/field-mappings/{{name}}/preview": {
            "post": _op(
                "previewMapping",
                "The Mapped Value column for up to five sample students",
                {200: ref("Preview"), 400: None, 404: None, 413: None, 422: None},
                params=key,
                body=ref("PreviewRequest"),
                body_required=False,
            )
        },
        f"{d}/field-codes/{{kind}}": {"get": _field_codes_op()},
        f"{d}/schedules/{{name}}/run": {
            "post": _op(
                "runSchedule",
                "Run the scheduled import now",
                {200: ref("ScheduleObject"), 404: None},
                params=key,
                description=describe("run"),
            )
        },
    }


def _field_codes_op() -> dict[str, Any]:
    from .codes import KINDS

    codes = {
        "type": "object",
        "required": ["kind", "codes"],
        "properties": {
            "kind": {"type": "string", "enum": list(KINDS)},
            "codes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "description"],
                    "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
                },
            },
        },
    }
    op = _op(
        "fieldCodes",
        "Field Codes: a code set target fields draw from (match-code targets)",
        {200: codes, 404: None},
        params=["district"],
    )
    op["parameters"].append(
        {
            "name": "kind",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "enum": list(KINDS)},
            "description": "the code set",
        }
    )
    return op


EXTRA_PATHS = {"sis": lambda base: {}, "portal": _portal_paths, "enroll": _enroll_paths}


DOCUMENTS = (*COLLECTIONS, "simulator")


def render(name: str) -> str:
    import yaml  # type: ignore[import-untyped,unused-ignore]

    from . import openapi_sim

    doc = openapi_sim.document() if name == "simulator" else document(name)
    header = "# Generated by `python -m intcfg.sim.openapi` from the models; do not edit by hand.\n"
    return header + str(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100))


def stale(directory: Path) -> list[Path]:
    paths = [directory / f"{name}.yaml" for name in DOCUMENTS]
    return [p for p in paths if not p.is_file() or p.read_text(encoding="utf-8") != render(p.stem)]


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    changed = stale(directory)
    for path in changed:
        path.write_text(render(path.stem), encoding="utf-8")
    return changed


if __name__ == "__main__":  # pragma: no cover - a developer's command
    for written in write(Path(sys.argv[1] if len(sys.argv) > 1 else "openapi")):
        sys.stdout.write(f"wrote {written}\n")
