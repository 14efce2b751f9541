"""Schemas the admin OpenAPI documents share: errors, districts, test outcomes, batches,
the integration log, the seeds' operations, each kind's object envelope, and one example
spec per kind."""

from __future__ import annotations

from typing import Any

from .contract import MAX_BATCH
from .operations import MAX_PREVIEW

NAME = {"type": "string", "pattern": r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"}
STAMP = {"type": "string", "format": "date-time"}
NULLABLE_TEXT = {"type": ["string", "null"]}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: list[str], props: dict[str, Any], extra: bool = False) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": props,
        "additionalProperties": extra,
    }


ERROR = _obj(
    ["error"],
    {
        "error": _obj(
            ["code", "message"],
            {
                "code": {
                    "type": "string",
                    "description": "stable machine-readable code, e.g. unknown_school",
                },
                "message": {"type": "string", "description": "for people; never holds a secret"},
                "details": {
                    "type": "array",
                    "items": _obj(
                        ["path", "message"],
                        {"path": {"type": "string"}, "message": {"type": "string"}},
                    ),
                },
                "hint": {"type": "string"},
            },
        )
    },
)
SCHOOL = _obj(
    ["id", "name", "sisSchoolNumber", "stateSchoolCode", "hasYearsAndTerms"],
    {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "sisSchoolNumber": {"type": "string"},
        "stateSchoolCode": {"type": "string"},
        "hasYearsAndTerms": {
            "type": "boolean",
            "description": "PowerSchool Years & Terms are set (needed to export students)",
        },
    },
)
CHECK = _obj(
    ["name", "ok", "message"],
    {"name": {"type": "string"}, "ok": {"type": "boolean"}, "message": {"type": "string"}},
)
ROW = _obj(
    ["studentId"],
    {
        "studentId": {"type": "string"},
        "source": {"type": "object"},
        "record": {"type": "object"},
        "error": ERROR["properties"]["error"],
    },
)
COMMON_SCHEMAS: dict[str, Any] = {
    "Error": ERROR,
    "Status": _obj(
        ["system", "api", "kinds", "districts"],
        {
            "system": {"enum": ["sis", "portal", "enroll"]},
            "api": {"type": "string"},
            "kinds": {"type": "array", "items": {"type": "string"}},
            "districts": {"type": "array", "items": {"type": "string"}},
        },
    ),
    "School": SCHOOL,
    "District": _obj(
        ["id", "name", "importsEnabled", "schoolYearStart", "timezone", "schools"],
        {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "importsEnabled": {
                "type": "boolean",
                "description": "Enroll Settings > General: imports enabled for this school year",
            },
            "schoolYearStart": {"type": "string"},
            "timezone": {"type": "string"},
            "schools": {"type": "array", "items": ref("School")},
        },
    ),
    "TestOutcome": _obj(
        ["ok", "message", "code", "checks"],
        {
            "ok": {"type": "boolean"},
            "message": {"type": "string", "description": "the admin screen's text"},
            "code": {
                "type": ["string", "null"],
                "description": "ETS001 or ETS002 for ETS integrations",
            },
            "checks": {"type": "array", "items": CHECK},
        },
    ),
    "BatchRequest": _obj(
        ["operations"],
        {
            "operations": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_BATCH,
                "items": ref("BatchOperation"),
            }
        },
    ),
    "BatchResults": _obj(
        ["results"],
        {
            "results": {
                "type": "array",
                "items": _obj(
                    ["index", "status"],
                    {
                        "index": {"type": "integer", "minimum": 0},
                        "status": {
                            "type": "integer",
                            "description": "as the single-object call would answer: 200, 201, "
                            "204, 4xx",
                        },
                        "object": {"type": "object", "description": "put: the stored object"},
                        "error": ERROR["properties"]["error"],
                    },
                ),
            }
        },
    ),
    "IntegrationLogEntry": _obj(
        ["seq", "at", "action", "name", "site", "by", "revision"],
        {
            "seq": {"type": "integer"},
            "at": STAMP,
            "action": {"enum": ["added", "updated", "removed"]},
            "name": {"type": "string"},
            "site": {**NULLABLE_TEXT, "description": "null: All Sites"},
            "by": {"type": "string", "description": "managedBy of the write, or 'admin screen'"},
            "revision": {"type": "integer"},
        },
    ),
    "IntegrationLogPage": _obj(
        ["items", "next"],
        {"items": {"type": "array", "items": ref("IntegrationLogEntry")}, "next": NULLABLE_TEXT},
    ),
    "AssignSchools": _obj(
        ["schools"], {"schools": {"type": "array", "minItems": 1, "items": {"type": "string"}}}
    ),
    "TestRecordRequest": _obj(
        [],
        {
            "studentId": {"type": "string", "description": "Student Unique ID (student mappings)"},
            "schoolId": {
                "type": "string",
                "description": "import-school: the school (default: the first)",
            },
        },
    ),
    "TestRecord": _obj(
        ["mapping", "type", "record"],
        {
            "mapping": {"type": "string"},
            "type": {"type": "string"},
            "studentId": {"type": "string"},
            "school": {"type": "string"},
            "record": {
                "type": "object",
                "description": "target field -> value as it would be imported",
            },
        },
    ),
    "PreviewRequest": _obj(
        [],
        {
            "studentIds": {
                "type": "array",
                "maxItems": MAX_PREVIEW,
                "items": {"type": "string"},
                "description": "default: the mapping's sampleStudents",
            }
        },
    ),
    "Preview": _obj(
        ["mapping", "type", "rows"],
        {
            "mapping": {"type": "string"},
            "type": {"type": "string"},
            "rows": {"type": "array", "items": ROW},
        },
    ),
    "ScheduleStatus": _obj(
        ["lastRunAt", "lastRunResult", "lastRunMessage", "records"],
        {
            "lastRunAt": STAMP,
            "lastRunResult": {"enum": ["succeeded", "failed"]},
            "lastRunMessage": {"type": "string"},
            "records": {"type": "integer", "minimum": 0},
        },
    ),
}


