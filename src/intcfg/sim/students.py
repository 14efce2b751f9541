"""Sample SIS students: deterministic per district, with the edge cases real data has.

Leading zeros in ids, non-ASCII names, apostrophes and hyphens, empty middle names, a
leap-day birth date, and the vendors' own formats (Aeries' MM/DD/YYYY, Qmlativ's M/D/YY
with a two-digit year). Each student is kept once in a canonical form and rendered per
vendor (the source side of an import) or as Enroll holds it (the source of an export).
"""

from __future__ import annotations

import datetime as dt
import random
import zlib
from typing import Any

FIRST = (
    "José",
    "Zoë",
    "Søren",
    "Anaïs",
    "Björn",
    "Mary-Kate",
    "D'Andre",
    "Xóchitl",
    "Aarav",
    "Chloé",
    "Mateo",
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Sofía",
    "Ethan",
    "Mia",
    "Łukasz",
    "Amara",
    "Kenji",
    "Fatima",
    "Ngozi",
    "Élodie",
    "Renée",
    "Jürgen",
    "Saoirse",
    "Siobhán",
    "Ximena",
    "Thảo",
    "Ava",
    "Lucas",
)
LAST = (
    "García",
    "Nguyễn",
    "O'Brien",
    "Müller",
    "Smith",
    "Johnson",
    "Hernández",
    "Kim",
    "Patel",
    "Okafor",
    "Van der Berg",
    "Ødegård",
    "Çelik",
    "Wiśniewski",
    "Dubois",
    "Rossi",
    "Tanaka",
    "Brown",
    "López",
    "Abdullah",
    "St. John",
    "Davis-Moore",
    "Lee",
    "Martínez",
)
MIDDLE = ("", "María", "James", "", "Lee", "Ann", "", "Thị", "José Luis", "")
CITIES = (
    ("Springfield", "IL", "62704"),
    ("Denver", "CO", "80202"),
    ("Riverside", "CA", "92501"),
    ("Aurora", "CO", "80012"),
    ("Fresno", "CA", "93701"),
)
LANGUAGES = ("ENG", "SPA", "VIE", "ENG", "ENG", "SPA", "TGL")
SEXES = ("F", "M", "F", "M", "X")
DEFAULT_COUNT = 36


def _rng(district: str) -> random.Random:
    return random.Random(zlib.crc32(district.encode("utf-8")))


def generate(
    district: str, schools: list[dict[str, Any]], ids: list[str], count: int = DEFAULT_COUNT
) -> list[dict[str, Any]]:
    """``count`` canonical students (at least every id in ``ids``, in that order first)."""
    rng = _rng(district)
    wanted = list(dict.fromkeys(ids))
    n = 1
    while len(wanted) < count:
        candidate = f"{n * 7919 % 1_000_000:06d}"  # six digits, many with leading zeros
        if candidate not in wanted:
            wanted.append(candidate)
        n += 1
    return [_student(rng, sid, i, schools) for i, sid in enumerate(wanted)]


def _student(
    rng: random.Random, sid: str, index: int, schools: list[dict[str, Any]]
) -> dict[str, Any]:
    first, last = FIRST[index % len(FIRST)], LAST[(index * 5) % len(LAST)]
    dob = (
        dt.date(2012, 2, 29)
        if index == 3
        else dt.date(2008 + rng.randrange(13), 1 + rng.randrange(12), 1 + rng.randrange(28))
    )
    grade = max(0, min(12, 2026 - dob.year - 6))
    school = schools[index % len(schools)] if schools else {"id": "", "sisSchoolNumber": ""}
    city, state, zipcode = CITIES[index % len(CITIES)]
    return {
        "id": sid,
        "first": first,
        "middle": MIDDLE[index % len(MIDDLE)],
        "last": last,
        "dob": dob.isoformat(),
        "sex": SEXES[index % len(SEXES)],
        "grade": grade,
        "entryDate": dt.date(2025, 8, 11 + index % 10).isoformat(),
        "email": f"{_ascii(first)}.{_ascii(last)}{index}@Students.Example.org",
        "phone": f"555{rng.randrange(10**7):07d}",
        "hispanic": index % 3 == 0,
        "language": LANGUAGES[index % len(LANGUAGES)],
        "city": city,
        "state": state,
        "zip": zipcode,
        "ssid": f"{rng.randrange(10**10):010d}",
        "school": school["id"],
        "schoolNumber": school.get("sisSchoolNumber") or "",
        "guardianFirst": FIRST[(index + 7) % len(FIRST)],
        "guardianLast": last,
    }


