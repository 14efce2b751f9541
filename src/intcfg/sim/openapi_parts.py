"""Building blocks of the admin OpenAPI documents: parameters, responses, the operation
descriptions that carry the seeds' rules and texts, and request-body validators."""

from __future__ import annotations

from functools import cache
from typing import Any

from .contract import MAX_BATCH, MAX_LIMIT
from .openapi_schemas import COMMON_SCHEMAS, NAME, batch_operation, ref
from .operations import (
    ETRANSCRIPT_FAILED,
    ETRANSCRIPT_OK,
    ETS001,
    ETS002,
    ETS_BAD_URL,
    IMPORTS_DISABLED,
)

PARAMETERS: dict[str, Any] = {
    "district": {
        "name": "district",
        "in": "path",
        "required": True,
        "schema": NAME,
        "description": "district id",
        "example": "riverside-usd",
    },
    "name": {
        "name": "name",
        "in": "path",
        "required": True,
        "schema": NAME,
        "description": "metadata.name in the config",
        "example": "primary",
    },
    "site": {
        "name": "site",
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "example": "river-charter",
        "description": "a site (school) of the district: that site's own configuration; absent: "
        "All Sites",
    },
    "limit": {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100},
    },
    "cursor": {
        "name": "cursor",
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": "next from the previous page",
    },
    "ifMatch": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "pattern": r'^"?[0-9]+"?$'},
        "description": 'the revision the write expects, e.g. "3"; '
        '"0": the object must not exist yet',
    },
}
_CODES = {
    400: "BadRequest",
    401: "Unauthorized",
    404: "NotFound",
    409: "Conflict",
    412: "PreconditionFailed",
    413: "TooLarge",
    422: "Unprocessable",
    429: "RateLimited",
    503: "Unavailable",
}
_WHY = {
    400: "The request is malformed (see error.code)",
    401: "No or wrong admin token",
    404: "No such district, object, student or route",
    409: "Conflicts with the live system's state (see error.code)",
    412: "If-Match does not match the object's revision",
    413: "Body or batch too large",
    422: "The spec or a reference in it is invalid (error.details lists every problem)",
    429: "Too many requests: retry after Retry-After seconds",
    503: "Temporarily unavailable: retry with backoff",
}


def _error(code: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _WHY[code],
        "content": {"application/json": {"schema": ref("Error")}},
    }
    if code == 429:
        response["headers"] = {
            "Retry-After": {"schema": {"type": "string"}, "description": "seconds to wait"}
        }
    if code == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return response


RESPONSES: dict[str, Any] = {name: _error(code) for code, name in _CODES.items()}


