"""The plan/apply benchmark: intcfg against `intcfg sim serve --latency-ms 20` at state scale.

    .venv/bin/python bench/loop.py                  (or: make bench, after bench/run.py)
    .venv/bin/python bench/loop.py --sizes 1000     (a quicker run)

For each size (1,000 and 10,000 live objects) it generates a valid repository
(gen.generate_resources), starts the simulator as a subprocess on a free loopback port with
its own SQLite file, teaches it the districts, points the repository's live.url at it and
runs three commands as subprocesses of the real console script, reading the simulator's
request counters (GET /_sim/stats) before and after each:

- `intcfg plan` on empty live systems (everything to create),
- `intcfg apply --auto-approve --force`,
- `intcfg plan` again (nothing to change).

With ``--clients`` it also times the reads of a plan alone, in this process, through
httpx's own connection pool and through the aiohttp transport intcfg uses, at 8 and 32
requests in flight (the measurement behind the transport).

Each row shows the wall time, the requests the command made (lists / batches / others),
the latency bound (requests x latency / requests in flight), the ratio of the wall time to
it, and the command's peak memory (ru_maxrss of that child, from wait4). The commands'
own checks (exit codes, plan summaries, no request per object) stop the run when they
fail: a timing of a wrong result means nothing. See bench/RESULTS-loop.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, NamedTuple

import gen

BIN = Path(sys.executable).parent
INTCFG = str(BIN / "intcfg")
TOKEN = "bench-admin-token-0d1f"
SEED = 7
SIZES = (1_000, 10_000)
STARTUP_SECONDS = 60.0
COMMAND_TIMEOUT = 900.0
SEED_CHUNK = 100  # districts per /_sim/seed request (its body is limited to 1 MB)
PAGE_LIMIT = 500  # the contract's largest list page
BATCH_LIMIT = 100  # the contract's largest batch
READS_IN_FLIGHT = 8  # intcfg.reads.READS_IN_FLIGHT: list requests in flight while planning
GOAL_RATIO = 1.25
GOAL_RSS_MB = 300
ENV_REF = re.compile(r"\{env: ([A-Z0-9_]+)\}")
KINDS_PER_DISTRICT = 5  # one list per district and kind: 1 sis + 1 portal + 3 enroll
LIST_ROUTE = re.compile(r"^GET /(sis|portal|enroll)/admin/v1/districts/\{district\}/[a-z-]+$")


class Counts(NamedTuple):
    lists: int
    batches: int
    other: int

    @property
    def total(self) -> int:
        return self.lists + self.batches + self.other


class Row(NamedTuple):
    size: int
    command: str
    wall: float
    counts: Counts
    in_flight: int
    latency_ms: int
    rss_mb: float
    summary: str

    @property
    def bound(self) -> float:
        return self.counts.total * self.latency_ms / 1000 / self.in_flight

    @property
    def ratio(self) -> float:
        return self.wall / self.bound if self.bound else float("inf")


# -- the simulator ---------------------------------------------------------------------------


class Sim:
    """`intcfg sim serve` on a free loopback port, with the admin token in its environment."""

    def __init__(self, db: Path, latency_ms: int, env: dict[str, str]) -> None:
        self.log = db.with_suffix(".log")
        with open(self.log, "w", encoding="utf-8") as err:
            command = [INTCFG, "sim", "serve", "--port", "0", "--db", str(db), "--latency-ms", str(latency_ms)]
            self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        self.url = _listening_url(self.proc, self.log)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {TOKEN}")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")

    def counts(self) -> Counts:
        """Requests to the live systems so far (control calls under /_sim aside)."""
        by_route: dict[str, dict[str, int]] = self.call("GET", "/_sim/stats")["byRoute"]
        lists = batches = other = 0
        for route, statuses in by_route.items():
            n = sum(statuses.values())
            if " /_sim/" in route:
                continue
            if LIST_ROUTE.match(route):
                lists += n
            elif route.startswith("POST ") and route.endswith("/batch"):
                batches += n
            else:
                other += n
        return Counts(lists, batches, other)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate(timeout=30)


def _listening_url(proc: subprocess.Popen[str], log: Path) -> str:
    assert proc.stdout is not None
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(proc.stdout.readline() if proc.stdout else ""), daemon=True)
    reader.start()
    reader.join(STARTUP_SECONDS)
    match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", found[0] if found else "")
    if match is None:
        proc.kill()
        proc.communicate(timeout=30)
        raise SystemExit(f"the simulator did not start: {log.read_text(encoding='utf-8')}")
    return match.group(1)


# -- the repository ------------------------------------------------------------------------------


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", *args], cwd=root,
                   check=True, capture_output=True, timeout=300)


def make_repo(root: Path, size: int) -> dict[str, str]:
    """A generated repository in git; returns a value for every secret it names."""
    files = gen.generate_resources(root, size, SEED)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "config")
    names = {m for f in files for m in ENV_REF.findall(f.read_text(encoding="utf-8"))}
    return {name: f"bench-{name.lower().replace('_', '-')}-5e2b" for name in sorted(names)}


def point_at(root: Path, url: str) -> None:
    settings = root / "intcfg.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("url: sim://", f"url: {url}"), encoding="utf-8")
    git(root, "commit", "-q", "-am", "live systems of the benchmark")


def seed(sim: Sim, root: Path) -> int:
    """Teach the simulator the districts and schools of the repository, as a real system knows them."""
    from intcfg.loader import load_file
    from intcfg.sim.fromconfig import seed_from_config

    datas = [d.data for p in sorted((root / "districts").glob("*/district.yaml")) for d in load_file(str(p)).documents]
    districts = seed_from_config(datas)["districts"]
    for start in range(0, len(districts), SEED_CHUNK):
        sim.call("POST", "/_sim/seed", {"districts": districts[start : start + SEED_CHUNK]})
    return len(districts)


# -- running a command ------------------------------------------------------------------------------


class Done(NamedTuple):
    code: int
    out: str
    err: str
    wall: float
    rss_mb: float


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> Done:
    """Run ``command``; its wall time and its own peak resident memory (wait4's rusage)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        killer = threading.Timer(COMMAND_TIMEOUT, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        # ru_maxrss is in kilobytes on Linux.
        return Done(proc.returncode, out.read().decode(), err.read().decode(), wall, usage.ru_maxrss / 1024)


def environment(secrets: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("INTCFG_")}
    return {**env, **secrets, "INTCFG_ADMIN_TOKEN": TOKEN, "INTCFG_FINGERPRINT_KEY": "bench-fingerprint-key-" + "7" * 16,
            "INTCFG_TODAY": gen.TODAY, "NO_COLOR": "1"}


def expect(done: Done, code: int, first_line: str, what: str) -> str:
    head = done.out.splitlines()[0] if done.out else ""
    if done.code != code or not head.startswith(first_line):
        raise SystemExit(f"{what}: exit {done.code}, expected {code} and {first_line!r}:\n{done.out[-2000:]}\n{done.err[-2000:]}")
    return head


# -- one size -----------------------------------------------------------------------------------------


def run_size(size: int, latency_ms: int, parallelism: int, tmp: Path, clients: bool) -> list[Row]:
    root = tmp / f"repo-{size}"
    secrets = make_repo(root, size)
    env = environment(secrets)
    sim = Sim(tmp / f"sim-{size}.sqlite3", latency_ms, env)
    try:
        districts = seed(sim, root)
        point_at(root, sim.url)
        steps = (
            ("plan (cold)", ["plan", "--detailed-exitcode"], 2, f"Plan: {size} to create, 0 to update, 0 to delete", READS_IN_FLIGHT),
            ("apply", ["apply", "--auto-approve", "--force", "--parallelism", str(parallelism)], 0, f"Plan: {size} to create", parallelism),
            ("plan (no changes)", ["plan", "--detailed-exitcode"], 0, f"Plan: 0 to create, 0 to update, 0 to delete, {size} unchanged", READS_IN_FLIGHT),
        )
        rows: list[Row] = []
        for name, args, code, first, in_flight in steps:
            before = sim.counts()
            done = timed([INTCFG, *args], root, env)
            after = sim.counts()
            counts = Counts(*(b - a for a, b in zip(before, after, strict=True)))
            summary = expect(done, code, first, f"{size}: intcfg {' '.join(args)}")
            check_requests(name, counts, size, districts, done.out)
            rows.append(Row(size, name, done.wall, counts, in_flight, latency_ms, done.rss_mb, summary))
        if clients:
            rows += client_rows(sim, root, size, latency_ms)
        return rows
    finally:
        sim.close()


# -- the HTTP client ---------------------------------------------------------------------------------


def client_rows(sim: Sim, root: Path, size: int, latency_ms: int) -> list[Row]:
    """The reads of a plan alone (every list page of every district and kind), in this
    process, through httpx's own pool and through the aiohttp transport intcfg uses, at
    8 and 32 requests in flight: the measurement behind the choice of transport. And the
    floor: the same GETs from a bare aiohttp session, without intcfg's providers, retries
    and httpx's client (what the simulator, the loopback and an event loop cost alone)."""
    import asyncio

    districts = sorted(p.name for p in (root / "districts").iterdir())
    rows = []
    for transport, flights in (("httpx pool", (8, 32)), ("aiohttp", (8, 32)), ("bare aiohttp, no intcfg", (8,))):
        for in_flight in flights:
            before = sim.counts()
            started = time.perf_counter()
            asyncio.run(_read_all(sim.url, districts, transport, in_flight))
            wall = time.perf_counter() - started
            counts = Counts(*(b - a for a, b in zip(before, sim.counts(), strict=True)))
            rows.append(Row(size, f"reads only, {transport}", wall, counts, in_flight, latency_ms, 0.0, ""))
    return rows


async def _read_all(url: str, districts: list[str], transport: str, in_flight: int) -> None:
    import httpx

    from intcfg import loop
    from intcfg.providers import http
    from intcfg.providers.aio import AioTransport
    from intcfg.providers.registry import PROVIDERS
    from intcfg.secrets import Secret

    def network() -> httpx.AsyncBaseTransport:
        limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
        if transport == "aiohttp":
            return AioTransport(verify=False, connections=in_flight)
        return httpx.AsyncHTTPTransport(limits=limits, trust_env=False)

    shared = network()  # one pool for the three systems, as intcfg's providers share one
    clients = {system: http.build_client(url + "/", token=Secret(TOKEN), transport=shared) for system in PROVIDERS}
    try:
        providers = {s: PROVIDERS[s](c) for s, c in clients.items()}
        if transport.startswith("bare"):
            paths = [p.collection(d, kind) for p in providers.values() for d in districts for kind in p.kinds]
            await _read_bare(url, paths, in_flight)
        else:
            await loop.read_live(providers, districts, 2 * in_flight)
    finally:
        for client in clients.values():
            await client.aclose()


async def _read_bare(url: str, paths: list[str], in_flight: int) -> None:
    import asyncio

    import aiohttp

    gate = asyncio.Semaphore(in_flight)
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=in_flight)) as session:

        async def get(path: str) -> None:
            async with gate, session.get(f"{url}{path}?limit={PAGE_LIMIT}", headers=headers) as response:
                if response.status != 200 or json.loads(await response.read()).get("next"):
                    raise SystemExit(f"bare read of {path}: {response.status} or more than a page")

        await asyncio.gather(*(get(path) for path in paths))


