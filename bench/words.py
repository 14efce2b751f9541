"""Names and field vocabularies the benchmark generator draws from (see gen.py)."""

from __future__ import annotations

# fmt: off

TOWNS = [
    "riverside", "lakeside", "hillcrest", "oakdale", "maple-grove", "cedar-falls", "pine-ridge",
    "brookfield", "fairview", "greenville", "springfield", "clearwater", "highland", "westwood",
    "eastlake", "northgate", "southport", "millbrook", "stonebridge", "redwood", "silver-lake",
    "sunnyvale", "bayview", "elmwood", "ashford", "kingston", "marion", "franklin", "clinton",
    "madison", "georgetown", "salem", "bristol", "dover", "hudson", "lexington", "milford",
    "newport", "oxford", "plymouth", "quincy", "richmond", "shelby", "trenton", "union",
    "vernon", "warren", "york", "alder-creek", "blue-mesa",
]
SUFFIXES = {
    "usd": "Unified School District",
    "isd": "Independent School District",
    "sd": "School District",
    "csd": "Consolidated School District",
    "unified": "Unified Schools",
    "county-schools": "County Schools",
    "public-schools": "Public Schools",
}
LABEL_TEAMS = ["data-services", "student-info", "assessment", "enrollment", "it-integrations"]
STATES = [
    ("CA", "America/Los_Angeles"), ("TX", "America/Chicago"), ("CO", "America/Denver"),
    ("IL", "America/Chicago"), ("NY", "America/New_York"), ("AZ", "America/Phoenix"),
    ("WA", "America/Los_Angeles"), ("FL", "America/New_York"),
    ("IN", "America/Indiana/Indianapolis"), ("AK", "America/Anchorage"), ("HI", "Pacific/Honolulu"),
]
SITE_NAMES = [
    "jefferson", "lincoln", "washington", "roosevelt", "kennedy", "oak", "pine", "maple",
    "cedar", "willow", "valley", "summit", "meadow", "canyon", "harbor", "mission", "vista",
    "sierra", "ridge", "park", "river", "lake", "hill", "garfield", "adams", "monroe", "grant",
    "hamilton", "king", "chavez", "parks", "curie", "edison", "franklin", "sequoia", "aspen",
]
SITE_KINDS = {
    "elementary": "Elementary School",
    "middle": "Middle School",
    "high": "High School",
    "academy": "Academy",
    "charter": "Charter School",
    "k8": "K-8 School",
}

# slug, display name, auth server, auth path, upload server, upload port, upload path
ETRANSCRIPT_VENDORS = [
    ("parchment", "Parchment", "https://exchange.parchment.com", "/oauth/token",
     "https://exchange.parchment.com", 443,
     "/api/v4/sendlib/rest/sendlibraryservice/pesc/highschool/1.3.0/transcripts"),
    ("clearinghouse", "National Student Clearinghouse",
     "https://auth.studentclearinghouse.example.org", "/oauth2/token",
     "https://transcripts.studentclearinghouse.example.org", 8443, "/nextgen/v1/transcripts"),
    ("scrip-safe", "ScripSafe Transcripts", "https://login.scripsafe.example.com", "/connect/token",
     "https://upload.scripsafe.example.com", 443, "/v2/pesc/transcripts"),
    ("credentials-inc", "Credentials Solutions", "https://sso.credentials-inc.example.com",
     "/oauth/v1/token", "https://sftp.credentials-inc.example.com", 9443, "/ingest/highschool"),
]

# vendor -> (display name, credentials block); {secret_a}/{secret_b} are secret references.
VENDOR_CREDENTIALS = {
    "powerschool": (
        "PowerSchool",
        "  powerschool:\n    serverUrl: https://{host}.powerschool.com\n"
        "    clientId: {uuid}\n    clientSecret: {secret_a}\n",
    ),
    "aeries": (
        "Aeries SIS",
        "  aeries:\n    apiUrl: https://{host}.aeries.net/admin\n    certificate: {secret_a}\n"
        "    oneRoster:\n      url: https://{host}api.aeries.net/admin\n"
        "      consumerId: {district}-enroll\n      consumerSecret: {secret_b}\n",
    ),
    "skyward": (
        "Skyward Qmlativ",
        "  skyward:\n    apiUrl: https://skyward.iscorp.com/{host}\n"
        "    consumerKey: {district}-enroll\n    consumerSecret: {secret_a}\n    entityId: {id}\n",
    ),
}

