"""The admin screens' actions beyond saving: Test, Send a Test Record, preview, Bulk
Action > Set Sync Connection, and the scheduled import run."""

from __future__ import annotations

import urllib.parse
from typing import Any

from . import objects, world
from . import students as sample
from .contract import ApiError
from .mapping import MappingError, apply
from .store import Store, now

ETRANSCRIPT_OK = "Your connection is valid"
ETRANSCRIPT_FAILED = "Connection failed"
ETS001 = "Provided API URL is either invalid or currently unavailable."
ETS002 = "Provided Username/Secret Key is either incorrect or has expired."
ETS_BAD_URL = "The API URL needs to be a valid URL string."
ETS_OK = "Test Integration succeeded."
IMPORTS_DISABLED = "Organization does not accept Imports at this time"
IMPORTS_HINT = "Enable importing of data for this school year in Enroll (Settings > General)."
REQUIRED_IMPORT_STUDENT = ("students.student_district_id", "students.fname", "students.lname", "students.DOB",
                           "students.sis_school_year", "students_annual.sis_entrydate")
MAX_PREVIEW = 5


def years_and_terms(school: dict[str, Any]) -> str:
    return (f"Export to PowerSchool cannot complete: school {school['name']!r} has no Years & Terms set in "
            "PowerSchool. Set them at Start Page > School Setup > Years and Terms > Term Setup "
            "(Portions: 1/2 for semesters, 1/3 for trimesters, 1/4 for quarters).")


def outcome(ok: bool, message: str, checks: list[dict[str, Any]], code: str | None = None) -> dict[str, Any]:
    return {"ok": ok, "message": message, "code": code, "checks": checks}


def check(name: str, ok: bool, message: str) -> dict[str, Any]:
    return {"name": name, "ok": ok, "message": message}


def vendor_instance(url: str, vendor: str) -> str | None:
    """The simulated vendor instance a configured URL points at (/vendors/VENDOR/INSTANCE/...)."""
    parts = urllib.parse.urlsplit(url).path.strip("/").split("/")
    if len(parts) >= 3 and parts[0] == "vendors" and parts[1] == vendor:
        return parts[2]
    return None


def _secret_ok(store: Store, obj: dict[str, Any], path: str, cred: dict[str, Any] | None, field: str = "secret") -> bool:
    digest = obj.get("secrets", {}).get(path, {}).get("digest")
    return cred is not None and digest is not None and digest == cred.get(field) and not cred["expired"]


# -- Test -------------------------------------------------------------------------------------------


