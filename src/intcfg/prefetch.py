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
it forever). The console script forks its child as it starts (early.py), before the
modules the command and the child need are imported: each imports its own on a core of
its own, and the child waits for its orders. A child that fails in any way (killed, a
read failing after its retries) leaves its districts to the reads in process, which
report the failure as usual.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import re
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from . import early
from .early import Waiting, forked
from .repo import RepoSettings, walk

# A district as a resource's metadata names it, in block or flow style, quoted or not.
_DISTRICT = re.compile(rb"""district:[ \t]*["']?([A-Za-z0-9][A-Za-z0-9._-]*)""")
_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _named(text: bytes) -> list[bytes]:
    """The districts ``text`` names: ``district:`` at the start of a word. (A leading
    ``\\b`` in the pattern would cost the search its literal prefix: 3x slower over the
    files of a state.)"""
    return [m[1] for m in _DISTRICT.finditer(text) if m.start() == 0 or text[m.start() - 1] not in _WORD]


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
        self,
        expect: Callable[[int], None] = lambda total: None,
        advance: Callable[[], None] = lambda: None,
        each: Callable[[str, dict[Any, Any]], None] = lambda district, live: None,
    ) -> Prefetched:
        """The child's objects, for the districts it read in full. While it reads,
        ``expect`` is told its number of requests, ``advance`` each that ended, and ``each``
        every district it read in full, with its objects, as soon as it has them (a plan
        compares them while the child reads the others). A district is sent only whole, so
        those that came before a child failed are still good; the rest are the plan's."""
        read: set[str] = set()
        live: dict[Any, Any] = {}

        def arrived(district: str, objects: dict[Any, Any]) -> None:
            read.add(district)
            live.update(objects)
            each(district, objects)

        try:
            with open(self.fd, "rb", buffering=0) as fh:
                counts = _follow(fh, expect, advance, arrived)
        except BaseException:  # Ctrl-C while waiting, or ``each`` failing: stop the child too
            self._done = True
            _stop(self.pid)
            raise
        self._done = True
        os.waitpid(self.pid, 0)
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


def guessing(
    root: Path, settings: RepoSettings, chosen: Iterable[str], shard: str | None
) -> Iterator[str | None]:
    """The districts a plan of ``root`` will probably read (see the module docstring),
    each as soon as it is found: the last-applied state's first, then those the files
    name, file by file; None after a file that named none not yet found (the reader's
    reads go on between files even when the state named every district already)."""
    from .shards import in_shard, parse_shard

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
    for path in walk(root, settings):
        try:
            found = _named(path.read_bytes())
        except OSError:
            continue  # validate reports it
        new = list(fresh(name.decode("ascii") for name in found))
        if new:
            yield from new
        else:
            yield None


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
    return live_url.startswith(("http://", "https://")) and sys.platform.startswith("linux")


class _Orders(NamedTuple):
    """What the child forked early (early.py) is to read, and how to log."""

    root: Path
    settings: RepoSettings
    url: str
    chosen: tuple[str, ...]
    shard: str | None
    logging: tuple[Any, ...] | None  # log.setup's arguments in the command, if it logs


def start(
    root: Path, settings: RepoSettings, live: str | None, chosen: Iterable[str], shard: str | None
) -> Prefetch | None:
    """A child that guesses the districts and reads them from ``live`` (default: the
    settings' URL), or None when a plan cannot read ahead (see the module docstring): the
    child forked as the command started when one waits (early.py), else one forked now.
    The guess is the child's work too: the parent starts loading at once."""
    from . import log

    url = live or settings.live_url
    if not may_prefetch(url):
        return None  # the caller dismisses a child forked early (engine._reading_ahead)
    orders = _Orders(root, settings, url, tuple(chosen), shard, log.configured())
    prefetch = _give_orders(early.take(), orders)
    if prefetch is None:
        if not early.may_fork():
            return None
        prefetch = _fork(orders)
    _step_back()
    return prefetch


def _give_orders(waiting: Waiting | None, orders: _Orders) -> Prefetch | None:
    """The waiting child with its orders given, or None: no child waits, or it is gone
    (stopped then, and the caller forks another)."""
    if waiting is None:
        return None
    try:
        with open(waiting.orders, "wb") as fh:
            fh.write(pickle.dumps(orders, pickle.HIGHEST_PROTOCOL))
    except OSError:  # it died (a pipe with no reader): a child forked now reads instead
        os.close(waiting.stream)
        _stop(waiting.pid)
        return None
    return Prefetch(waiting.pid, waiting.stream)


def _fork(orders: _Orders) -> Prefetch:
    """A child forked now to carry out ``orders`` (it has the command's logging already)."""
    read_fd, write_fd = os.pipe()

    def read(parent: int) -> None:
        _detach(parent, (write_fd,))
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _carry_out(orders, write_fd, early=False)

    pid = forked(read)
    os.close(write_fd)
    return Prefetch(pid, read_fd)


