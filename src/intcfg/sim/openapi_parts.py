"""Building blocks of the admin OpenAPI documents: shared schemas, parameters, responses
and the operation descriptions that carry the seeds' rules and texts."""

from __future__ import annotations

from functools import cache
from typing import Any

from .contract import MAX_BATCH, MAX_LIMIT
from .operations import (
    ETRANSCRIPT_FAILED,
    ETRANSCRIPT_OK,
    ETS001,
    ETS002,
    ETS_BAD_URL,
    IMPORTS_DISABLED,
    MAX_PREVIEW,
)

NAME = {"type": "string", "pattern": r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"}
STAMP = {"type": "string", "format": "date-time"}
NULLABLE_TEXT = {"type": ["string", "null"]}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: list[str], props: dict[str, Any], extra: bool = False) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props, "additionalProperties": extra}


ERROR = _obj(["error"], {"error": _obj(["code", "message"], {
    "code": {"type": "string", "description": "stable machine-readable code, e.g. unknown_school"},
    "message": {"type": "string", "description": "for people; never holds a secret"},
    "details": {"type": "array", "items": _obj(["path", "message"], {"path": {"type": "string"}, "message": {"type": "string"}})},
    "hint": {"type": "string"},
})})
SCHOOL = _obj(["id", "name", "sisSchoolNumber", "stateSchoolCode", "hasYearsAndTerms"], {
    "id": {"type": "string"}, "name": {"type": "string"}, "sisSchoolNumber": {"type": "string"},
    "stateSchoolCode": {"type": "string"},
    "hasYearsAndTerms": {"type": "boolean", "description": "PowerSchool Years & Terms are set (needed to export students)"},
})
CHECK = _obj(["name", "ok", "message"], {"name": {"type": "string"}, "ok": {"type": "boolean"}, "message": {"type": "string"}})
ROW = _obj(["studentId"], {"studentId": {"type": "string"}, "source": {"type": "object"}, "record": {"type": "object"},
                           "error": ERROR["properties"]["error"]})
COMMON_SCHEMAS: dict[str, Any] = {
    "Error": ERROR,
    "Status": _obj(["system", "api", "kinds", "districts"], {
        "system": {"enum": ["sis", "portal", "enroll"]}, "api": {"type": "string"},
        "kinds": {"type": "array", "items": {"type": "string"}}, "districts": {"type": "array", "items": {"type": "string"}}}),
    "School": SCHOOL,
    "District": _obj(["id", "name", "importsEnabled", "schoolYearStart", "timezone", "schools"], {
        "id": {"type": "string"}, "name": {"type": "string"},
        "importsEnabled": {"type": "boolean", "description": "Enroll Settings > General: imports enabled for this school year"},
        "schoolYearStart": {"type": "string"}, "timezone": {"type": "string"},
        "schools": {"type": "array", "items": ref("School")}}),
    "TestOutcome": _obj(["ok", "message", "code", "checks"], {
        "ok": {"type": "boolean"}, "message": {"type": "string", "description": "the admin screen's text"},
        "code": {"type": ["string", "null"], "description": "ETS001 or ETS002 for ETS integrations"},
        "checks": {"type": "array", "items": CHECK}}),
    "BatchRequest": _obj(["operations"], {"operations": {
        "type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": ref("BatchOperation")}}),
    "BatchResults": _obj(["results"], {"results": {"type": "array", "items": _obj(["index", "status"], {
        "index": {"type": "integer", "minimum": 0},
        "status": {"type": "integer", "description": "as the single-object call would answer: 200, 201, 204, 4xx"},
        "object": {"type": "object", "description": "put: the stored object"},
        "error": ERROR["properties"]["error"]})}}),
    "IntegrationLogEntry": _obj(["seq", "at", "action", "name", "site", "by", "revision"], {
        "seq": {"type": "integer"}, "at": STAMP, "action": {"enum": ["added", "updated", "removed"]},
        "name": {"type": "string"}, "site": {**NULLABLE_TEXT, "description": "null: All Sites"},
        "by": {"type": "string", "description": "managedBy of the write, or 'admin screen'"}, "revision": {"type": "integer"}}),
    "IntegrationLogPage": _obj(["items", "next"], {"items": {"type": "array", "items": ref("IntegrationLogEntry")},
                                                   "next": NULLABLE_TEXT}),
    "AssignSchools": _obj(["schools"], {"schools": {"type": "array", "minItems": 1, "items": {"type": "string"}}}),
    "TestRecordRequest": _obj([], {"studentId": {"type": "string", "description": "Student Unique ID (student mappings)"},
                                   "schoolId": {"type": "string", "description": "import-school: the school (default: the first)"}}),
    "TestRecord": _obj(["mapping", "type", "record"], {
        "mapping": {"type": "string"}, "type": {"type": "string"}, "studentId": {"type": "string"},
        "school": {"type": "string"}, "record": {"type": "object", "description": "target field -> value as it would be imported"}}),
    "PreviewRequest": _obj([], {"studentIds": {"type": "array", "maxItems": MAX_PREVIEW, "items": {"type": "string"},
                                               "description": "default: the mapping's sampleStudents"}}),
    "Preview": _obj(["mapping", "type", "rows"], {"mapping": {"type": "string"}, "type": {"type": "string"},
                                                  "rows": {"type": "array", "items": ROW}}),
    "ScheduleStatus": _obj(["lastRunAt", "lastRunResult", "lastRunMessage", "records"], {
        "lastRunAt": STAMP, "lastRunResult": {"enum": ["succeeded", "failed"]}, "lastRunMessage": {"type": "string"},
        "records": {"type": "integer", "minimum": 0}}),
}


