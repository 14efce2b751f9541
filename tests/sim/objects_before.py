"""The simulator's writes as they were before objects.Session: each operation on its own,
straight against SQLite, in a transaction (a savepoint inside a batch's) of its own.

Kept only as the reference test_batch_session.py compares the sessions with; a copy of
objects.py at the commit before the sessions, trimmed to the writes.
"""

from __future__ import annotations

import secrets
from typing import Any

from intcfg.sim import world
from intcfg.sim.contract import ID_PREFIX, SITE_KINDS, SYSTEM_OF_KIND, ApiError, check_spec
from intcfg.sim.store import Store, dumps, now

PUT_FIELDS = frozenset({"spec", "managedBy"})
KEY = "system=? AND district=? AND kind=? AND name=? AND site=?"
SELECT = f"SELECT data FROM objects WHERE {KEY}"
EXISTS = f"SELECT 1 FROM objects WHERE {KEY}"


def get(
    store: Store, district: str, kind: str, name: str, site: str | None = None
) -> dict[str, Any] | None:
    return store.doc(SELECT, (SYSTEM_OF_KIND[kind], district, kind, name, site or ""))


def exists(store: Store, district: str, kind: str, name: str) -> bool:
    """Whether the object exists (without reading it: a reference check needs no more)."""
    return bool(store.query(EXISTS, (SYSTEM_OF_KIND[kind], district, kind, name, "")))


def require(
    store: Store, district: str, kind: str, name: str, site: str | None = None
) -> dict[str, Any]:
    world.require_district(store, district)
    found = get(store, district, kind, name, site)
    if found is None:
        where = f" for site {site!r}" if site else ""
        raise ApiError(
            404, "not_found", f"{kind} {name!r}{where} does not exist in district {district!r}"
        )
    return found


def all_of(store: Store, district: str, kind: str) -> list[dict[str, Any]]:
    return store.docs(
        "SELECT data FROM objects WHERE system=? AND district=? AND kind=? ORDER BY name, site",
        (SYSTEM_OF_KIND[kind], district, kind),
    )


def check_revision(existing: dict[str, Any] | None, expected: int | None) -> None:
    """If-Match: the caller's last-seen revision (0: the object must not exist yet)."""
    if expected is None:
        return
    actual = existing["revision"] if existing else 0
    if actual != expected:
        raise ApiError(
            412,
            "revision_mismatch",
            f"the object is at revision {actual}, not {expected}: "
            "it changed since it was read; read it again",
        )


def put(
    store: Store,
    district: str,
    kind: str,
    name: str,
    site: str | None,
    body: Any,
    expected: int | None = None,
) -> tuple[int, dict[str, Any]]:
    """(201 created | 200 updated or unchanged, the stored object)."""
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "the body is a JSON object: {spec, managedBy}")
    unknown = sorted(set(body) - PUT_FIELDS)
    if unknown:
        raise ApiError(
            422, "invalid_body", f"unknown field {unknown[0]!r} (allowed: managedBy, spec)"
        )
    managed_by = body.get("managedBy")
    if managed_by is not None and (
        not isinstance(managed_by, str) or not 0 < len(managed_by) <= 100
    ):
        raise ApiError(
            422, "invalid_managed_by", "managedBy is a string of 1 to 100 characters, or null"
        )
    spec, secret_values = check_spec(kind, body.get("spec"))
    with store.transaction() as db:
        _check_site(store, district, kind, site)
        existing = get(store, district, kind, name, site)
        check_revision(existing, expected)
        check_references(store, district, kind, name, spec)
        secrets_meta = _secrets(store, existing, secret_values)
        obj = _next(existing, district, kind, name, site, spec, managed_by, secrets_meta)
        if obj is existing:
            return 200, obj
        if kind == "SyncConnection":
            take_schools(store, db, district, name, spec)
        write(db, obj)
        if kind in SITE_KINDS:
            log(db, obj, "added" if existing is None else "updated")
    return (201 if existing is None else 200), obj


def _check_site(store: Store, district: str, kind: str, site: str | None) -> None:
    world.require_district(store, district)
    if site is None:
        return
    if kind not in SITE_KINDS:
        raise ApiError(
            400, "site_not_supported", f"{kind} has no per-site configuration; leave site out"
        )
    if site not in world.school_ids(store, district):
        raise ApiError(
            422,
            "unknown_site",
            f"site {site!r} is not a site of district {district!r}",
            hint="sites are the schools this system knows for the district",
        )


def _secrets(
    store: Store, existing: dict[str, Any] | None, values: dict[str, str]
) -> dict[str, Any]:
    old = existing.get("secrets", {}) if existing else {}
    out = {}
    for path, value in values.items():
        digest = store.digest(value)
        same = old.get(path, {}).get("digest") == digest
        out[path] = {"digest": digest, "setAt": old[path]["setAt"] if same else now()}
    return out