def responses(codes: dict[int, Any], has_body: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for code, value in sorted({**codes, 401: None, 429: None, 503: None}.items()):
        if code == 204:
            out["204"] = {"description": "Deleted"}
        elif value is None:
            out[str(code)] = {"$ref": f"#/components/responses/{_CODES[code]}"}
        else:
            schema, headers = value if isinstance(value, tuple) else (value, None)
            out[str(code)] = {
                "description": "OK" if code == 200 else "Created",
                "content": {"application/json": {"schema": schema}},
                **({"headers": headers} if headers else {}),
            }
    return out


_KIND_RULES = {
    "SyncConnection": (
        "`schools` must be schools of the district (422 unknown_school). A school has one sync "
        "connection per instance: assigning it here unassigns it from the district's other "
        "connection of the same instance (that connection's revision grows)."
    ),
    "FieldMapping": (
        "`connection` must be an existing SyncConnection of the district (422 unknown_connection); "
        "a connection has one mapping per type (409 duplicate)."
    ),
    "Schedule": (
        "`connection` must be an existing SyncConnection of the district (422 unknown_connection); "
        "a connection has one schedule per job (409 duplicate). A schedule of a sandbox connection "
        "runs once and then turns itself off: after that run `spec.enabled` is false."
    ),
    "StateAssessmentIntegration": (
        "With `site`, the object is that site's own full configuration (it overrides "
        "All Sites for that site only); `site` must be a school of the district "
        "(422 unknown_site). Every add, update and removal is logged (integration-log)."
    ),
    "ETranscriptVendor": "All fields are required to save, as in the Electronic Release Setup "
    "screen.",
}
_TESTS = {
    "ETranscriptVendor": f'`message` is "{ETRANSCRIPT_OK}" or "{ETRANSCRIPT_FAILED}".',
    "StateAssessmentIntegration": (
        f'`message` on failure is "{ETS001}" (code ETS001: the API URL is down or wrong), '
        f'"{ETS002}" (code ETS002: username/secret key wrong or expired), or '
        f'"{ETS_BAD_URL}" (a malformed URL).'
    ),
    "SyncConnection": "`checks` names which part failed: token (PowerSchool, Qmlativ), "
    "certificate and oneRoster (Aeries).",
    "FieldMapping": (
        f"Checks the connection, the required import-student fields, that imports are enabled "
        f'("{IMPORTS_DISABLED}") and, for a PowerSchool export-student mapping, that every '
        "assigned "
        "school has Years & Terms (Start Page > School Setup > Years and Terms > Term Setup)."
    ),
    "Schedule": "Tests the mapping its job runs.",
}
_TOPICS = {
    "delete": "Idempotent: deleting a missing object is 404, which a client may treat as done.",
    "batch": (
        f"At most {MAX_BATCH} operations (400 batch_too_large above). Each is applied on its own, "
        "as PUT or DELETE would; "
        "its result carries the status and the object or error that call would answer. One "
        "failing item "
        "does not fail the batch. Safe to retry: upserts and deletes are idempotent."
    ),
    "assign": (
        "Adds the schools to the connection (existing assignments stay) and unassigns them from "
        "the "
        "district's other connection of the same instance. Unknown school: 422 unknown_school."
    ),
    "test-record": (
        f"One student (studentId) through the mapping, answered with the record as it would be "
        f'imported or exported. 409 imports_disabled with the message "{IMPORTS_DISABLED}" when '
        "the district has not enabled imports for this school year (Enroll: Settings > General). "
        "409 years_and_terms_missing when a PowerSchool export's school has no Years & Terms: the "
        "export cannot complete until they are set at Start Page > School Setup > Years and Terms "
        "> "
        "Term Setup. 404 unknown_student for an unknown Student Unique ID."
    ),
    "run": "Runs the job now and records status; a sandbox schedule turns itself off "
    "(spec.enabled false).",
}


def describe(topic: str, kind: str | None = None) -> str:
    if topic == "put":
        return f"Upsert by natural key; idempotent. {_KIND_RULES[kind or '']}"
    if topic == "test":
        return _TESTS[kind or ""]
    if topic == "delete" and kind == "SyncConnection":
        return (
            _TOPICS["delete"]
            + " A connection still used by a mapping or schedule is 409 in_use: delete those first."
        )
    return _TOPICS[topic]


@cache
def body_validator(name: str, system: str = "") -> Any:
    """A validator of request bodies of the shared schema ``name`` (masking values)."""
    import jsonschema_rs

    from .contract import COLLECTIONS

    components = {
        **COMMON_SCHEMAS,
        "BatchOperation": batch_operation(list(COLLECTIONS.get(system, {}))),
    }
    schema = {"$ref": f"#/components/schemas/{name}", "components": {"schemas": components}}
    return jsonschema_rs.validator_for(schema, mask="(value not shown)")


def check_body(name: str, body: Any, system: str = "") -> None:
    """ApiError 400 when ``body`` does not fit the request schema ``name``."""
    from .contract import ApiError

    errors = list(body_validator(name, system).iter_errors(body))
    if errors:
        details = [
            {
                "path": "$"
                + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.instance_path),
                "message": e.message,
            }
            for e in errors[:20]
        ]
        raise ApiError(
            400, "invalid_body", f"{details[0]['path']}: {details[0]['message']}", details
        )
