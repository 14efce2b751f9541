"""Configured objects of the admin API: upsert and delete by natural key, with revisions.

An object is addressed by (system, district, kind, name, site). ``revision`` starts at 1
and grows by one whenever the stored object changes: its spec, its managedBy, a secret
value, or a change the live system makes itself (a sandbox schedule turning off, a school
moving to another connection). A PUT that changes nothing changes nothing, so retries and
reruns are safe.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from . import world
from .contract import COLLECTIONS, ID_PREFIX, SITE_KINDS, SYSTEM_OF_KIND, ApiError, check_spec
from .store import Store, dumps, loads, marks, now

PUT_FIELDS = frozenset({"spec", "managedBy"})
KEY = "system=? AND district=? AND kind=? AND name=? AND site=?"
SELECT = f"SELECT data FROM objects WHERE {KEY}"
UPSERT = "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?)"


def get(
    store: Store, district: str, kind: str, name: str, site: str | None = None
) -> dict[str, Any] | None:
    return store.doc(SELECT, (SYSTEM_OF_KIND[kind], district, kind, name, site or ""))


def require(
    store: Store, district: str, kind: str, name: str, site: str | None = None
) -> dict[str, Any]:
    world.require_district(store, district)
    found = get(store, district, kind, name, site)
    if found is None:
        raise _not_found(district, kind, name, site)
    return found


def _not_found(district: str, kind: str, name: str, site: str | None) -> ApiError:
    where = f" for site {site!r}" if site else ""
    return ApiError(
        404, "not_found", f"{kind} {name!r}{where} does not exist in district {district!r}"
    )


def all_of(store: Store, district: str, kind: str) -> list[dict[str, Any]]:
    return store.docs(
        "SELECT data FROM objects WHERE system=? AND district=? AND kind=? ORDER BY name, site",
        (SYSTEM_OF_KIND[kind], district, kind),
    )


def page(
    store: Store, district: str, kind: str, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    world.require_district(store, district)
    after = _decode(cursor) if cursor else ("", "")
    rows = store.docs(
        "SELECT data FROM objects WHERE system=? AND district=? AND kind=? AND (name, site) > (?, "
        "?) "
        "ORDER BY name, site LIMIT ?",
        (SYSTEM_OF_KIND[kind], district, kind, *after, limit + 1),
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_encode(rows[-1]) if more else None)


def _encode(obj: dict[str, Any]) -> str:
    raw = json.dumps([obj["name"], obj["site"] or ""]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[str, str]:
    try:
        name, site = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(name, str) and isinstance(site, str):
            return name, site
    except (ValueError, TypeError):
        pass
    raise ApiError(
        400, "invalid_cursor", "cursor is not one this API returned; start again without it"
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
    checked = _checked_body(kind, body)
    with session(store) as s:
        return s._put(district, kind, name, site, checked, expected)


def delete(
    store: Store, district: str, kind: str, name: str, site: str | None, expected: int | None = None
) -> None:
    with session(store) as s:
        s.delete(district, kind, name, site, expected)


def check_references(
    store: Store, district: str, kind: str, name: str, spec: dict[str, Any]
) -> None:
    Session(store).check_references(district, kind, name, spec)


def take_schools(store: Store, db: Any, district: str, name: str, spec: dict[str, Any]) -> None:
    """A school has one sync connection per instance: assigning it here unassigns it elsewhere."""
    s = Session(store)
    s.take_schools(district, name, spec)
    s.flush(db)


@contextmanager
def session(store: Store) -> Iterator[Session]:
    """A Session in a transaction of its own (a savepoint inside another one), flushed
    when the block ends without an exception (with one, nothing of it is written)."""
    with store.transaction() as db:
        s = Session(store)
        yield s
        s.flush(db)


Checked = tuple[dict[str, Any], dict[str, str], str | None]  # spec, secret values, managedBy
Ref = tuple[str, str]  # (name, site or "") of an object within its district and kind


def _checked_body(kind: str, body: Any) -> Checked:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "the body is a JSON object: {spec, managedBy}")
    if not PUT_FIELDS.issuperset(body):
        unknown = sorted(set(body) - PUT_FIELDS)
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
    return spec, secret_values, managed_by


class Session:
    """The objects as the operations of one transaction see them, and what they change.

    The first time an operation addresses a district of a system, every object of that
    district in that system is read in one query (and parsed only when an operation uses
    it). The operations read and change that copy, each one seeing the ones before it, and
    ``flush`` writes what they changed in three statements: upserts, deletions, and the
    portal's log entries in order. Every check of an operation comes before its first
    change, so one that fails leaves no trace and needs no savepoint: a batch of a hundred
    operations is one session in one transaction.

    Every write carries one timestamp, the instant the session began (a transaction
    commits at one instant). Nothing changes an object in place: a change is a new dict.

    A session that changes anything lives inside ``store.transaction()``, in the thread
    that opened it: its lock and BEGIN IMMEDIATE keep every other writer out while the
    copy is in use (``session`` opens one; a session that only checks needs none).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.stamp = now()
        # (district, kind) -> {ref: the object, or its JSON text until an operation uses it}
        self._read: dict[tuple[str, str], dict[Ref, Any]] = {}
        # primary key -> the JSON text to store, or None: delete
        self._changed: dict[tuple[str, str, str, str, str], str | None] = {}
        self._log: list[tuple[str, str]] = []  # (district, entry) to append, in order
        self._districts: set[str] = set()  # known to exist
        self._school_ids: dict[str, frozenset[str]] = {}  # of the districts asked about
        self._random = b""  # for ids, drawn 64 at a time

    # -- reading -----------------------------------------------------------------------------------

    def read_ahead(self, system: str, districts: list[str], with_schools: list[str]) -> None:
        """Reads the objects of these districts in ``system``, whether the districts exist,
        and the schools of ``with_schools``: three queries for a batch instead of up to
        three for each district it addresses. Only a shortcut: what is not read ahead is
        read when an operation first needs it."""
        wanted = [
            d for d in dict.fromkeys(districts) if _sql_text(d) and not self._known(system, d)
        ]
        if wanted:
            self._load(system, wanted)
        world.read_ahead(
            self.store, wanted, [d for d in dict.fromkeys(with_schools) if _sql_text(d)]
        )

    def _known(self, system: str, district: str) -> bool:
        return (district, next(iter(COLLECTIONS[system]))) in self._read

    def _load(self, system: str, districts: list[str]) -> None:
        for d in districts:
            for kind in COLLECTIONS[system]:
                self._read[d, kind] = {}
        rows = self.store.query(
            "SELECT district, kind, name, site, data FROM objects "
            f"WHERE system=? AND district IN ({marks(districts)})",
            (system, *districts),
        )
        for d, kind, name, site, data in rows:
            self._read.setdefault((d, kind), {})[name, site] = data

    def _objects(self, district: str, kind: str) -> dict[Ref, Any]:
        objs = self._read.get((district, kind))
        if objs is None:
            self._load(SYSTEM_OF_KIND[kind], [district])
            objs = self._read[district, kind]
        return objs

    # Whether a district exists and which schools it has: the store's memo answers for the
    # transaction, the session's without its lock.

    def _require_district(self, district: str) -> None:
        if district not in self._districts:
            world.require_district(self.store, district)
            self._districts.add(district)

    def _schools_of(self, district: str) -> frozenset[str]:
        found = self._school_ids.get(district)
        if found is None:
            found = self._school_ids[district] = world.school_ids(self.store, district)
        return found

    def _check_site(self, district: str, kind: str, site: str | None) -> None:
        self._require_district(district)
        if site is None:
            return
        if kind not in SITE_KINDS:
            raise ApiError(
                400, "site_not_supported", f"{kind} has no per-site configuration; leave site out"
            )
        if site not in self._schools_of(district):
            raise ApiError(
                422,
                "unknown_site",
                f"site {site!r} is not a site of district {district!r}",
                hint="sites are the schools this system knows for the district",
            )

    def _new_id(self, kind: str) -> str:
        """A new object's id: random, like secrets.token_hex(8), from one draw of the
        system's random source per 64 ids."""
        if not self._random:
            self._random = os.urandom(8 * 64)
        raw, self._random = self._random[:8], self._random[8:]
        return f"{ID_PREFIX[kind]}_{raw.hex()}"

    def get(
        self, district: str, kind: str, name: str, site: str | None = None
    ) -> dict[str, Any] | None:
        objs = self._objects(district, kind)
        ref = (name, site or "")
        return _parsed(objs, ref) if ref in objs else None

    def all_of(self, district: str, kind: str) -> list[dict[str, Any]]:
        """Ordered by name and site, as the SQL of the module's all_of orders them."""
        objs = self._objects(district, kind)
        return [_parsed(objs, ref) for ref in sorted(objs)]

    # -- the operations ----------------------------------------------------------------------------

    def put(
        self,
        district: str,
        kind: str,
        name: str,
        site: str | None,
        body: Any,
        expected: int | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """(201 created | 200 updated or unchanged, the stored object)."""
        return self._put(district, kind, name, site, _checked_body(kind, body), expected)

    def _put(
        self,
        district: str,
        kind: str,
        name: str,
        site: str | None,
        checked: Checked,
        expected: int | None,
    ) -> tuple[int, dict[str, Any]]:
        spec, secret_values, managed_by = checked
        self._check_site(district, kind, site)
        existing = self.get(district, kind, name, site)
        check_revision(existing, expected)
        self.check_references(district, kind, name, spec)
        secrets_meta = _secrets(self.store, existing, secret_values, self.stamp)
        obj = _next(
            existing,
            district,
            kind,
            name,
            site,
            spec,
            managed_by,
            secrets_meta,
            self.stamp,
            self._new_id,
        )
        if obj is existing:
            # As SQLite would give it back (keys in order), if this session wrote it.
            text = self._changed.get((SYSTEM_OF_KIND[kind], district, kind, name, site or ""))
            return 200, (obj if text is None else loads(text))
        # Nothing below fails: the operation's changes start here.
        if kind == "SyncConnection":
            self.take_schools(district, name, spec)
        self._keep(obj)
        if kind in SITE_KINDS:
            self._entry(obj, "added" if existing is None else "updated")
        return (201 if existing is None else 200), obj

    def delete(
        self, district: str, kind: str, name: str, site: str | None, expected: int | None = None
    ) -> None:
        self._require_district(district)
        # What SQLite cannot be asked about (a lone surrogate) fails as a query would.
        name.encode()
        (site or "").encode()
        existing = self.get(district, kind, name, site)
        if existing is None:
            raise _not_found(district, kind, name, site)
        check_revision(existing, expected)
        if kind == "SyncConnection":
            self._check_unused(district, name)
        self._drop(existing)
        if kind in SITE_KINDS:
            self._entry(existing, "removed")

    # -- the enrollment system's references --------------------------------------------------------

    def check_references(
        self, district: str, kind: str, name: str, spec: dict[str, Any]
    ) -> None:
        if kind == "SyncConnection":
            known = self._schools_of(district)
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
            if (connection, "") not in self._objects(district, "SyncConnection"):
                raise ApiError(
                    422,
                    "unknown_connection",
                    f"connection {connection!r} does not exist in district {district!r}; "
                    "create the SyncConnection first",
                )
            field = "type" if kind == "FieldMapping" else "job"
            value = spec[field]
            objs = self._objects(district, kind)
            clash = None  # the first by name and site (as SQL would order them)
            for ref in objs:
                if ref[0] != name and (clash is None or ref < clash):
                    other = _parsed(objs, ref)["spec"]
                    if other.get("connection") == connection and other.get(field) == value:
                        clash = ref
            if clash is not None:
                raise ApiError(
                    409,
                    "duplicate",
                    f"connection {connection!r} already has a {kind} for {value!r}: "
                    f"{clash[0]!r}",
                )

    def take_schools(self, district: str, name: str, spec: dict[str, Any]) -> None:
        """A school has one sync connection per instance: assigning it here unassigns it
        elsewhere."""
        mine = set(spec.get("schools", []))
        for other in self.all_of(district, "SyncConnection"):
            if other["name"] == name or other["spec"]["instance"] != spec["instance"]:
                continue
            kept = [s for s in other["spec"].get("schools", []) if s not in mine]
            if len(kept) != len(other["spec"].get("schools", [])):
                self._touch(other, spec={**other["spec"], "schools": kept})

    def _check_unused(self, district: str, name: str) -> None:
        users = [
            f"{o['kind']} {o['name']!r}"
            for kind in ("FieldMapping", "Schedule")
            for o in self.all_of(district, kind)
            if o["spec"]["connection"] == name
        ]
        if users:
            raise ApiError(
                409,
                "in_use",
                f"connection {name!r} is still used by {', '.join(users)}; delete those first",
            )

    # -- changing ----------------------------------------------------------------------------------

    def _keep(self, obj: dict[str, Any]) -> None:
        ref = (obj["name"], obj["site"] or "")
        self._objects(obj["district"], obj["kind"])[ref] = obj
        self._changed[SYSTEM_OF_KIND[obj["kind"]], obj["district"], obj["kind"], *ref] = dumps(obj)

    def _drop(self, obj: dict[str, Any]) -> None:
        ref = (obj["name"], obj["site"] or "")
        del self._objects(obj["district"], obj["kind"])[ref]
        self._changed[SYSTEM_OF_KIND[obj["kind"]], obj["district"], obj["kind"], *ref] = None

    def _touch(self, obj: dict[str, Any], **changes: Any) -> dict[str, Any]:
        """The live system changing an object itself (a new revision, managedBy kept)."""
        new = {**obj, **changes, "revision": obj["revision"] + 1, "updatedAt": self.stamp}
        self._keep(new)
        return new

    def _entry(self, obj: dict[str, Any], action: str) -> None:
        """The portal's log of configured integrations."""
        entry = {
            "at": self.stamp,
            "action": action,
            "name": obj["name"],
            "site": obj["site"],
            "by": obj.get("managedBy") or "admin screen",
            "revision": obj["revision"],
        }
        self._log.append((obj["district"], dumps(entry)))

    def flush(self, db: Any) -> None:
        """Writes what the operations changed, in the transaction still open (and forgets
        what it read: the session is done)."""
        gone = [key for key, text in self._changed.items() if text is None]
        kept = [(*key, text) for key, text in self._changed.items() if text is not None]
        if gone:
            db.executemany(f"DELETE FROM objects WHERE {KEY}", gone)
        if kept:
            db.executemany(UPSERT, kept)
        if self._log:
            db.executemany("INSERT INTO integration_log (district, data) VALUES (?, ?)", self._log)
        self._changed.clear()
        self._log.clear()
        self._read.clear()


def _parsed(objs: dict[Ref, Any], ref: Ref) -> dict[str, Any]:
    found = objs[ref]
    if isinstance(found, str):
        found = objs[ref] = loads(found)
    return found  # type: ignore[no-any-return]


def _sql_text(value: str) -> bool:
    """Whether SQLite can be asked about ``value`` (a lone surrogate cannot be encoded)."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _secrets(
    store: Store, existing: dict[str, Any] | None, values: dict[str, str], stamp: str
) -> dict[str, Any]:
    old = existing.get("secrets", {}) if existing else {}
    out = {}
    for path, value in values.items():
        digest = store.digest(value)
        same = old.get(path, {}).get("digest") == digest
        out[path] = {"digest": digest, "setAt": old[path]["setAt"] if same else stamp}
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
    stamp: str,
    new_id: Callable[[str], str],
) -> dict[str, Any]:
    if existing is not None and (
        existing["spec"],
        existing["managedBy"],
        existing.get("secrets", {}),
    ) == (spec, managed_by, secrets_meta):
        return existing
    obj = {
        "id": existing["id"] if existing else new_id(kind),
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
        UPSERT,
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


# -- the portal's log of configured integrations --------------------------------------------------


def log_page(
    store: Store, district: str, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    world.require_district(store, district)
    after = int(cursor) if cursor and cursor.isdigit() else 0
    if cursor and not cursor.isdigit():
        raise ApiError(
            400, "invalid_cursor", "cursor is not one this API returned; start again without it"
        )
    rows = store.query(
        "SELECT seq, data FROM integration_log WHERE district=? AND seq>? ORDER BY seq LIMIT ?",
        (district, after, limit + 1),
    )
    items = [{"seq": seq, **loads(data)} for seq, data in rows[:limit]]
    return items, (str(items[-1]["seq"]) if len(rows) > limit else None)