def _ascii(text: str) -> str:
    return "".join(c for c in text if c.isascii() and c.isalpha()) or "student"


def _mdy(iso: str, two_digit_year: bool = False, pad: bool = True) -> str:
    d = dt.date.fromisoformat(iso)
    year = f"{d.year % 100:02d}" if two_digit_year else str(d.year)
    return f"{d.month:02d}/{d.day:02d}/{year}" if pad else f"{d.month}/{d.day}/{year}"


def powerschool(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "student_number": s["id"],
        "first_name": s["first"],
        "middle_name": s["middle"],
        "last_name": s["last"],
        "dob": s["dob"],
        "gender": s["sex"],
        "grade_level": str(s["grade"]),
        "entrydate": s["entryDate"],
        "fedethnicity": "1" if s["hispanic"] else "0",
        "schoolid": s["schoolNumber"],
        "home_phone": s["phone"],
        "email": s["email"],
        "state_studentnumber": s["ssid"],
        "1 - Contacts.FirstName": s["guardianFirst"],
        "1 - Contacts.LastName": s["guardianLast"],
    }


def aeries(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "PermanentID": s["id"],
        "FirstName": s["first"],
        "MiddleName": s["middle"],
        "LastName": s["last"],
        "Birthdate": _mdy(s["dob"]),
        "Sex": s["sex"],
        "Grade": s["grade"],
        "SchoolCode": s["schoolNumber"],
        "StudentEmailAddress": s["email"],
        "HomePhone": s["phone"],
        "StateStudentID": s["ssid"],
        "EnterDate": _mdy(s["entryDate"]),
    }


def skyward(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "StudentNumber": s["id"],
        "FirstName": s["first"],
        "MiddleName": s["middle"],
        "LastName": s["last"],
        "BirthDate": _mdy(s["dob"], two_digit_year=True, pad=False),
        "EntryDate": _mdy(s["entryDate"]),
        "CityStateZip": f"{s['city']}, {s['state']} {s['zip']}",
        "HomeLanguageCode": s["language"],
        "Gender": s["sex"],
        "SchoolNumber": s["schoolNumber"],
    }


def enroll(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "students.student_district_id": s["id"],
        "students.fname": s["first"],
        "students.mname": s["middle"],
        "students.lname": s["last"],
        "students.DOB": s["dob"],
        "students.gender": s["sex"],
        "students.grade": str(s["grade"]),
        "students.email": s["email"].lower(),
        "students.home_phone": s["phone"],
        "students.state_student_id": s["ssid"],
        "students_annual.sis_entrydate": s["entryDate"],
        "students.school": s["school"],
    }


def oneroster_user(s: dict[str, Any], org_ids: dict[str, str], modified: str) -> dict[str, Any]:
    org = org_ids.get(s["school"], "0")
    return {
        "sourcedId": s["id"],
        "status": "active",
        "dateLastModified": modified,
        "metadata": None,
        "username": s["email"].split("@")[0].lower(),
        "enabledUser": True,
        "givenName": s["first"],
        # Aeries sends null for missing fields, and hrefs starting with ~/
        "middleName": s["middle"] or None,
        "familyName": s["last"],
        "role": "student",
        "identifier": s["ssid"],
        "email": s["email"],
        "sms": None,
        "phone": None,
        "agents": [],
        "orgs": [{"href": f"~/ims/oneroster/v1p1/orgs/{org}", "sourcedId": org, "type": "org"}],
        "grades": ["KG" if s["grade"] == 0 else f"{s['grade']:02d}"],
        "password": None,
    }


ONEROSTER_SEX = {"F": "female", "M": "male", "X": "other"}


def oneroster_demographics(s: dict[str, Any], modified: str) -> dict[str, Any]:
    return {
        "sourcedId": s["id"],
        "status": "active",
        "dateLastModified": modified,
        "metadata": None,
        "birthDate": s["dob"],
        "sex": ONEROSTER_SEX[s["sex"]],
        "hispanicOrLatinoEthnicity": "true" if s["hispanic"] else "false",
    }


SOURCE_FORMATS = {"powerschool": powerschool, "aeries": aeries, "skyward": skyward}
