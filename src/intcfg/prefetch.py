"""Read the live systems while the configuration loads.

A plan of a state's districts is two jobs that need nothing of each other until the diff:
loading the repository (parse, validate, build the desired state: CPU) and listing every
district's objects in the live systems (one page per district and kind: waiting on the
network). Done one after the other, the wait comes on top of the loading. So a plan forks
a child that guesses which districts the plan will read and lists them (its own event loop
and connections), and loads the repository meanwhile; then it takes the child's objects
for the districts the plan really covers and reads any the child did not guess in process.

The guess is cheap and only ever a guess: the ``district:`` values the files mention and
the districts of the last-applied state (the names of its files on the audit branch),
narrowed by ``--district`` and ``--shard``. A district guessed wrongly costs a few list
requests whose answers are dropped (a failed read of one is ignored); one not guessed is
read after the load, as before. Nothing the child read is used unless the plan's scope
holds its district, so the plan is the one a plan without the child makes.

Only for http(s) live systems (``sim://`` runs the simulator in process, and it learns
the districts from the loaded configuration), only on Linux (fork), and only where the
process has no other thread (a child forked while another thread holds a lock can wait on
it forever). A child that fails in any way (killed, a read failing after its retries)
leaves its districts to the reads in process, which report the failure as usual.
"""

from __future__ import annotations

import os
import pickle
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from .repo import RepoSettings, discover

PROGRESS_BYTES = 2_000  # the most progress bytes a child writes before its payload
# A district as a resource's metadata names it, in block or flow style, quoted or not.
_DISTRICT = re.compile(rb"""\bdistrict:[ \t]*["']?([A-Za-z0-9][A-Za-z0-9._-]*)""")


class Prefetched(NamedTuple):
    districts: frozenset[str]  # the districts whose objects ``live`` holds, all of them
    live: dict[Any, Any]  # Address -> LiveObject
    counts: dict[str, int] = {}  # noqa: RUF012 - the child's log counters (requests, retries)


