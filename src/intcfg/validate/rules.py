"""Semantic rules: what one document's schema cannot say.

Each rule is a function over the whole repository (``Graph``) yielding findings. Rules
see only documents that passed their schema, so they may trust shapes and defaults;
names of invalid documents are still indexed, so one typo does not cascade into
"unknown district" errors everywhere else.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from ..findings import Finding
from ..loader import Document
from ..location import json_path
from ..overlay import merge_patch, set_by_patch
from ..repo import RepoSettings
from . import schema

Path = tuple[str | int, ...]

REQUIRED_IMPORT_STUDENT = {
    "students.student_district_id": "the student's district id",
    "students.fname": "the first name",
    "students.lname": "the last name",
    "students.DOB": "the date of birth, YYYY-MM-DD (use the Date transformation for other formats)",
    "students.sis_school_year": (
        "the SIS school year (if the source has none, use the Enroll School Year or "
        "Value Input transformation)"
    ),
    "students_annual.sis_entrydate": (
        "the SIS entry date (if the source has none, use the Today transformation)"
    ),
}
URL_FIELDS: dict[str, tuple[Path, ...]] = {
    "ETranscriptVendor": (("authServer",), ("uploadServer",)),
    "StateAssessmentIntegration": (("apiUrl",),),
    "SyncConnection": (
        ("powerschool", "serverUrl"),
        ("aeries", "apiUrl"),
        ("aeries", "oneRoster", "url"),
        ("skyward", "apiUrl"),
    ),
}
# Steps that produce a value without reading the field's source.
SOURCE_FREE_STEPS = {"today", "valueInput", "join", "enrollSchoolYear"}
ISO = "YYYY-MM-DD"


class Graph:
    """All resource documents of a repository, indexed for the rules."""

    def __init__(self, settings: RepoSettings, valid: list[Document], all_docs: list[Document], today: dt.date) -> None:
        self.settings = settings
        self.valid = valid
        self.all_docs = all_docs
        self.today = today
        self.by_kind: dict[str, list[Document]] = defaultdict(list)
        self.names: dict[tuple[str, str, str], Document] = {}
        self.districts: dict[str, Document] = {}
        for doc in self.valid:
            self.by_kind[doc.data["kind"]].append(doc)
        for doc in self.all_docs:
            key = identity(doc)
            if key is not None:
                self.names.setdefault(key, doc)
                if key[0] == "District":
                    self.districts.setdefault(key[2], doc)

    def sites(self, district: str) -> dict[str, int]:
        doc = self.districts.get(district)
        spec = doc.data.get("spec") if doc and isinstance(doc.data, dict) else None
        sites = spec.get("sites") if isinstance(spec, dict) else None
        if not isinstance(sites, list):
            return {}
        return {s["id"]: i for i, s in enumerate(sites) if isinstance(s, dict) and isinstance(s.get("id"), str)}

    def district_known(self, district: str) -> bool:
        return district in self.districts


def identity(doc: Document) -> tuple[str, str, str] | None:
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("metadata"), dict):
        return None
    kind, meta = data.get("kind"), data["metadata"]
    name = meta.get("name")
    district = name if kind == "District" else meta.get("district")
    if isinstance(kind, str) and isinstance(name, str) and isinstance(district, str):
        return kind, district, name
    return None


def _at(doc: Document, path: Path, rule: str, message: str, severity: str = "error", key: bool = False, related: tuple[Any, ...] = ()) -> Finding:
    return Finding(doc.locate(path, key), rule, message, severity, json_path(path), related)  # type: ignore[arg-type]


def _district(doc: Document) -> str:
    return doc.data["metadata"]["name"] if doc.data["kind"] == "District" else doc.data["metadata"]["district"]


# -- names and references ------------------------------------------------------------


def unique_names(g: Graph) -> Iterator[Finding]:
    seen: dict[tuple[str, str, str], Document] = {}
    for doc in g.all_docs:
        key = identity(doc)
        if key is None:
            continue
        if key in seen:
            first = seen[key]
            where = f"district {key[1]!r}" if key[0] != "District" else "the repository"
            yield _at(
                doc,
                ("metadata", "name"),
                "INTCFG-E200",
                f"{key[0]} {key[2]!r} is defined twice in {where} "
                f"(first at {first.locate(('metadata', 'name'))}); names are unique per district and kind",
                related=(first.locate(("metadata", "name")),),
            )
        else:
            seen[key] = doc


def districts_exist(g: Graph) -> Iterator[Finding]:
    known = ", ".join(repr(d) for d in sorted(g.districts)) or "none"
    for doc in g.valid:
        if doc.data["kind"] == "District":
            continue
        district = doc.data["metadata"]["district"]
        if not g.district_known(district):
            yield _at(
                doc,
                ("metadata", "district"),
                "INTCFG-E201",
                f"district {district!r} is not defined (defined districts: {known}); "
                "add a District resource or fix the name",
            )


def unique_sites(g: Graph) -> Iterator[Finding]:
    for doc in g.by_kind["District"]:
        first: dict[str, int] = {}
        for i, site in enumerate(doc.data["spec"].get("sites", [])):
            sid = site["id"]
            if sid in first:
                yield _at(
                    doc,
                    ("spec", "sites", i, "id"),
                    "INTCFG-E214",
                    f"site id {sid!r} is used twice in district {doc.data['metadata']['name']!r} "
                    f"(first at {doc.locate(('spec', 'sites', first[sid], 'id'))})",
                )
            else:
                first[sid] = i


def _site_hint(g: Graph, district: str) -> str:
    sites = sorted(g.sites(district))
    return ", ".join(repr(s) for s in sites) if sites else "none"


def _connection(g: Graph, doc: Document) -> Document | None:
    return g.names.get(("SyncConnection", _district(doc), doc.data["spec"]["connection"]))


def connections_exist(g: Graph) -> Iterator[Finding]:
    for kind in ("FieldMapping", "Schedule"):
        for doc in g.by_kind[kind]:
            district = _district(doc)
            if not g.district_known(district) or _connection(g, doc) is not None:
                continue
            names = sorted(n for (k, d, n) in g.names if k == "SyncConnection" and d == district)
            yield _at(
                doc,
                ("spec", "connection"),
                "INTCFG-E204",
                f"connection {doc.data['spec']['connection']!r} is not a SyncConnection of "
                f"district {district!r} (its connections: {', '.join(map(repr, names)) or 'none'})",
            )


def schools_assigned(g: Graph) -> Iterator[Finding]:
    owner: dict[tuple[str, str, str], tuple[Document, int]] = {}
    for doc in g.by_kind["SyncConnection"]:
        district = _district(doc)
        if not g.district_known(district):
            continue
        sites = g.sites(district)
        instance = doc.data["spec"]["instance"]
        for i, school in enumerate(doc.data["spec"].get("schools", [])):
            if school not in sites:
                yield _at(
                    doc,
                    ("spec", "schools", i),
                    "INTCFG-E203",
                    f"school {school!r} is not a site of district {district!r} "
                    f"(its sites: {_site_hint(g, district)})",
                )
                continue
            key = (district, instance, school)
            if key in owner:
                other, j = owner[key]
                yield _at(
                    doc,
                    ("spec", "schools", i),
                    "INTCFG-E205",
                    f"school {school!r} is already assigned to {instance} connection "
                    f"{other.data['metadata']['name']!r} ({other.locate(('spec', 'schools', j))}); "
                    "a school has one sync connection per instance",
                )
            else:
                owner[key] = (doc, i)


def one_per_connection(g: Graph) -> Iterator[Finding]:
    for kind, fld in (("FieldMapping", "type"), ("Schedule", "job")):
        seen: dict[tuple[str, str, str], Document] = {}
        for doc in g.by_kind[kind]:
            spec = doc.data["spec"]
            key = (_district(doc), spec["connection"], spec[fld])
            if key in seen:
                yield _at(
                    doc,
                    ("spec", fld),
                    "INTCFG-E217",
                    f"connection {spec['connection']!r} already has a {kind} for {spec[fld]!r} "
                    f"({seen[key].locate(('spec', fld))}); merge the two",
                )
            else:
                seen[key] = doc


def _declared_mappings(g: Graph) -> set[tuple[str, Any, Any]]:
    # Every FieldMapping, schema-valid or not: a typo in a mapping is reported there,
    # not again as "no mapping" on each of its schedules.
    out = set()
    for doc in g.all_docs:
        key = identity(doc)
        spec = doc.data.get("spec") if key is not None and key[0] == "FieldMapping" else None
        # A list or map where a name belongs is a schema error there, and cannot be a key here.
        if isinstance(spec, dict) and not isinstance(spec.get("connection"), (dict, list)) \
                and not isinstance(spec.get("type"), (dict, list)):
            out.add((key[1], spec.get("connection"), spec.get("type")))  # type: ignore[index]
    return out


def schedules(g: Graph) -> Iterator[Finding]:
    mapped = _declared_mappings(g)
    for doc in g.by_kind["Schedule"]:
        spec = doc.data["spec"]
        conn = _connection(g, doc)
        if conn is None:
            continue
        if (_district(doc), spec["connection"], spec["job"]) not in mapped:
            yield _at(
                doc,
                ("spec", "job"),
                "INTCFG-E215",
                f"connection {spec['connection']!r} has no {spec['job']} FieldMapping; "
                "configure the mapping before scheduling its job",
            )
        conn_spec = conn.data.get("spec") if isinstance(conn.data, dict) else None
        if isinstance(conn_spec, dict) and conn_spec.get("instance") == "sandbox" and spec.get("enabled", True):
            yield _at(
                doc,
                ("spec", "connection"),
                "INTCFG-W220",
                f"{spec['connection']!r} is a sandbox connection: its scheduled import runs once "
                "and then turns itself off",
                "warning",
            )


# -- time ----------------------------------------------------------------------------


_TZ_DIRS = ("/usr/share/zoneinfo", "/usr/lib/zoneinfo", "/usr/share/lib/zoneinfo", "/etc/zoneinfo")


@cache
def _zone_ok(name: str) -> bool:
    # The schema's pattern admits no dots, so the name cannot leave these directories.
    # Looking for the file first spares the hook zoneinfo's import (about 3 ms).
    for directory in _TZ_DIRS:
        try:
            with open(os.path.join(directory, name), "rb") as fh:
                if fh.read(4) == b"TZif":
                    return True
        except OSError:
            continue
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def timezones(g: Graph) -> Iterator[Finding]:
    for kind, path in (("District", ("spec", "timezone")), ("Schedule", ("spec", "timezone"))):
        for doc in g.by_kind[kind]:
            zone = doc.data["spec"].get("timezone")
            if zone is not None and not _zone_ok(zone):
                yield _at(
                    doc,
                    path,
                    "INTCFG-E212",
                    f"timezone {zone!r} is not an IANA time zone (e.g. America/Los_Angeles)",
                )


# -- URLs and credentials --------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _dig(data: Any, path: Path) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def url_problem(url: str) -> str | None:
    parts = urllib.parse.urlsplit(url)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        return "The API URL needs to be a valid URL string. Its port must be a number 1..65535"
    if not host:
        return "The API URL needs to be a valid URL string. It has no host"
    if port is not None and not 0 < port < 65536:
        return f"The API URL needs to be a valid URL string. Its port must be 1..65535, not {port}"
    if parts.scheme != "https" and not _is_loopback(host):
        return "credentials may only travel over HTTPS (http is allowed for loopback hosts only)"
    return None


def _url_findings(doc: Document, kind: str, spec: dict[str, Any], locate: Callable[[Path], tuple[Document, Path]]) -> Iterator[Finding]:
    for path in URL_FIELDS.get(kind, ()):
        url = _dig(spec, path)
        if not isinstance(url, str):
            continue
        problem = url_problem(url)
        if problem:
            where, full = locate(path)
            rule = "INTCFG-E111" if "valid URL" in problem else "INTCFG-E210"
            yield _at(where, full, rule, f"{path[-1]}: {problem}; got {url!r}")


def urls(g: Graph) -> Iterator[Finding]:
    for kind in URL_FIELDS:
        for doc in g.by_kind[kind]:
            yield from _url_findings(doc, kind, doc.data["spec"], lambda p, d=doc: (d, ("spec", *p)))


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def rotation_policy(settings: RepoSettings, district: str, spec: dict[str, Any]) -> tuple[int, int]:
    """(warnDays, maxDays) of an ETS spec: its own rotationPolicy (for a site, the merged
    one), else intcfg.yaml's policy for the district, else its default, else 80/90."""
    policy = spec.get("rotationPolicy")
    if isinstance(policy, dict) and isinstance(policy.get("warnDays"), int) and isinstance(policy.get("maxDays"), int):
        return policy["warnDays"], policy["maxDays"]
    return settings.rotation_policy(district)


