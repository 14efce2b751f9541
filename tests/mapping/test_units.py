"""The pure parts: effects, the import's patches and variable names, the Aeries flattening,
and the preview renderers."""

from __future__ import annotations

import datetime as dt
import json

from intcfg.desired import Address
from intcfg.diff import Change
from intcfg.effects import Effect, effects
from intcfg.importer import _patch, env_name
from intcfg.preview import Preview, StudentPreview
from intcfg.render.preview import RENDERERS
from intcfg.transform import Context, FieldResult
from intcfg.vendors.students import Fetched, aeries_record

ADDRESS = Address("enroll", "d", "FieldMapping", "m")
CONTEXT = Context(dt.date(2026, 11, 22))


def _spec(to: str) -> dict:
    return {"fields": {"students.DOB": {"type": "transformation", "source": "B", "transformations": [{"date": {"from": "MM/DD/YYYY", "to": to}}]}, "students.fname": {"type": "direct", "source": "F"}}}


def test_effects_list_only_the_fields_whose_mapped_value_changes() -> None:
    students = [Fetched("1", {"B": "02/29/2012", "F": "Ana"}), Fetched("2", None, "no student '2' in the SIS")]
    found = effects(Change(ADDRESS, "update", "config"), _spec("YYYY-MM-DD"), _spec("DD.MM.YYYY"), students, CONTEXT)
    assert found == [
        Effect("1", "students.DOB", "2012-02-29", "29.02.2012"),
        Effect("2", None, note="no student '2' in the SIS"),
    ]


def test_effects_show_errors_and_fields_that_appear() -> None:
    after = _spec("YYYY-MM-DD")
    after["fields"]["students.lname"] = {"type": "matchCodes", "source": "F", "matchCodes": {"table": {"x": "y"}}}
    found = effects(Change(ADDRESS, "update", "config"), _spec("YYYY-MM-DD"), after, [Fetched("1", {"F": "Ana"})], CONTEXT)
    assert found == [Effect("1", "students.lname", "(not mapped)", "(error: 'Ana' is not in the match-code table (keys: 'x') and there is no default)")]


def test_effects_only_for_updates() -> None:
    assert effects(Change(ADDRESS, "create", "config"), {}, _spec("YYYY-MM-DD"), [Fetched("1", {})], CONTEXT) == []


def test_env_names_and_site_patches() -> None:
    assert env_name("riverside-usd", "parchment", "", "consumerSecret") == "RIVERSIDE_USD_PARCHMENT_CONSUMER_SECRET"
    assert env_name("d", "aeries", "oneRoster", "consumerSecret") == "D_AERIES_ONE_ROSTER_CONSUMER_SECRET"
    base = {"apiUrl": "u", "username": "a", "nested": {"x": 1, "y": 2}, "gone": True}
    site = {"apiUrl": "u", "username": "b", "nested": {"x": 1, "y": 3}}
    assert _patch(base, site) == {"nested": {"y": 3}, "username": "b", "gone": None}


def test_a_oneroster_student_under_aeries_names() -> None:
    user = {
        "sourcedId": "007",
        "givenName": "Zoë",
        "middleName": None,
        "familyName": "O'Brien",
        "identifier": "123",
        "email": "z@x.org",
        "phone": None,
        "grades": ["KG"],
        "orgs": [{"href": "~/ims/oneroster/v1p1/orgs/901", "sourcedId": "901", "type": "org"}],
    }
    record = aeries_record(user, {"birthDate": "2012-02-29", "sex": "other"})
    assert record == {
        "PermanentID": "007",
        "FirstName": "Zoë",
        "MiddleName": "",
        "LastName": "O'Brien",
        "Birthdate": "02/29/2012",
        "Sex": "X",
        "Grade": "0",
        "SchoolCode": "901",
        "StudentEmailAddress": "z@x.org",
        "HomePhone": None,
        "StateStudentID": "123",
    }


PREVIEW = Preview(
    "enroll/d/FieldMapping/m",
    "a.csv",
    (
        StudentPreview("1", {"students.fname": FieldResult("direct", "A|B", "A|B"), "students.DOB": FieldResult("transformation", "x", None, "bad date")}),
        StudentPreview("2", {}, "no row"),
    ),
)


def test_markdown_escapes_pipes_and_shows_errors() -> None:
    text = RENDERERS["markdown"](PREVIEW)
    assert "| students.fname | direct | 'A\\|B' | 'A\\|B' |" in text
    assert "| students.DOB | transformation | 'x' | ERROR: bad date |" in text
    assert "**Error:** no row" in text
    assert text.endswith("2 students, 2 with errors\n")


def test_json_is_the_preview_data() -> None:
    data = json.loads(RENDERERS["json"](PREVIEW))
    assert data["ok"] is False
    assert data["students"][0]["fields"]["students.DOB"] == {"type": "transformation", "sourceValue": "x", "mappedValue": None, "error": "bad date"}
    assert data["students"][1] == {"studentId": "2", "ok": False, "error": "no row", "fields": {}}
