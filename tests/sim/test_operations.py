"""The admin screens' actions: Test, Send a Test Record, preview, bulk assign, schedule runs."""

from __future__ import annotations

from typing import Any

from simkit import (  # noqa: F401 - fixtures
    ADMIN,
    CANARY,
    SIM,
    SimClient,
    client_fixture,
    etr_spec,
    ets_spec,
    ps_connection,
    put,
    seeded_fixture,
)

RIVERSIDE = "/enroll/admin/v1/districts/riverside-usd"
LAKESIDE = "/enroll/admin/v1/districts/lakeside-sd"
HILLCREST = "/enroll/admin/v1/districts/hillcrest-isd"
ETS = "/portal/admin/v1/districts/riverside-usd/ets-integrations"


def outcome_of(client: SimClient, path: str, **kw: Any) -> dict[str, Any]:
    response = client.post(f"{path}/test", headers=ADMIN, **kw)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_etranscript_test_uses_the_screens_texts(seeded: SimClient) -> None:
    path = "/sis/admin/v1/districts/riverside-usd/etranscript-vendors/parchment"
    put(seeded, path, etr_spec())
    assert outcome_of(seeded, path)["message"] == "Your connection is valid"
    put(seeded, path, etr_spec(password="canary-wrong-password"))
    result = outcome_of(seeded, path)
    assert (result["ok"], result["message"]) == (False, "Connection failed")
    assert [c["name"] for c in result["checks"] if not c["ok"]] == ["auth"]


def test_ets_test_codes(seeded: SimClient) -> None:
    put(seeded, f"{ETS}/ets", ets_spec())
    assert outcome_of(seeded, f"{ETS}/ets")["ok"] is True
    put(seeded, f"{ETS}/ets", ets_spec("canary-wrong-key"))
    assert (
        outcome_of(seeded, f"{ETS}/ets")["code"],
        outcome_of(seeded, f"{ETS}/ets")["message"],
    ) == ("ETS002", "Provided Username/Secret Key is either incorrect or has expired.")
    put(seeded, f"{ETS}/ets", ets_spec(url=f"{SIM}/vendors/ets/nowhere/api/v1/token"))
    assert (
        outcome_of(seeded, f"{ETS}/ets")["code"],
        outcome_of(seeded, f"{ETS}/ets")["message"],
    ) == ("ETS001", "Provided API URL is either invalid or currently unavailable.")
    put(seeded, f"{ETS}/ets", ets_spec(url="https://caaspp.example.org:99999/api/v1/token"))
    assert (
        outcome_of(seeded, f"{ETS}/ets")["message"] == "The API URL needs to be a valid URL string."
    )
    # the charter's own credentials have expired in the simulated TOMS
    put(
        seeded,
        f"{ETS}/ets",
        ets_spec(CANARY["charter"], "charter-toms"),
        params={"site": "river-charter"},
    )
    assert outcome_of(seeded, f"{ETS}/ets", params={"site": "river-charter"})["code"] == "ETS002"


def _aeries(cert: str = CANARY["cert"], ros: str = CANARY["ros"]) -> dict[str, Any]:
    return {
        "displayName": "Aeries",
        "vendor": "aeries",
        "instance": "production",
        "schools": ["riverside-high"],
        "aeries": {
            "apiUrl": f"{SIM}/vendors/aeries/riverside",
            "certificate": cert,
            "oneRoster": {
                "url": f"{SIM}/vendors/oneroster/riverside",
                "consumerId": "ros-client",
                "consumerSecret": ros,
            },
        },
    }


def test_connection_test_names_the_failed_part(seeded: SimClient) -> None:
    put(seeded, f"{RIVERSIDE}/sync-connections/aeries", _aeries())
    assert outcome_of(seeded, f"{RIVERSIDE}/sync-connections/aeries")["message"] == "Connected"
    put(seeded, f"{RIVERSIDE}/sync-connections/aeries", _aeries(cert=CANARY["cert"].lower()))
    result = outcome_of(seeded, f"{RIVERSIDE}/sync-connections/aeries")
    assert result["message"] == "Connection failed (certificate)"
    put(seeded, f"{RIVERSIDE}/sync-connections/aeries", _aeries(ros="canary-wrong"))
    assert (
        outcome_of(seeded, f"{RIVERSIDE}/sync-connections/aeries")["message"]
        == "Connection failed (oneRoster)"
    )