def _next(
    existing: dict[str, Any] | None,
    district: str,
    kind: str,
    name: str,
    site: str | None,
    spec: dict[str, Any],
    managed_by: str | None,
    secrets_meta: dict[str, Any],
) -> dict[str, Any]:
    if existing is not None and (
        existing["spec"],
        existing["managedBy"],
        existing.get("secrets", {}),
    ) == (spec, managed_by, secrets_meta):
        return existing
    stamp = now()
    obj = {
        "id": existing["id"] if existing else f"{ID_PREFIX[kind]}_{secrets.token_hex(8)}",
        "revision": existing["revision"] + 1 if existing else 1,
        "managedBy": managed_by,
        "createdAt": existing["createdAt"] if existing else stamp,
        "updatedAt": stamp,
        "district": district,
        "kind": kind,
        "name": name,
        "site": site,
        "spec": spec,
        "secrets": secrets_meta,
    }
    if existing is not None and "status" in existing:
        obj["status"] = existing["status"]
    return obj


def write(db: Any, obj: dict[str, Any]) -> None:
    db.execute(
        "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?)",
        (
            SYSTEM_OF_KIND[obj["kind"]],
            obj["district"],
            obj["kind"],
            obj["name"],
            obj["site"] or "",
            dumps(obj),
        ),
    )


def touch(db: Any, obj: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The live system changing an object itself (a new revision, managedBy kept)."""
    new = {**obj, **changes, "revision": obj["revision"] + 1, "updatedAt": now()}
    write(db, new)
    return new


def delete(
    store: Store, district: str, kind: str, name: str, site: str | None, expected: int | None = None
) -> None:
    with store.transaction() as db:
        existing = require(store, district, kind, name, site)
        check_revision(existing, expected)
        if kind == "SyncConnection":
            _check_unused(store, district, name)
        db.execute(
            f"DELETE FROM objects WHERE {KEY}",
            (SYSTEM_OF_KIND[kind], district, kind, name, site or ""),
        )
        if kind in SITE_KINDS:
            log(db, existing, "removed")


# -- the enrollment system's references ----------------------------------------------------------


def check_references(
    store: Store, district: str, kind: str, name: str, spec: dict[str, Any]
) -> None:
    if kind == "SyncConnection":
        known = world.school_ids(store, district)
        unknown = [s for s in spec.get("schools", []) if s not in known]
        if unknown:
            raise ApiError(
                422,
                "unknown_school",
                f"school {unknown[0]!r} is not a school of district {district!r} "
                f"(its schools: {', '.join(sorted(known)) or 'none'})",
            )
    elif kind in ("FieldMapping", "Schedule"):
        connection = spec["connection"]
        if not exists(store, district, "SyncConnection", connection):
            raise ApiError(
                422,
                "unknown_connection",
                f"connection {connection!r} does not exist in district {district!r}; "
                "create the SyncConnection first",
            )
        field = "type" if kind == "FieldMapping" else "job"
        clash = store.query(
            "SELECT name FROM objects WHERE system=? AND district=? AND kind=? AND name<>? "
            "AND json_extract(data, '$.spec.connection')=? AND json_extract(data, ?)=? "
            "ORDER BY name, site LIMIT 1",
            (
                SYSTEM_OF_KIND[kind],
                district,
                kind,
                name,
                connection,
                f"$.spec.{field}",
                spec[field],
            ),
        )
        if clash:
            raise ApiError(
                409,
                "duplicate",
                f"connection {connection!r} already has a {kind} for {spec[field]!r}: "
                f"{clash[0][0]!r}",
            )


def take_schools(store: Store, db: Any, district: str, name: str, spec: dict[str, Any]) -> None:
    """A school has one sync connection per instance: assigning it here unassigns it elsewhere."""
    mine = set(spec.get("schools", []))
    for other in all_of(store, district, "SyncConnection"):
        if other["name"] == name or other["spec"]["instance"] != spec["instance"]:
            continue
        kept = [s for s in other["spec"].get("schools", []) if s not in mine]
        if len(kept) != len(other["spec"].get("schools", [])):
            touch(db, other, spec={**other["spec"], "schools": kept})


def _check_unused(store: Store, district: str, name: str) -> None:
    users = [
        f"{o['kind']} {o['name']!r}"
        for kind in ("FieldMapping", "Schedule")
        for o in all_of(store, district, kind)
        if o["spec"]["connection"] == name
    ]
    if users:
        raise ApiError(
            409,
            "in_use",
            f"connection {name!r} is still used by {', '.join(users)}; delete those first",
        )


# -- the portal's log of configured integrations --------------------------------------------------


def log(db: Any, obj: dict[str, Any], action: str) -> None:
    entry = {
        "at": now(),
        "action": action,
        "name": obj["name"],
        "site": obj["site"],
        "by": obj.get("managedBy") or "admin screen",
        "revision": obj["revision"],
    }
    db.execute(
        "INSERT INTO integration_log (district, data) VALUES (?, ?)",
        (obj["district"], dumps(entry)),
    )
