"""`intcfg import`: YAML for what the live systems hold today (adopting a district).

For one district, every object of the chosen systems becomes a document, one file per
kind under OUT/districts/DISTRICT/. A per-site object (the portal's per-LEA ETS
integration) becomes a SiteOverride whose patch holds only the fields that differ from
the district-wide object. Secrets are write-only in the live systems, so each secret
field becomes an ``{env: NAME}`` reference with a generated name (district, object,
site, field: RIVERSIDE_USD_PARCHMENT_CONSUMER_SECRET); a site gets variables of its own,
since per-site credentials are why sites exist. The District comes from the enrollment
system's district record (name, time zone, school year start, schools) unless the
repository defines it already.

Adoption: the imported objects are written into the audit branch's last-applied state
(one commit, "intcfg import: adopted N objects"), so the next plan sees them as managed
and in sync; their secret references carry no fingerprint, so a later apply sets them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from .desired import KIND_ORDER, SYSTEM_OF_KIND, Address
from .diff import Applied, flatten, is_secret_ref, secret_key
from .errors import ConfigError
from .secrets import secret_paths

FILE_OF_KIND = {
    "ETranscriptVendor": "etranscript-vendors.yaml",
    "StateAssessmentIntegration": "state-assessment.yaml",
    "SyncConnection": "sync-connections.yaml",
    "FieldMapping": "field-mappings.yaml",
    "Schedule": "schedules.yaml",
}
DISTRICT_FILE = "district.yaml"


class Imported(NamedTuple):
    files: tuple[Path, ...]  # written
    variables: tuple[str, ...]  # environment variables to set
    adopted: int  # objects recorded as managed
    district_written: bool  # a District document from the live system
    audit_commit: str | None


def env_name(*parts: str) -> str:
    """RIVERSIDE_USD_PARCHMENT_CONSUMER_SECRET from ('riverside-usd', 'parchment', 'consumerSecret')."""
    words = [re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", p) for p in parts if p]
    return re.sub(r"[^A-Za-z0-9]+", "_", "_".join(words)).strip("_").upper()


def _with_refs(kind: str, spec: dict[str, Any], prefix: tuple[str, ...]) -> tuple[dict[str, Any], list[str]]:
    """``spec`` with an env reference at each of the kind's secret fields."""
    out, names = _copy(spec), []
    vendor = spec.get("vendor")
    for path in secret_paths(kind):
        node = out
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            continue
        shown = [p for p in path if p != vendor]
        name = env_name(*prefix, *shown)
        node[path[-1]] = {"env": name}
        names.append(name)
    return out, names


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _patch(base: dict[str, Any], site: dict[str, Any]) -> dict[str, Any]:
    """The RFC 7386 merge patch that turns ``base`` into ``site``."""
    patch: dict[str, Any] = {}
    for key in sorted(set(base) | set(site), key=lambda k: (k not in site, k)):
        if key not in site:
            patch[key] = None
        elif isinstance(base.get(key), dict) and isinstance(site[key], dict) and not is_secret_ref(site[key]):
            inner = _patch(base[key], site[key])
            if inner:
                patch[key] = inner
        elif base.get(key) != site[key]:
            patch[key] = site[key]
    return patch


def _document(kind: str, district: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "intcfg/v1", "kind": kind, "metadata": {"name": name, "district": district}, "spec": spec}


def _site_override(district: str, target: Any, site: str, patch: dict[str, Any]) -> dict[str, Any]:
    spec = {"target": {"kind": target.kind, "name": target.name}, "site": site, "patch": patch}
    return _document("SiteOverride", district, f"{target.name}-{site}", spec)


class _Built(NamedTuple):
    documents: dict[str, list[dict[str, Any]]]  # kind -> documents
    variables: list[str]
    state: dict[Address, Applied]


def build(district: str, live: list[Any]) -> _Built:
    """Documents, variables and last-applied state for the district's live objects."""
    documents: dict[str, list[dict[str, Any]]] = {}
    variables: list[str] = []
    state: dict[Address, Applied] = {}
    bases = {(o.kind, o.name): o for o in live if o.site is None}
    for obj in sorted(live, key=lambda o: (KIND_ORDER.index(o.kind), o.name, o.site or "")):
        prefix = (district, obj.name, obj.site or "")
        spec, names = _with_refs(obj.kind, obj.spec, prefix)
        variables += names
        address = Address(SYSTEM_OF_KIND[obj.kind], district, obj.kind, obj.name, obj.site)
        state[address] = Applied(obj.id, obj.revision, _leaves(spec))
        if obj.site is None:
            documents.setdefault(obj.kind, []).append(_document(obj.kind, district, obj.name, spec))
            continue
        base = bases.get((obj.kind, obj.name))
        if base is None:
            raise ConfigError(f"{address}: a per-site object without its district-wide one cannot be imported")
        base_spec, _ = _with_refs(obj.kind, base.spec, (district, obj.name, ""))
        documents.setdefault(obj.kind, []).append(_site_override(district, obj, obj.site, _patch(base_spec, spec)))
    return _Built(documents, variables, state)


def _leaves(spec: dict[str, Any]) -> dict[str, Any]:
    return {p: secret_key(v, None) if is_secret_ref(v) else v for p, v in flatten(spec).items()}


