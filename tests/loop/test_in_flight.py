"""The requests in flight to the live systems, as the live systems see them: a plan keeps
exactly READS_IN_FLIGHT list requests out at once, the three systems together: they share
one pool of connections, and more list jobs than that are under way so that none of the
connections waits unused (see providers/connect.open_providers)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopkit import INTCFG, FaultProxy, Repo, Sim, make_repo

from intcfg.reads import JOBS_UNDER_WAY, READS_IN_FLIGHT


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[Repo, FaultProxy]]:
    sim = Sim(tmp_path / "sim.sqlite3", "--latency-ms", "150")  # the requests overlap
    proxy = FaultProxy(sim.url, seed=0)
    try:
        repo = make_repo(tmp_path / "repo")
        sim.seed(repo)
        yield repo, proxy
    finally:
        proxy.close()
        sim.close()


@pytest.mark.parametrize("read_ahead", ["1", "0"], ids=["read-ahead-child", "in-process"])
def test_a_plan_keeps_its_reads_in_flight_and_no_more(rig: tuple[Repo, FaultProxy], read_ahead: str) -> None:
    repo, proxy = rig
    assert READS_IN_FLIGHT < 3 * 5 <= JOBS_UNDER_WAY  # 3 districts x 5 kinds: all under way at once
    proc = subprocess.run([INTCFG, "plan", "--live", proxy.url], cwd=repo.root, env=repo.env(INTCFG_READ_AHEAD=read_ahead),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proxy.peak == READS_IN_FLIGHT