# Source field names of each SIS, and the date format its exports use.
SOURCES = {
    "powerschool": {
        "id": "student_number", "first": "first_name", "last": "last_name", "dob": "dob",
        "date": "MM/DD/YYYY", "entry": "entrydate", "middle": "middle_name", "gender": "gender",
        "email": "student_email", "phone": "home_phone", "lang": "primarylanguage",
        "grade": "grade_level", "eth": "fedethnicity", "city": "city",
        "state_id": "state_studentnumber",
    },
    "aeries": {
        "id": "PermanentID", "first": "FirstName", "last": "LastName", "dob": "Birthdate",
        "date": "MM/DD/YYYY", "entry": "SchoolEnterDate", "middle": "MiddleName", "gender": "Sex",
        "email": "StudentEmailAddress", "phone": "HomePhone", "lang": "HomeLanguageCode",
        "grade": "Grade", "eth": "EthnicityCode", "city": "MailingCity",
        "state_id": "StateStudentID",
    },
    "skyward": {
        "id": "StudentNumber", "first": "FirstName", "last": "LastName", "dob": "BirthDate",
        "date": "M/D/YY", "entry": "EntryDate", "middle": "MiddleName", "gender": "Gender",
        "email": "EmailAddress", "phone": "PrimaryPhone", "lang": "LanguageCode",
        "grade": "GradeLevel", "eth": "HispanicLatino", "city": "CityStateZip",
        "state_id": "StateID",
    },
}

# Optional import-student fields; formatted with a vendor's SOURCES.
OPTIONAL_STUDENT_FIELDS = [
    "    students.mname:\n      type: transformation\n      source: {middle}\n"
    "      transformations:\n        - transliterate: {{}}\n",
    "    students.gender:\n      type: matchCodes\n      source: {gender}\n      matchCodes:\n"
    "        table: {{M: Male, F: Female, X: Non-binary}}\n        default: Unknown\n",
    "    students.email:\n      type: transformation\n      source: {email}\n"
    "      transformations:\n        - lower: {{}}\n",
    "    students.home_phone:\n      type: transformation\n      source: {phone}\n"
    "      transformations:\n        - phoneNumber: {{format: (XXX) XXX-XXXX}}\n",
    "    students.language:\n      type: matchCodes\n      source: {lang}\n      matchCodes:\n"
    "        table: {{ENG: English, SPA: Spanish, VIE: Vietnamese, TGL: Tagalog}}\n",
    "    students.grade:\n      type: transformation\n      source: {grade}\n"
    "      transformations:\n"
    "        - ifThenElse:\n            condition: {{operator: equals, value: \"0\"}}\n"
    "            then: K\n",
    "    students.ethnicity:\n      type: transformation\n      source: {eth}\n"
    "      transformations:\n        - matchCodes:\n"
    "            table: {{\"1\": Hispanic or Latino, \"0\": Not Hispanic or Latino}}\n",
    "    students.city:\n      type: transformation\n      source: {city}\n      transformations:\n"
    "        - split: {{separator: \",\", part: 1}}\n",
    "    students.full_name:\n      type: transformation\n      transformations:\n"
    "        - join: {{sources: [{first}, {last}], separator: \" \"}}\n",
    "    students.state_student_id: {{type: direct, source: {state_id}, overwrite: true}}\n",
    "    students.nickname: {{type: doNotMap}}\n",
    "    students_annual.guardian1_fname: {{type: direct, source: 1 - Contacts.FirstName}}\n",
    "    students_annual.guardian1_lname: {{type: direct, source: 1 - Contacts.LastName}}\n",
    "    students.student_number_clean:\n      type: transformation\n      source: {id}\n"
    "      transformations:\n        - substitute: {{find: \"S-\", replace: \"\"}}\n",
]
