"""`intcfg apply` killed with SIGKILL against `intcfg sim serve` (with latency, so that it
dies between its writes, or while it builds its audit commit): the rerun converges, every
write of the killed run is re-applied or recovered, and the audit branch stays sound."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from loopkit import (
    AUDIT,
    AuditHold,
    FaultProxy,
    Repo,
    Sim,
    assert_clean,
    assert_live_matches,
    assert_repository_sound,
    audit_log,
    finish,
    git,
    kill,
    make_repo,
    move_two_schedules,
    rendered,
    run,
    run_in_process,
    start,
    wait_for,
)

LATENCY_MS = 150  # while a run that is killed runs: it dies between its writes


@contextlib.contextmanager
def slow(sim: Sim) -> Iterator[None]:
    sim.faults(latencyMs=LATENCY_MS)
    try:
        yield
    finally:
        sim.faults(latencyMs=0)


def kill_before_its_audit_commit(rig: Rig, *args: str) -> None:
    """Run `intcfg ARGS` and SIGKILL it once its audit commit is built, as the branch is
    about to move (held there by a reference-transaction hook, so the moment is exact)."""
    hold = AuditHold(rig.repo)
    with slow(rig.sim):
        proc = start(rig.repo, *args)
        wait_for(lambda: hold.reached() or proc.poll() is not None, "the audit commit")
        assert hold.reached(), finish(proc)
        assert kill(proc, then=hold.release).code == -9
        rig.proxy.settle()
    hold.clear()


class Rig(NamedTuple):
    sim: Sim
    proxy: FaultProxy  # no faults: it only tells when the server has answered everything
    repo: Repo


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sim, FaultProxy]]:
    sim = Sim(tmp_path_factory.mktemp("sim") / "sim.sqlite3")
    proxy = FaultProxy(sim.url, seed=0)
    yield sim, proxy
    proxy.close()
    sim.close()


@pytest.fixture
def rig(server: tuple[Sim, FaultProxy], tmp_path: Path) -> Rig:
    sim, proxy = server
    repo = make_repo(tmp_path / "repo")
    sim.reset(repo)
    return Rig(sim, proxy, repo)


def _no_changes(rig: Rig) -> None:
    plan = run_in_process(rig.repo, "plan", "--detailed-exitcode", "--live", rig.proxy.url)
    assert (plan.code, plan.out.splitlines()[-1]) == (
        0,
        "No changes. The live systems match the configuration.",
    )


@pytest.mark.slow
def test_an_apply_killed_between_its_writes_is_completed_by_the_rerun(rig: Rig) -> None:
    sim, proxy, repo = rig
    with slow(sim):
        proc = start(repo, "apply", "--auto-approve", "--parallelism", "1", "--live", proxy.url)
        wait_for(lambda: bool(sim.objects()) or proc.poll() is not None, "the first write")
        killed = kill(proc)
        proxy.settle()
    assert_clean(killed, repo, killed=True)
    assert killed.code == -9
    written = sim.objects()
    _, writes = sim.counts()
    assert writes > 0 and 0 < len(written) < len(rendered(repo)), (writes, sorted(written))
    assert audit_log(repo) == []
    assert_repository_sound(repo)  # the lock died with the process

    rerun = run(repo, "apply", "--auto-approve", "--live", proxy.url)
    assert rerun.code == 0, rerun.out + rerun.err
    [commit] = audit_log(repo)
    results = {r["address"]: r for r in commit.record["results"]}
    assert sorted(results) == sorted(rendered(repo))
    assert {r["outcome"] for r in results.values()} == {"ok"}
    for address, o in written.items():
        # Without a last-applied fingerprint a secret cannot be known to match: the killed
        # run's objects are written again, which changes nothing (same id, same revision).
        assert (
            results[address]["action"],
            results[address]["liveId"],
            results[address]["revision"],
        ) == ("update", o["id"], o["revision"])
    assert {results[a]["action"] for a in results if a not in written} == {"create"}
    live = sim.objects()
    assert {a: live[a]["revision"] for a in written} == {
        a: o["revision"] for a, o in written.items()
    }
    assert_live_matches(repo, live, set())
    _no_changes(rig)
    assert_repository_sound(repo)


@pytest.mark.slow
def test_writes_and_deletes_of_an_apply_killed_before_its_audit_commit_are_recovered(
    rig: Rig,
) -> None:
    sim, proxy, repo = rig
    assert run_in_process(repo, "apply", "--auto-approve", "--live", proxy.url).code == 0
    [first] = audit_log(repo)
    move_two_schedules(repo)

    kill_before_its_audit_commit(
        rig, "apply", "--auto-approve", "--prune", "--force", "--live", proxy.url
    )
    assert [c.sha for c in audit_log(repo)] == [first.sha]  # the branch never moved
    live = sim.objects()
    gone = [
        f"enroll/lakeside-sd/Schedule/{n}"
        for n in ("ps-nightly-export", "ps-nightly-students", "ps-sandbox-trial")
    ]
    moved = "enroll/riverside-usd/Schedule/aeries-nightly-students"
    assert [a for a in gone if a in live] == [] and live[moved]["spec"]["time"] == "02:45"
    assert_repository_sound(repo)

    rerun = run(repo, "apply", "--auto-approve", "--prune", "--force", "--live", proxy.url)
    assert rerun.code == 0, rerun.out + rerun.err
    assert "No changes. The live systems match the configuration." in rerun.out
    [_, second] = audit_log(repo)
    tail = (
        f"Audit commit {second.sha[:12]} on {AUDIT} (recovered 4; 1 interrupted apply recorded)\n"
    )
    assert rerun.out.endswith(tail)
    assert (second.record["results"], second.record["recovered"]) == ([], [*gone, moved])
    [interrupted] = second.record["interrupted"]
    deleted = [{"address": a, "action": "delete"} for a in gone]
    assert interrupted["changes"] == [
        *deleted,
        {"address": moved, "action": "update"},
    ]  # plan order
    assert [a for a in gone if a in second.state] == []
    assert (second.state[moved]["id"], second.state[moved]["revision"]) == (
        live[moved]["id"],
        live[moved]["revision"],
    )
    assert "recovered enroll/lakeside-sd/Schedule/ps-nightly-export" in git(
        repo.root, "log", "-1", "--format=%b", AUDIT
    )
    _no_changes(rig)
    drift = run_in_process(repo, "drift", "--live", proxy.url)
    assert drift.code == 0, drift.out
    assert_repository_sound(repo)


@pytest.mark.slow
def test_a_write_undone_by_a_second_interrupted_apply_is_still_in_the_audit_trail(rig: Rig) -> None:
    """Run 1 creates everything and dies before its audit commit; the schedule it created
    leaves the repository; run 2 deletes it and dies too. The live systems keep no trace of
    it, yet the next audit commit names both runs and what each was changing."""
    sim, proxy, repo = rig
    prune = ("apply", "--auto-approve", "--prune", "--force", "--live", proxy.url)
    schedule = "enroll/riverside-usd/Schedule/aeries-nightly-students"
    for edit in (None, "districts/riverside-usd/schedule.yaml"):
        if edit:
            (repo.root / edit).unlink()
            repo.commit("drop the schedule")
        kill_before_its_audit_commit(rig, *prune)
    assert schedule not in sim.objects() and audit_log(repo) == []

    third = run(repo, *prune)
    assert third.code == 0, third.out + third.err
    [commit] = audit_log(repo)
    first, second = commit.record["interrupted"]
    assert {"address": schedule, "action": "create"} in first["changes"] and len(
        first["changes"]
    ) == 20
    assert {"address": schedule, "action": "delete"} in second["changes"]
    assert (
        first["sourceCommit"]
        != second["sourceCommit"]
        == git(repo.root, "rev-parse", "HEAD").strip()
    )
    assert third.out.endswith("2 interrupted applies recorded)\n")
    assert not (repo.root / ".git/intcfg-journal.json").exists()
    again = run(repo, *prune)  # recorded once: the journal was cleared
    assert again.code == 0 and len(audit_log(repo)) == 1, again.out
    assert_repository_sound(repo)


def test_an_unreadable_journal_stops_the_apply_before_any_write(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")  # live.url sim://: the simulator in process
    journal = repo.root / ".git" / "intcfg-journal.json"
    journal.write_text(
        '{"format": "intcfg-journal", "version": 1, "runs": [{"at": "x"}]}', encoding="utf-8"
    )
    refused = run(repo, "apply", "--auto-approve")
    assert (refused.code, refused.out) == (1, "")
    assert refused.err == (
        f"Error: {journal} is unreadable (a run without an id); it lists what an interrupted apply "
        "was changing: read it, then remove it\n"
    )
    journal.unlink()
    assert run(repo, "apply", "--auto-approve").code == 0
