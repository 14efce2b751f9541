"""Two `intcfg apply` on one repository never run at the same time: against `intcfg sim
serve` with latency, the second to arrive either gives up at once (--lock-timeout 0) with
the lock message, or waits its turn and then plans on the first one's audit commit."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from loopkit import (  # noqa: F401 - server_fixture, rig_fixture: fixtures
    AUDIT,
    LOCK_MESSAGE,
    Rig,
    Run,
    assert_clean,
    assert_live_matches,
    assert_repository_sound,
    audit_log,
    finish,
    git,
    rendered,
    rig_fixture,
    run_in_process,
    server_fixture,
    start,
    wait_for,
)


def both(rig: Rig, lock_timeout: int) -> tuple[Run, Run]:
    """Start one apply, and a second as soon as the first holds the lock (it is reading
    the live systems, slowly); once the second has given up (``lock_timeout`` 0) or is
    waiting for the lock, let the first one finish at full speed; wait for both."""
    command = ("apply", "--auto-approve", "--parallelism", "1", "--live", rig.sim.url)
    command += ("--lock-timeout", str(lock_timeout))
    # Slow enough that the first apply still holds the lock when the second one, started
    # once the first is reading the live systems, has started up and asks for it.
    rig.sim.faults(latencyMs=600)
    seen, _ = rig.sim.counts()
    first = start(rig.repo, *command)
    wait_for(
        lambda: rig.sim.counts()[0] > seen or first.poll() is not None, "the first apply to read"
    )
    second: subprocess.Popen[str] = start(rig.repo, *command)
    asked = (lambda: False) if lock_timeout == 0 else (lambda: _opened_lock(second))
    wait_for(
        lambda: second.poll() is not None or first.poll() is not None or asked(),
        "the second apply to give up or to wait for the lock",
    )
    rig.sim.faults(latencyMs=0)
    return finish(first), finish(second)


def _opened_lock(proc: subprocess.Popen[str]) -> bool:
    """Whether ``proc`` has the apply lock's file open (it asks for the lock next)."""
    try:
        fds = list(Path(f"/proc/{proc.pid}/fd").iterdir())
        return any(os.readlink(fd).endswith("/.git/intcfg.lock") for fd in fds)
    except OSError:  # it exited, or closed a descriptor while we looked
        return False


@pytest.mark.slow
def test_a_second_apply_gives_up_at_once_while_the_first_holds_the_lock(rig: Rig) -> None:
    first, second = both(rig, lock_timeout=0)
    assert_clean(first, rig.repo)
    assert_clean(second, rig.repo)
    assert first.code == 0, first.out + first.err
    assert (second.code, second.out, second.err) == (
        1,
        "",
        f"Error: {LOCK_MESSAGE}; waited 0s (raise --lock-timeout to wait longer)\n",
    )
    [commit] = audit_log(rig.repo)
    assert len(commit.record["results"]) == len(rendered(rig.repo))
    assert_live_matches(rig.repo, rig.sim.objects(), set())
    assert_repository_sound(rig.repo)


@pytest.mark.slow
def test_with_a_lock_timeout_the_second_apply_waits_and_plans_on_the_first_ones_commit(
    rig: Rig,
) -> None:
    initial = run_in_process(rig.repo, "apply", "--auto-approve", "--live", rig.sim.url)
    assert initial.code == 0, initial.out + initial.err
    vendor = rig.repo.root / "districts/riverside-usd/etranscript.yaml"
    vendor.write_text(
        vendor.read_text(encoding="utf-8").replace(
            "displayName: Parchment", "displayName: Parchment 2"
        )
    )
    rig.repo.commit("rename the vendor")
    source = git(rig.repo.root, "rev-parse", "HEAD").strip()

    first, second = both(rig, lock_timeout=30)
    assert (first.code, second.code) == (0, 0), first.out + first.err + second.out + second.err
    assert "ok       update  sis/riverside-usd/ETranscriptVendor/parchment" in first.out
    # Had the second one planned before the first one's audit commit, it would have seen
    # the rename as well; it saw nothing to do, so it wrote no commit.
    assert second.out.splitlines() == [
        "Plan: 0 to create, 0 to update, 0 to delete, 20 unchanged",
        "",
        "No changes. The live systems match the configuration.",
    ]
    commits = audit_log(rig.repo)
    assert len(commits) == 2
    assert [r["address"] for r in commits[-1].record["results"]] == [
        "sis/riverside-usd/ETranscriptVendor/parchment"
    ]
    trailer = git(
        rig.repo.root, "log", "-1", "--format=%(trailers:key=Intcfg-Source-Commit,valueonly)", AUDIT
    )
    assert trailer.strip() == source
    assert_live_matches(rig.repo, rig.sim.objects(), set())
    assert_repository_sound(rig.repo)
