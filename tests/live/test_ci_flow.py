"""The CI jobs end to end: a bare "remote", clones, the pull-request job (validate +
plan as markdown, no secrets) and two merge jobs racing (reconcile --push), with the real
CLI against `intcfg sim serve`.

The lease on the remote makes the jobs take turns: the first applies its commit, the
second waits, re-plans on the first one's audit commit and applies only what its own
commit adds; the audit branch on the remote shows both, in order.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from livekit import INTCFG, Sim, live_repo, shared_sim_fixture, sim_fixture  # noqa: F401 - fixtures

SWAP = ("displayName: Parchment", "displayName: Parchment (release service)")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=ci", "-c", "user.email=ci@localhost", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout.strip()


def test_pull_request_then_two_racing_merge_jobs(tmp_path: Path, sim: Sim) -> None:
    repo = live_repo(tmp_path / "seed", sim.url)
    sim.call("POST", "/_sim/seed", json=repo.seed)
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "--initial-branch=main", str(remote))
    git(repo.root, "init", "-q", "-b", "main")
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "integrations as code")
    git(repo.root, "push", "-q", str(remote), "main")
    first, second = tmp_path / "job-1", tmp_path / "job-2"
    git(tmp_path, "clone", "-q", str(remote), str(first))

    # The pull-request job: no secret in its environment at all.
    bare_env = repo.env()
    for name in repo.secrets:
        bare_env.pop(name)
    pr = subprocess.run([INTCFG, "validate", "--format", "github"], cwd=first, env=bare_env, capture_output=True, text=True)
    assert pr.returncode == 0, pr.stdout + pr.stderr
    plan = subprocess.run([INTCFG, "plan", "--no-secrets", "--format", "markdown"], cwd=first, env=bare_env, capture_output=True, text=True)
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.startswith("### intcfg plan: 20 to create, 0 to update, 0 to delete, 0 unchanged\n")

    # The next merge to main changes one vendor's display name.
    git(tmp_path, "clone", "-q", str(remote), str(second))
    vendor = second / "districts/riverside-usd/etranscript.yaml"
    vendor.write_text(vendor.read_text().replace(*SWAP))
    git(second, "commit", "-qam", "rename the release service")
    git(second, "push", "-q", "origin", "main")

    # Both merge jobs run at once; the live systems answer slowly. The fingerprint key is
    # a CI secret shared by every job (a job with another key would resend every secret).
    key = "ci-fingerprint-key-" + "0" * 24
    sim.call("POST", "/_sim/faults", json={"latencyMs": 40})
    reconcile = [INTCFG, "reconcile", "--auto-approve", "--push", "--lock-timeout", "180"]
    job1 = subprocess.Popen(reconcile, cwd=first, env=repo.env(INTCFG_ACTOR="job-1", INTCFG_FINGERPRINT_KEY=key), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not git(tmp_path, "ls-remote", str(remote), "refs/heads/intcfg/lease") and job1.poll() is None:
        assert time.monotonic() < deadline, "the first job never took the lease"
        time.sleep(0.1)
    job2 = subprocess.run(reconcile, cwd=second, env=repo.env(INTCFG_ACTOR="job-2", INTCFG_FINGERPRINT_KEY=key), capture_output=True, text=True, timeout=300)
    out1, err1 = job1.communicate(timeout=300)
    assert job1.returncode == 0, out1 + err1
    assert job2.returncode == 0, job2.stdout + job2.stderr
    assert "ok       update  sis/riverside-usd/ETranscriptVendor/parchment" in job2.stdout
    assert job2.stdout.count("ok       ") == 1  # only what its own commit adds

    log = git(remote, "log", "--format=%s|%(trailers:key=Intcfg-Actor,valueonly,separator=)|%(trailers:key=Intcfg-Source-Commit,valueonly,separator=)", "intcfg/audit")
    newest, oldest = (line.split("|") for line in log.splitlines() if line)
    assert oldest[0].startswith("intcfg apply: 20 created") and oldest[1:] == ["job-1", git(first, "rev-parse", "HEAD")]
    assert newest[0].startswith("intcfg apply: 0 created, 1 updated") and newest[1:] == ["job-2", git(second, "rev-parse", "HEAD")]
    assert git(tmp_path, "ls-remote", str(remote), "refs/heads/intcfg/lease") == ""  # released

    # The older job, run again late, does not undo the newer commit.
    again = subprocess.run(reconcile, cwd=first, env=repo.env(INTCFG_FINGERPRINT_KEY=key), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0
    assert "has already been reconciled; nothing to do for this one" in again.stdout
