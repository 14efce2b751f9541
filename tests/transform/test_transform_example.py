"""The example repository's field mappings applied to realistic records (golden values).

The clock is fixed at 03:00 UTC on 2026-11-23: still the evening of 2026-11-22 in every
example district, so the district's time zone, not UTC, decides Today.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLE
from intcfg.loader import load_file
from intcfg.transform import Context, map_record, merge_into, today_in

NOW = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)


def _documents(district: str) -> list[dict[str, Any]]:
    files = sorted((EXAMPLE / "districts" / district).glob("*.yaml"))
    loaded = [load_file(str(f)) for f in files]
    assert all(not f.findings for f in loaded)
    return [d.data for f in loaded for d in f.documents]


def _mapping(district: str, name: str) -> tuple[dict[str, Any], Context]:
    docs = _documents(district)
    spec = next(d["spec"] for d in docs if d["kind"] == "District")
    fields = next(
        d["spec"]["fields"]
        for d in docs
        if d["kind"] == "FieldMapping" and d["metadata"]["name"] == name
    )
    context = Context(today_in(spec["timezone"], NOW), spec.get("schoolYearStart", "07-01"))
    return fields, context


def test_the_example_districts_are_all_covered() -> None:
    mappings = {
        (d.name, doc["metadata"]["name"])
        for d in Path(EXAMPLE, "districts").iterdir()
        for doc in _documents(d.name)
        if doc["kind"] == "FieldMapping"
    }
    assert mappings == {(c[0], c[1]) for c in CASES}


CASES: list[tuple[str, str, dict[str, Any], dict[str, str | None], dict[str, str]]] = [
    (
        "lakeside-sd",
        "ps-import-school",
        {"school_number": "0010", "name": "Lakeside Elementary"},
        {
            "schools.sis_school_number": "0010",
            "schools.name": "Lakeside Elementary",
            "schools.abbreviation": "LAKE",
        },
        {},
    ),
    (
        "lakeside-sd",
        "ps-import-school",
        {"school_number": "20", "name": "Élan"},
        {"schools.sis_school_number": "20", "schools.name": "Élan", "schools.abbreviation": "ÉLAN"},
        {},
    ),
    (
        "lakeside-sd",
        "ps-import-student",
        {
            "student_number": "020451",
            "first_name": "Ana",
            "last_name": "Nuñez",
            "dob": "2012-02-29",
            "entrydate": "2026-08-19",
            "grade_level": "0",
            "fedethnicity": "1",
            "1 - Contacts.FirstName": "María",
            "1 - Contacts.LastName": "Nuñez",
        },
        {
            "students.student_district_id": "020451",
            "students.fname": "Ana",
            "students.lname": "Nuñez",
            "students.DOB": "2012-02-29",
            "students.sis_school_year": "2026",
            "students_annual.sis_entrydate": "2026-08-19",
            "students.grade": "K",
            "students.ethnicity": "Hispanic or Latino",
            "students_annual.guardian1_fname": "María",
            "students_annual.guardian1_lname": "Nuñez",
        },
        {},
    ),
    (
        "lakeside-sd",
        "ps-import-student",
        {
            "student_number": "20452",
            "first_name": "Sam",
            "last_name": "Lee",
            "dob": "2014-10-01",
            "entrydate": "2026-08-19",
            "grade_level": "7",
            "fedethnicity": "2",
        },
        {
            "students.student_district_id": "20452",
            "students.fname": "Sam",
            "students.lname": "Lee",
            "students.DOB": "2014-10-01",
            "students.sis_school_year": "2026",
            "students_annual.sis_entrydate": "2026-08-19",
            "students.grade": "7",
            "students_annual.guardian1_fname": None,
            "students_annual.guardian1_lname": None,
        },
        {
            "students.ethnicity": "matchCodes (step 1): '2' is not in the match-code table "
            "(keys: '0', '1') and there is no default"
        },
    ),
    (
        "lakeside-sd",
        "ps-export-student",
        {
            "students.student_district_id": "020451",
            "students.fname": "Ana",
            "students.lname": "Lee",
            "students.DOB": "2012-02-29",
            "students.mname": "Rose",
        },
        {
            "students.student_number": "020451",
            "students.first_name": "Ana",
            "students.last_name": "Lee",
            "students.dob": "02/29/2012",
        },
        {},
    ),
    (
        "lakeside-sd",
        "ps-export-student",
        {
            "students.student_district_id": "20460",
            "students.fname": "Kai",
            "students.lname": "Park",
            "students.DOB": "2012-2-9",
        },
        {
            "students.student_number": "20460",
            "students.first_name": "Kai",
            "students.last_name": "Park",
        },
        {
            "students.dob": "date (step 1): '2012-2-9' does not match the date format "
            "'YYYY-MM-DD'; "
            "MM and DD take two digits (e.g. 03), M and D take one or two"
        },
    ),
    (
        "lakeside-sd",
        "ps-sandbox-import-student",
        {"student_number": "20451", "first_name": "Ana", "last_name": "Lee", "dob": "2012-02-29"},
        {
            "students.student_district_id": "20451",
            "students.fname": "Ana",
            "students.lname": "Lee",
            "students.DOB": "2012-02-29",
            "students.sis_school_year": "2026-2027",
            "students_annual.sis_entrydate": "2026-11-22",
        },
        {},
    ),
    (
        "riverside-usd",
        "aeries-import-student",
        {
            "PermanentID": "000123",
            "FirstName": "José",
            "LastName": "Ñúñez",
            "MiddleName": "Zoë",
            "Birthdate": "02/29/2012",
            "Sex": "m",
            "StudentEmailAddress": "Jose.Nunez@Riverside.K12.CA.US",
            "HomePhone": "1-951-555-0134",
            "StateStudentID": "",
            "Nickname": "Pepe",
        },
        {
            "students.student_district_id": "000123",
            "students.fname": "José",
            "students.lname": "Ñúñez",
            "students.mname": "Zoe",
            "students.DOB": "2012-02-29",
            "students.sis_school_year": "2026",
            "students_annual.sis_entrydate": "2026-11-22",
            "students.gender": "Male",
            "students.email": "jose.nunez@riverside.k12.ca.us",
            "students.home_phone": "(951) 555-0134",
            "students.state_student_id": "",
        },
        {},
    ),
    (
        "riverside-usd",
        "aeries-import-student",
        {
            "PermanentID": "100871",
            "FirstName": "Øystein",
            "LastName": "Dahl",
            "MiddleName": "",
            "Birthdate": "02/29/2011",
            "Sex": "Q",
            "HomePhone": "555-0134",
            "StateStudentID": "2233445566",
        },
        {
            "students.student_district_id": "100871",
            "students.fname": "Øystein",
            "students.lname": "Dahl",
            "students.mname": "",
            "students.sis_school_year": "2026",
            "students_annual.sis_entrydate": "2026-11-22",
            "students.gender": "Unknown",
            "students.email": None,
            "students.state_student_id": "2233445566",
        },
        {
            "students.DOB": "date (step 1): '02/29/2011': day 29 is out of range for "
            "February 2011 (expected 1-28)",
            "students.home_phone": "phoneNumber (step 1): '555-0134' has 7 digits; "
            "the format '(XXX) XXX-XXXX' takes 10",
        },
    ),
    (
        "hillcrest-isd",
        "qmlativ-import-student",
        {
            "StudentNumber": "S-000456",
            "FirstName": "Łukasz",
            "LastName": "Øberg",
            "BirthDate": "7/9/11",
            "EntryDate": "08/15/2026",
            "CityStateZip": "Golden, CO 80401",
            "HomeLanguageCode": "spa",
            "StudentEmail": "lukasz@example.org",
        },
        {
            "students.student_district_id": "000456",
            "students.fname": "Lukasz",
            "students.lname": "Øberg",
            "students.DOB": "2011-07-09",
            "students_annual.sis_entrydate": "2026-08-15",
            "students.full_name": "Łukasz Øberg",
            "students.city": "Golden",
            "students.language": "Spanish",
            # EntryDate 08/15/2026 is read by a date step, then falls in 2026-2027.
            "students.sis_school_year": "2027",
        },
        {},
    ),
    (
        "hillcrest-isd",
        "qmlativ-import-student",
        {
            "StudentNumber": "000789",
            "FirstName": "Zoë",
            "LastName": "Straße",
            "BirthDate": "12/31/10",
            "EntryDate": "",
            "CityStateZip": "",
            "HomeLanguageCode": "FRA",
        },
        {
            "students.student_district_id": "000789",
            "students.fname": "Zoe",
            "students.lname": "Straße",
            "students.DOB": "2010-12-31",
            "students_annual.sis_entrydate": "",
            "students.full_name": "Zoë Straße",
            "students.city": "",
        },
        {
            "students.sis_school_year": "enrollSchoolYear (step 2): the value is empty: "
            "there is no date to take the school year from",
            "students.language": "'FRA' is not in the match-code table (keys: 'ENG', 'SPA', 'VIE') "
            "and there is no default",
        },
    ),
]


@pytest.mark.parametrize(("district", "name", "record", "values", "errors"), CASES)
def test_example_mappings(
    district: str,
    name: str,
    record: dict[str, Any],
    values: dict[str, str | None],
    errors: dict[str, str],
) -> None:
    fields, context = _mapping(district, name)
    mapped = map_record(fields, record, context)
    assert mapped.values == values
    assert mapped.errors == errors


def test_an_aeries_import_merged_into_enroll() -> None:
    fields, context = _mapping("riverside-usd", "aeries-import-student")
    existing = {
        "students.student_district_id": "000123",
        "students.mname": "Z",
        "students.nickname": "Pepe",
        "students.state_student_id": "1234567890",
        "students.home_phone": "(951) 555-0100",
        "students.DOB": "2012-02-29",
    }
    record = {
        "PermanentID": "000123",
        "FirstName": "José",
        "LastName": "Nuñez",
        "MiddleName": "",
        "Birthdate": "02/30/2012",
        "Sex": "M",
        "HomePhone": "",
        "StateStudentID": "",
    }
    merged = merge_into(existing, map_record(fields, record, context), fields)
    assert merged == {
        "students.student_district_id": "000123",
        "students.fname": "José",
        "students.lname": "Nuñez",
        "students.mname": "Z",  # empty, no overwrite: kept
        "students.DOB": "2012-02-29",  # 02/30 is an error: kept, never blanked
        "students.sis_school_year": "2026",
        "students_annual.sis_entrydate": "2026-11-22",
        "students.gender": "Male",
        "students.nickname": "Pepe",  # Do Not Map
        "students.state_student_id": None,  # empty with overwrite: blanked
        "students.home_phone": "(951) 555-0100",
    }