def _import_student(connection: str, **fields: Any) -> dict[str, Any]:
    base = {
        "students.student_district_id": {"type": "direct", "source": "StudentNumber"},
        "students.fname": {
            "type": "transformation",
            "source": "FirstName",
            "transformations": [{"transliterate": {}}],
        },
        "students.lname": {"type": "direct", "source": "LastName"},
        "students.DOB": {
            "type": "transformation",
            "source": "BirthDate",
            "transformations": [{"date": {"from": "M/D/YY", "to": "YYYY-MM-DD"}}],
        },
        "students.sis_school_year": {
            "type": "transformation",
            "source": "EntryDate",
            "transformations": [{"enrollSchoolYear": {"output": "end"}}],
        },
        "students_annual.sis_entrydate": {
            "type": "transformation",
            "source": "EntryDate",
            "transformations": [{"date": {"from": "MM/DD/YYYY"}}],
        },
        "students.email": {"type": "doNotMap"},
    }
    return {
        "connection": connection,
        "type": "import-student",
        "sampleStudents": ["S-000123"],
        "fields": {**base, **fields},
    }


def _qmlativ() -> dict[str, Any]:
    return {
        "displayName": "Qmlativ",
        "vendor": "skyward",
        "instance": "sandbox",
        "schools": ["hillcrest-high"],
        "skyward": {
            "apiUrl": f"{SIM}/vendors/skyward/hillcrest",
            "consumerKey": "sky key",
            "consumerSecret": CANARY["sky"],
            "entityId": 2,
        },
    }


def test_send_a_test_record_maps_the_sis_record(seeded: SimClient) -> None:
    put(seeded, f"{HILLCREST}/sync-connections/qmlativ", _qmlativ())
    put(seeded, f"{HILLCREST}/field-mappings/students", _import_student("qmlativ"))
    response = seeded.post(
        f"{HILLCREST}/field-mappings/students/test-record",
        headers=ADMIN,
        json={"studentId": "S-000123"},
    )
    assert response.status_code == 200, response.text
    record = response.json()["record"]
    state = seeded.get("/_sim/state", headers=ADMIN).json()
    student = next(
        s
        for d in state["districts"]
        if d["id"] == "hillcrest-isd"
        for s in d["students"]
        if s["id"] == "S-000123"
    )
    assert record["students.student_district_id"] == "S-000123"
    assert record["students.DOB"] == student["dob"]  # from Qmlativ's M/D/YY
    assert record["students.fname"].isascii()
    assert (
        record["students.sis_school_year"] == "2026"
    )  # entry 2025-08, school year starting 08-01 ends 2026
    assert "students.email" not in record
    missing = seeded.post(
        f"{HILLCREST}/field-mappings/students/test-record",
        headers=ADMIN,
        json={"studentId": "nobody"},
    )
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "unknown_student")


def test_imports_disabled_gives_the_seeds_error(seeded: SimClient) -> None:
    put(seeded, f"{LAKESIDE}/sync-connections/powerschool", ps_connection(["lakeside-high"]))
    mapping = {
        "connection": "powerschool",
        "type": "import-student",
        "fields": {"students.fname": {"type": "direct", "source": "first_name"}},
    }
    put(seeded, f"{LAKESIDE}/field-mappings/students", mapping)
    response = seeded.post(
        f"{LAKESIDE}/field-mappings/students/test-record",
        headers=ADMIN,
        json={"studentId": "20451"},
    )
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "imports_disabled",
        "message": "Organization does not accept Imports at this time",
        "hint": "Enable importing of data for this school year in Enroll (Settings > General).",
    }