def check_requests(name: str, counts: Counts, size: int, districts: int, out: str) -> None:
    """No request per object: one list page per district and kind (plans read the live
    systems once; apply plans once, then writes in batches of at most 100)."""
    pages = districts * KINDS_PER_DISTRICT
    if counts.lists != pages or counts.other:
        raise SystemExit(f"{name}: {counts} requests, expected {pages} list pages and nothing else")
    if name == "apply":
        # At most two tiers of creates, three systems: ceil per system and tier.
        most = 2 * (-(-size // BATCH_LIMIT)) + 3
        done = sum(1 for line in out.splitlines() if line.startswith("ok "))
        if not 0 < counts.batches <= most or done != size:
            raise SystemExit(f"apply: {counts.batches} batches (at most {most}) or not every change ok:\n{out[-2000:]}")
    elif counts.batches:
        raise SystemExit(f"{name}: a plan wrote ({counts.batches} batch requests)")


# -- the report -------------------------------------------------------------------------------------


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| resources | command | wall s | requests (lists + batches) | in flight | latency bound s | ratio | peak MB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.size:,} | {r.command} | {r.wall:.2f} | {r.counts.total:,} ({r.counts.lists:,} + {r.counts.batches:,}) "
            f"| {r.in_flight} | {r.bound:.2f} | {r.ratio:.2f} | {f'{r.rss_mb:.0f}' if r.rss_mb else ''} |"
        )
    return lines