def _credential_age(
    g: Graph, doc: Document, spec: dict[str, Any], locate: Callable[[Path], tuple[Document, Path]], scope: str
) -> Iterator[Finding]:
    rotated_text = spec.get("credentialsRotated")
    if not isinstance(rotated_text, str):
        return
    where, path = locate(("credentialsRotated",))
    rotated = _parse_date(rotated_text)
    if rotated is None:
        yield _at(where, path, "INTCFG-E218", f"credentialsRotated {rotated_text!r} is not a date that exists")
        return
    if rotated > g.today:
        yield _at(where, path, "INTCFG-E218", f"credentialsRotated {rotated_text} lies in the future (today is {g.today})")
        return
    warn, limit = rotation_policy(g.settings, _district(doc), spec)
    if "rotationPolicy" in spec and warn >= limit:
        pw, pp = locate(("rotationPolicy", "warnDays"))
        yield _at(pw, pp, "INTCFG-E221", f"warnDays ({warn}) must be less than maxDays ({limit})")
    age = (g.today - rotated).days
    due = rotated + dt.timedelta(days=limit)
    if age >= limit:
        yield _at(
            where,
            path,
            "INTCFG-E211",
            f"{scope} credentials were rotated {age} days ago ({rotated_text}); they expire after "
            f"{limit} days (expired {due}). Generate new ones in TOMS, update the secret and this date",
        )
    elif age >= warn:
        yield _at(
            where,
            path,
            "INTCFG-W211",
            f"{scope} credentials were rotated {age} days ago ({rotated_text}); they expire on {due} "
            f"(after {limit} days): set a calendar date to rotate them",
            "warning",
        )


