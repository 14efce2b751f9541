"""`intcfg sim serve` as a process: loopback only, its token, state across restarts, and
`intcfg test` under injected faults (retries absorb them, and stay bounded)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
from livekit import ADMIN_TOKEN, INTCFG, env, intcfg, live_repo, start_sim, stop_sim

from intcfg.providers.http import DEFAULT_POLICY


def _serve(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [INTCFG, "sim", "serve", "--port", "0", "--db", ":memory:", *args],
        env=env(**extra),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_non_loopback_host_needs_allow_remote() -> None:
    proc = _serve("--host", "0.0.0.0", INTCFG_ADMIN_TOKEN=ADMIN_TOKEN)
    assert proc.returncode == 2
    assert proc.stderr.endswith(
        "Error: refusing to listen on '0.0.0.0': the simulator is for loopback use; "
        "pass --allow-remote to listen on another address\n"
    )


def test_the_admin_token_must_be_set() -> None:
    proc = _serve()
    assert proc.returncode == 1
    assert proc.stderr == (
        "Error: environment variable 'INTCFG_ADMIN_TOKEN' is not set: set it to the admin token "
        "clients will send (or name another variable with --admin-token-env)\n"
    )


def test_rates_are_checked() -> None:
    proc = _serve("--error-rate", "0.8", "--rate-limit-rate", "0.5", INTCFG_ADMIN_TOKEN=ADMIN_TOKEN)
    assert proc.returncode == 2
    assert "rates are between 0 and 1, and add up to at most 1" in proc.stderr


def test_state_survives_a_restart_and_the_token_env_is_configurable(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite3"
    first = start_sim(db)
    try:
        first.call(
            "POST",
            "/_sim/seed",
            json={"districts": [{"id": "riverside-usd", "schools": [{"id": "riverside-high"}]}]},
        )
        spec = {
            "apiUrl": "https://caaspp.example.org/api/v1/token",
            "username": "u",
            "secretKey": "canary-restart-key-1",
            "credentialsRotated": "2026-10-01",
        }
        first.call(
            "PUT",
            "/portal/admin/v1/districts/riverside-usd/ets-integrations/ets",
            json={"spec": spec, "managedBy": "intcfg"},
        )
    finally:
        assert stop_sim(first) == ""
    assert first.proc.returncode == 0
    second = start_sim(db)
    try:
        obj = second.call("GET", "/portal/admin/v1/districts/riverside-usd/ets-integrations/ets")
        assert (obj["revision"], obj["spec"]["username"]) == (1, "u")
        with httpx.Client(base_url=second.url) as c:
            assert c.get("/portal/admin/v1/status").status_code == 401
    finally:
        stop_sim(second)
    assert b"canary-restart-key-1" not in db.read_bytes()


def _requests(stats: dict[str, Any]) -> int:
    return int(stats["requests"]) - sum(stats["injected"].values())


def test_retries_absorb_faults_and_stay_bounded(tmp_path: Path) -> None:
    clean = start_sim(tmp_path / "clean.sqlite3")
    faulty = start_sim(
        tmp_path / "faulty.sqlite3",
        "--error-rate",
        "0.2",
        "--rate-limit-rate",
        "0.1",
        "--seed",
        "4242",
    )
    try:
        outputs, stats = [], []
        wrong = {
            "RIVERSIDE_ETS_SECRET_KEY": "canary-wrong-ets-key-11",
            "LAKESIDE_PS_CLIENT_SECRET": "canary-wrong-ps-22",
        }
        for server in (clean, faulty):
            repo = live_repo(
                tmp_path / f"repo-{server.db.stem}",
                server.url,
                expired=frozenset({"RIVER_CHARTER_ETS_SECRET_KEY"}),
            )
            server.call("POST", "/_sim/seed", json=repo.seed)
            before = server.call("GET", "/_sim/stats")
            proc = intcfg(repo, "test", **wrong)
            assert proc.returncode == 1, proc.stderr
            outputs.append(proc.stdout.replace(server.url, "URL"))
            after = server.call("GET", "/_sim/stats")
            stats.append((before, after))
    finally:
        stop_sim(clean)
        stop_sim(faulty)
    assert outputs[0] == outputs[1]
    assert outputs[0].splitlines()[-1] == "9 credentials tested: 6 valid, 3 failed"
    (clean_before, clean_after), (faulty_before, faulty_after) = stats
    real = _requests(clean_after) - _requests(clean_before) - 1  # less the "before" stats call
    injected = sum(faulty_after["injected"].values()) - sum(faulty_before["injected"].values())
    assert injected > 0 and faulty_after["injected"].get("rateLimit", 0) > 0
    # Every request not faulted is one the clean run made too: retries repeat only faulted ones.
    assert _requests(faulty_after) - _requests(faulty_before) - 1 == real
    assert injected <= real * (DEFAULT_POLICY.max_attempts - 1)
    for path, counts in faulty_after["byPath"].items():
        clean_counts = clean_after["byPath"].get(path.replace(faulty.url, clean.url), {})
        assert sum(counts.values()) <= DEFAULT_POLICY.max_attempts * max(
            1, sum(clean_counts.values())
        ), path


def test_the_listening_socket_is_tcp_so_responses_are_not_delayed_by_nagle() -> None:
    import socket

    from intcfg.sim.server import bind, url_of

    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert url_of(sock).startswith("http://127.0.0.1:")
    finally:
        sock.close()