def floor(size: int, tmp: Path, env: dict[str, str]) -> str:
    """`intcfg validate` on the same repository: the offline work every command does first."""
    done = timed([INTCFG, "validate"], tmp / f"repo-{size}", env)
    return f"| {size:,} | validate (offline floor) | {done.wall:.2f} | 0 | | | | {done.rss_mb:.0f} |"


def verdict(rows: list[Row]) -> list[str]:
    rows = [r for r in rows if not r.command.startswith("reads only")]
    big = [r for r in rows if r.size == max(SIZES)]
    missed = [f"ratio {r.ratio:.2f} > {GOAL_RATIO} ({r.command})" for r in big if r.ratio > GOAL_RATIO]
    missed += [f"peak {r.rss_mb:.0f} MB >= {GOAL_RSS_MB} MB ({r.size:,}, {r.command})" for r in rows if r.rss_mb >= GOAL_RSS_MB]
    if not big:
        missed.append(f"the ratio goal is at {max(SIZES):,} resources, not run")
    return ["Goals met." if not missed else "Goals missed: " + "; ".join(missed)]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), choices=SIZES, metavar="N")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--parallelism", type=int, default=8, help="apply --parallelism (batch requests in flight)")
    parser.add_argument("--clients", action="store_true", help="also time the reads alone through httpx's pool and aiohttp")
    args = parser.parse_args(argv)
    print(f"intcfg plan/apply against intcfg sim serve --latency-ms {args.latency_ms}; Python {platform.python_version()}")
    print(load())
    rows: list[Row] = []
    floors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="intcfg-bench-loop-") as name:
        tmp = Path(name)
        for size in args.sizes:
            done = run_size(size, args.latency_ms, args.parallelism, tmp, args.clients)
            floors.append(floor(size, tmp, environment({})))
            shutil.rmtree(tmp / f"repo-{size}", ignore_errors=True)
            print("\n".join([*table(done)[2:], floors[-1]]), flush=True)
            rows += done
    print()
    print("\n".join([*table(rows), *floors]))
    print(load())
    print("\n".join(verdict(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
