"""A deterministic generator of realistic, valid config repositories for benchmarks.

``generate(root, files, seed)`` writes ``intcfg.yaml`` and ``files`` resource files under
``root/districts/<district>/``: districts with their sites, eTranscript vendors, the ETS
integration with per-site overrides, sync connections to all three SIS vendors with
their field mappings, and schedules. Files hold 1-5 documents and a couple of KB, like
the example repository. Every district's files are written in dependency order, so the
repository is valid at any file count (``TODAY`` is the date it is valid on).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

from words import (
    ETRANSCRIPT_VENDORS,
    LABEL_TEAMS,
    OPTIONAL_STUDENT_FIELDS,
    SITE_KINDS,
    SITE_NAMES,
    SOURCES,
    STATES,
    SUFFIXES,
    TOWNS,
    VENDOR_CREDENTIALS,
)

TODAY = "2026-11-22"
SETTINGS = """\
# yaml-language-server: $schema=../schemas/settings.json
apiVersion: intcfg/v1
kind: Settings
include:
  - districts/**/*.yaml
live:
  url: sim://
  token: {env: INTCFG_ADMIN_TOKEN}
policies:
  credentialAge:
    default: {warnDays: 80, maxDays: 90}
"""
HEADER = "# yaml-language-server: $schema=../../../schemas/{schema}\n"
ENVELOPE = (
    "apiVersion: intcfg/v1\nkind: {kind}\nmetadata:\n  name: {name}\n  district: {district}\n"
    "{labels}spec:\n"
)

Doc = str
File = tuple[str, str, list[Doc]]  # file name, schema file, documents


def generate(root: Path, files: int, seed: int) -> list[Path]:
    """Write a repository of ``files`` resource files under ``root``; return their paths."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "intcfg.yaml").write_text(SETTINGS, encoding="utf-8")
    written: list[Path] = []
    used: set[str] = set()
    for _ in range(files):  # each district adds at least one file
        if len(written) == files:
            break
        district = _district_name(rng, used)
        for name, schema, docs in _district_files(rng, district):
            if len(written) == files:
                break
            path = root / "districts" / district / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(HEADER.format(schema=schema) + "---\n".join(docs), encoding="utf-8")
            written.append(path)
    return written


def generate_resources(root: Path, resources: int, seed: int) -> list[Path]:
    """Write a repository whose config declares exactly ``resources`` live objects.

    A live object is every document but a District (a SiteOverride becomes the site's
    own ETS object). Whole districts are written until the count is reached; the last
    file may hold only its first documents, which keeps the repository valid.
    """
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "intcfg.yaml").write_text(SETTINGS, encoding="utf-8")
    written: list[Path] = []
    used: set[str] = set()
    left = resources
    for _ in range(resources):  # each district declares at least one live object
        if left <= 0:
            break
        district = _district_name(rng, used)
        for name, schema, docs in _district_files(rng, district):
            kept = _take_live(docs, left)
            left -= sum(1 for doc in kept if _is_live(doc))
            path = root / "districts" / district / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(HEADER.format(schema=schema) + "---\n".join(kept), encoding="utf-8")
            written.append(path)
            if left <= 0:
                break
    return written


def _is_live(doc: Doc) -> bool:
    return "\nkind: District\n" not in "\n" + doc


def _take_live(docs: list[Doc], limit: int) -> list[Doc]:
    """The first documents of a file holding at most ``limit`` live objects."""
    kept: list[Doc] = []
    for doc in docs:
        if _is_live(doc):
            if limit <= 0:
                break
            limit -= 1
        kept.append(doc)
    return kept


def _district_name(rng: random.Random, used: set[str]) -> str:
    base = f"{rng.choice(TOWNS)}-{rng.choice(sorted(SUFFIXES))}"
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base}-{n}"
    used.add(name)
    return name


def _env(district: str, what: str) -> str:
    return "{env: " + f"{district.upper().replace('-', '_')}_{what}" + "}"


def _title(slug: str) -> str:
    return " ".join(w.capitalize() for w in slug.split("-"))


def _district_title(district: str) -> str:
    for slug, long in SUFFIXES.items():
        town, found, rest = district.partition(f"-{slug}")
        if found and (not rest or rest[1:].isdigit()):
            return f"{_title(town)} {long}"
    return _title(district)


def _envelope(rng: random.Random, kind: str, name: str, district: str) -> str:
    labels = ""
    if rng.random() < 0.4:
        team, tier = rng.choice(LABEL_TEAMS), rng.choice(("critical", "standard"))
        labels = f"  labels: {{team: {team}, tier: {tier}}}\n"
    if rng.random() < 0.15:
        labels += f'  annotations:\n    ticket: "INC-{rng.randint(1000, 99999)}"\n'
    return ENVELOPE.format(kind=kind, name=name, district=district, labels=labels)


