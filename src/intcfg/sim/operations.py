"""The admin screens' Test button for each kind, answering with the seeds' texts, and the
texts and limits the enrollment system's actions share (actions.py)."""

from __future__ import annotations

import urllib.parse
from typing import Any

from . import objects, world
from .store import Store

ETRANSCRIPT_OK = "Your connection is valid"
ETRANSCRIPT_FAILED = "Connection failed"
ETS001 = "Provided API URL is either invalid or currently unavailable."
ETS002 = "Provided Username/Secret Key is either incorrect or has expired."
ETS_BAD_URL = "The API URL needs to be a valid URL string."
ETS_OK = "Test Integration succeeded."
IMPORTS_DISABLED = "Organization does not accept Imports at this time"
IMPORTS_HINT = "Enable importing of data for this school year in Enroll (Settings > General)."
REQUIRED_IMPORT_STUDENT = (
    "students.student_district_id",
    "students.fname",
    "students.lname",
    "students.DOB",
    "students.sis_school_year",
    "students_annual.sis_entrydate",
)
MAX_PREVIEW = 5


def years_and_terms(school: dict[str, Any]) -> str:
    return (
        f"Export to PowerSchool cannot complete: school {school['name']!r} has no Years & Terms "
        "set in PowerSchool. Set them at Start Page > School Setup > Years and Terms > Term Setup "
        "(Portions: 1/2 for semesters, 1/3 for trimesters, 1/4 for quarters)."
    )


def outcome(
    ok: bool, message: str, checks: list[dict[str, Any]], code: str | None = None
) -> dict[str, Any]:
    return {"ok": ok, "message": message, "code": code, "checks": checks}


def check(name: str, ok: bool, message: str) -> dict[str, Any]:
    return {"name": name, "ok": ok, "message": message}


def vendor_instance(url: str, vendor: str) -> str | None:
    """The simulated vendor instance a configured URL points at (/vendors/VENDOR/INSTANCE/...)."""
    parts = urllib.parse.urlsplit(url).path.strip("/").split("/")
    if len(parts) >= 3 and parts[0] == "vendors" and parts[1] == vendor:
        return parts[2]
    return None


def _secret_ok(
    store: Store, obj: dict[str, Any], path: str, cred: dict[str, Any] | None, field: str = "secret"
) -> bool:
    digest = obj.get("secrets", {}).get(path, {}).get("digest")
    return (
        cred is not None
        and digest is not None
        and digest == cred.get(field)
        and not cred["expired"]
    )


# -- Test ------------------------------------------------------------------------------------------


