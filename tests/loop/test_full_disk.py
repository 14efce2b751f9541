"""`intcfg apply` against `intcfg sim serve` on a disk that fills up (issue #8): the
apply and the git processes it starts run under RLIMIT_FSIZE, so a write past the limit
fails with EFBIG as it would with ENOSPC. Whether the journal or the audit commit is the
write that fails, the run exits 1 with one line saying so, the audit branch does not move,
and a rerun with room converges and records what the first run changed."""

from __future__ import annotations

import resource
import signal
from collections.abc import Callable

from loopkit import (  # noqa: F401 - server_fixture, rig_fixture: fixtures
    AUDIT,
    Repo,
    Rig,
    Run,
    assert_clean,
    assert_live_matches,
    assert_repository_sound,
    audit_log,
    git,
    move_two_schedules,
    rendered,
    rig_fixture,
    run,
    run_in_process,
    server_fixture,
)

# Bytes any one file may grow to. The journal of the example's 20 creates is about 3 KiB,
# that of the prune below under 1 KiB; the prune's audit commit is one pack of 4.6 KiB (its
# 60 KiB record and the two state files it changes, deflated).
JOURNAL_FITS = 4 * 1024
JOURNAL_DOES_NOT = 1024


def file_size_limit(limit: int) -> Callable[[], None]:
    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG, not death, past the limit
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limited


def run_limited(repo: Repo, limit: int, *args: str) -> Run:
    return run(repo, *args, timeout=120, preexec_fn=file_size_limit(limit))


def journal_files(repo: Repo) -> list[str]:
    return sorted(p.name for p in (repo.root / ".git").glob("intcfg-journal*"))


def no_changes(rig: Rig) -> None:
    plan = run_in_process(rig.repo, "plan", "--detailed-exitcode", "--live", rig.sim.url)
    assert (plan.code, plan.out.splitlines()[-1]) == (
        0,
        "No changes. The live systems match the configuration.",
    )


def test_a_full_disk_at_the_audit_commit_moves_no_branch_and_the_rerun_records_the_writes(
    rig: Rig,
) -> None:
    sim, repo = rig
    assert run_in_process(repo, "apply", "--auto-approve", "--live", sim.url).code == 0
    [first] = audit_log(repo)
    move_two_schedules(repo)
    prune = ("apply", "--auto-approve", "--prune", "--force", "--live", sim.url)

    objects = repo.root / ".git/objects"
    stored = sorted(objects.rglob("*"))
    failed = run_limited(repo, JOURNAL_FITS, *prune)
    assert_clean(failed, repo)
    journal = repo.root / ".git/intcfg-journal.json"
    # No object of the failed commit, no temporary pack or directory, no crash report of git's.
    assert sorted(objects.rglob("*")) == stored
    assert list((repo.root / ".git").glob("fast_import_crash_*")) == []
    assert (failed.code, failed.err) == (
        1,
        "Error: could not write the audit commit (File too large); the audit branch "
        f"{AUDIT!r} was not moved and holds no part of it: fix that, then run again (the live "
        f"systems were changed: {journal} lists this run's changes, and the next apply "
        "records them)\n",
    )
    gone = [
        f"enroll/lakeside-sd/Schedule/{n}"
        for n in ("ps-nightly-export", "ps-nightly-students", "ps-sandbox-trial")
    ]
    moved = "enroll/riverside-usd/Schedule/aeries-nightly-students"
    live = sim.objects()
    assert [a for a in gone if a in live] == [] and live[moved]["spec"]["time"] == "02:45"
    assert [c.sha for c in audit_log(repo)] == [first.sha]
    assert journal_files(repo) == ["intcfg-journal.json"]
    assert_repository_sound(repo)

    rerun = run(repo, *prune)
    assert_clean(rerun, repo)
    assert rerun.code == 0, rerun.out + rerun.err
    [_, second] = audit_log(repo)
    assert git(repo.root, "rev-parse", f"{second.sha}^").strip() == first.sha
    assert rerun.out.endswith(
        f"Audit commit {second.sha[:12]} on {AUDIT} (recovered 4; 1 interrupted apply recorded)\n"
    )
    assert (second.record["results"], second.record["recovered"]) == ([], [*gone, moved])
    [interrupted] = second.record["interrupted"]
    assert interrupted["changes"] == [
        *({"address": a, "action": "delete"} for a in gone),
        {"address": moved, "action": "update"},
    ]
    assert interrupted["sourceCommit"] == git(repo.root, "rev-parse", "HEAD").strip()
    assert second.state[moved]["revision"] == sim.objects()[moved]["revision"]
    assert journal_files(repo) == []
    assert_live_matches(repo, sim.objects(), set())
    no_changes(rig)
    assert_repository_sound(repo)


def test_a_full_disk_at_the_journal_stops_the_apply_before_any_live_write(rig: Rig) -> None:
    sim, repo = rig
    failed = run_limited(repo, JOURNAL_DOES_NOT, "apply", "--auto-approve", "--live", sim.url)
    assert_clean(failed, repo)
    journal = repo.root / ".git/intcfg-journal.json"
    assert (failed.code, failed.err) == (
        1,
        f"Error: could not write the apply journal {journal} (File too large); nothing was "
        "changed in the live systems: fix that, then apply again\n",
    )
    assert (sim.counts()[1], sim.objects()) == (0, {})
    assert audit_log(repo) == []
    assert journal_files(repo) == []  # not even its temporary file
    assert_repository_sound(repo)

    rerun = run(repo, "apply", "--auto-approve", "--live", sim.url)
    assert_clean(rerun, repo)
    assert rerun.code == 0, rerun.out + rerun.err
    [commit] = audit_log(repo)
    assert {(r["action"], r["outcome"]) for r in commit.record["results"]} == {("create", "ok")}
    assert sorted(r["address"] for r in commit.record["results"]) == sorted(rendered(repo))
    assert (commit.record["recovered"], commit.record["interrupted"]) == ([], [])
    assert_live_matches(repo, sim.objects(), set())
    no_changes(rig)