class Prefetch:
    """A forked child listing the live objects of the districts it guessed."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd = pid, fd
        self._done = False

    def take(
        self, expect: Callable[[int], None] = lambda total: None, advance: Callable[[], None] = lambda: None
    ) -> Prefetched:
        """The child's objects, for the districts it read in full (none if it failed).
        While it reads, ``expect`` is told its number of requests and ``advance`` each that
        ended (the child writes a line with the number, a byte per request, then ``=`` and
        its pickled objects)."""
        try:
            with open(self.fd, "rb", buffering=0) as fh:
                payload = _follow(fh, expect, advance)
        except BaseException:  # Ctrl-C while waiting: stop the child too
            self._done = True
            _stop(self.pid)
            raise
        self._done = True
        _, status = os.waitpid(self.pid, 0)
        if status != 0 or not payload:
            return Prefetched(frozenset(), {})
        try:
            read, live, counts = pickle.loads(payload)
        except Exception:  # noqa: BLE001 - a torn payload: read everything in process
            return Prefetched(frozenset(), {})
        return Prefetched(frozenset(read), live, counts)

    def abandon(self) -> None:
        """Stop the child (the plan failed before it took the objects)."""
        if self._done:
            return
        self._done = True
        os.close(self.fd)
        _stop(self.pid)


def _stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)


def guessing(root: Path, settings: RepoSettings, chosen: Iterable[str], shard: str | None) -> Iterator[str]:
    """The districts a plan of ``root`` will probably read (see the module docstring),
    each as soon as it is found: the last-applied state's first, then those the files
    name, file by file."""
    from .loop import in_shard, parse_shard

    wanted = set(chosen)
    parsed = parse_shard(shard) if shard else None
    seen: set[str] = set()

    def fresh(names: Iterable[str]) -> Iterator[str]:
        for name in names:
            if name in seen or (wanted and name not in wanted) or (parsed and not in_shard(name, parsed)):
                continue
            seen.add(name)
            yield name

    yield from fresh(sorted(_applied_districts(root, settings.audit_branch)))
    for path in discover(root, settings):
        try:
            found = _DISTRICT.findall(path.read_bytes())
        except OSError:
            continue  # validate reports it
        yield from fresh(name.decode("ascii") for name in found)


def _applied_districts(root: Path, branch: str) -> set[str]:
    proc = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", f"refs/heads/{branch}", "--", "state/"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        return set()  # no audit branch yet
    return {Path(line).stem for line in proc.stdout.splitlines() if line.endswith(".json")}


def may_prefetch(live_url: str) -> bool:
    threading = sys.modules.get("threading")
    single = threading is None or threading.active_count() == 1
    return live_url.startswith(("http://", "https://")) and sys.platform.startswith("linux") and single


def start(
    root: Path, settings: RepoSettings, live: str | None, chosen: Iterable[str], shard: str | None
) -> Prefetch | None:
    """Fork a child that guesses the districts and reads them from ``live`` (default: the
    settings' URL), or None when a plan cannot read ahead (see the module docstring). The
    guess is the child's work too: the parent starts loading at once."""
    url = live or settings.live_url
    if not may_prefetch(url):
        return None
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: list, send, and leave without unwinding the caller
        code = 1
        try:
            _detach(parent, write_fd)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            with open(write_fd, "wb", buffering=0) as fh:
                _child(fh, root, settings, url, guessing(root, settings, chosen, shard))
            code = 0
        except BaseException:  # noqa: BLE001 - the parent reads in process and reports
            pass
        finally:
            os._exit(code)
    os.close(write_fd)
    return Prefetch(pid, read_fd)


def _detach(parent: int, keep: int) -> None:
    """Hold nothing of the parent's and die with it: every descriptor but the standard
    three and the pipe is closed (an apply's lock is an flock, held while any copy of its
    descriptor is open: a child outliving a killed apply would keep the next one waiting),
    and the kernel kills this child when the parent dies."""
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 20)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # no prctl: the parent's abandon() still stops it
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _child(fh: Any, root: Path, settings: RepoSettings, url: str, districts: Iterator[str]) -> None:
    """Read the ``districts`` as they come and write the stream ``_follow`` reads: a dot
    for each request that ended (before the guess is complete), then a line with the
    number of requests and how many each further dot stands for (at most about 2,000 dots
    in all, whatever the state's size: a full pipe would stop the reads until the parent
    has loaded), the dots, then ``=`` and the pickled objects."""
    import logging
    import time

    from .log import ev

    ended = [0, 1, 0]  # requests that ended, requests per dot, dots written

    def progress(total: int | None) -> None:
        if total is not None:
            ended[1] = max(1, (total - ended[2]) // PROGRESS_BYTES)
            fh.write(b"%d %d\n" % (total, ended[1]))
            return
        ended[0] += 1
        if ended[0] % ended[1] == 0:
            fh.write(b".")
            ended[2] += 1

    started = time.perf_counter()
    found = _read(root, settings, url, districts, progress)
    fh.write(b"=" + pickle.dumps(found[1:], pickle.HIGHEST_PROTOCOL))
    seconds = time.perf_counter() - started
    logging.getLogger(__name__).debug(
        "read ahead %d of %d guessed districts in %.2fs", len(found[1]), found[0], seconds,
        extra=ev("plan.read-ahead", guessed=found[0], read=len(found[1]), duration_s=round(seconds, 3)),
    )


def _follow(fh: Any, expect: Callable[[int], None], advance: Callable[[], None]) -> bytes:
    """Read the child's stream (see ``_child``) to its end, reporting progress; the pickled
    payload (empty when the child ended without one)."""
    buffer, total, step, seen = b"", -1, 1, 0
    while chunk := fh.read(1 << 16):
        buffer += chunk
        if total < 0:
            line, found, rest = buffer.partition(b"\n")
            early = len(line) - len(line.lstrip(b"."))
            if not found:
                seen += early
                buffer = line[early:]
                continue
            numbers = line[early:].split()
            if len(numbers) != 2 or not all(n.isdigit() for n in numbers):
                return b""
            total, step = int(numbers[0]), max(1, int(numbers[1]))
            seen += early
            expect(total)
            for _ in range(seen):
                advance()
            buffer = rest
        ticks, found, rest = buffer.partition(b"=")
        for _ in range(len(ticks) * step):
            advance()
        seen += len(ticks) * step
        if found:
            for _ in range(total - seen):
                advance()
            return rest + fh.read()
        buffer = b""
    return b""


class _Settings(NamedTuple):
    """What open_providers needs of a repository before it is loaded."""

    root: Path
    settings: RepoSettings


def _read(
    root: Path, settings: RepoSettings, url: str, districts: Iterator[str], progress: Callable[[int | None], None]
) -> tuple[int, list[str], dict[Any, Any], dict[str, int]]:
    """List each district as the guess yields it; the number guessed, those read in full,
    their objects, and the log counters this moved (requests, retries)."""
    import asyncio

    from . import log
    from .loop import READS_IN_FLIGHT, by_address, list_jobs
    from .providers.connect import open_providers

    log.set_sink(None)  # the parent's progress bar is the parent's to draw
    before = log.counts()

    async def main() -> tuple[int, list[str], dict[Any, Any]]:
        async with open_providers(_Settings(root, settings), url) as providers:
            gate = asyncio.Semaphore(READS_IN_FLIGHT)
            wanted: list[str] = []
            jobs: list[tuple[str, asyncio.Future[Any]]] = []
            for district in districts:  # each step reads a few files: the reads go on between
                wanted.append(district)
                jobs += [(d, asyncio.ensure_future(job)) for d, job in list_jobs(providers, [district], gate, lambda: progress(None))]
                await asyncio.sleep(0)
            progress(len(jobs))
            answers = await asyncio.gather(*(job for _, job in jobs), return_exceptions=True)
            failed = {d for (d, _), answer in zip(jobs, answers) if isinstance(answer, BaseException)}
            kept = (answer for (d, _), answer in zip(jobs, answers) if d not in failed)
            return len(wanted), [d for d in wanted if d not in failed], by_address(kept)

    box: list[tuple[int, list[str], dict[Any, Any]]] = []

    async def run() -> None:  # engine._run says why the result leaves the task this way
        box.append(await main())

    asyncio.run(run())
    moved = {k: v - before.get(k, 0) for k, v in log.counts().items() if v != before.get(k, 0)}
    return (*box[0], moved)
