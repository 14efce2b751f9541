"""`intcfg apply` against a live system that fails: 5xx, 429 and timeouts from `intcfg sim
serve`, connections dropped and writes refused by a proxy in front of it. An apply either
succeeds or fails with one clear line per change (never a traceback, exit 1), and reruns
converge; a failed read does not leave the other reads running."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loopkit import (
    FaultProxy,
    Repo,
    Run,
    Sim,
    assert_clean,
    assert_live_matches,
    assert_repository_sound,
    audit_log,
    make_repo,
    rendered,
    run,
    run_in_process,
)

from intcfg import loop
from intcfg.errors import ProviderError

RERUNS = 5
RESULT_LINE = re.compile(
    r"^(ok      |FAILED  |blocked |skipped ) (create |update |delete ) (\S+)(: .+)?$"
)


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    server = Sim(
        tmp_path / "sim.sqlite3",
        "--error-rate",
        "0.2",
        "--rate-limit-rate",
        "0.1",
        "--timeout-rate",
        "0.02",
        "--seed",
        "20261122",
        # held past the client's 10 s read timeout, and not much longer (shutdown waits)
        "--timeout-seconds",
        "11",
    )
    yield server
    server.close()


@pytest.fixture
def proxy(sim: Sim) -> Iterator[FaultProxy]:
    front = FaultProxy(sim.url, seed=7)
    yield front
    front.close()


@pytest.fixture
def repo(tmp_path: Path, sim: Sim) -> Repo:
    made = make_repo(tmp_path / "repo")
    sim.seed(made)
    return made


def system_of(address: str) -> str:
    return address.split("/")[0]


def no_faults(sim: Sim) -> None:
    sim.faults(errorRate=0, rateLimitRate=0, timeoutRate=0)


def result_lines(result: Run) -> list[str]:
    """The apply's one line per change (the plan it printed first aside)."""
    return [line for line in result.out.splitlines() if RESULT_LINE.match(line)]


def assert_failed_clearly(result: Run) -> None:
    """Exit 1 with either one `Error:` line (the live systems could not be read) or a line
    per change naming what failed and why."""
    assert result.code == 1
    if result.err:
        assert re.fullmatch(
            r"Error: (sis|portal|enroll): GET http://127\.0\.0\.1:\d+/\S+: .+\n", result.err
        ), result.err
        return
    bad = [line for line in result_lines(result) if not line.startswith("ok ")]
    assert bad, result.out
    for line in bad:
        match = RESULT_LINE.match(line)
        assert match is not None and match.group(4), line
        assert re.fullmatch(
            r": (sis|portal|enroll): .+|: blocked on the failed change of \S+", match.group(4)
        ), line


@pytest.mark.slow
def test_under_5xx_429_and_timeouts_apply_succeeds_or_fails_per_change_and_reruns_converge(
    sim: Sim, repo: Repo
) -> None:
    runs: list[Run] = []
    for _ in range(RERUNS):
        result = run(repo, "apply", "--auto-approve", "--live", sim.url)
        assert_clean(result, repo)
        runs.append(result)
        if result.code == 0:
            break
        assert_failed_clearly(result)
    assert runs[-1].code == 0, [r.out + r.err for r in runs]
    injected = sim.call("GET", "/_sim/stats")["injected"]
    assert injected.get("error", 0) > 0 and injected.get("rateLimit", 0) > 0, injected
    no_faults(sim)
    plan = run_in_process(repo, "plan", "--detailed-exitcode", "--live", sim.url)
    assert (plan.code, plan.out.splitlines()[-1]) == (
        0,
        "No changes. The live systems match the configuration.",
    )
    assert_live_matches(repo, sim.objects(), set())
    assert [c.result for c in audit_log(repo)][-1] == "success"
    assert_repository_sound(repo)


def test_writes_that_keep_failing_are_reported_per_change_then_the_rerun_converges(
    sim: Sim, proxy: FaultProxy, repo: Repo
) -> None:
    no_faults(sim)
    proxy.configure(write_error=1.0)
    failed = run(repo, "apply", "--auto-approve", "--live", proxy.url)
    assert_clean(failed, repo)
    assert (failed.code, failed.err) == (1, "")
    desired = sorted(rendered(repo))
    connection = {
        a: f"enroll/{a.split('/')[1]}/SyncConnection/{spec['connection']}"
        for a, spec in rendered(repo).items()
        if "connection" in spec
    }

    def batch(a: str) -> str:
        return f"{system_of(a)}: POST {proxy.url}/{system_of(a)}/admin/v1/batch"

    expected = [
        f"blocked  create  {a}: blocked on the failed change of {connection[a]}"
        if a in connection
        else f"FAILED   create  {a}: {batch(a)}: 503 injected by the test proxy"
        for a in desired
    ]
    assert sorted(result_lines(failed)) == sorted(expected)
    assert audit_log(repo) == []  # nothing changed, nothing to record
    assert sim.objects() == {}
    proxy.configure()
    rerun = run(repo, "apply", "--auto-approve", "--live", proxy.url)
    assert rerun.code == 0, rerun.out + rerun.err
    assert sorted(result_lines(rerun)) == sorted(f"ok       create  {a}" for a in desired)
    assert_live_matches(repo, sim.objects(), set())


def test_dropped_connections_are_retried(sim: Sim, proxy: FaultProxy, repo: Repo) -> None:
    no_faults(sim)
    proxy.configure(drop_before=0.1, drop_after=0.1, seed=7)
    applied = run(repo, "apply", "--auto-approve", "--live", proxy.url)
    assert applied.code == 0, applied.out + applied.err
    assert proxy.counts["drop_before"] > 0 and proxy.counts["drop_after"] > 0, proxy.counts
    proxy.settle()
    assert_live_matches(repo, sim.objects(), set())
    plan = run_in_process(repo, "plan", "--detailed-exitcode", "--live", proxy.url)
    assert plan.code == 0, plan.out + plan.err


class _Failing:
    system, kinds = "sis", ("ETranscriptVendor",)

    async def list(self, district: str, kind: str) -> list[Any]:
        await asyncio.sleep(0.01)
        raise ProviderError(
            "sis: GET http://127.0.0.1:1/sis: 503 down",
            system="sis",
            method="GET",
            url="u",
            status=503,
        )


class _Slow:
    system, kinds = "enroll", ("SyncConnection",)
    cancelled = False

    async def list(self, district: str, kind: str) -> list[Any]:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return []


def test_a_failed_read_cancels_the_other_reads_before_it_is_raised() -> None:
    # Before: asyncio.gather raised at once and left the other list requests running until
    # asyncio.run tore them down ("coroutine ... was never awaited" on stderr).
    slow = _Slow()

    async def plan() -> None:
        with pytest.raises(ProviderError, match="503 down"):
            await loop.read_live({"enroll": slow, "sis": _Failing()}, ["riverside-usd"])
        assert slow.cancelled
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []

    asyncio.run(plan())