def test(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    return TESTS[obj["kind"]](store, obj)


def _test_etranscript(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj["spec"]
    inst = vendor_instance(spec["authServer"], "etranscript")
    cred = world.credential(store, "etranscript", inst, spec["consumerKey"]) if inst else None
    auth = (cred is not None and cred["authPath"] == spec["authPath"] and spec["userName"] == cred["username"]
            and _secret_ok(store, obj, "consumerSecret", cred) and _secret_ok(store, obj, "password", cred, "password"))
    upload = vendor_instance(spec["uploadServer"], "etranscript") == inst and inst is not None
    checks = [check("auth", auth, "token issued" if auth else "the auth server refused the credentials"),
              check("upload", upload, "upload server reachable" if upload else "upload server unreachable")]
    ok = auth and upload
    return outcome(ok, ETRANSCRIPT_OK if ok else ETRANSCRIPT_FAILED, checks)


def _test_ets(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj["spec"]
    try:
        parts = urllib.parse.urlsplit(spec["apiUrl"])
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 1) > 0
    except ValueError:
        valid = False
    if not valid:
        return outcome(False, ETS_BAD_URL, [check("apiUrl", False, ETS_BAD_URL)])
    inst = vendor_instance(spec["apiUrl"], "ets")
    if inst is None or not world.instance_known(store, "ets", inst) or not parts.path.endswith("/api/v1/token"):
        return outcome(False, ETS001, [check("apiUrl", False, ETS001)], "ETS001")
    cred = world.credential(store, "ets", inst, spec["username"])
    if not _secret_ok(store, obj, "secretKey", cred):
        return outcome(False, ETS002, [check("credentials", False, ETS002)], "ETS002")
    return outcome(True, ETS_OK, [check("token", True, "token issued")])


def connection_checks(store: Store, obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj["spec"]
    vendor = spec["vendor"]
    block = spec[vendor]
    if vendor == "powerschool":
        inst = vendor_instance(block["serverUrl"], "powerschool")
        cred = world.credential(store, "powerschool", inst, block["clientId"]) if inst else None
        ok = _secret_ok(store, obj, "powerschool.clientSecret", cred)
        return [check("token", ok, "plugin token issued" if ok else "PowerSchool refused the Client ID/Client Secret")]
    if vendor == "aeries":
        inst = vendor_instance(block["apiUrl"], "aeries")
        cert = _secret_ok(store, obj, "aeries.certificate", world.credential(store, "aeries", inst, "certificate") if inst else None)
        ros = block["oneRoster"]
        ros_inst = vendor_instance(ros["url"], "oneroster")
        ros_ok = _secret_ok(store, obj, "aeries.oneRoster.consumerSecret",
                            world.credential(store, "oneroster", ros_inst, ros["consumerId"]) if ros_inst else None)
        return [check("certificate", cert, "Standard API certificate accepted" if cert else "Aeries refused the certificate"),
                check("oneRoster", ros_ok, "OneRoster token issued" if ros_ok else "OneRoster refused the Consumer ID/Secret")]
    inst = vendor_instance(block["apiUrl"], "skyward")
    cred = world.credential(store, "skyward", inst, block["consumerKey"]) if inst else None
    ok = _secret_ok(store, obj, "skyward.consumerSecret", cred) and block.get("entityId", 1) in (cred or {}).get("entityIds", [])
    return [check("token", ok, "Qmlativ token issued" if ok else "Qmlativ refused the consumer key/secret or entity")]


def _test_connection(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    checks = connection_checks(store, obj)
    ok = all(c["ok"] for c in checks)
    failed = ", ".join(c["name"] for c in checks if not c["ok"])
    return outcome(ok, "Connected" if ok else f"Connection failed ({failed})", checks)


def _test_mapping(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj["spec"]
    connection = objects.get(store, obj["district"], "SyncConnection", spec["connection"])
    if connection is None:
        return outcome(False, f"connection {spec['connection']!r} does not exist", [])
    checks = connection_checks(store, connection)
    if spec["type"] == "import-student":
        missing = [f for f in REQUIRED_IMPORT_STUDENT if spec["fields"].get(f, {}).get("type", "doNotMap") == "doNotMap"]
        checks.append(check("requiredFields", not missing, f"not mapped: {', '.join(missing)}" if missing else "required fields mapped"))
    if spec["type"].startswith("import"):
        enabled = world.district(store, obj["district"])["importsEnabled"]
        checks.append(check("imports", enabled, "imports enabled" if enabled else IMPORTS_DISABLED))
    if spec["type"] == "export-student" and connection["spec"]["vendor"] == "powerschool":
        checks.extend(_terms_checks(store, obj["district"], connection["spec"].get("schools", [])))
    failed = [c for c in checks if not c["ok"]]
    return outcome(not failed, failed[0]["message"] if failed else "Mapping is ready", checks)


def _terms_checks(store: Store, district: str, school_ids: list[str]) -> list[dict[str, Any]]:
    schools = {s["id"]: s for s in world.schools(store, district)}
    return [check(f"yearsAndTerms:{sid}", schools[sid]["hasYearsAndTerms"],
                  "Years & Terms set" if schools[sid]["hasYearsAndTerms"] else years_and_terms(schools[sid]))
            for sid in school_ids if sid in schools]


def _test_schedule(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj["spec"]
    mapping = _mapping_for(store, obj["district"], spec["connection"], spec["job"])
    if mapping is None:
        return outcome(False, f"connection {spec['connection']!r} has no {spec['job']} mapping", [])
    result = _test_mapping(store, mapping)
    connection = objects.get(store, obj["district"], "SyncConnection", spec["connection"])
    if result["ok"] and connection and connection["spec"]["instance"] == "sandbox":
        result["message"] = "Ready: a sandbox schedule runs once and then turns itself off"
    return result


TESTS = {
    "ETranscriptVendor": _test_etranscript,
    "StateAssessmentIntegration": _test_ets,
    "SyncConnection": _test_connection,
    "FieldMapping": _test_mapping,
    "Schedule": _test_schedule,
}


def _mapping_for(store: Store, district: str, connection: str, job: str) -> dict[str, Any] | None:
    for m in objects.all_of(store, district, "FieldMapping"):
        if m["spec"]["connection"] == connection and m["spec"]["type"] == job:
            return m
    return None


# -- Send a Test Record and preview ---------------------------------------------------------------------


def _source(store: Store, district: str, connection: dict[str, Any], mapping: dict[str, Any], student: dict[str, Any]) -> dict[str, Any]:
    if mapping["spec"]["type"] == "export-student":
        return sample.enroll(student)
    return sample.SOURCE_FORMATS[connection["spec"]["vendor"]](student)


def _mapped(store: Store, district: str, mapping: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
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
        source = {"school_number": school["sisSchoolNumber"], "name": school["name"], "SchoolCode": school["sisSchoolNumber"],
                  "Name": school["name"], "SchoolNumber": school["sisSchoolNumber"], "SchoolName": school["name"]}
        return {"mapping": name, "type": kind, "school": school["id"], "record": _mapped(store, district, mapping, source)}
    student = world.student(store, district, _student_id(body))
    if kind == "export-student" and connection["spec"]["vendor"] == "powerschool":
        school = {s["id"]: s for s in world.schools(store, district)}.get(student["school"])
        if school is not None and not school["hasYearsAndTerms"]:
            raise ApiError(409, "years_and_terms_missing", years_and_terms(school))
    record = _mapped(store, district, mapping, _source(store, district, connection, mapping, student))
    return {"mapping": name, "type": kind, "studentId": student["id"], "record": record}


def _student_id(body: Any) -> str:
    sid = body.get("studentId") if isinstance(body, dict) else None
    if not isinstance(sid, str) or not sid:
        raise ApiError(400, "invalid_body", "send {\"studentId\": \"<Student Unique ID>\"}")
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
        raise ApiError(400, "not_supported", "preview shows students; an import-school mapping has none")
    ids = body.get("studentIds") if isinstance(body, dict) and body.get("studentIds") is not None else mapping["spec"].get("sampleStudents", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or len(ids) > MAX_PREVIEW:
        raise ApiError(422, "invalid_body", f"studentIds is a list of at most {MAX_PREVIEW} Student Unique IDs")
    rows = []
    for sid in ids:
        try:
            student = world.student(store, district, sid)
            source = _source(store, district, connection, mapping, student)
            rows.append({"studentId": sid, "source": source, "record": _mapped(store, district, mapping, source)})
        except ApiError as e:
            rows.append({"studentId": sid, "error": e.body()["error"]})
    return {"mapping": name, "type": mapping["spec"]["type"], "rows": rows}


# -- Bulk Action > Set Sync Connection ---------------------------------------------------------------------


def assign_schools(store: Store, district: str, name: str, body: Any) -> dict[str, Any]:
    wanted = body.get("schools") if isinstance(body, dict) else None
    if not isinstance(wanted, list) or not wanted or not all(isinstance(s, str) for s in wanted):
        raise ApiError(400, "invalid_body", "send {\"schools\": [\"<school id>\", ...]}")
    connection = objects.require(store, district, "SyncConnection", name)
    spec = {**connection["spec"], "schools": list(dict.fromkeys([*connection["spec"].get("schools", []), *wanted]))}
    # The secrets are not sent again: the stored digests stay, and only the schools change.
    objects.check_references(store, district, "SyncConnection", name, spec)
    with store.transaction() as db:
        current = objects.require(store, district, "SyncConnection", name)
        if spec["schools"] == current["spec"].get("schools", []):
            return current
        objects.take_schools(store, db, district, name, spec)
        return objects.touch(db, current, spec={**current["spec"], "schools": spec["schools"]})


# -- the scheduled import -------------------------------------------------------------------------------------


def run_schedule(store: Store, schedule: dict[str, Any]) -> dict[str, Any]:
    district, spec = schedule["district"], schedule["spec"]
    connection = objects.get(store, district, "SyncConnection", spec["connection"])
    mapping = _mapping_for(store, district, spec["connection"], spec["job"])
    result, message, records = "succeeded", "", 0
    if connection is None or mapping is None:
        result, message = "failed", f"connection {spec['connection']!r} has no {spec['job']} mapping"
    else:
        test_result = _test_mapping(store, mapping)
        if not test_result["ok"]:
            result, message = "failed", test_result["message"]
        else:
            records = world.student_count(store, district) if spec["job"] != "import-school" else len(world.schools(store, district))
    status = {"lastRunAt": now(), "lastRunResult": result, "lastRunMessage": message, "records": records}
    with store.transaction() as db:
        current = objects.get(store, district, "Schedule", schedule["name"]) or schedule
        if connection is not None and connection["spec"]["instance"] == "sandbox" and current["spec"].get("enabled", True):
            return objects.touch(db, current, status=status, spec={**current["spec"], "enabled": False})
        updated = {**current, "status": status}
        objects.write(db, updated)
        return updated


def due_schedules(store: Store, district: str | None, at: str | None) -> list[dict[str, Any]]:
    rows = store.docs("SELECT data FROM objects WHERE kind='Schedule' ORDER BY district, name")
    return [s for s in rows if s["spec"].get("enabled", True) and (district is None or s["district"] == district)
            and (at is None or s["spec"]["time"] == at)]
