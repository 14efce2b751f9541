"""End-to-end helpers: `intcfg sim serve` as a subprocess, a copy of the example repository
pointed at it, canary credentials seeded into it. Test modules import what they use.

Not a conftest.py: conftest modules outside a package are all named ``conftest``, and
another folder's would shadow the suite's root conftest for ``from conftest import``.
"""

from __future__ import annotations

import os
import re
import secrets
import selectors
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

from intcfg.sim.pointing import point_repository

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "config-repo-example"
INTCFG = str(Path(sys.executable).with_name("intcfg"))
TODAY = "2026-11-22"
ADMIN_TOKEN = "canary-admin-token-" + secrets.token_hex(6)
STARTUP_SECONDS = 60.0  # bounded; a loaded CI machine starts Python slowly


def env(**extra: str) -> dict[str, str]:
    """A clean environment for a CLI subprocess (no pytest variables, the suite's clock)."""
    out = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "INTCFG_"))}
    out.update({"INTCFG_TODAY": TODAY, "NO_COLOR": "1", **extra})
    return out


class Sim(NamedTuple):
    url: str
    proc: subprocess.Popen[str]
    db: Path

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10.0
        )

    def call(self, method: str, path: str, **kw: Any) -> Any:
        with self.client() as c:
            response = c.request(method, path, **kw)
        assert response.is_success, response.text
        return response.json()


def start_sim(db: Path, *args: str) -> Sim:
    """`intcfg sim serve --port 0` on loopback; returns once it prints its URL."""
    proc = subprocess.Popen(
        [INTCFG, "sim", "serve", "--port", "0", "--db", str(db), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(INTCFG_ADMIN_TOKEN=ADMIN_TOKEN),
    )
    line = _first_line(proc)
    match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
    if match is None:
        proc.kill()
        _, err = proc.communicate(timeout=10)
        raise AssertionError(f"the simulator did not start: {line!r} {err!r}")
    return Sim(match.group(1), proc, db)


def _first_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and proc.poll() is None:
        if selector.select(timeout=0.2):
            return proc.stdout.readline()
    return ""


def stop_sim(sim: Sim) -> str:
    """Stop it (SIGTERM) and return what it wrote to stderr."""
    sim.proc.terminate()
    try:
        _, err = sim.proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        sim.proc.kill()
        _, err = sim.proc.communicate(timeout=15)
    return err


@pytest.fixture(scope="module", name="shared_sim")
def shared_sim_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    server = start_sim(tmp_path_factory.mktemp("sim") / "sim.sqlite3")
    yield server
    stop_sim(server)


@pytest.fixture(name="sim")
def sim_fixture(shared_sim: Sim) -> Sim:
    """The module's simulator, emptied (state, counters and faults) for each test."""
    shared_sim.call("POST", "/_sim/reset")
    shared_sim.call(
        "POST",
        "/_sim/faults",
        json={"errorRate": 0, "rateLimitRate": 0, "timeoutRate": 0, "latencyMs": 0},
    )
    return shared_sim


# -- the example repository, pointed at a live URL -------------------------------------------------


class LiveRepo(NamedTuple):
    root: Path
    secrets: dict[str, str]  # environment variable -> canary value
    seed: dict[str, Any]  # POST /_sim/seed body: districts and canary credentials

    def env(self, **extra: str) -> dict[str, str]:
        return env(**{"INTCFG_ADMIN_TOKEN": ADMIN_TOKEN, **self.secrets, **extra})


def live_repo(dest: Path, live_url: str, expired: frozenset[str] = frozenset()) -> LiveRepo:
    """A copy of the example repository whose vendor URLs point at the simulator at
    ``live_url`` (/vendors/VENDOR/INSTANCE) and whose live.url is ``live_url``; every
    secret gets a canary value, and the seed gives the simulator the same credentials
    (those whose variable is in ``expired`` as expired)."""
    shutil.copytree(EXAMPLE, dest)
    canaries: dict[str, str] = {}

    def canary(name: str) -> str:
        return canaries.setdefault(name, f"canary-{name.lower().replace('_', '-')}-{secrets.token_hex(4)}")

    seed = point_repository(dest, live_url, canary, expired)
    return LiveRepo(dest, canaries, seed)


def intcfg(repo: LiveRepo, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [INTCFG, *args],
        cwd=repo.root,
        env=repo.env(**extra_env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def intcfg_in_process(repo: LiveRepo, *args: str) -> subprocess.CompletedProcess[str]:
    """The same run in this process (click's runner): no interpreter start-up to pay, for
    runs that set a test up rather than being what it checks."""
    from click.testing import CliRunner

    from intcfg.cli import cli

    env = repo.env()
    # CliRunner sets these on top of os.environ; pytest's INTCFG_* must not leak in.
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("INTCFG_") and k not in env}
    result = CliRunner().invoke(
        cli, [*args, "-C", str(repo.root)], env={**unset, **env}, catch_exceptions=False
    )
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout


def applied_repo(dest: Path, sim: Sim, **seed_changes: object) -> LiveRepo:
    """The example pointed at ``sim``, committed, seeded (district fields from
    ``seed_changes``) and applied."""
    repo = live_repo(dest, sim.url)
    for d in repo.seed["districts"]:
        d.update(seed_changes)
    sim.call("POST", "/_sim/seed", json=repo.seed)
    git(repo.root, "init", "-q", "-b", "main")
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "config")
    proc = intcfg_in_process(repo, "apply", "--auto-approve")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return repo


def assert_no_canary(repo: LiveRepo, *texts: str) -> None:
    for value in [*repo.secrets.values(), ADMIN_TOKEN]:
        for text in texts:
            assert value not in text
