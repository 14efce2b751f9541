"""An apply's audit commit made while its writes go on, by a forked child.

At state scale (10,000 objects) the audit commit took about half a second after the last
write: the new state of every district rendered, hashed and deflated (2,000 files, 13 MB
of JSON), then the record. A district's state file depends on nothing but its own
objects' results, which come a batch at a time while the live systems are awaited. So an
apply forks a child as its writes start and sends it every result as it comes (``add``);
the child makes each state file as soon as all its changes have their results, and after
the last one the record and the pack of them all, with the functions the command uses
itself (``loop.prepare``, ``audit.pack``). The command then writes only the tree and the
commit (``finish``, ``audit.write``): the commit is the one it would have made.

The child is a copy of the command (fork): the plan, the desired and live objects and the
last-applied state are its own without being sent. It holds nothing of the command's
(the lock's descriptor included) and dies with it. Only on Linux and where the command
has no other thread (``early.may_fork``). A child that fails in any way leaves the commit
to the command, which makes it as before; the results go to it through a pipe the writes
never wait on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import pickle
import shutil
import signal
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from . import audit, early
from .apply import Result, new_state
from .desired import Address
from .diff import Applied, Fingerprint

log = logging.getLogger(__name__)

_BATCH = 100  # results sent at a time: a batch's
_LENGTH = struct.Struct(">I")


class _End(NamedTuple):
    count: int  # the results the command has: the child's must be as many
    stamp: dt.datetime  # the record's time


class Recorder:
    """The command's side: the child's pid, the pipes, the folder its pack goes to."""

    def __init__(self, pid: int, orders: int, answers: int, folder: Path) -> None:
        self.pid, self.orders, self.answers, self.folder = pid, orders, answers, folder
        self._results: list[Result] = []
        self._unsent = bytearray()
        self._ended = False  # the end was sent (or could not be)
        self._answered = False  # the answer was read (or could not be)
        self._running = True  # not reaped yet
        os.set_blocking(orders, False)

    def add(self, result: Result) -> None:
        """One result of the writes (apply.Applier's progress), sent with its batch."""
        self._results.append(result)
        if len(self._results) >= _BATCH:
            self._send(self._results)
            self._results = []

    def _send(self, order: Any) -> None:
        data = pickle.dumps(order, pickle.HIGHEST_PROTOCOL)
        self._unsent += _LENGTH.pack(len(data)) + data
        with contextlib.suppress(BlockingIOError):  # the rest goes with the next order
            del self._unsent[: os.write(self.orders, self._unsent)]

    def end(self, results: list[Result], stamp: dt.datetime) -> None:
        """The writes are over: ``results`` are all of them, the record's time is ``stamp``.
        The child makes the commit meanwhile; ``finish`` waits for it."""
        if self._ended:
            return
        self._ended = True
        try:
            self._send(self._results)
            self._send(_End(len(results), stamp))
            os.set_blocking(self.orders, True)
            while self._unsent:
                del self._unsent[: os.write(self.orders, self._unsent)]
        except OSError as e:  # the child is gone: finish finds no answer
            log.debug("the child making the audit commit ahead is gone (%s)", e)
        os.close(self.orders)

    def finish(self, results: list[Result], stamp: dt.datetime) -> tuple[audit.Packed | None, tuple[Address, ...]] | None:
        """The commit the child packed (None: nothing to record) and the addresses it
        recovered (loop.Packer); None when the child failed. Ends the writes (``end``)
        unless they were ended already."""
        self.end(results, stamp)
        if self._answered:
            return None
        self._answered = True
        try:
            with open(self.answers, "rb", closefd=False) as fh:
                answer = _frame(fh)
        except (OSError, EOFError, pickle.UnpicklingError) as e:
            answer = ("failed", f"{type(e).__name__}: {e}")
        if answer is None or answer[0] != "packed":
            reason = answer[1] if answer else "it ended before answering"
            log.debug("the audit commit is made after the writes: the child making it ahead failed (%s)", reason)
            return None
        return answer[1], answer[2]

    def close(self) -> None:
        """Reap the child (stopped first unless it answered); remove what it wrote that no
        commit took."""
        if self._running:
            self._running = False
            if not self._answered:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        for fd in (self.orders, self.answers):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def recording(
    root: Path,
    ctx: Any,
    fingerprint: Fingerprint | None,
    ahead: audit.RecordAhead | None,
    actor: str,
    run: str,
    interrupted: list[dict[str, Any]],
) -> Iterator[Recorder | None]:
    """A child making the audit commit of ``ctx``'s plan while the writes go on (see the
    module docstring); None where none may be forked."""
    if not early.may_fork():
        yield None
        return
    folder = audit.incoming(root)
    orders_in, orders_out = os.pipe()
    answers_in, answers_out = os.pipe()

    def child(parent: int) -> None:
        early.detach(parent, (orders_in, answers_out))
        with open(orders_in, "rb") as orders, open(answers_out, "wb") as answers:
            _answer(answers, _make(root, ctx, fingerprint, ahead, actor, run, interrupted, folder, orders))

    try:
        pid = early.forked(child)
    except OSError:
        for fd in (orders_in, orders_out, answers_in, answers_out):
            os.close(fd)
        shutil.rmtree(folder, ignore_errors=True)
        yield None
        return
    os.close(orders_in)
    os.close(answers_out)
    recorder = Recorder(pid, orders_out, answers_in, folder)
    try:
        yield recorder
    finally:
        recorder.close()


def _make(
    root: Path,
    ctx: Any,
    fingerprint: Fingerprint | None,
    ahead: audit.RecordAhead | None,
    actor: str,
    run: str,
    interrupted: list[dict[str, Any]],
    folder: Path,
    orders: BinaryIO,
) -> tuple[Any, ...]:
    """The child's work: the state files as their results come, then the commit's pack."""
    from . import loop

    files = _Files(root, ctx, fingerprint)
    while isinstance(order := _frame(orders), list):
        files.add(order)
        if ahead is not None:
            ahead.add_results([loop.result_item(r) for r in order])
    if not isinstance(order, _End):
        return ("failed", "the command stopped sending results")
    results = files.results()
    if len(results) != order.count:
        return ("failed", f"{len(results)} results sent of {order.count}")
    prepared = loop.prepare(
        ctx, results, fingerprint, actor, lambda: order.stamp, run, interrupted, ahead, files.fresh()
    )
    if prepared.commit is None:
        return ("packed", None, prepared.recovered)
    return ("packed", audit.pack(prepared.commit, files.stored, folder, files.made), prepared.recovered)


class _File(NamedTuple):
    """What a state file's new objects are made of (``apply.new_state``, for its own)."""

    old: dict[Address, Applied]
    desired: dict[Address, Any]
    live: dict[Address, Any]
    results: list[Result]


class _Files:
    """The state files of the districts in scope, each made once its changes all have
    their results (those without changes at once), and the results in plan order."""

    def __init__(self, root: Path, ctx: Any, fingerprint: Fingerprint | None) -> None:
        self.ctx, self.fingerprint = ctx, fingerprint
        self.stored = audit.stored_files(root, ctx.head.commit)
        self._ids = set(self.stored.values())
        self.made: audit.StateFiles = {}
        self._fresh: dict[Address, Applied] = {}
        self._by_address: dict[Address, Result] = {}
        in_scope = set(ctx.scope.districts)
        self._files: dict[str, _File] = {}
        self._paths: dict[tuple[str, str], str] = {}
        others: dict[str, dict[Address, Applied]] = {}
        for address, applied in ctx.head.state.items():
            if address.district in in_scope:
                self._file(address).old[address] = applied
            else:
                others.setdefault(self._path(address), {})[address] = applied
        for address, obj in ctx.desired.items():
            self._file(address).desired[address] = obj
        for address, have in ctx.live.items():
            if address.district in in_scope:
                self._file(address).live[address] = have
        self._waiting: dict[str, int] = dict.fromkeys(self._files, 0)
        for change in ctx.plan.changes:
            if change.is_change:
                self._waiting[self._path(change.address)] = self._waiting.get(self._path(change.address), 0) + 1
        for path, n in self._waiting.items():
            if n == 0 and path in self._files:
                self._make(path)
        for path, objects in others.items():  # unchanged: made to find them in the last commit
            self.made[path] = audit.state_blob(objects, self._ids)

    def _path(self, address: Address) -> str:
        key = (address.system, address.district)
        return self._paths.get(key) or self._paths.setdefault(key, audit.state_path(*key))

    def _file(self, address: Address) -> _File:
        path = self._path(address)
        found = self._files.get(path)
        if found is None:
            found = self._files[path] = _File({}, {}, {}, [])
        return found

    def add(self, results: list[Result]) -> None:
        for result in results:
            self._by_address[result.address] = result
            path = self._path(result.address)
            self._file(result.address).results.append(result)
            self._waiting[path] -= 1
            if self._waiting[path] == 0:
                self._make(path)

    def _make(self, path: str) -> None:
        f = self._files[path]
        objects = new_state(f.old, f.results, f.desired, f.live, self.fingerprint, self.ctx.wants)
        self._fresh.update(objects)
        if objects:
            self.made[path] = audit.state_blob(objects, self._ids)

    def results(self) -> list[Result]:
        """The results as the writes return them: in the plan's order."""
        return [self._by_address[c.address] for c in self.ctx.plan.changes if c.address in self._by_address]

    def fresh(self) -> dict[Address, Applied] | None:
        """The new state of the districts in scope; None unless every file was made."""
        if any(n != 0 for n in self._waiting.values()):
            return None
        return self._fresh


def _frame(fh: BinaryIO) -> Any:
    """The next object on ``fh``, None at its end."""
    head = fh.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(head)
    data = fh.read(length)
    if len(data) < length:
        return None
    return pickle.loads(data)


def _answer(fh: BinaryIO, answer: tuple[Any, ...]) -> None:
    data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
    fh.write(_LENGTH.pack(len(data)) + data)