def batch_operation(kinds: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["op", "district", "kind", "name"],
        "additionalProperties": False,
        "properties": {
            "op": {"enum": ["put", "delete"]},
            "district": {"type": "string"},
            "kind": {"enum": kinds},
            "name": {"type": "string"},
            "site": {"type": ["string", "null"]},
            "spec": {
                "type": "object",
                "description": "put: the kind's spec, as in its <Kind>Put request",
            },
            "managedBy": {"type": ["string", "null"], "minLength": 1, "maxLength": 100},
            "ifRevision": {
                "type": "integer",
                "minimum": 0,
                "description": "as If-Match; 0: must not exist yet",
            },
        },
    }


_SIM = "http://127.0.0.1:8787/vendors"
_SECRET = "example-secret-value"
# One valid spec per kind, as PUT sends it (secrets as plain strings): the documents'
# examples, and what contract tests send first.
EXAMPLE_SPECS: dict[str, dict[str, Any]] = {
    "ETranscriptVendor": {
        "displayName": "Parchment",
        "authServer": f"{_SIM}/etranscript/parchment",
        "authPath": "/oauth/token",
        "uploadServer": f"{_SIM}/etranscript/parchment",
        "uploadPort": 8787,
        "uploadPath": "/upload",
        "consumerKey": "riverside-parchment",
        "consumerSecret": _SECRET,
        "userName": "registrar@riverside.example.org",
        "password": _SECRET,
    },
    "StateAssessmentIntegration": {
        "apiUrl": f"{_SIM}/ets/caaspp/api/v1/token",
        "username": "riverside-toms",
        "secretKey": _SECRET,
        "credentialsRotated": "2026-10-01",
    },
    "SyncConnection": {
        "displayName": "Aeries SIS",
        "vendor": "aeries",
        "instance": "production",
        "schools": ["riverside-high"],
        "aeries": {
            "apiUrl": f"{_SIM}/aeries/riverside",
            "certificate": _SECRET,
            "oneRoster": {
                "url": f"{_SIM}/oneroster/riverside",
                "consumerId": "riverside-enroll",
                "consumerSecret": _SECRET,
            },
        },
    },
    "FieldMapping": {
        "connection": "primary",
        "type": "import-student",
        "sampleStudents": ["100234"],
        "fields": {
            "students.student_district_id": {"type": "direct", "source": "PermanentID"},
            "students.fname": {"type": "direct", "source": "FirstName"},
            "students.lname": {"type": "direct", "source": "LastName"},
            "students.DOB": {
                "type": "transformation",
                "source": "Birthdate",
                "transformations": [{"date": {"from": "MM/DD/YYYY", "to": "YYYY-MM-DD"}}],
            },
            "students.sis_school_year": {
                "type": "transformation",
                "transformations": [{"enrollSchoolYear": {"output": "start"}}],
            },
            "students_annual.sis_entrydate": {
                "type": "transformation",
                "transformations": [{"today": {}}],
            },
        },
    },
    "Schedule": {"connection": "primary", "job": "import-student", "time": "01:30"},
}


def object_schema(kind: str, spec: str, has_site: bool) -> dict[str, Any]:
    props: dict[str, Any] = {
        "id": {"type": "string", "description": "assigned by the live system; stable"},
        "revision": {"type": "integer", "minimum": 1},
        "managedBy": NULLABLE_TEXT,
        "createdAt": STAMP,
        "updatedAt": STAMP,
        "district": {"type": "string"},
        "kind": {"const": kind},
        "name": {"type": "string"},
        "site": {**NULLABLE_TEXT, "description": "null: All Sites" if has_site else "always null"},
        "spec": ref(spec),
        "secretsSetAt": {
            "type": "object",
            "additionalProperties": STAMP,
            "description": "dotted path of each secret field -> when its value was last set",
        },
    }
    if kind == "Schedule":
        props["status"] = ref("ScheduleStatus")
    if not has_site:
        props["site"] = {"type": "null"}
    required = [
        "id",
        "revision",
        "managedBy",
        "createdAt",
        "updatedAt",
        "district",
        "kind",
        "name",
        "site",
        "spec",
        "secretsSetAt",
    ]
    return _obj(required, props)
