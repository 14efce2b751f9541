"""`intcfg preview` end to end: students read from `intcfg sim serve` with each
connection's own (canary) credentials, mapped by intcfg.transform."""

from __future__ import annotations

import json
from pathlib import Path

from mapkit import Sim, assert_no_canary, intcfg, live_repo, shared_sim_fixture, sim_fixture  # noqa: F401 - fixtures

QMLATIV = """\
Preview of enroll/hillcrest-isd/FieldMapping/qmlativ-import-student (students from skyward connection 'qmlativ')

Student S-000123
  Target field                   Type            Source value             Mapped value
  students.student_district_id   transformation  'S-000123'               '000123'
  students.fname                 transformation  'José'                   'Jose'
  students.lname                 direct          'García'                 'García'
  students.DOB                   transformation  '3/22/19'                '2019-03-22'
  students.sis_school_year       transformation  '08/11/2025'             '2026'
  students_annual.sis_entrydate  transformation  '08/11/2025'             '2025-08-11'
  students.full_name             transformation  -                        'José García'
  students.city                  transformation  'Springfield, IL 62704'  'Springfield'
  students.language              matchCodes      'ENG'                    'English'

Student S-000456
  Target field                   Type            Source value        Mapped value
  students.student_district_id   transformation  'S-000456'          '000456'
  students.fname                 transformation  'Zoë'               'Zoe'
  students.lname                 direct          'Johnson'           'Johnson'
  students.DOB                   transformation  '1/11/13'           '2013-01-11'
  students.sis_school_year       transformation  '08/12/2025'        '2026'
  students_annual.sis_entrydate  transformation  '08/12/2025'        '2025-08-12'
  students.full_name             transformation  -                   'Zoë Johnson'
  students.city                  transformation  'Denver, CO 80202'  'Denver'
  students.language              matchCodes      'SPA'               'Spanish'

2 students, all fields mapped
"""


def test_text_preview_of_the_sample_students(sim: Sim, tmp_path: Path) -> None:
    repo = live_repo(tmp_path / "repo", sim.url)
    sim.call("POST", "/_sim/seed", json=repo.seed)
    proc = intcfg(repo, "preview", "qmlativ-import-student")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == QMLATIV
    assert_no_canary(repo, proc.stdout, proc.stderr)


def test_json_preview_of_one_student_through_oneroster(sim: Sim, tmp_path: Path) -> None:
    repo = live_repo(tmp_path / "repo", sim.url)
    sim.call("POST", "/_sim/seed", json=repo.seed)
    proc = intcfg(repo, "preview", "aeries-import-student", "--student", "100871", "--format", "json")
    assert (proc.returncode, proc.stderr) == (0, "")
    data = json.loads(proc.stdout)
    assert [s["studentId"] for s in data["students"]] == ["100871"]
    fields = data["students"][0]["fields"]
    assert fields["students.DOB"] == {
        "type": "transformation",
        "sourceValue": "11/11/2012",
        "mappedValue": "2012-11-11",
        "error": None,
    }
    assert fields["students.mname"]["mappedValue"] == "Maria"
    assert fields["students.gender"]["mappedValue"] == "Male"
    assert fields["students_annual.sis_entrydate"]["mappedValue"] == "2026-11-22"
    assert "students.nickname" not in fields  # Do Not Map
    assert_no_canary(repo, proc.stdout, proc.stderr)


def test_a_field_that_cannot_be_mapped_is_its_error_and_exit_1(sim: Sim, tmp_path: Path) -> None:
    repo = live_repo(tmp_path / "repo", sim.url)
    sim.call("POST", "/_sim/seed", json=repo.seed)
    skyward = repo.root / "districts" / "hillcrest-isd" / "skyward.yaml"
    skyward.write_text(skyward.read_text().replace("{from: M/D/YY,", "{from: YYYY-MM-DD,"))
    proc = intcfg(repo, "preview", "qmlativ-import-student", "--student", "S-000123")
    assert proc.returncode == 1, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if "students.DOB" in x)
    assert line.split(None, 3)[1:3] == ["transformation", "'3/22/19'"]
    assert "ERROR: " in line and "YYYY-MM-DD" in line
    assert proc.stdout.endswith("1 students, 1 with errors\n")


def test_an_unknown_student_is_that_students_error(sim: Sim, tmp_path: Path) -> None:
    repo = live_repo(tmp_path / "repo", sim.url)
    sim.call("POST", "/_sim/seed", json=repo.seed)
    proc = intcfg(repo, "preview", "ps-import-student", "--student", "20451", "--student", "99999")
    assert proc.returncode == 1
    assert "Student 99999\n  ERROR: no student '99999' in the SIS\n" in proc.stdout


def test_csv_input_picks_rows_by_student_unique_id(tmp_path: Path) -> None:
    repo = live_repo(tmp_path / "repo", "http://127.0.0.1:9")  # the SIS is not asked
    students = tmp_path / "students.csv"
    students.write_text(
        "Student Unique ID,PermanentID,FirstName,LastName,MiddleName,Birthdate,Sex,StudentEmailAddress,HomePhone,StateStudentID\n"
        "1,100,Ana,Lopez,,02/29/2012,F,Ana@X.org,5551234567,42\n"
        "2,200,Bo,Kim,Lee,13/01/2012,Q,,,\n"
    )
    proc = intcfg(repo, "preview", "aeries-import-student", "--from-csv", str(students), "--student", "2", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    fields = json.loads(proc.stdout)["students"][0]["fields"]
    assert fields["students.gender"]["mappedValue"] == "Unknown"
    assert fields["students.DOB"]["mappedValue"] is None
    assert "13/01/2012" in fields["students.DOB"]["error"]
    proc = intcfg(repo, "preview", "aeries-import-student", "--from-csv", str(students), "--student", "1", "--format", "json")
    assert proc.returncode == 0, proc.stdout
    fields = json.loads(proc.stdout)["students"][0]["fields"]
    assert fields["students.home_phone"]["mappedValue"] == "(555) 123-4567"
    assert fields["students.DOB"]["mappedValue"] == "2012-02-29"


def test_more_than_five_students_is_a_usage_error(tmp_path: Path) -> None:
    repo = live_repo(tmp_path / "repo", "http://127.0.0.1:9")
    ids = [a for i in range(6) for a in ("--student", str(i))]
    proc = intcfg(repo, "preview", "ps-import-student", *ids)
    assert proc.returncode == 2
    assert "at most 5 --student options (6 given)" in proc.stderr


def test_an_unknown_mapping_names_the_defined_ones(tmp_path: Path) -> None:
    repo = live_repo(tmp_path / "repo", "http://127.0.0.1:9")
    proc = intcfg(repo, "preview", "nope", "--district", "hillcrest-isd")
    assert proc.returncode == 1
    assert proc.stderr == (
        "Error: no FieldMapping 'nope' in district 'hillcrest-isd' "
        "(defined mappings: 'qmlativ-import-student')\n"
    )