def test(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    return TESTS[obj["kind"]](store, obj)


def _test_etranscript(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj["spec"]
    inst = vendor_instance(spec["authServer"], "etranscript")
    cred = world.credential(store, "etranscript", inst, spec["consumerKey"]) if inst else None
    auth = (
        cred is not None
        and cred["authPath"] == spec["authPath"]
        and spec["userName"] == cred["username"]
        and _secret_ok(store, obj, "consumerSecret", cred)
        and _secret_ok(store, obj, "password", cred, "password")
    )
    upload = vendor_instance(spec["uploadServer"], "etranscript") == inst and inst is not None
    checks = [
        check("auth", auth, "token issued" if auth else "the auth server refused the credentials"),
        check(
            "upload", upload, "upload server reachable" if upload else "upload server unreachable"
        ),
    ]
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
    if (
        inst is None
        or not world.instance_known(store, "ets", inst)
        or not parts.path.endswith("/api/v1/token")
    ):
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
        return [
            check(
                "token",
                ok,
                "plugin token issued" if ok else "PowerSchool refused the Client ID/Client Secret",
            )
        ]
    if vendor == "aeries":
        inst = vendor_instance(block["apiUrl"], "aeries")
        cert = _secret_ok(
            store,
            obj,
            "aeries.certificate",
            world.credential(store, "aeries", inst, "certificate") if inst else None,
        )
        ros = block["oneRoster"]
        ros_inst = vendor_instance(ros["url"], "oneroster")
        ros_ok = _secret_ok(
            store,
            obj,
            "aeries.oneRoster.consumerSecret",
            world.credential(store, "oneroster", ros_inst, ros["consumerId"]) if ros_inst else None,
        )
        return [
            check(
                "certificate",
                cert,
                "Standard API certificate accepted" if cert else "Aeries refused the certificate",
            ),
            check(
                "oneRoster",
                ros_ok,
                "OneRoster token issued" if ros_ok else "OneRoster refused the Consumer ID/Secret",
            ),
        ]
    inst = vendor_instance(block["apiUrl"], "skyward")
    cred = world.credential(store, "skyward", inst, block["consumerKey"]) if inst else None
    ok = _secret_ok(store, obj, "skyward.consumerSecret", cred) and block.get("entityId", 1) in (
        cred or {}
    ).get("entityIds", [])
    return [
        check(
            "token",
            ok,
            "Qmlativ token issued" if ok else "Qmlativ refused the consumer key/secret or entity",
        )
    ]


def _test_connection(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    checks = connection_checks(store, obj)
    ok = all(c["ok"] for c in checks)
    failed = ", ".join(c["name"] for c in checks if not c["ok"])
    return outcome(ok, "Connected" if ok else f"Connection failed ({failed})", checks)


def test_mapping(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj["spec"]
    connection = objects.get(store, obj["district"], "SyncConnection", spec["connection"])
    if connection is None:
        return outcome(False, f"connection {spec['connection']!r} does not exist", [])
    checks = connection_checks(store, connection)
    if spec["type"] == "import-student":
        missing = [
            f
            for f in REQUIRED_IMPORT_STUDENT
            if spec["fields"].get(f, {}).get("type", "doNotMap") == "doNotMap"
        ]
        checks.append(
            check(
                "requiredFields",
                not missing,
                f"not mapped: {', '.join(missing)}" if missing else "required fields mapped",
            )
        )
    if spec["type"].startswith("import"):
        enabled = world.district(store, obj["district"])["importsEnabled"]
        checks.append(check("imports", enabled, "imports enabled" if enabled else IMPORTS_DISABLED))
    if spec["type"] == "export-student" and connection["spec"]["vendor"] == "powerschool":
        checks.extend(_terms_checks(store, obj["district"], connection["spec"].get("schools", [])))
    failed = [c for c in checks if not c["ok"]]
    return outcome(not failed, failed[0]["message"] if failed else "Mapping is ready", checks)


def _terms_checks(store: Store, district: str, school_ids: list[str]) -> list[dict[str, Any]]:
    schools = {s["id"]: s for s in world.schools(store, district)}
    return [
        check(
            f"yearsAndTerms:{sid}",
            schools[sid]["hasYearsAndTerms"],
            "Years & Terms set"
            if schools[sid]["hasYearsAndTerms"]
            else years_and_terms(schools[sid]),
        )
        for sid in school_ids
        if sid in schools
    ]


def _test_schedule(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj["spec"]
    mapping = mapping_for(store, obj["district"], spec["connection"], spec["job"])
    if mapping is None:
        return outcome(False, f"connection {spec['connection']!r} has no {spec['job']} mapping", [])
    result = test_mapping(store, mapping)
    connection = objects.get(store, obj["district"], "SyncConnection", spec["connection"])
    if result["ok"] and connection and connection["spec"]["instance"] == "sandbox":
        result["message"] = "Ready: a sandbox schedule runs once and then turns itself off"
    return result


TESTS = {
    "ETranscriptVendor": _test_etranscript,
    "StateAssessmentIntegration": _test_ets,
    "SyncConnection": _test_connection,
    "FieldMapping": test_mapping,
    "Schedule": _test_schedule,
}


def mapping_for(store: Store, district: str, connection: str, job: str) -> dict[str, Any] | None:
    for m in objects.all_of(store, district, "FieldMapping"):
        if m["spec"]["connection"] == connection and m["spec"]["type"] == job:
            return m
    return None