def batch_operation(kinds: list[str]) -> dict[str, Any]:
    return {
        "type": "object", "required": ["op", "district", "kind", "name"], "additionalProperties": False,
        "properties": {
            "op": {"enum": ["put", "delete"]},
            "district": {"type": "string"}, "kind": {"enum": kinds}, "name": {"type": "string"},
            "site": {"type": ["string", "null"]},
            "spec": {"type": "object", "description": "put: the kind's spec, as in its <Kind>Put request"},
            "managedBy": {"type": ["string", "null"], "minLength": 1, "maxLength": 100},
            "ifRevision": {"type": "integer", "minimum": 0, "description": "as If-Match; 0: must not exist yet"},
        },
    }


_SIM = "http://127.0.0.1:8787/vendors"
_SECRET = "example-secret-value"
# One valid spec per kind, as PUT sends it (secrets as plain strings): the documents'
# examples, and what contract tests send first.
EXAMPLE_SPECS: dict[str, dict[str, Any]] = {
    "ETranscriptVendor": {
        "displayName": "Parchment", "authServer": f"{_SIM}/etranscript/parchment", "authPath": "/oauth/token",
        "uploadServer": f"{_SIM}/etranscript/parchment", "uploadPort": 8787, "uploadPath": "/upload",
        "consumerKey": "riverside-parchment", "consumerSecret": _SECRET, "userName": "registrar@riverside.example.org",
        "password": _SECRET},
    "StateAssessmentIntegration": {"apiUrl": f"{_SIM}/ets/caaspp/api/v1/token", "username": "riverside-toms",
                                   "secretKey": _SECRET, "credentialsRotated": "2026-10-01"},
    "SyncConnection": {"displayName": "Aeries SIS", "vendor": "aeries", "instance": "production", "schools": ["riverside-high"],
                       "aeries": {"apiUrl": f"{_SIM}/aeries/riverside", "certificate": _SECRET,
                                  "oneRoster": {"url": f"{_SIM}/oneroster/riverside", "consumerId": "riverside-enroll",
                                                "consumerSecret": _SECRET}}},
    "FieldMapping": {"connection": "primary", "type": "import-student", "sampleStudents": ["100234"], "fields": {
        "students.student_district_id": {"type": "direct", "source": "PermanentID"},
        "students.fname": {"type": "direct", "source": "FirstName"},
        "students.lname": {"type": "direct", "source": "LastName"},
        "students.DOB": {"type": "transformation", "source": "Birthdate",
                         "transformations": [{"date": {"from": "MM/DD/YYYY", "to": "YYYY-MM-DD"}}]},
        "students.sis_school_year": {"type": "transformation", "transformations": [{"enrollSchoolYear": {"output": "start"}}]},
        "students_annual.sis_entrydate": {"type": "transformation", "transformations": [{"today": {}}]}}},
    "Schedule": {"connection": "primary", "job": "import-student", "time": "01:30"},
}