def test_powerschool_export_needs_years_and_terms(seeded: SimClient) -> None:
    put(
        seeded,
        f"{LAKESIDE}/sync-connections/powerschool",
        ps_connection(["lakeside-high", "lakeside-elementary"]),
    )
    export = {
        "connection": "powerschool",
        "type": "export-student",
        "fields": {
            "students.dob": {
                "type": "transformation",
                "source": "students.DOB",
                "transformations": [{"date": {"from": "YYYY-MM-DD", "to": "MM/DD/YYYY"}}],
            }
        },
    }
    put(seeded, f"{LAKESIDE}/field-mappings/export", export)
    result = outcome_of(seeded, f"{LAKESIDE}/field-mappings/export")
    assert result["ok"] is False
    assert result["message"] == (
        "Export to PowerSchool cannot complete: school 'Lakeside High School' has no Years & "
        "Terms set in PowerSchool. "
        "Set them at Start Page > School Setup > Years and Terms > Term Setup (Portions: 1/2 for "
        "semesters, "
        "1/3 for trimesters, 1/4 for quarters)."
    )
    state = seeded.get("/_sim/state", headers=ADMIN).json()
    students = next(d["students"] for d in state["districts"] if d["id"] == "lakeside-sd")
    at_high = next(s["id"] for s in students if s["school"] == "lakeside-high")
    at_elementary = next(s for s in students if s["school"] == "lakeside-elementary")
    refused = seeded.post(
        f"{LAKESIDE}/field-mappings/export/test-record", headers=ADMIN, json={"studentId": at_high}
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (
        409,
        "years_and_terms_missing",
    )
    ok = seeded.post(
        f"{LAKESIDE}/field-mappings/export/test-record",
        headers=ADMIN,
        json={"studentId": at_elementary["id"]},
    )
    y, m, d = at_elementary["dob"].split("-")
    assert ok.json()["record"] == {"students.dob": f"{m}/{d}/{y}"}


def test_preview_of_sample_students(seeded: SimClient) -> None:
    put(seeded, f"{HILLCREST}/sync-connections/qmlativ", _qmlativ())
    put(seeded, f"{HILLCREST}/field-mappings/students", _import_student("qmlativ"))
    rows = seeded.post(f"{HILLCREST}/field-mappings/students/preview", headers=ADMIN).json()["rows"]
    assert [r["studentId"] for r in rows] == ["S-000123"]
    assert rows[0]["source"]["StudentNumber"] == "S-000123"
    rows = seeded.post(
        f"{HILLCREST}/field-mappings/students/preview",
        headers=ADMIN,
        json={"studentIds": ["S-000123", "x"]},
    ).json()["rows"]
    assert rows[1]["error"]["code"] == "unknown_student"
    assert (
        seeded.post(
            f"{HILLCREST}/field-mappings/students/preview",
            headers=ADMIN,
            json={"studentIds": ["a"] * 6},
        ).status_code
        == 400
    )


def test_bulk_assign_schools(seeded: SimClient) -> None:
    put(seeded, f"{LAKESIDE}/sync-connections/powerschool", ps_connection(["lakeside-high"]))
    put(seeded, f"{LAKESIDE}/sync-connections/other", ps_connection(["lakeside-elementary"]))
    response = seeded.post(
        f"{LAKESIDE}/sync-connections/powerschool/assign-schools",
        headers=ADMIN,
        json={"schools": ["lakeside-elementary"]},
    )
    assert response.status_code == 200
    assert (response.json()["spec"]["schools"], response.json()["revision"]) == (
        ["lakeside-high", "lakeside-elementary"],
        2,
    )
    assert response.json()["secretsSetAt"]["powerschool.clientSecret"]
    other = seeded.get(f"{LAKESIDE}/sync-connections/other", headers=ADMIN).json()
    assert other["spec"]["schools"] == []
    unknown = seeded.post(
        f"{LAKESIDE}/sync-connections/powerschool/assign-schools",
        headers=ADMIN,
        json={"schools": ["atlantis"]},
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_school")


def test_a_sandbox_schedule_runs_once_then_turns_itself_off(seeded: SimClient) -> None:
    put(seeded, f"{HILLCREST}/sync-connections/qmlativ", _qmlativ())
    put(seeded, f"{HILLCREST}/field-mappings/students", _import_student("qmlativ"))
    schedule = {"connection": "qmlativ", "job": "import-student", "time": "03:00"}
    put(seeded, f"{HILLCREST}/schedules/nightly", schedule)
    ran = seeded.post("/_sim/run-schedules", headers=ADMIN, json={"time": "03:00"}).json()["ran"]
    assert len(ran) == 1
    assert ran[0]["status"]["lastRunResult"] == "succeeded" and ran[0]["status"]["records"] == 5
    assert (ran[0]["spec"]["enabled"], ran[0]["revision"], ran[0]["managedBy"]) == (
        False,
        2,
        "intcfg",
    )
    assert seeded.post("/_sim/run-schedules", headers=ADMIN, json={}).json()["ran"] == []


def test_a_run_records_the_imports_disabled_failure(seeded: SimClient) -> None:
    put(seeded, f"{LAKESIDE}/sync-connections/powerschool", ps_connection(["lakeside-high"]))
    mapping = {
        "connection": "powerschool",
        "type": "import-school",
        "fields": {"schools.name": {"type": "direct", "source": "name"}},
    }
    put(seeded, f"{LAKESIDE}/field-mappings/schools", mapping)
    put(
        seeded,
        f"{LAKESIDE}/schedules/nightly",
        {"connection": "powerschool", "job": "import-school", "time": "02:00"},
    )
    run = seeded.post(f"{LAKESIDE}/schedules/nightly/run", headers=ADMIN).json()
    assert run["status"]["lastRunResult"] == "failed"
    assert run["status"]["lastRunMessage"] == "Organization does not accept Imports at this time"
    assert (run["revision"], run["spec"].get("enabled", True)) == (1, True)
