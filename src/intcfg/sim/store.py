"""The simulator's state in SQLite: one connection, WAL, one lock around every use.

Requests are short, so a single connection behind a lock is both safe and fast enough;
WAL lets a second process (``intcfg sim serve`` next to an in-process ``sim://``) read
while one writes. Secret values are never stored: only an HMAC under the database's
own random key, which is enough to check a credential and to show a fingerprint.
"""

from __future__ import annotations

import datetime as dt
import hmac
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS districts (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS schools (
    district TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (district, id));
CREATE TABLE IF NOT EXISTS students (
    district TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (district, id));
CREATE TABLE IF NOT EXISTS credentials (
    vendor TEXT NOT NULL, instance TEXT NOT NULL, client_id TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (vendor, instance, client_id));
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, vendor TEXT NOT NULL, instance TEXT NOT NULL,
    client_id TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    system TEXT NOT NULL, district TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
    site TEXT NOT NULL DEFAULT '', data TEXT NOT NULL,
    PRIMARY KEY (system, district, kind, name, site));
CREATE TABLE IF NOT EXISTS integration_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, district TEXT NOT NULL, data TEXT NOT NULL);
"""
T = TypeVar("T")
TABLES = ("districts", "schools", "students", "credentials", "tokens", "objects", "integration_log")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Store:
    """Rows as JSON documents, keyed by natural keys. Thread-safe."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=10.0
        )
        self._lock = threading.RLock()
        self._depth = 0  # transactions open in the thread that holds the lock
        self._facts: dict[Hashable, Any] = {}  # what fact() read in the open transaction
        with self._lock:
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                # A simulator need not survive a power cut: without this every committed
                # write waits for an fsync (10,000 upserts of one apply spent most of their
                # time there), which a benchmark of intcfg would count as intcfg's.
                self._db.execute("PRAGMA synchronous=NORMAL")
                os.chmod(self.path, 0o600)
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(SCHEMA)
            self._key = self._meta_key()
            # The key set up once: each digest starts from a copy of this one.
            self._hmac = hmac.new(self._key, digestmod="sha256")

    def _meta_key(self) -> bytes:
        row = self._db.execute("SELECT value FROM meta WHERE key='hmac_key'").fetchone()
        if row is None:
            self._db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('hmac_key', ?)", (secrets.token_hex(32),)
            )
            row = self._db.execute("SELECT value FROM meta WHERE key='hmac_key'").fetchone()
        return bytes.fromhex(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Serialises writers in this process; BEGIN IMMEDIATE serialises other processes.

        Inside another transaction of this thread it is a savepoint: its failure undoes only
        its own writes, and they are committed with the outer transaction.
        """
        with self._lock:
            self._depth += 1
            begin, undo, end = (
                ("BEGIN IMMEDIATE", "ROLLBACK", "COMMIT")
                if self._depth == 1
                else (f"SAVEPOINT s{self._depth}", f"ROLLBACK TO s{self._depth}", f"RELEASE s{self._depth}")
            )
            try:
                self._db.execute(begin)
                try:
                    yield self._db
                except BaseException:
                    self._db.execute(undo)
                    if self._depth > 1:
                        self._db.execute(end)
                    raise
                self._db.execute(end)
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._facts.clear()

    def fact(self, key: Hashable, read: Callable[[], T]) -> T:
        """``read()``, read once per outermost transaction and remembered until it ends.

        Only for what no transaction writes and then reads back: whether a district exists
        and which schools it has (only seeding and reset write those, and neither reads
        them). A batch of a hundred operations in one district then asks SQLite once
        instead of a hundred times; while the transaction is open, its lock and BEGIN
        IMMEDIATE keep every other writer out. Outside a transaction it just reads.
        """
        with self._lock:
            if self._depth == 0:
                return read()
            if key not in self._facts:
                self._facts[key] = read()
            return self._facts[key]  # type: ignore[no-any-return]

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def docs(self, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """The JSON ``data`` column of each row (the query selects it first)."""
        return [orjson.loads(row[0]) for row in self.query(sql, args)]

    def doc(self, sql: str, args: tuple[Any, ...] = ()) -> dict[str, Any] | None:
        found = self.docs(sql, args)
        return found[0] if found else None

    def digest(self, value: str) -> str:
        """The keyed fingerprint under which a secret value is kept."""
        mac = self._hmac.copy()
        mac.update(value.encode("utf-8"))
        return "hmac-sha256:" + mac.hexdigest()

    def matches(self, value: str, digest: str | None) -> bool:
        return digest is not None and hmac.compare_digest(self.digest(value), digest)

    def reset(self) -> None:
        with self.transaction() as db:
            for table in TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names


def marks(values: list[str]) -> str:
    """The placeholders of ``IN (...)`` for ``values``."""
    return ",".join("?" * len(values))


def dumps(data: Any) -> str:
    """A document as stored: compact JSON, keys sorted. What is stored came through
    ``web.json_body`` (no number JSON cannot carry, no integer beyond 64 bits) or from the
    simulator itself, so orjson encodes all of it and reads it back unchanged."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)
