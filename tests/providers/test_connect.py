"""Live URLs: sim:// runs the simulator in process; http(s):// needs the admin token."""

from __future__ import annotations

from pathlib import Path

import pytest
from provkit import (
    mocked_fixture,  # noqa: F401 - fixtures
    run,
)

from intcfg.engine import load_repository
from intcfg.errors import ConfigError, SecretError
from intcfg.providers.base import BatchOp
from intcfg.providers.connect import open_providers, sim_db

CANARY = "canary-connect-etr-81b2"


def _spec() -> dict[str, object]:
    return {
        "displayName": "Parchment",
        "authServer": "https://auth.example.org",
        "authPath": "/oauth/token",
        "uploadServer": "https://up.example.org",
        "uploadPort": 443,
        "uploadPath": "/t",
        "consumerKey": "k",
        "consumerSecret": CANARY,
        "userName": "u",
        "password": CANARY + "-pw",
    }


def test_sim_url_round_trip_through_the_providers(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INTCFG_ADMIN_TOKEN", raising=False)
    repository = load_repository(example_repo)

    async def go() -> None:
        async with open_providers(repository, "sim://") as providers:
            sis = providers["sis"]
            created = await sis.put(
                "riverside-usd", "ETranscriptVendor", "parchment", None, _spec()
            )
            assert (created.revision, created.managed_by) == (1, "intcfg")
            assert "consumerSecret" not in created.spec and sorted(created.secrets_set_at) == [
                "consumerSecret",
                "password",
            ]
            again = await sis.put("riverside-usd", "ETranscriptVendor", "parchment", None, _spec())
            assert again.revision == 1
            assert [o.name for o in await sis.list("riverside-usd", "ETranscriptVendor")] == [
                "parchment"
            ]
            outcome = await sis.test("riverside-usd", "ETranscriptVendor", "parchment")
            assert (outcome.ok, outcome.message) == (False, "Connection failed")
            results = await sis.batch(
                [
                    BatchOp("delete", "riverside-usd", "ETranscriptVendor", "parchment"),
                    BatchOp("delete", "riverside-usd", "ETranscriptVendor", "parchment"),
                ]
            )
            assert [r.status for r in results] == [204, 404] and all(r.ok for r in results)
            assert await sis.read("riverside-usd", "ETranscriptVendor", "parchment") is None
            district = await providers["enroll"].district("lakeside-sd")
            assert [s["id"] for s in district["schools"]] == [
                "lakeside-elementary",
                "lakeside-high",
            ]

    run(go())
    assert (example_repo / ".intcfg" / "sim.sqlite3").is_file()
    assert CANARY.encode() not in b"".join(
        p.read_bytes() for p in (example_repo / ".intcfg").iterdir()
    )


def test_sim_paths() -> None:
    root = Path("/repo")
    assert sim_db("sim://", root) == "/repo/.intcfg/sim.sqlite3"
    assert sim_db("sim://state/s.db", root) == "/repo/state/s.db"
    assert sim_db("sim:///var/s.db", root) == "/var/s.db"
    assert sim_db("sim://:memory:", root) == ":memory:"


def test_http_url_needs_the_admin_token(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INTCFG_ADMIN_TOKEN", raising=False)
    repository = load_repository(example_repo)

    async def go() -> None:
        async with open_providers(repository, "http://127.0.0.1:9"):
            pass

    with pytest.raises(SecretError) as e:
        run(go())
    assert str(e.value) == (
        "intcfg.yaml:11:10: environment variable 'INTCFG_ADMIN_TOKEN' is not set; export it with "
        "the secret's value before running intcfg"
    )
    with pytest.raises(ConfigError, match="live URL 'ftp://x' is neither sim://"):

        async def bad() -> None:
            async with open_providers(repository, "ftp://x"):
                pass

        run(bad())