def _district_files(rng: random.Random, district: str) -> Iterator[File]:
    sites = _sites(rng)
    yield "district.yaml", "district.json", [_district_doc(rng, district, sites)]
    vendors = rng.sample(ETRANSCRIPT_VENDORS, rng.choice((1, 1, 2)))
    yield (
        "etranscript.yaml",
        "etranscript-vendor.json",
        [_etranscript(rng, district, v) for v in vendors],
    )
    yield "ets.yaml", "any.json", _ets(rng, district, [s for s, _ in sites])
    jobs: list[tuple[str, str, str]] = []  # connection, job, instance
    free = [s for s, _ in sites]
    rng.shuffle(free)
    for i, vendor in enumerate(rng.sample(sorted(VENDOR_CREDENTIALS), rng.choice((1, 1, 2, 3)))):
        take = max(1, len(free) // (3 - i)) if free else 0
        schools, free = free[:take], free[take:]
        yield from _connection_files(rng, district, vendor, "production", schools, jobs)
    if rng.random() < 0.3:
        sandbox = rng.sample([s for s, _ in sites], 1)
        yield from _connection_files(
            rng, district, rng.choice(sorted(VENDOR_CREDENTIALS)), "sandbox", sandbox, jobs
        )
    for n, start in enumerate(range(0, len(jobs), 5)):
        name = "schedules.yaml" if n == 0 else f"schedules-{n + 1}.yaml"
        yield (
            name,
            "schedule.json",
            [_schedule(rng, district, *job) for job in jobs[start : start + 5]],
        )


def _sites(rng: random.Random) -> list[tuple[str, str]]:
    count = rng.choice((4, 6, 8, 10, 12, 16, 20, 30, 40))
    pairs = rng.sample([(n, k) for n in SITE_NAMES for k in SITE_KINDS], count)
    return [(f"{name}-{kind}", f"{_title(name)} {SITE_KINDS[kind]}") for name, kind in pairs]


def _district_doc(rng: random.Random, district: str, sites: list[tuple[str, str]]) -> Doc:
    state, zone = rng.choice(STATES)
    lines = [
        f"apiVersion: intcfg/v1\nkind: District\nmetadata:\n  name: {district}\nspec:\n",
        f"  name: {_district_title(district)}\n  timezone: {zone}\n  state: {state}\n",
    ]
    if rng.random() < 0.5:
        lines.append(f'  schoolYearStart: "{rng.choice(("07-01", "08-01", "08-15"))}"\n')
    lines.append("  sites:\n")
    for number, (site, title) in enumerate(sites, start=1):
        code = "".join(rng.choice("0123456789") for _ in range(14))
        lines.append(f"    - id: {site}\n      name: {title}\n")
        lines.append(f'      stateSchoolCode: "{code}"\n      sisSchoolNumber: "{number * 10}"\n')
    return "".join(lines)


def _etranscript(
    rng: random.Random, district: str, vendor: tuple[str, str, str, str, str, int, str]
) -> Doc:
    slug, display, auth, auth_path, upload, port, upload_path = vendor
    return _envelope(rng, "ETranscriptVendor", slug, district) + (
        f"  displayName: {display}\n  authServer: {auth}\n  authPath: {auth_path}\n"
        f"  uploadServer: {upload}\n  uploadPort: {port}\n  uploadPath: {upload_path}\n"
        f"  consumerKey: {district}-{slug}\n"
        f"  consumerSecret: {_env(district, slug.upper().replace('-', '_') + '_SECRET')}\n"
        f"  userName: registrar@{district}.example.org\n"
        f"  password: {_env(district, slug.upper().replace('-', '_') + '_PASSWORD')}\n"
    )


def _rotated(rng: random.Random, max_age: int) -> str:
    return str(dt.date.fromisoformat(TODAY) - dt.timedelta(days=rng.randint(1, max_age)))


def _ets(rng: random.Random, district: str, sites: list[str]) -> list[Doc]:
    yearly = rng.random() < 0.2
    docs = [
        "# ETS CAASPP/ELPAC score letters in the Student & Parent Portal (All Sites).\n"
        + _envelope(rng, "StateAssessmentIntegration", "ets", district)
        + f"  apiUrl: https://caaspp-aws.ets.org/api/v1/token\n  username: {district}-toms\n"
        + f"  secretKey: {_env(district, 'ETS_SECRET_KEY')}\n"
        + "  # ETS requires new credentials every 90 days: update this date when you rotate them.\n"
        + f"  credentialsRotated: {_rotated(rng, 300 if yearly else 75)}\n"
        + ("  rotationPolicy: {warnDays: 330, maxDays: 365}\n" if yearly else "")
    ]
    for site in rng.sample(sites, min(len(sites), rng.choice((0, 0, 1, 1, 2, 4)))):
        patch = (
            f"    username: {site}-toms\n"
            f"    secretKey: {_env(district, site.upper().replace('-', '_') + '_ETS_KEY')}\n"
            f"    credentialsRotated: {_rotated(rng, 75)}\n"
        )
        docs.append(
            _envelope(rng, "SiteOverride", f"ets-{site}", district)
            + f"  target:\n    kind: StateAssessmentIntegration\n    name: ets\n  site: {site}\n"
            + f"  patch:\n{patch}"
        )
    return docs


def _connection_files(
    rng: random.Random,
    district: str,
    vendor: str,
    instance: str,
    schools: list[str],
    jobs: list[tuple[str, str, str]],
) -> Iterator[File]:
    name = vendor if instance == "production" else f"{vendor}-sandbox"
    types = ["import-student"] + [
        t for t in ("import-school", "export-student") if rng.random() < 0.6
    ]
    connection = _connection(rng, district, name, vendor, instance, schools)
    mappings = [_mapping(rng, district, name, vendor, t) for t in types]
    if rng.random() < 0.6:
        yield f"{name}.yaml", "any.json", [connection, *mappings]
    else:
        yield f"{name}.yaml", "sync-connection.json", [connection]
        yield f"{name}-mappings.yaml", "field-mapping.json", mappings
    scheduled = types if instance == "production" else ["import-student"]
    jobs.extend((name, t, instance) for t in scheduled if rng.random() < 0.8)


def _connection(
    rng: random.Random, district: str, name: str, vendor: str, instance: str, schools: list[str]
) -> Doc:
    display, template = VENDOR_CREDENTIALS[vendor]
    host = district.split("-")[0] + ("-test" if instance == "sandbox" else "")
    upper = name.upper().replace("-", "_")
    block = template.format(
        host=host,
        district=district,
        id=rng.randint(1, 9),
        uuid=f"{rng.getrandbits(128):032x}",
        secret_a=_env(district, f"{upper}_SECRET"),
        secret_b=_env(district, f"{upper}_ONEROSTER_SECRET"),
    )
    return _envelope(rng, "SyncConnection", name, district) + (
        f"  displayName: {display} ({instance})\n  vendor: {vendor}\n  instance: {instance}\n"
        f"{block}  schools: [{', '.join(schools)}]\n"
    )


def _mapping(rng: random.Random, district: str, connection: str, vendor: str, kind: str) -> Doc:
    src = SOURCES[vendor]
    head = _envelope(rng, "FieldMapping", f"{connection}-{kind}", district)
    head += f"  connection: {connection}\n  type: {kind}\n"
    if kind == "import-student":
        samples = sorted({str(rng.randint(10000, 99999)) for _ in range(rng.randint(1, 5))})
        head += (
            f"  sampleStudents: [{', '.join(repr(s).replace(chr(39), chr(34)) for s in samples)}]\n"
        )
    return head + "  fields:\n" + "".join(_fields(rng, src, kind))


def _fields(rng: random.Random, src: dict[str, str], kind: str) -> Iterator[str]:
    if kind == "import-school":
        yield "    schools.sis_school_number: {type: direct, source: school_number}\n"
        yield "    schools.name: {type: direct, source: name}\n"
        yield "    schools.abbreviation:\n      type: transformation\n      source: name\n"
        yield "      transformations:\n        - pick: {start: 1, length: 4}\n        - upper: {}\n"
        return
    if kind == "export-student":
        yield f"    students.{src['id']}: {{type: direct, source: students.student_district_id}}\n"
        yield f"    students.{src['first']}: {{type: direct, source: students.fname}}\n"
        yield f"    students.{src['last']}: {{type: direct, source: students.lname}}\n"
        yield f"    students.{src['dob']}:\n      type: transformation\n"
        yield "      source: students.DOB\n"
        yield f"      transformations:\n        - date: {{from: YYYY-MM-DD, to: {src['date']}}}\n"
        yield "    students.middle_name: {type: doNotMap}\n"
        return
    yield f"    students.student_district_id: {{type: direct, source: {src['id']}}}\n"
    yield f"    students.fname: {{type: direct, source: {src['first']}}}\n"
    yield f"    students.lname: {{type: direct, source: {src['last']}}}\n"
    yield f"    students.DOB:\n      type: transformation\n      source: {src['dob']}\n"
    yield f"      transformations:\n        - date: {{from: {src['date']}, to: YYYY-MM-DD}}\n"
    year = rng.choice(
        (
            "enrollSchoolYear: {output: start}",
            "enrollSchoolYear: {output: range}",
            'valueInput: {value: "2026"}',
        )
    )
    yield "    students.sis_school_year:\n      type: transformation\n"
    yield f"      transformations:\n        - {year}\n"
    if rng.random() < 0.5:
        yield f"    students_annual.sis_entrydate: {{type: direct, source: {src['entry']}}}\n"
    else:
        yield "    students_annual.sis_entrydate:\n      type: transformation\n"
        yield "      transformations:\n        - today: {}\n"
    for text in rng.sample(OPTIONAL_STUDENT_FIELDS, rng.randint(4, len(OPTIONAL_STUDENT_FIELDS))):
        yield text.format(**src)


def _schedule(rng: random.Random, district: str, connection: str, job: str, instance: str) -> Doc:
    at = f"{rng.randint(0, 5):02d}:{rng.choice((0, 15, 30, 45)):02d}"
    spec = f'  connection: {connection}\n  job: {job}\n  time: "{at}"\n'
    if instance == "sandbox":
        spec += "  enabled: false\n"
    elif rng.random() < 0.3:
        spec += f"  timezone: {rng.choice(STATES)[1]}\n"
    return _envelope(rng, "Schedule", f"{connection}-nightly-{job}", district) + spec
