"""Helpers of the mapping tests: livekit (tests/live) made importable from this folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_LIVE = str(Path(__file__).resolve().parents[1] / "live")
if _LIVE not in sys.path:
    sys.path.append(_LIVE)

from livekit import (  # noqa: E402
    ADMIN_TOKEN,
    EXAMPLE,
    LiveRepo,
    Sim,
    assert_no_canary,
    intcfg,
    live_repo,
    shared_sim_fixture,
    sim_fixture,
    start_sim,
    stop_sim,
)



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
    proc = intcfg(repo, "apply", "--auto-approve")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return repo


__all__ = [
    "applied_repo",
    "git",
    "ADMIN_TOKEN",
    "EXAMPLE",
    "LiveRepo",
    "Sim",
    "assert_no_canary",
    "intcfg",
    "live_repo",
    "shared_sim_fixture",
    "sim_fixture",
    "start_sim",
    "stop_sim",
]
