"""The simulator's store: a transaction inside another is a savepoint of it; secrets are kept
as keyed digests."""

from __future__ import annotations

import hmac
from pathlib import Path

import pytest

from intcfg.sim.store import Store


def _names(store: Store) -> list[str]:
    return [row[0] for row in store.query("SELECT id FROM districts ORDER BY id")]


def test_an_inner_failure_undoes_only_its_own_writes_and_the_rest_commit_together(tmp_path: Path) -> None:
    store = Store(tmp_path / "sim.sqlite3")
    with store.transaction() as db:
        db.execute("INSERT INTO districts (id, data) VALUES ('a', '{}')")
        with pytest.raises(ValueError), store.transaction() as inner:
            inner.execute("INSERT INTO districts (id, data) VALUES ('b', '{}')")
            raise ValueError("this operation fails")
        with store.transaction() as inner:
            inner.execute("INSERT INTO districts (id, data) VALUES ('c', '{}')")
        # Not yet visible to another connection: the outer transaction is still open.
        other = Store(tmp_path / "sim.sqlite3")
        assert _names(other) == []
    assert _names(other) == ["a", "c"]
    other.close()
    store.close()


def test_an_outer_failure_undoes_the_inner_writes_too(tmp_path: Path) -> None:
    store = Store(tmp_path / "sim.sqlite3")
    with pytest.raises(RuntimeError), store.transaction() as db:
        db.execute("INSERT INTO districts (id, data) VALUES ('a', '{}')")
        with store.transaction() as inner:
            inner.execute("INSERT INTO districts (id, data) VALUES ('b', '{}')")
        raise RuntimeError("the whole batch fails")
    assert _names(store) == []
    with store.transaction() as db:  # and the store is usable afterwards
        db.execute("INSERT INTO districts (id, data) VALUES ('d', '{}')")
    assert _names(store) == ["d"]
    store.close()


def test_a_digest_is_hmac_sha256_under_the_databases_own_key(tmp_path: Path) -> None:
    store = Store(tmp_path / "sim.sqlite3")
    key = bytes.fromhex(store.query("SELECT value FROM meta WHERE key='hmac_key'")[0][0])
    for value in ("s3cret", "", "mot de passe é", "x" * 200):
        expected = "hmac-sha256:" + hmac.digest(key, value.encode(), "sha256").hex()
        assert store.digest(value) == expected
        assert store.digest(value) == expected  # the set-up key is copied, never consumed
        assert store.matches(value, expected)
    again = Store(tmp_path / "sim.sqlite3")  # the same database, the same key
    assert again.digest("s3cret") == store.digest("s3cret")
    again.close()
    store.close()