def credential_age(g: Graph) -> Iterator[Finding]:
    for doc in g.by_kind["StateAssessmentIntegration"]:
        yield from _credential_age(
            g, doc, doc.data["spec"], lambda p, d=doc: (d, ("spec", *p)), f"{doc.data['metadata']['name']!r}"
        )


# -- site overrides --------------------------------------------------------------------


def overrides(g: Graph) -> Iterator[Finding]:
    seen: dict[tuple[str, str, str, str], Document] = {}
    for doc in g.by_kind["SiteOverride"]:
        spec = doc.data["spec"]
        district = _district(doc)
        target_kind, target_name, site = spec["target"]["kind"], spec["target"]["name"], spec["site"]
        base = g.names.get((target_kind, district, target_name))
        if base is None:
            if g.district_known(district):
                yield _at(
                    doc,
                    ("spec", "target", "name"),
                    "INTCFG-E202",
                    f"{target_kind} {target_name!r} is not defined in district {district!r}; "
                    "an override patches an existing resource",
                )
            continue
        if g.district_known(district) and site not in g.sites(district):
            yield _at(
                doc,
                ("spec", "site"),
                "INTCFG-E203",
                f"site {site!r} is not a site of district {district!r} (its sites: {_site_hint(g, district)})",
            )
        key = (district, target_kind, target_name, site)
        if key in seen:
            yield _at(
                doc,
                ("spec", "site"),
                "INTCFG-E219",
                f"site {site!r} of {target_kind} {target_name!r} is already overridden at "
                f"{seen[key].locate(('spec', 'site'))}; merge the two patches",
            )
            continue
        seen[key] = doc
        if base in g.valid:
            yield from _merged(g, base, doc, target_kind, site)


