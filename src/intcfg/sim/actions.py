"""Send a Test Record, preview, Bulk Action > Set Sync Connection, and the scheduled
import run: the enrollment system's actions beyond saving and testing."""

from __future__ import annotations

from typing import Any

from . import objects, world
from . import students as sample
from .contract import ApiError
from .mapping import MappingError, apply
from .operations import (
    IMPORTS_DISABLED,
    IMPORTS_HINT,
    MAX_PREVIEW,
    mapping_for,
    test_mapping,
    years_and_terms,
)
from .store import Store, now

# -- Send a Test Record and preview ----------------------------------------------------------------


def _source(
    store: Store,
    district: str,
    connection: dict[str, Any],
    mapping: dict[str, Any],
    student: dict[str, Any],
) -> dict[str, Any]:
    if mapping["spec"]["type"] == "export-student":
        return sample.enroll(student)
    return sample.SOURCE_FORMATS[connection["spec"]["vendor"]](student)


def _mapped(
    store: Store, district: str, mapping: dict[str, Any], source: dict[str, Any]
) -> dict[str, Any]:
    start = world.district(store, district)["schoolYearStart"]
    try:
        return apply(mapping["spec"]["fields"], source, start)
    except MappingError as e:
        raise ApiError(422, "mapping_failed", str(e)) from None


def test_record(store: Store, district: str, name: str, body: Any) -> dict[str, Any]:
    mapping = objects.require(store, district, "FieldMapping", name)
    connection = objects.require(store, district, "SyncConnection", mapping["spec"]["connection"])
    kind = mapping["spec"]["type"]
    if kind.startswith("import") and not world.district(store, district)["importsEnabled"]:
        raise ApiError(409, "imports_disabled", IMPORTS_DISABLED, hint=IMPORTS_HINT)
    if kind == "import-school":
        school = _school(store, district, body)
        source = {
            "school_number": school["sisSchoolNumber"],
            "name": school["name"],
            "SchoolCode": school["sisSchoolNumber"],
            "Name": school["name"],
            "SchoolNumber": school["sisSchoolNumber"],
            "SchoolName": school["name"],
        }
        return {
            "mapping": name,
            "type": kind,
            "school": school["id"],
            "record": _mapped(store, district, mapping, source),
        }
    student = world.student(store, district, _student_id(body))
    if kind == "export-student" and connection["spec"]["vendor"] == "powerschool":
        receiving = {s["id"]: s for s in world.schools(store, district)}.get(student["school"])
        if receiving is not None and not receiving["hasYearsAndTerms"]:
            raise ApiError(409, "years_and_terms_missing", years_and_terms(receiving))
    record = _mapped(
        store, district, mapping, _source(store, district, connection, mapping, student)
    )
    return {"mapping": name, "type": kind, "studentId": student["id"], "record": record}


def _student_id(body: Any) -> str:
    sid = body.get("studentId") if isinstance(body, dict) else None
    if not isinstance(sid, str) or not sid:
        raise ApiError(400, "invalid_body", 'send {"studentId": "<Student Unique ID>"}')
    return sid


def _school(store: Store, district: str, body: Any) -> dict[str, Any]:
    schools = world.schools(store, district)
    wanted = body.get("schoolId") if isinstance(body, dict) else None
    for s in schools:
        if wanted in (None, s["id"]):
            return s
    raise ApiError(404, "unknown_school", f"no school {wanted!r} in district {district!r}")


def preview(store: Store, district: str, name: str, body: Any) -> dict[str, Any]:
    mapping = objects.require(store, district, "FieldMapping", name)
    connection = objects.require(store, district, "SyncConnection", mapping["spec"]["connection"])
    if mapping["spec"]["type"] == "import-school":
        raise ApiError(
            400, "not_supported", "preview shows students; an import-school mapping has none"
        )
    ids = (
        body.get("studentIds")
        if isinstance(body, dict) and body.get("studentIds") is not None
        else mapping["spec"].get("sampleStudents", [])
    )
    if (
        not isinstance(ids, list)
        or not all(isinstance(i, str) for i in ids)
        or len(ids) > MAX_PREVIEW
    ):
        raise ApiError(
            422, "invalid_body", f"studentIds is a list of at most {MAX_PREVIEW} Student Unique IDs"
        )
    rows = []
    for sid in ids:
        try:
            student = world.student(store, district, sid)
            source = _source(store, district, connection, mapping, student)
            rows.append(
                {
                    "studentId": sid,
                    "source": source,
                    "record": _mapped(store, district, mapping, source),
                }
            )
        except ApiError as e:
            rows.append({"studentId": sid, "error": e.body()["error"]})
    return {"mapping": name, "type": mapping["spec"]["type"], "rows": rows}


# -- Bulk Action > Set Sync Connection -------------------------------------------------------------


def assign_schools(store: Store, district: str, name: str, body: Any) -> dict[str, Any]:
    wanted = body.get("schools") if isinstance(body, dict) else None
    if not isinstance(wanted, list) or not wanted or not all(isinstance(s, str) for s in wanted):
        raise ApiError(400, "invalid_body", 'send {"schools": ["<school id>", ...]}')
    connection = objects.require(store, district, "SyncConnection", name)
    spec = {
        **connection["spec"],
        "schools": list(dict.fromkeys([*connection["spec"].get("schools", []), *wanted])),
    }
    # The secrets are not sent again: the stored digests stay, and only the schools change.
    objects.check_references(store, district, "SyncConnection", name, spec)
    with store.transaction() as db:
        current = objects.require(store, district, "SyncConnection", name)
        if spec["schools"] == current["spec"].get("schools", []):
            return current
        objects.take_schools(store, db, district, name, spec)
        return objects.touch(db, current, spec={**current["spec"], "schools": spec["schools"]})


# -- the scheduled import --------------------------------------------------------------------------


def run_schedule(store: Store, schedule: dict[str, Any]) -> dict[str, Any]:
    district, spec = schedule["district"], schedule["spec"]
    connection = objects.get(store, district, "SyncConnection", spec["connection"])
    mapping = mapping_for(store, district, spec["connection"], spec["job"])
    result, message, records = "succeeded", "", 0
    if connection is None or mapping is None:
        result, message = (
            "failed",
            f"connection {spec['connection']!r} has no {spec['job']} mapping",
        )
    else:
        test_result = test_mapping(store, mapping)
        if not test_result["ok"]:
            result, message = "failed", test_result["message"]
        else:
            records = (
                world.student_count(store, district)
                if spec["job"] != "import-school"
                else len(world.schools(store, district))
            )
    status = {
        "lastRunAt": now(),
        "lastRunResult": result,
        "lastRunMessage": message,
        "records": records,
    }
    with store.transaction() as db:
        current = objects.get(store, district, "Schedule", schedule["name"]) or schedule
        if (
            connection is not None
            and connection["spec"]["instance"] == "sandbox"
            and current["spec"].get("enabled", True)
        ):
            return objects.touch(
                db, current, status=status, spec={**current["spec"], "enabled": False}
            )
        updated = {**current, "status": status}
        objects.write(db, updated)
        return updated


def due_schedules(store: Store, district: str | None, at: str | None) -> list[dict[str, Any]]:
    rows = store.docs("SELECT data FROM objects WHERE kind='Schedule' ORDER BY district, name")
    return [
        s
        for s in rows
        if s["spec"].get("enabled", True)
        and (district is None or s["district"] == district)
        and (at is None or s["spec"]["time"] == at)
    ]
