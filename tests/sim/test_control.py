"""Simulator control: state (fingerprints only), stats, reset, faults, persistence."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from simkit import (  # noqa: F401 - fixtures
    ADMIN,
    CANARY,
    SEED,
    SIM,
    SimClient,
    client_fixture,
    etr_spec,
    put,
    seeded_fixture,
)

from intcfg.sim.app import create_app
from intcfg.sim.faults import Faults
from intcfg.sim.store import Store

SIS = "/sis/admin/v1/districts/riverside-usd/etranscript-vendors"


def test_state_holds_everything_but_never_a_secret(seeded: SimClient) -> None:
    put(seeded, f"{SIS}/parchment", etr_spec())
    response = seeded.get("/_sim/state", headers=ADMIN)
    text = response.text
    for value in CANARY.values():
        assert value not in text
    state = response.json()
    obj = state["objects"][0]
    assert obj["secrets"]["password"]["fingerprint"].startswith("hmac-sha256:")
    assert {c["vendor"] for c in state["credentials"]} == {
        "powerschool",
        "aeries",
        "oneroster",
        "skyward",
        "ets",
        "etranscript",
    }
    assert all(c["secretFingerprint"].startswith("hmac-sha256:") for c in state["credentials"])
    riverside = next(d for d in state["districts"] if d["id"] == "riverside-usd")
    assert len(riverside["students"]) == 30
    assert state["faults"]["errorRate"] == 0.0


def test_sample_students_have_the_edge_cases(seeded: SimClient) -> None:
    students = [
        s
        for d in seeded.get("/_sim/state", headers=ADMIN).json()["districts"]
        for s in d["students"]
    ]
    assert any(s["id"].startswith("0") for s in students)
    assert any(not s["first"].isascii() or not s["last"].isascii() for s in students)
    assert any(s["middle"] == "" for s in students)
    assert any(s["dob"] == "2012-02-29" for s in students)


def test_the_sqlite_file_is_never_given_a_secret(tmp_path: Path) -> None:
    db = tmp_path / "sim.sqlite3"
    app = create_app(db)
    client = SimClient(app, SIM)
    client.post("/_sim/seed", headers=ADMIN, json=SEED)
    put(client, f"{SIS}/parchment", etr_spec())
    client.close()
    app.state.store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for value in CANARY.values():
        assert value.encode() not in raw


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "sim.sqlite3"
    for round_ in range(2):
        app = create_app(db)
        client = SimClient(app, SIM)
        if round_ == 0:
            client.post("/_sim/seed", headers=ADMIN, json=SEED)
            put(client, f"{SIS}/parchment", etr_spec())
        else:
            assert client.get(f"{SIS}/parchment", headers=ADMIN).json()["revision"] == 1
            assert client.post(f"{SIS}/parchment/test", headers=ADMIN).json()["ok"] is True
        client.close()
        app.state.store.close()


def test_concurrent_writes_are_safe(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    from intcfg.sim import objects, world

    world.seed(store, SEED)
    errors: list[Exception] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                objects.put(
                    store,
                    "riverside-usd",
                    "ETranscriptVendor",
                    "shared",
                    None,
                    {"spec": etr_spec(uploadPort=1 + n * 100 + i)},
                )
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert objects.get(store, "riverside-usd", "ETranscriptVendor", "shared")["revision"] == 40  # type: ignore[index]
    store.close()


def test_reset_clears_state_and_counters(seeded: SimClient) -> None:
    put(seeded, f"{SIS}/parchment", etr_spec())
    assert seeded.get("/_sim/stats", headers=ADMIN).json()["requests"] == 2
    assert seeded.post("/_sim/reset", headers=ADMIN).json() == {"reset": True}
    state = seeded.get("/_sim/state", headers=ADMIN).json()
    assert state["districts"] == [] and state["objects"] == [] and state["credentials"] == []
    stats = seeded.get("/_sim/stats", headers=ADMIN).json()
    assert stats["requests"] == 2  # the reset call itself (counted as it ends) and the state call


def test_stats_count_by_route_and_status(seeded: SimClient) -> None:
    put(seeded, f"{SIS}/parchment", etr_spec())
    put(seeded, f"{SIS}/parchment", etr_spec())
    seeded.get(f"{SIS}/nothing", headers=ADMIN)
    stats = seeded.get("/_sim/stats", headers=ADMIN).json()
    assert stats["byRoute"][
        "PUT /sis/admin/v1/districts/{district}/etranscript-vendors/{name}"
    ] == {"200": 1, "201": 1}
    assert stats["byRoute"][
        "GET /sis/admin/v1/districts/{district}/etranscript-vendors/{name}"
    ] == {"404": 1}
    assert stats["byPath"][
        "PUT /sis/admin/v1/districts/riverside-usd/etranscript-vendors/parchment"
    ] == {"200": 1, "201": 1}


def test_faults_are_injected_reproducibly_and_changed_at_run_time(seeded: SimClient) -> None:
    changed = seeded.post(
        "/_sim/faults",
        headers=ADMIN,
        json={"errorRate": 0.3, "rateLimitRate": 0.2, "seed": 7, "retryAfter": 2},
    )
    assert changed.status_code == 200 and changed.json()["errorRate"] == 0.3

    def run() -> list[int]:
        seeded.post("/_sim/faults", headers=ADMIN, json={"seed": 7})
        return [seeded.get(f"{SIS}/x", headers=ADMIN).status_code for _ in range(40)]

    first = run()
    assert first == run()
    assert (
        set(first) <= {404, 429, 500, 502, 503}
        and 429 in first
        and {500, 502, 503} & set(first)
        and 404 in first
    )
    limited = next(
        r
        for r in (seeded.get(f"{SIS}/x", headers=ADMIN) for _ in range(100))
        if r.status_code == 429
    )
    assert limited.headers["Retry-After"] == "2"
    assert limited.json()["error"]["code"] == "injected_rateLimit"
    stats = seeded.get("/_sim/stats", headers=ADMIN).json()
    assert stats["injected"]["rateLimit"] >= 1
    # control calls are never faulted
    assert all(seeded.get("/_sim/stats", headers=ADMIN).status_code == 200 for _ in range(20))


@pytest.mark.parametrize(
    "body, message",
    [
        (
            {"errorRate": 1.5},
            "error, rate-limit, timeout and drop rates are between 0 and 1, and add up to at most 1",
        ),
        (
            {"errorRate": 0.6, "rateLimitRate": 0.6},
            "error, rate-limit, timeout and drop rates are between 0 and 1, and add up to at most 1",
        ),
        ({"latencyMs": "fast"}, "latencyMs must be an integer"),
        (
            {"bogus": 1},
            "unknown fault setting 'bogus' (known: latencyMs, errorRate, rateLimitRate, "
            "timeoutRate, timeoutSeconds, retryAfter, seed, dropRate)",
        ),
    ],
)
def test_bad_fault_settings_are_refused(
    client: SimClient, body: dict[str, object], message: str
) -> None:
    response = client.post("/_sim/faults", headers=ADMIN, json=body)
    assert response.status_code == 422
    assert response.json()["error"]["message"] == message


def test_latency_is_applied(client: SimClient) -> None:
    assert Faults(latency_ms=5).as_json()["latencyMs"] == 5
    client.post("/_sim/faults", headers=ADMIN, json={"latencyMs": 1})
    assert client.get("/sis/admin/v1/status", headers=ADMIN).status_code == 200


def test_control_needs_the_admin_token(client: SimClient) -> None:
    for path in ("/_sim/state", "/_sim/stats"):
        assert client.get(path).status_code == 401
    assert client.post("/_sim/reset").status_code == 401