def object_schema(kind: str, spec: str, has_site: bool) -> dict[str, Any]:
    props: dict[str, Any] = {
        "id": {"type": "string", "description": "assigned by the live system; stable"},
        "revision": {"type": "integer", "minimum": 1},
        "managedBy": NULLABLE_TEXT, "createdAt": STAMP, "updatedAt": STAMP,
        "district": {"type": "string"}, "kind": {"const": kind}, "name": {"type": "string"},
        "site": {**NULLABLE_TEXT, "description": "null: All Sites" if has_site else "always null"},
        "spec": ref(spec),
        "secretsSetAt": {"type": "object", "additionalProperties": STAMP,
                         "description": "dotted path of each secret field -> when its value was last set"},
    }
    if kind == "Schedule":
        props["status"] = ref("ScheduleStatus")
    if not has_site:
        props["site"] = {"type": "null"}
    required = ["id", "revision", "managedBy", "createdAt", "updatedAt", "district", "kind", "name", "site", "spec", "secretsSetAt"]
    return _obj(required, props)


PARAMETERS: dict[str, Any] = {
    "district": {"name": "district", "in": "path", "required": True, "schema": NAME, "description": "district id",
                 "example": "riverside-usd"},
    "name": {"name": "name", "in": "path", "required": True, "schema": NAME, "description": "metadata.name in the config",
             "example": "primary"},
    "site": {"name": "site", "in": "query", "required": False, "schema": {"type": "string"}, "example": "river-charter",
             "description": "a site (school) of the district: that site's own configuration; absent: All Sites"},
    "limit": {"name": "limit", "in": "query", "required": False,
              "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100}},
    "cursor": {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"},
               "description": "next from the previous page"},
    "ifMatch": {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string", "pattern": r'^"?[0-9]+"?$'},
                "description": 'the revision the write expects, e.g. "3"; "0": the object must not exist yet'},
}
_CODES = {400: "BadRequest", 401: "Unauthorized", 404: "NotFound", 409: "Conflict", 412: "PreconditionFailed",
          413: "TooLarge", 422: "Unprocessable", 429: "RateLimited", 503: "Unavailable"}
_WHY = {400: "The request is malformed (see error.code)", 401: "No or wrong admin token",
        404: "No such district, object, student or route", 409: "Conflicts with the live system's state (see error.code)",
        412: "If-Match does not match the object's revision", 413: "Body or batch too large",
        422: "The spec or a reference in it is invalid (error.details lists every problem)",
        429: "Too many requests: retry after Retry-After seconds", 503: "Temporarily unavailable: retry with backoff"}


def _error(code: int) -> dict[str, Any]:
    response: dict[str, Any] = {"description": _WHY[code], "content": {"application/json": {"schema": ref("Error")}}}
    if code == 429:
        response["headers"] = {"Retry-After": {"schema": {"type": "string"}, "description": "seconds to wait"}}
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
            out[str(code)] = {"description": "OK" if code == 200 else "Created",
                              "content": {"application/json": {"schema": schema}}, **({"headers": headers} if headers else {})}
    return out


_KIND_RULES = {
    "SyncConnection": ("`schools` must be schools of the district (422 unknown_school). A school has one sync "
                       "connection per instance: assigning it here unassigns it from the district's other "
                       "connection of the same instance (that connection's revision grows)."),
    "FieldMapping": ("`connection` must be an existing SyncConnection of the district (422 unknown_connection); "
                     "a connection has one mapping per type (409 duplicate)."),
    "Schedule": ("`connection` must be an existing SyncConnection of the district (422 unknown_connection); "
                 "a connection has one schedule per job (409 duplicate). A schedule of a sandbox connection "
                 "runs once and then turns itself off: after that run `spec.enabled` is false."),
    "StateAssessmentIntegration": ("With `site`, the object is that site's own full configuration (it overrides "
                                   "All Sites for that site only); `site` must be a school of the district "
                                   "(422 unknown_site). Every add, update and removal is logged (integration-log)."),
    "ETranscriptVendor": "All fields are required to save, as in the Electronic Release Setup screen.",
}
_TESTS = {
    "ETranscriptVendor": f"`message` is \"{ETRANSCRIPT_OK}\" or \"{ETRANSCRIPT_FAILED}\".",
    "StateAssessmentIntegration": (f"`message` on failure is \"{ETS001}\" (code ETS001: the API URL is down or wrong), "
                                   f"\"{ETS002}\" (code ETS002: username/secret key wrong or expired), or "
                                   f"\"{ETS_BAD_URL}\" (a malformed URL)."),
    "SyncConnection": "`checks` names which part failed: token (PowerSchool, Qmlativ), certificate and oneRoster (Aeries).",
    "FieldMapping": (f"Checks the connection, the required import-student fields, that imports are enabled "
                     f"(\"{IMPORTS_DISABLED}\") and, for a PowerSchool export-student mapping, that every assigned "
                     "school has Years & Terms (Start Page > School Setup > Years and Terms > Term Setup)."),
    "Schedule": "Tests the mapping its job runs.",
}
_TOPICS = {
    "delete": "Idempotent: deleting a missing object is 404, which a client may treat as done.",
    "batch": (f"At most {MAX_BATCH} operations (400 batch_too_large above). Each is applied on its own, as PUT or DELETE would; "
              "its result carries the status and the object or error that call would answer. One failing item "
              "does not fail the batch. Safe to retry: upserts and deletes are idempotent."),
    "assign": ("Adds the schools to the connection (existing assignments stay) and unassigns them from the "
               "district's other connection of the same instance. Unknown school: 422 unknown_school."),
    "test-record": (f"One student (studentId) through the mapping, answered with the record as it would be "
                    f"imported or exported. 409 imports_disabled with the message \"{IMPORTS_DISABLED}\" when "
                    "the district has not enabled imports for this school year (Enroll: Settings > General). "
                    "409 years_and_terms_missing when a PowerSchool export's school has no Years & Terms: the "
                    "export cannot complete until they are set at Start Page > School Setup > Years and Terms > "
                    "Term Setup. 404 unknown_student for an unknown Student Unique ID."),
    "run": "Runs the job now and records status; a sandbox schedule turns itself off (spec.enabled false).",
}


def describe(topic: str, kind: str | None = None) -> str:
    if topic == "put":
        return f"Upsert by natural key; idempotent. {_KIND_RULES[kind or '']}"
    if topic == "test":
        return _TESTS[kind or ""]
    if topic == "delete" and kind == "SyncConnection":
        return _TOPICS["delete"] + " A connection still used by a mapping or schedule is 409 in_use: delete those first."
    return _TOPICS[topic]


@cache
def body_validator(name: str, system: str = "") -> Any:
    """A validator of request bodies of the shared schema ``name`` (masking values)."""
    import jsonschema_rs

    from .contract import COLLECTIONS

    components = {**COMMON_SCHEMAS, "BatchOperation": batch_operation(list(COLLECTIONS.get(system, {})))}
    schema = {"$ref": f"#/components/schemas/{name}", "components": {"schemas": components}}
    return jsonschema_rs.validator_for(schema, mask="(value not shown)")


def check_body(name: str, body: Any, system: str = "") -> None:
    """ApiError 400 when ``body`` does not fit the request schema ``name``."""
    from .contract import ApiError

    errors = list(body_validator(name, system).iter_errors(body))
    if errors:
        details = [{"path": "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.instance_path),
                    "message": e.message} for e in errors[:20]]
        raise ApiError(400, "invalid_body", f"{details[0]['path']}: {details[0]['message']}", details)
