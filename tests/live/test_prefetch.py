"""Reads ahead of the load (intcfg/prefetch.py): a plan that lists the live systems in a
child while the repository loads is the plan that reads after the load, byte for byte,
with the same requests; a wrong guess costs only its own reads; a failing child leaves
the failure to the reads in process."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from livekit import (  # noqa: F401 - fixtures
    INTCFG,
    LiveRepo,
    Sim,
    applied_repo,
    intcfg,
    intcfg_in_process,
    shared_sim_fixture,
    sim_fixture,
)

from intcfg import loop
from intcfg.desired import Address
from intcfg.prefetch import Prefetched

OFF = {"INTCFG_READ_AHEAD": "0"}
KINDS = 5  # list requests per district: one per kind of the three systems


def _requests(sim: Sim) -> tuple[int, dict[str, Any]]:
    """Requests to the live systems so far (the simulator's control calls aside), by path."""
    by_path = sim.call("GET", "/_sim/stats")["byPath"]
    live = {path: statuses for path, statuses in by_path.items() if "/_sim/" not in path}
    return sum(sum(s.values()) for s in live.values()), live


def _plan(sim: Sim, repo: LiveRepo, *args: str, **env: str) -> tuple[int, str, str, int, list[str]]:
    """Run a plan: its exit code, output, and the requests it made (a count, the paths)."""
    before, earlier = _requests(sim)
    proc = intcfg(repo, "plan", "--format", "json", *args, **env)
    after, paths = _requests(sim)
    asked = [p for p, statuses in paths.items() if statuses != earlier.get(p)]
    return proc.returncode, proc.stdout, proc.stderr, after - before, asked


def _applied(sim: Sim, tmp_path: Path) -> LiveRepo:
    return applied_repo(tmp_path / "repo", sim)


def test_a_plan_read_ahead_is_the_plan_read_after_the_load(sim: Sim, tmp_path: Path) -> None:
    repo = _applied(sim, tmp_path)
    (repo.root / "districts/riverside-usd/etranscript.yaml").write_text(
        (repo.root / "districts/riverside-usd/etranscript.yaml")
        .read_text(encoding="utf-8")
        .replace("displayName: ", "displayName: Renamed ", 1),
        encoding="utf-8",
    )
    code, ahead, err, n_ahead, _ = _plan(sim, repo)
    code_off, after, err_off, n_after, _ = _plan(sim, repo, **OFF)
    assert (code, err) == (code_off, err_off) == (0, "")
    assert ahead == after
    assert [c["action"] for c in json.loads(ahead)["changes"] if c["action"] != "noop"] == ["update"]
    assert n_ahead == n_after == 3 * KINDS


def test_only_the_chosen_districts_are_read_ahead(sim: Sim, tmp_path: Path) -> None:
    repo = _applied(sim, tmp_path)
    _, ahead, _, n_ahead, paths = _plan(sim, repo, "--district", "hillcrest-isd")
    _, after, _, n_after, _ = _plan(sim, repo, "--district", "hillcrest-isd", **OFF)
    assert ahead == after
    assert n_ahead == n_after == KINDS
    assert not [p for p in paths if "/districts/riverside-usd/" in p or "/districts/lakeside-sd/" in p]


def test_a_wrong_guess_costs_its_reads_and_changes_nothing(sim: Sim, tmp_path: Path) -> None:
    repo = _applied(sim, tmp_path)
    # A comment that names a district no live system knows: the guess reads it, the plan
    # (whose scope does not hold it) drops what came back.
    schedule = repo.root / "districts/lakeside-sd/schedules.yaml"
    schedule.write_text("# moved here from district: ghost-district\n" + schedule.read_text(encoding="utf-8"), encoding="utf-8")
    code, ahead, err, n_ahead, paths = _plan(sim, repo)
    _, after, _, n_after, _ = _plan(sim, repo, **OFF)
    assert (code, err) == (0, "")
    assert ahead == after
    assert [p for p in paths if "/districts/ghost-district/" in p]  # read ahead (the child ran) ...
    assert "ghost-district" not in ahead  # ... and dropped
    assert n_ahead == n_after + KINDS


def test_a_failing_read_ahead_leaves_the_error_to_the_plan(sim: Sim, tmp_path: Path) -> None:
    repo = _applied(sim, tmp_path)
    # A wrong admin token: every list fails at once (401 is not retried), in the child too.
    wrong = {"INTCFG_ADMIN_TOKEN": "not-the-admin-token"}
    code, out, err, _, _ = _plan(sim, repo, **wrong)
    code_off, out_off, err_off, _, _ = _plan(sim, repo, **OFF, **wrong)
    assert (code, out) == (code_off, out_off) == (1, "")
    # Which list fails first varies from run to run, with or without reading ahead.
    for text in (err, err_off):
        assert re.fullmatch(r"Error: (sis|portal|enroll): GET \S+/districts/\S+: 401 .*\n", text), text
        assert "not-the-admin-token" not in text


def test_a_killed_apply_leaves_no_reader_holding_its_lock(sim: Sim, tmp_path: Path) -> None:
    """The read-ahead child closes the apply's lock descriptor and dies with its parent:
    after a SIGKILL of the apply alone (not its process group), the lock is free at once
    and no more list requests arrive."""
    import fcntl

    repo = _applied(sim, tmp_path)
    sim.call("POST", "/_sim/faults", json={"latencyMs": 1000})  # two rounds of 8 lists: 2 s
    before, _ = _requests(sim)
    proc = subprocess.Popen([INTCFG, "apply", "--auto-approve"], cwd=repo.root, env=repo.env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while _requests(sim)[0] == before and time.monotonic() < deadline:  # the first round is out
        time.sleep(0.02)
    proc.kill()
    proc.wait(timeout=30)
    time.sleep(0.2)
    with open(repo.root / ".git/intcfg.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if anything still holds it
        fcntl.flock(fh, fcntl.LOCK_UN)
    time.sleep(1.2)  # the requests in flight at the kill are answered (and counted)
    seen, _ = _requests(sim)
    time.sleep(2.5)  # a live child would have sent its second round by now
    assert _requests(sim)[0] == seen, "list requests still arrive from an orphaned child"
    sim.call("POST", "/_sim/faults", json={"latencyMs": 0})
    again = intcfg(repo, "apply", "--auto-approve", "--lock-timeout", "0")
    assert again.returncode == 0, again.stdout + again.stderr


def _nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[16])


def test_the_command_steps_back_while_its_child_reads_and_a_library_caller_does_not(sim: Sim, tmp_path: Path) -> None:
    import os

    repo = _applied(sim, tmp_path)
    sim.call("POST", "/_sim/faults", json={"latencyMs": 500})  # the reads take a few seconds
    mine = os.nice(0)
    proc = subprocess.Popen([INTCFG, "plan"], cwd=repo.root, env=repo.env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        children: list[str] = []
        deadline = time.monotonic() + 60
        while not children and time.monotonic() < deadline:
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text(encoding="utf-8").split()
            time.sleep(0.02)
        assert children, "no read-ahead child"
        deadline = time.monotonic() + 30
        while _nice(proc.pid) == mine and time.monotonic() < deadline:  # it steps back after the fork
            time.sleep(0.02)
        assert (_nice(proc.pid), _nice(int(children[0]))) == (min(mine + 10, 19), mine)
    finally:
        proc.kill()
        proc.wait(timeout=30)
        sim.call("POST", "/_sim/faults", json={"latencyMs": 0})
    assert intcfg_in_process(repo, "plan").returncode == 0
    assert os.nice(0) == mine  # pytest's own process was not reprioritised


def test_the_command_reads_ahead_with_the_child_forked_as_it_started(sim: Sim, tmp_path: Path) -> None:
    repo = _applied(sim, tmp_path)
    proc = intcfg(repo, "-vv", "plan", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (line,) = [line for line in proc.stderr.splitlines() if "plan.read-ahead:" in line]
    assert "read ahead 3 of 3 guessed districts" in line and "early=true" in line
    assert proc.stdout == _plan(sim, repo, **OFF)[1]


_EARLY = """
import json, os, sys
from pathlib import Path
from intcfg import early, engine

def children():
    return Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()

early.fork()
waiting = early._waiting
seen = {"forked": children() == [str(waiting.pid)]}
with engine._reading_ahead(Path.cwd(), (), None, sys.argv[1]) as ahead:
    seen["taken"] = ahead is not None and ahead.pid == waiting.pid
    seen["read"] = sorted(ahead.take().districts) if ahead else []
seen["left"] = children()
print(json.dumps(seen))
"""


def test_the_child_forked_early_reads_what_the_plan_orders(sim: Sim, tmp_path: Path) -> None:
    import sys

    repo = _applied(sim, tmp_path)
    proc = subprocess.run([sys.executable, "-c", _EARLY, sim.url], cwd=repo.root, env=repo.env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "forked": True, "taken": True, "read": ["hillcrest-isd", "lakeside-sd", "riverside-usd"], "left": [],
    }


def test_a_plan_that_reads_nothing_ahead_stops_the_child_forked_early(sim: Sim, tmp_path: Path) -> None:
    import sys

    repo = _applied(sim, tmp_path)
    # sim://: the simulator in process, nothing to read ahead; the waiting child is stopped
    # (and reaped) before the plan goes on, not left waiting to the end.
    proc = subprocess.run([sys.executable, "-c", _EARLY, "sim://"], cwd=repo.root, env=repo.env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"forked": True, "taken": False, "read": [], "left": []}


class _Provider:
    """Lists from a fixed set of objects, recording what was asked."""

    kinds = ("ETranscriptVendor",)

    def __init__(self, objects: list[Any]) -> None:
        self.objects, self.asked = objects, []

    async def list(self, district: str, kind: str) -> list[Any]:
        self.asked.append(district)
        return [o for o in self.objects if o.district == district]


class _Live(dict):  # type: ignore[type-arg]
    def __getattr__(self, name: str) -> Any:
        return self[name]


def _live(district: str) -> Any:
    return _Live(system="sis", district=district, kind="ETranscriptVendor", name="v", site=None)


def test_districts_not_guessed_are_read_after_the_load_and_others_dropped() -> None:
    provider = _Provider([_live("a"), _live("b"), _live("c")])
    prefetched = Prefetched(frozenset({"a", "x"}), {Address("sis", "a", "ETranscriptVendor", "v"): _live("a"),
                                                    Address("sis", "x", "ETranscriptVendor", "v"): _live("x")})
    live = asyncio.run(loop._live({"sis": provider}, ("a", "b"), prefetched))
    assert provider.asked == ["b"]
    assert sorted(a.district for a in live) == ["a", "b"]


def test_the_childs_progress_districts_and_counters_are_read_apart() -> None:
    import io
    import pickle

    from intcfg.prefetch import _follow

    def district(name: str, objects: dict[str, str]) -> bytes:
        frame = pickle.dumps((name, objects))
        return b"D" + len(frame).to_bytes(4, "big") + frame

    counts = {"requests": 7}
    seen: list[int] = []
    ticks: list[None] = []
    arrived: list[tuple[str, dict[str, str]]] = []

    def follow(stream: bytes) -> dict[str, int]:
        seen.clear(), ticks.clear(), arrived.clear()
        return _follow(io.BytesIO(stream), seen.append, lambda: ticks.append(None), lambda d, o: arrived.append((d, o)))

    # Two requests end while the guess goes on, then the total; a district's objects may
    # hold any byte the stream uses for its own marks.
    a, b = district("a", {"k": "x=.\nT9\nD"}), district("b", {})
    assert follow(b".." + a + b"T7\n" + b"..." + b + b".." + b"=" + pickle.dumps(counts)) == counts
    assert seen == [7] and len(ticks) == 7
    assert arrived == [("a", {"k": "x=.\nT9\nD"}), ("b", {})]
    # A child that died: what came whole still arrives, a frame cut short does not.
    assert follow(b"T7\n." + a + b"..." + b[:-3]) == {}
    assert arrived == [("a", {"k": "x=.\nT9\nD"})] and len(ticks) == 4
    assert follow(b"garbage" + a) == {} and arrived == []
    assert follow(b"T7\n" + b"=" + b"cut") == {}


def test_the_guess_names_each_district_once_and_steps_at_every_file(tmp_path: Path) -> None:
    from intcfg.prefetch import guessing
    from intcfg.repo import RepoSettings

    files = {
        "a1.yaml": "district: a\n",
        "a2.yaml": "metadata: {district: 'a'}\n",
        "b.yaml": "district: b\n# district: c\n",
        "n.yaml": "subdistrict: x\n_district: y\ndistrict:\n",  # not "district:" at a word's start
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    # No audit branch here (not even a repository): the files are the whole guess.
    assert list(guessing(tmp_path, RepoSettings.from_data(None), (), None)) == ["a", None, "b", "c", None]
    assert list(guessing(tmp_path, RepoSettings.from_data(None), ("b",), None)) == [None, None, "b", None]