def _merged(g: Graph, base: Document, override: Document, kind: str, site: str) -> Iterator[Finding]:
    patch = override.data["spec"]["patch"]
    merged = merge_patch(base.data["spec"], patch)

    def locate(path: Path) -> tuple[Document, Path]:
        if set_by_patch(patch, path):
            return override, ("spec", "patch", *path)
        return base, ("spec", *path)

    scope = f"site {site!r} of {kind} {base.data['metadata']['name']!r}:"
    problems = [
        Finding(
            f.location,
            "INTCFG-E213" if f.rule == "INTCFG-E199" else f.rule,
            f"{scope} {f.message} (base: {base.locate(('metadata', 'name'))})",
            f.severity,
            f.json_path,
        )
        for f in schema.check_spec(kind, merged, lambda p, key: locate(p))
    ]
    yield from problems
    if kind == "StateAssessmentIntegration":
        yield from _own_rotation_date(override, patch, scope)
    if problems:
        return  # the rules below trust the merged spec's shape
    for f in _url_findings(base, kind, merged, locate):
        if f.location.file == override.file:
            yield f
    if kind == "StateAssessmentIntegration" and (
        set_by_patch(patch, ("credentialsRotated",)) or set_by_patch(patch, ("rotationPolicy",))
    ):
        yield from _credential_age(g, base, merged, locate, f"site {site!r}")


