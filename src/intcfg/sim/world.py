"""What the live systems know before intcfg writes anything: districts and their schools,
the SIS students, and the vendor credentials (seeded through ``POST /_sim/seed``)."""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from . import students as sample
from .contract import ApiError
from .store import Store, dumps, loads, marks, now

VENDORS = ("powerschool", "aeries", "oneroster", "skyward", "ets", "etranscript")
# Token lifetimes the vendors document (PowerSchool 30 days, Aeries OneRoster 6 hours);
# the others are assumptions [U].
TOKEN_TTL = {
    "powerschool": 2_592_000,
    "oneroster": 21_600,
    "skyward": 3_600,
    "ets": 1_800,
    "etranscript": 3_600,
}
DEFAULT_CLIENT_ID = {"aeries": "certificate"}


def district(store: Store, district_id: str) -> dict[str, Any]:
    found = store.doc("SELECT data FROM districts WHERE id=?", (district_id,))
    if found is None:
        raise _unknown(district_id)
    return found


def require_district(store: Store, district_id: str) -> None:
    """ApiError 404 unless the district exists (without reading its record; once per
    transaction: every operation of a batch asks)."""
    if not store.fact(("district", district_id), lambda: _district_exists(store, district_id)):
        raise _unknown(district_id)


def _district_exists(store: Store, district_id: str) -> bool:
    return bool(store.query("SELECT 1 FROM districts WHERE id=?", (district_id,)))


def _unknown(district_id: str) -> ApiError:
    return ApiError(
        404,
        "unknown_district",
        f"district {district_id!r} is not known to this system; "
        "it must exist in the live system before integrations can be configured",
    )


def schools(store: Store, district_id: str) -> list[dict[str, Any]]:
    return store.docs("SELECT data FROM schools WHERE district=? ORDER BY id", (district_id,))


def school_ids(store: Store, district_id: str) -> frozenset[str]:
    """The ids of the district's schools (read once per transaction, like require_district)."""
    return store.fact(("schools", district_id), lambda: _school_ids(store, district_id))


def _school_ids(store: Store, district_id: str) -> frozenset[str]:
    rows = store.query("SELECT id FROM schools WHERE district=?", (district_id,))
    return frozenset(row[0] for row in rows)


def read_ahead(store: Store, district_ids: list[str], with_schools: list[str]) -> None:
    """Whether these districts exist, and the schools of ``with_schools``, read in one
    query each for what require_district and school_ids will ask in the open transaction
    (outside one, nothing is kept)."""
    if district_ids:
        rows = store.query(
            f"SELECT id FROM districts WHERE id IN ({marks(district_ids)})", tuple(district_ids)
        )
        found = {row[0] for row in rows}
        for did in district_ids:
            store.fact(("district", did), lambda did=did: did in found)  # type: ignore[misc]
    if with_schools:
        schools: dict[str, frozenset[str]] = dict.fromkeys(with_schools, frozenset())
        for did, ids in store.query(
            "SELECT district, json_group_array(id) FROM schools "
            f"WHERE district IN ({marks(with_schools)}) GROUP BY district",
            tuple(with_schools),
        ):
            schools[did] = frozenset(loads(ids))
        for did, ids in schools.items():
            store.fact(("schools", did), lambda ids=ids: ids)  # type: ignore[misc]


def student(store: Store, district_id: str, student_id: str) -> dict[str, Any]:
    found = store.doc(
        "SELECT data FROM students WHERE district=? AND id=?", (district_id, student_id)
    )
    if found is None:
        raise ApiError(
            404,
            "unknown_student",
            f"no student with Student Unique ID {student_id!r} in district {district_id!r}",
        )
    return found


def students(
    store: Store, district_id: str, offset: int = 0, limit: int = -1
) -> list[dict[str, Any]]:
    return store.docs(
        "SELECT data FROM students WHERE district=? ORDER BY seq LIMIT ? OFFSET ?",
        (district_id, limit, offset),
    )