def district_document(record: dict[str, Any]) -> dict[str, Any]:
    sites = [
        {
            "id": s["id"],
            "name": s.get("name") or s["id"],
            **({"stateSchoolCode": s["stateSchoolCode"]} if s.get("stateSchoolCode") else {}),
            **({"sisSchoolNumber": s["sisSchoolNumber"]} if s.get("sisSchoolNumber") else {}),
        }
        for s in record.get("schools") or []
    ]
    spec = {
        "name": record.get("name") or record["id"],
        "timezone": record.get("timezone") or "UTC",
        "schoolYearStart": record.get("schoolYearStart") or "07-01",
        "sites": sites,
    }
    return {"apiVersion": "intcfg/v1", "kind": "District", "metadata": {"name": record["id"]}, "spec": spec}


class _Dumper(yaml.SafeDumper):
    """Secret references in flow style, {env: NAME}, as people write them."""


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    flow = is_secret_ref(data) or not data
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


_Dumper.add_representer(dict, _represent_dict)


def render(documents: list[dict[str, Any]], name: str) -> str:
    """Documents as canonical intcfg YAML (intcfg.fmt)."""
    from .fmt import format_text

    text = yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return format_text(name, text).after


# -- reading the live systems and writing --------------------------------------------------------


async def read(repository: Any, district: str, systems: tuple[str, ...], live: str | None) -> tuple[list[Any], dict[str, Any]]:
    from .providers.connect import open_providers

    async with open_providers(repository, live) as providers:
        record = await providers["enroll"].district(district)
        jobs = [
            providers[system].list(district, kind)
            for kind, system in SYSTEM_OF_KIND.items()
            if system in systems
        ]
        found = await asyncio.gather(*jobs)
    return [o for objects in found for o in objects], record


def execute(
    start: Path | None, district: str, systems: tuple[str, ...], out: Path | None, live: str | None = None
) -> Imported:
    from .engine import load_repository

    repository = load_repository(start)
    objects, record = asyncio.run(read(repository, district, systems, live))
    built = build(district, objects)
    folder = (out or repository.root) / "districts" / district
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for kind, documents in built.documents.items():
        path = folder / FILE_OF_KIND[kind]
        path.write_text(render(documents, str(path)), encoding="utf-8")
        files.append(path)
    write_district = district not in repository.desired().districts
    if write_district:
        path = folder / DISTRICT_FILE
        path.write_text(render([district_document(record)], str(path)), encoding="utf-8")
        files.append(path)
    commit = adopt(repository, built.state) if built.state else None
    return Imported(tuple(files), tuple(dict.fromkeys(built.variables)), len(built.state), write_district, commit)


def adopt(repository: Any, adopted: dict[Address, Applied]) -> str:
    """Record the imported objects as last applied: one audit commit."""
    import json

    from . import audit, loop
    from .plan import digest_of

    branch = repository.settings.audit_branch
    head = audit.read(repository.root, branch)
    state = {**head.state, **adopted}
    stamp = dt.datetime.now(dt.timezone.utc)
    record = {
        "format": audit.RECORD_FORMAT,
        "version": audit.VERSION,
        "at": stamp.isoformat(),
        "actor": loop.actor(),
        "result": "import",
        "adopted": [str(a) for a in sorted(adopted, key=Address.sort_key)],
    }
    commit = audit.Commit(
        subject=f"intcfg import: adopted {len(adopted)} objects",
        body="\n".join(f"adopted {a}" for a in sorted(adopted, key=Address.sort_key)),
        trailers={"Intcfg-Result": "import", "Intcfg-Actor": loop.actor()},
        record=json.loads(json.dumps(record)),
        record_name=f"{stamp:%Y%m%dT%H%M%SZ}-{digest_of(record)[7:19]}.json",
        state=state,
    )
    return audit.write(repository.root, branch, head.commit, commit)


# -- Field Codes ---------------------------------------------------------------------------------

CODE_KINDS = ("states", "countries", "languages", "races", "ethnicities", "genders", "custom-fields")
CODES_DIR = "field-codes"


def codes_text(codes: list[dict[str, str]], fmt: str) -> str:
    import csv
    import io
    import json

    if fmt == "json":
        return json.dumps(codes, indent=2, ensure_ascii=False) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["code", "description"], lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(codes)
    return out.getvalue()


def download_codes(
    start: Path | None, kinds: tuple[str, ...], fmt: str, out: Path | None, live: str | None = None
) -> list[Path]:
    """Each district's Field Codes sets, cached as OUT/DISTRICT/KIND.(csv|json)
    (default OUT: field-codes/ in the repository)."""
    from .engine import load_repository

    repository = load_repository(start)
    districts = sorted(repository.desired().districts)
    found = asyncio.run(_codes(repository, districts, kinds, live))
    folder = out or repository.root / CODES_DIR
    written = []
    for (district, kind), codes in found.items():
        path = folder / district / f"{kind}.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(codes_text(codes, fmt), encoding="utf-8")
        written.append(path)
    return written


async def _codes(
    repository: Any, districts: list[str], kinds: tuple[str, ...], live: str | None
) -> dict[tuple[str, str], list[dict[str, str]]]:
    from .providers.connect import open_providers

    async with open_providers(repository, live) as providers:
        keys = [(d, k) for d in districts for k in kinds]
        sets = await asyncio.gather(*(providers["enroll"].field_codes(d, k) for d, k in keys))
    return dict(zip(keys, sets, strict=True))