def _own_rotation_date(override: Document, patch: dict[str, Any], scope: str) -> Iterator[Finding]:
    new_credentials = [k for k in ("username", "secretKey") if k in patch]
    if new_credentials and "credentialsRotated" not in patch:
        yield _at(
            override,
            ("spec", "patch", new_credentials[0]),
            "INTCFG-E213",
            f"{scope} the patch sets its own {' and '.join(new_credentials)} but not "
            "credentialsRotated, so the district's rotation date would be used for them; "
            "add credentialsRotated to the patch",
            key=True,
        )


# -- field mappings --------------------------------------------------------------------


def _steps(fmap: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [next(iter(step.items())) for step in fmap.get("transformations") or []]


def mapping_fields(g: Graph) -> Iterator[Finding]:
    for doc in g.by_kind["FieldMapping"]:
        fields = doc.data["spec"]["fields"]
        for target, fmap in fields.items():
            yield from _field_shape(doc, ("spec", "fields", target), target, fmap)
        if doc.data["spec"]["type"] == "import-student":
            yield from _required_targets(doc, fields)


def _field_shape(doc: Document, path: Path, target: str, fmap: dict[str, Any]) -> Iterator[Finding]:
    kind = fmap["type"]
    has = {k for k in ("source", "transformations", "matchCodes") if fmap.get(k) is not None}
    steps = _steps(fmap)

    def bad(rule: str, message: str, at: Path = ()) -> Finding:
        return _at(doc, path + at, rule, f"{target}: {message}", key=not at)

    if kind == "doNotMap":
        if fmap.get("overwrite"):
            yield bad("INTCFG-E209", "a Do Not Map field is not imported, so it cannot overwrite; remove overwrite", ("overwrite",))
        if has:
            yield bad("INTCFG-E216", f"a Do Not Map field takes no {', '.join(sorted(has))}")
        return
    if kind == "matchCodes" and "matchCodes" not in has:
        yield bad("INTCFG-E208", "Match Codes need a table: add matchCodes: {table: {SOURCE: CODE}}")
    if kind != "matchCodes" and "matchCodes" in has:
        yield bad("INTCFG-E216", f"matchCodes belongs to type matchCodes, not {kind}", ("matchCodes",))
    if kind == "transformation" and not steps:
        yield bad("INTCFG-E216", "type transformation needs transformations: [ {STEP: {ARGS}} ]")
    if kind != "transformation" and steps:
        yield bad("INTCFG-E216", f"transformations belong to type transformation, not {kind}", ("transformations",))
    needs_source = kind in ("direct", "matchCodes") or (steps and steps[0][0] not in SOURCE_FREE_STEPS)
    if needs_source and "source" not in has:
        yield bad("INTCFG-E216", f"type {kind} needs a source field")
    for i, (name, args) in enumerate(steps):
        for arg in ("from", "to", "format"):
            fmt = args.get(arg)
            if name in ("date", "today") and isinstance(fmt, str) and not _complete_date_format(fmt):
                yield bad(
                    "INTCFG-E108",
                    f"date format {fmt!r} needs one year (YYYY or YY), one month (MM or M) and one day (DD or D)",
                    ("transformations", i, name, arg),
                )
    if target == "students.DOB":
        yield from _dob(doc, path, fmap, steps)


def _complete_date_format(fmt: str) -> bool:
    tokens = re.findall(r"YYYY|YY|MM|M|DD|D", fmt)
    groups = [sum(t.startswith(c) for t in tokens) for c in "YMD"]
    return groups == [1, 1, 1]


def _dob(doc: Document, path: Path, fmap: dict[str, Any], steps: list[tuple[str, dict[str, Any]]]) -> Iterator[Finding]:
    if fmap["type"] == "matchCodes":
        yield _at(doc, path, "INTCFG-E207", "students.DOB must be YYYY-MM-DD: map it directly or through a Date transformation, not through Match Codes", key=True)
        return
    dated = [(i, name, args) for i, (name, args) in enumerate(steps) if name in ("date", "today")]
    if steps and not dated:
        yield _at(doc, path, "INTCFG-E207", "students.DOB must be YYYY-MM-DD: end the transformations with a Date transformation to YYYY-MM-DD", key=True)
    elif dated:
        i, name, args = dated[-1]
        out = args.get("to" if name == "date" else "format", ISO)
        if out != ISO:
            yield _at(
                doc,
                (*path, "transformations", i, name),
                "INTCFG-E207",
                f"students.DOB must be YYYY-MM-DD, but this {name} transformation writes {out!r}; set to: YYYY-MM-DD",
            )


def _required_targets(doc: Document, fields: dict[str, Any]) -> Iterator[Finding]:
    for target, what in REQUIRED_IMPORT_STUDENT.items():
        fmap = fields.get(target)
        if fmap is None:
            yield _at(
                doc,
                ("spec", "fields"),
                "INTCFG-E206",
                f"an import-student mapping must map {target}: {what}",
                key=True,
            )
        elif fmap["type"] == "doNotMap":
            yield _at(
                doc,
                ("spec", "fields", target, "type"),
                "INTCFG-E206",
                f"{target} is required when importing students and cannot be Do Not Map: map {what}",
            )


RULES: tuple[Callable[[Graph], Iterator[Finding]], ...] = (
    unique_names,
    districts_exist,
    unique_sites,
    connections_exist,
    schools_assigned,
    one_per_connection,
    schedules,
    timezones,
    urls,
    credential_age,
    overrides,
    mapping_fields,
)


def today() -> dt.date:
    """Today in UTC, or INTCFG_TODAY (YYYY-MM-DD) for reproducible runs."""
    fixed = os.environ.get("INTCFG_TODAY")
    if fixed:
        return dt.date.fromisoformat(fixed)
    return dt.datetime.now(dt.timezone.utc).date()


def run(settings: RepoSettings, valid: list[Document], all_docs: list[Document], root: str | None = None) -> list[Finding]:
    graph = Graph(settings, valid, all_docs, today())
    found = [f for rule in RULES for f in rule(graph)]
    return found + list(field_codes(graph, root)) if root else found


def _cached_codes(folder: str) -> dict[str, frozenset[str]]:
    """KIND -> codes of the Field Codes cache (field-codes/DISTRICT/KIND.csv)."""
    import csv

    out: dict[str, frozenset[str]] = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".csv"):
            try:
                with open(os.path.join(folder, name), newline="", encoding="utf-8") as fh:
                    out[name[:-4]] = frozenset(r["code"] for r in csv.DictReader(fh) if r.get("code"))
            except (OSError, UnicodeDecodeError, csv.Error, KeyError):
                continue  # an unreadable cache checks nothing; `intcfg field-codes` rewrites it
    return out


def field_codes(g: Graph, root: str) -> Iterator[Finding]:
    """Match-code targets must be codes of the enrollment system, when its Field Codes are
    cached in the repository (`intcfg field-codes`); offline, no cache means no check."""
    for doc in g.by_kind["FieldMapping"]:
        folder = os.path.join(root, "field-codes", _district(doc))
        if not os.path.isdir(folder):
            continue
        from ..transform.codes import check_codes

        for unknown in check_codes(doc.data["spec"]["fields"], _cached_codes(folder)):
            hint = f"; did you mean {unknown.suggestion!r}?" if getattr(unknown, "suggestion", None) else ""
            yield _at(
                doc,
                ("spec", "fields", *unknown.path),
                "INTCFG-E223",
                f"{unknown.target}: {unknown.code!r} is not a code of the enrollment system's "
                f"{unknown.code_set} (field-codes/{_district(doc)}/{unknown.code_set}.csv){hint}",
            )