def student_count(store: Store, district_id: str) -> int:
    return int(store.query("SELECT count(*) FROM students WHERE district=?", (district_id,))[0][0])


# -- seeding -------------------------------------------------------------------------------


def seed(store: Store, body: Any) -> dict[str, int]:
    if not isinstance(body, dict):
        raise ApiError(
            400, "invalid_seed", "the seed is a JSON object with districts and credentials"
        )
    districts = _list(body, "districts")
    credentials = _list(body, "credentials")
    with store.transaction() as db:
        for d in districts:
            _seed_district(db, d)
        for c in credentials:
            _seed_credential(store, db, c)
    return {"districts": len(districts), "credentials": len(credentials)}


def _list(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ApiError(400, "invalid_seed", f"{key} must be a list of objects")
    return value


def _text(item: dict[str, Any], key: str, default: str | None = None) -> str:
    value = item.get(key, default)
    if not isinstance(value, str) or not value:
        raise ApiError(400, "invalid_seed", f"{key} must be a non-empty string")
    return value


def _seed_district(db: Any, d: dict[str, Any]) -> None:
    did = _text(d, "id")
    record = {
        "id": did,
        "name": d.get("name") or did,
        "importsEnabled": bool(d.get("importsEnabled", True)),
        "schoolYearStart": d.get("schoolYearStart") or "07-01",
        "timezone": d.get("timezone") or "UTC",
    }
    db.execute("INSERT OR REPLACE INTO districts VALUES (?, ?)", (did, dumps(record)))
    sites = [_school(s) for s in d.get("schools", []) if isinstance(s, dict)]
    if "schools" in d:
        db.execute("DELETE FROM schools WHERE district=?", (did,))
        for s in sites:
            db.execute("INSERT INTO schools VALUES (?, ?, ?)", (did, s["id"], dumps(s)))
    spec = d.get("students")
    if isinstance(spec, dict):
        ids = [str(i) for i in spec.get("ids", []) if isinstance(i, (str, int))]
        count = spec.get("count", sample.DEFAULT_COUNT)
        count = count if isinstance(count, int) and 0 <= count <= 10_000 else sample.DEFAULT_COUNT
        db.execute("DELETE FROM students WHERE district=?", (did,))
        for seq, s in enumerate(
            sample.generate(did, sites or _stored_schools(db, did), ids, count)
        ):
            db.execute("INSERT INTO students VALUES (?, ?, ?, ?)", (did, s["id"], seq, dumps(s)))


def _stored_schools(db: Any, did: str) -> list[dict[str, Any]]:
    return [
        loads(r[0])
        for r in db.execute("SELECT data FROM schools WHERE district=? ORDER BY id", (did,))
    ]


def _school(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": _text(s, "id"),
        "name": s.get("name") or s["id"],
        "sisSchoolNumber": str(s.get("sisSchoolNumber") or ""),
        "stateSchoolCode": str(s.get("stateSchoolCode") or ""),
        "hasYearsAndTerms": bool(s.get("hasYearsAndTerms", True)),
    }


def _seed_credential(store: Store, db: Any, c: dict[str, Any]) -> None:
    vendor = _text(c, "vendor")
    if vendor not in VENDORS:
        raise ApiError(400, "invalid_seed", f"vendor {vendor!r} is not one of {', '.join(VENDORS)}")
    instance = _text(c, "instance")
    client_id = _text(c, "clientId", DEFAULT_CLIENT_ID.get(vendor))
    record: dict[str, Any] = {
        "vendor": vendor,
        "instance": instance,
        "clientId": client_id,
        "secret": store.digest(_text(c, "secret")),
        "expired": bool(c.get("expired", False)),
        "tokenTtl": int(c.get("tokenTtl", TOKEN_TTL.get(vendor, 3600))),
        "district": c.get("district"),
        "setAt": now(),
    }
    if vendor == "powerschool":
        record["pluginId"] = int(c.get("pluginId", 4242))
    if vendor == "skyward":
        record["entityIds"] = [int(e) for e in c.get("entityIds", [1])]
    if vendor == "etranscript":
        record["username"] = _text(c, "username")
        record["password"] = store.digest(_text(c, "password"))
        record["authPath"] = "/" + str(c.get("authPath", "/oauth/token")).lstrip("/")
    db.execute(
        "INSERT OR REPLACE INTO credentials VALUES (?, ?, ?, ?)",
        (vendor, instance, client_id, dumps(record)),
    )


# -- vendor credentials and tokens ------------------------------------------------------------


def credential(store: Store, vendor: str, instance: str, client_id: str) -> dict[str, Any] | None:
    return store.doc(
        "SELECT data FROM credentials WHERE vendor=? AND instance=? AND client_id=?",
        (vendor, instance, client_id),
    )


def instance_known(store: Store, vendor: str, instance: str) -> bool:
    return bool(
        store.query(
            "SELECT 1 FROM credentials WHERE vendor=? AND instance=? LIMIT 1", (vendor, instance)
        )
    )


def instance_district(store: Store, vendor: str, instance: str) -> str | None:
    for cred in store.docs(
        "SELECT data FROM credentials WHERE vendor=? AND instance=?", (vendor, instance)
    ):
        if cred.get("district"):
            return str(cred["district"])
    return None


def verify(
    store: Store, vendor: str, instance: str, client_id: str, secret: str
) -> tuple[str, dict[str, Any] | None]:
    """("ok" | "expired" | "invalid", the credential record)."""
    cred = credential(store, vendor, instance, client_id)
    if cred is None or not store.matches(secret, cred["secret"]):
        return "invalid", None
    return ("expired" if cred["expired"] else "ok"), cred


def issue_token(store: Store, cred: dict[str, Any], reuse: bool = False) -> tuple[str, int]:
    """A bearer token for ``cred`` and its lifetime in seconds (the same one again if ``reuse``)."""
    key = (cred["vendor"], cred["instance"], cred["clientId"])
    with store.transaction() as db:
        if reuse:
            row = db.execute(
                "SELECT token, expires_at FROM tokens WHERE vendor=? AND instance=? AND "
                "client_id=? AND expires_at>? "
                "ORDER BY expires_at DESC LIMIT 1",
                (*key, time.time()),
            ).fetchone()
            if row is not None:
                return row[0], max(0, int(row[1] - time.time()))
        token = str(uuid.uuid4()) if cred["vendor"] == "powerschool" else secrets.token_hex(16)
        ttl = int(cred["tokenTtl"])
        db.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, ?)", (token, *key, time.time() + ttl))
    return token, ttl