def wait_for_orders(parent: int, orders: int, stream: int) -> None:
    """The child forked early (early.py): import what reading needs while the command
    loads its own modules, then read what its orders say (nothing when the pipe closes
    without any), writing the stream ``_child`` describes to ``stream``."""
    _detach(parent, (orders, stream))
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    from . import reads  # noqa: F401 - imported now, before the orders come
    from .providers import aio, connect  # noqa: F401 - httpx and aiohttp: most of the wait

    _loop_factory()
    with open(orders, "rb") as fh:
        given = fh.read()
    if not given:
        return
    order: _Orders = pickle.loads(given)
    if order.logging is not None:
        from . import log

        log.setup(*order.logging)
    _carry_out(order, stream, early=True)


def _carry_out(orders: _Orders, stream: int, early: bool) -> None:
    """Guess the districts and read them as ``orders`` say, writing the stream ``_child``
    describes to the descriptor ``stream``."""
    with open(stream, "wb", buffering=0) as fh:
        districts = guessing(orders.root, orders.settings, orders.chosen, orders.shard)
        _child(fh, orders.root, orders.settings, orders.url, districts, early)


STEP_BACK = 10  # the niceness the command's process adds once its child reads
_stepped_back = False  # once a process: `intcfg demo` plans several times


def _step_back() -> None:
    """Lower the console script's priority below its child's (which keeps the one it was
    forked with). While the child reads, this process loads the repository and compares
    districts: work with seconds to spare, whereas every moment the child waits for a CPU
    delays an answer it must turn into the next request (on two cores, with a live system
    on the same machine, the plan of 10,000 objects took a tenth longer). The process
    stays there to its end: an unprivileged process cannot raise its priority again, and
    what it does after the reads contends with nothing of its own."""
    global _stepped_back
    from . import main

    if main.console and not _stepped_back:
        _stepped_back = True
        try:
            os.nice(STEP_BACK)
        except OSError:  # not permitted here: the child just competes as before
            pass


def _detach(parent: int, keep: tuple[int, ...]) -> None:
    """Hold nothing of the parent's and die with it: every descriptor but the standard
    three and the ``keep`` ones (its pipes) is closed (an apply's lock is an flock, held
    while any copy of its descriptor is open: a child outliving a killed apply would keep
    the next one waiting), and the kernel kills this child when the parent dies."""
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 20)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # no prctl: the parent's abandon() still stops it
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _child(
    fh: Any, root: Path, settings: RepoSettings, url: str, districts: Iterator[str | None], early: bool = False
) -> None:
    """Read the ``districts`` as they come and write the stream ``_follow`` reads
    (``early``: this child was forked as the command started, see early.py):

    - ``.`` for each request that ended;
    - ``T<number>\\n``: the number of requests, once the guess is complete;
    - ``D<length><pickle>`` for each district read in full: its name and objects (the
      length in 4 bytes, big-endian);
    - ``=<pickle>`` at the end: the log counters the reads moved (requests, retries).

    The writes never wait on the parent (it reads the stream only once it has loaded):
    what it has not read yet waits in this process's memory, not in a full pipe.
    """
    import logging
    import time

    from .log import ev

    started = time.perf_counter()
    guessed, read = _read(root, settings, url, districts, fh)
    seconds = time.perf_counter() - started
    logging.getLogger(__name__).debug(
        "read ahead %d of %d guessed districts in %.2fs (by a child forked %s)", read, guessed, seconds,
        "as the command started" if early else "after the settings were read",
        extra=ev("plan.read-ahead", guessed=guessed, read=read, duration_s=round(seconds, 3), early=early),
    )


_LENGTH = 4  # bytes of a district frame's length


def _follow(
    fh: Any,
    expect: Callable[[int], None],
    advance: Callable[[], None],
    arrived: Callable[[str, dict[Any, Any]], None],
) -> dict[str, int]:
    """Read the child's stream (see ``_child``) to its end, reporting progress and each
    district as it comes; the child's counters (none when it ended without them). A frame
    cut short (the child died while writing it) is dropped."""
    buffer, at, total, early = bytearray(), 0, -1, 0
    while True:
        event = bytes(buffer[at : at + 1])
        if event == b".":
            at += 1
            if total < 0:
                early += 1
            else:
                advance()
            continue
        line_end = buffer.find(b"\n", at) if event == b"T" else -1
        if line_end >= 0:
            text = bytes(buffer[at + 1 : line_end])
            if not text.isdigit():
                return {}
            total, at = int(text), line_end + 1
            expect(total)
            for _ in range(early):
                advance()
            continue
        if event == b"D" and len(buffer) - at > _LENGTH:
            size = int.from_bytes(buffer[at + 1 : at + 1 + _LENGTH], "big")
            if len(buffer) - at - 1 - _LENGTH >= size:
                frame = bytes(buffer[at + 1 + _LENGTH : at + 1 + _LENGTH + size])
                at += 1 + _LENGTH + size
                try:
                    district, objects = pickle.loads(frame)
                except Exception:  # noqa: BLE001 - not what the child writes: read the rest in process
                    return {}
                arrived(district, objects)
                continue
        if event == b"=":
            rest = bytes(buffer[at + 1 :]) + fh.read()
            try:
                counts = pickle.loads(rest)
            except Exception:  # noqa: BLE001 - cut short: the counters are only for the logs
                return {}
            return counts if isinstance(counts, dict) else {}
        if event not in (b"", b"T", b"D"):
            return {}  # not the child's stream
        chunk = fh.read(1 << 16)
        if not chunk:
            return {}
        del buffer[:at]
        buffer += chunk
        at = 0


