"""`intcfg apply --push` against `intcfg sim serve` and a bare remote that refuses pushes
(issue #8): a pre-receive hook protects the audit branch, or every branch. The run exits 1
with one line naming the refusal, this clone's audit branch stays where the remote's is,
and once the remote accepts, a rerun pushes a commit that records the refused run's writes.

Two reconcilers racing to push are covered by tests/live/test_ci_flow.py (the lease makes
them take turns) and tests/loop/test_audit.py (a push that lost the race)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest
from loopkit import (  # noqa: F401 - server_fixture: a fixture
    AUDIT,
    Repo,
    Sim,
    assert_clean,
    assert_live_matches,
    assert_repository_sound,
    audit_log,
    git,
    make_repo,
    run,
    run_in_process,
    server_fixture,
)

HOOK = """#!/bin/sh
# Installed by a test: refuses pushes to {refs} while {marker} exists.
status=0
while read old new ref; do
    case "$ref" in {refs}) [ -e '{marker}' ] && status=1 ;; esac
done
[ $status = 0 ] || echo "protected by the test's pre-receive hook" >&2
exit $status
"""


class Rig(NamedTuple):
    sim: Sim
    repo: Repo
    remote: Path
    refuse: Path  # while this file exists, the remote's hook refuses

    def remote_head(self, ref: str) -> str:
        shown = git(self.remote, "for-each-ref", "--format=%(objectname)", f"refs/heads/{ref}")
        return shown.strip()

    def local_head(self) -> str:
        return git(self.repo.root, "rev-parse", AUDIT).strip()


@pytest.fixture
def rig(server: Sim, tmp_path: Path) -> Rig:
    repo = make_repo(tmp_path / "repo")
    server.reset(repo)
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(repo.root, "remote", "add", "origin", str(remote))
    git(repo.root, "push", "-q", "origin", "main")
    return Rig(server, repo, remote, tmp_path / "refuse")


def protect(rig: Rig, refs: str) -> None:
    hook = rig.remote / "hooks" / "pre-receive"
    hook.write_text(HOOK.format(refs=refs, marker=rig.refuse), encoding="utf-8")
    hook.chmod(0o755)
    rig.refuse.touch()


def change_config(repo: Repo) -> None:
    schedule = repo.root / "districts/riverside-usd/schedule.yaml"
    schedule.write_text(
        schedule.read_text(encoding="utf-8").replace('"01:30"', '"02:45"'), encoding="utf-8"
    )
    repo.commit("riverside's schedule moves")
    git(repo.root, "push", "-q", "origin", "main")


MOVED = "enroll/riverside-usd/Schedule/aeries-nightly-students"


def test_a_refused_audit_push_is_taken_back_and_the_rerun_pushes_its_record(rig: Rig) -> None:
    sim, repo = rig.sim, rig.repo
    push = ("apply", "--auto-approve", "--push", "--live", sim.url)
    assert run_in_process(repo, *push).code == 0
    first = rig.remote_head(AUDIT)
    assert first == rig.local_head()
    change_config(repo)
    protect(rig, f"refs/heads/{AUDIT}")

    refused = run(repo, *push)
    assert_clean(refused, repo)
    [written] = [line for line in refused.out.splitlines() if line.startswith("Audit commit ")]
    taken_back = written.split()[2]
    assert (refused.code, refused.err) == (
        1,
        f"Error: pushing {AUDIT!r} to 'origin' was rejected (pre-receive hook declined); the "
        f"audit commit {taken_back} was taken back from this clone: once the remote accepts the "
        "push, apply again (it records this run's changes)\n",
    )
    assert sim.objects()[MOVED]["spec"]["time"] == "02:45"  # the live write happened
    assert rig.local_head() == rig.remote_head(AUDIT) == first
    assert rig.remote_head("intcfg/lease") == ""  # released
    assert (repo.root / ".git/intcfg-journal.json").exists()
    assert_repository_sound(repo)

    rig.refuse.unlink()
    rerun = run(repo, *push)
    assert_clean(rerun, repo)
    assert rerun.code == 0, rerun.out + rerun.err
    assert rerun.out.endswith(f"Pushed {AUDIT} to origin.\n")
    assert rig.local_head() == rig.remote_head(AUDIT)
    [_, second] = audit_log(repo)
    assert git(repo.root, "rev-parse", f"{second.sha}^").strip() == first
    assert (second.record["results"], second.record["recovered"]) == ([], [MOVED])
    [interrupted] = second.record["interrupted"]
    assert interrupted["changes"] == [{"address": MOVED, "action": "update"}]
    assert not (repo.root / ".git/intcfg-journal.json").exists()
    assert_live_matches(repo, sim.objects(), set())
    assert_repository_sound(repo)


def test_a_remote_that_refuses_every_push_stops_the_apply_before_any_write(rig: Rig) -> None:
    sim, repo = rig.sim, rig.repo
    protect(rig, "*")
    push = ("apply", "--auto-approve", "--push", "--live", sim.url)
    refused = run(repo, *push)
    assert_clean(refused, repo)
    assert (refused.code, refused.err) == (
        1,
        "Error: could not take the lease: pushing refs/heads/intcfg/lease to 'origin' was "
        "rejected (pre-receive hook declined); nothing was changed: once the remote accepts "
        "pushes, run again\n",
    )
    assert (sim.counts()[1], audit_log(repo)) == (0, [])

    rig.refuse.unlink()
    rerun = run(repo, *push)
    assert rerun.code == 0, rerun.out + rerun.err
    assert rig.local_head() == rig.remote_head(AUDIT)
    assert_live_matches(repo, sim.objects(), set())
