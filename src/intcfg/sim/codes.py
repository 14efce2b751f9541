"""The enrollment system's Field Codes: the code sets target fields draw from, as its
"Field Codes" download lists them (code and description). Per district, custom fields
are the ones its schools' registration forms add."""

from __future__ import annotations

from typing import Any

STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI"
).split()
COUNTRIES = {
    "US": "United States",
    "MX": "Mexico",
    "CA": "Canada",
    "GT": "Guatemala",
    "SV": "El Salvador",
    "HN": "Honduras",
    "PH": "Philippines",
    "VN": "Viet Nam",
    "CN": "China",
    "IN": "India",
    "KR": "Korea, Republic of",
    "UA": "Ukraine",
    "AF": "Afghanistan",
    "SO": "Somalia",
    "NG": "Nigeria",
    "DE": "Germany",
    "PL": "Poland",
    "BR": "Brazil",
    "CO": "Colombia",
    "VE": "Venezuela",
}
LANGUAGES = {
    "English": "English",
    "Spanish": "Spanish",
    "Vietnamese": "Vietnamese",
    "Tagalog": "Filipino (Pilipino or Tagalog)",
    "Mandarin": "Mandarin (Putonghua)",
    "Cantonese": "Cantonese",
    "Arabic": "Arabic",
    "Korean": "Korean",
    "Russian": "Russian",
    "Ukrainian": "Ukrainian",
    "Dari": "Dari",
    "Pashto": "Pashto",
    "Somali": "Somali",
    "Hmong": "Hmong",
    "Punjabi": "Punjabi",
    "Other": "Other non-English languages",
}
RACES = {
    "American Indian or Alaska Native": "American Indian or Alaska Native",
    "Asian": "Asian",
    "Black or African American": "Black or African American",
    "Native Hawaiian or Other Pacific Islander": "Native Hawaiian or Other Pacific Islander",
    "White": "White",
}
ETHNICITIES = {
    "Hispanic or Latino": "Hispanic or Latino",
    "Not Hispanic or Latino": "Not Hispanic or Latino",
}
GENDERS = {"Female": "Female", "Male": "Male", "Non-binary": "Non-binary", "Unknown": "Unknown"}
CUSTOM_FIELDS = {
    "students.custom_bus_rider": "Rides the school bus (Yes/No)",
    "students.custom_lunch_program": "Lunch program application received",
    "students_annual.custom_photo_release": "Photo release signed",
}
KINDS = ("states", "countries", "languages", "races", "ethnicities", "genders", "custom-fields")


def code_set(kind: str) -> list[dict[str, Any]]:
    """[{code, description}] of one code set; KeyError for an unknown kind."""
    table = {
        "states": {s: s for s in STATES},
        "countries": COUNTRIES,
        "languages": LANGUAGES,
        "races": RACES,
        "ethnicities": ETHNICITIES,
        "genders": GENDERS,
        "custom-fields": CUSTOM_FIELDS,
    }[kind]
    return [{"code": code, "description": text} for code, text in table.items()]