class _Closed(asyncio.Protocol):
    """The pipe's protocol: ``closed`` is done once every byte written has left (or the
    parent is gone)."""

    def __init__(self, closed: asyncio.Future[None]) -> None:
        self.closed = closed

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class _Outbox:
    """The stream to the parent, written in bunches: every ``EVERY`` seconds (and at the
    end) what came meanwhile goes in one write. A write per request ended would wake the
    parent thousands of times; the progress bar needs a few updates a second."""

    EVERY = 0.025

    def __init__(self, pipe: asyncio.WriteTransport) -> None:
        self.pipe = pipe
        self.parts: list[bytes] = []
        self.dots = 0
        self.timer: asyncio.TimerHandle | None = None

    def ended(self) -> None:
        """A request ended (a ``.`` in the stream)."""
        self.dots += 1
        self._soon()

    def add(self, part: bytes) -> None:
        self.parts.append(part)
        self._soon()

    def _soon(self) -> None:
        if self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(self.EVERY, self.flush)

    def flush(self) -> None:
        self.timer = None
        if self.dots or self.parts:
            self.pipe.write(b"." * self.dots + b"".join(self.parts))
            self.dots, self.parts = 0, []

    def close(self) -> None:
        """Write what is left (its order kept: the counters' ``=`` comes last)."""
        if self.timer is not None:
            self.timer.cancel()
        self.flush()


class _Settings(NamedTuple):
    """What open_providers needs of a repository before it is loaded."""

    root: Path
    settings: RepoSettings


def _read(
    root: Path, settings: RepoSettings, url: str, districts: Iterator[str | None], out: Any
) -> tuple[int, int]:
    """List each district as the guess yields it, writing the stream ``_child`` describes
    to ``out``; the number of districts guessed and of those read in full."""
    from . import log
    from .providers.connect import open_providers
    from .reads import JOBS_UNDER_WAY, READS_IN_FLIGHT, by_address, list_jobs

    log.set_sink(None)  # the parent's progress bar is the parent's to draw
    before = log.counts()

    async def whole(district: str, jobs: list[Awaitable[Any]], out: _Outbox) -> bool:
        answers = await asyncio.gather(*jobs, return_exceptions=True)
        if any(isinstance(answer, BaseException) for answer in answers):
            return False  # left to the plan, which reports the failure
        frame = pickle.dumps((district, by_address(answers)), pickle.HIGHEST_PROTOCOL)
        out.add(b"D" + len(frame).to_bytes(_LENGTH, "big") + frame)
        return True

    async def main() -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        closed: asyncio.Future[None] = loop.create_future()
        pipe, _ = await loop.connect_write_pipe(lambda: _Closed(closed), out)
        outbox = _Outbox(pipe)
        try:
            async with open_providers(_Settings(root, settings), url, in_flight=READS_IN_FLIGHT) as providers:
                gate = asyncio.Semaphore(JOBS_UNDER_WAY)
                requests, wholes = 0, []
                for district in districts:  # each step reads a file at most: the reads go on between
                    if district is not None:
                        jobs = [job for _, job in list_jobs(providers, [district], gate, outbox.ended)]
                        requests += len(jobs)
                        wholes.append(asyncio.ensure_future(whole(district, jobs, outbox)))
                    await asyncio.sleep(0)
                outbox.add(b"T%d\n" % requests)
                read = sum(await asyncio.gather(*wholes))
            moved = {k: v - before.get(k, 0) for k, v in log.counts().items() if v != before.get(k, 0)}
            outbox.add(b"=" + pickle.dumps(moved, pickle.HIGHEST_PROTOCOL))
            return len(wholes), read
        finally:
            outbox.close()
            pipe.close()
            await closed

    box: list[tuple[int, int]] = []

    async def run() -> None:  # engine._run says why the result leaves the task this way
        box.append(await main())

    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(run())
    return box[0]


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (the simulator's too), else asyncio's.
    The child's CPU per list request is what each of the requests in flight waits on;
    libuv's loop spends less of it on each request's callbacks, timers and socket calls."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