def check_token(
    store: Store, vendor: str, instance: str, header: str | None
) -> tuple[str, str | None]:
    """("ok" | "expired" | "invalid" | "missing", client id) for an Authorization header."""
    if not header:
        return "missing", None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return "invalid", None
    rows = store.query(
        "SELECT client_id, expires_at FROM tokens WHERE token=? AND vendor=? AND instance=?",
        (token.strip(), vendor, instance),
    )
    if not rows:
        return "invalid", None
    client_id, expires_at = rows[0]
    return ("ok" if expires_at > time.time() else "expired"), client_id


def state(store: Store) -> dict[str, Any]:
    """Districts, schools, students and credentials; secrets as fingerprints only."""
    out: dict[str, Any] = {"districts": []}
    for d in store.docs("SELECT data FROM districts ORDER BY id"):
        out["districts"].append(
            {**d, "schools": schools(store, d["id"]), "students": students(store, d["id"])}
        )
    out["credentials"] = [
        {
            **c,
            "secretFingerprint": c.pop("secret"),
            **({"passwordFingerprint": c.pop("password")} if "password" in c else {}),
        }
        for c in store.docs("SELECT data FROM credentials ORDER BY vendor, instance, client_id")
    ]
    out["tokensIssued"] = int(store.query("SELECT count(*) FROM tokens")[0][0])
    return out
