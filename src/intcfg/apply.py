"""Execute a Plan through the providers: dependency order, batched writes, bounded
parallelism, per-change results, and the new last-applied state.

Order: creates and updates of objects others depend on (vendors, ETS integrations, sync
connections) first, then mappings and schedules; deletes in reverse (mappings and
schedules before their connection). The changes of one such tier are grouped by live
system into batches of at most the contract's limit (``MAX_BATCH``), one request each,
with at most ``parallelism`` requests in flight. One failed change does not stop
independent changes; a change that depends on a failed one is skipped and reported as
blocked on it, by address. Writes are idempotent (upsert and delete by natural key), so
a rerun after any failure or crash converges.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import zip_longest
from typing import Any, Literal, NamedTuple, Protocol

from .desired import Address, DesiredObject
from .diff import Applied, Change, comparable, is_secret_ref
from .errors import IntcfgError
from .log import ev, phase
from .providers.base import MAX_BATCH, BatchOp, BatchResult
from .secrets import scrub

Outcome = Literal["ok", "failed", "skipped", "blocked"]
DEPENDENT_KINDS = ("FieldMapping", "Schedule")
TIERS = 4
TIER_NAMES = ("objects others depend on", "mappings and schedules", "deletes of mappings and schedules",
              "deletes of the rest")
log = logging.getLogger(__name__)


class Writer(Protocol):
    """What apply needs of a provider (intcfg.providers.base.Provider)."""

    async def batch(self, ops: list[BatchOp]) -> list[BatchResult]: ...


class Result(NamedTuple):
    address: Address
    action: str
    outcome: Outcome
    message: str = ""
    live_id: str | None = None
    revision: int | None = None


class Options(NamedTuple):
    prune: bool = False
    parallelism: int = 8  # batch requests in flight


def parent(address: Address, spec: Mapping[str, Any] | None) -> Address | None:
    """The object ``address`` depends on: a mapping's or schedule's connection."""
    if address.kind in DEPENDENT_KINDS and spec is not None:
        return Address(address.system, address.district, "SyncConnection", str(spec["connection"]))
    return None


def _tier(change: Change) -> int:
    dependent = change.address.kind in DEPENDENT_KINDS
    if change.action == "delete":
        return 2 if dependent else 3
    return 1 if dependent else 0


def batches(changes: list[Change], size: int = MAX_BATCH) -> Iterator[tuple[str, list[Change]]]:
    """(system, at most ``size`` changes), taking the systems in turn so that no
    system's connections sit idle while another's queue drains."""
    by_system: dict[str, list[Change]] = {}
    for change in changes:
        by_system.setdefault(change.address.system, []).append(change)
    chunked = [
        [(system, group[i : i + size]) for i in range(0, len(group), size)] for system, group in by_system.items()
    ]
    for row in zip_longest(*chunked):
        yield from (item for item in row if item is not None)


Reveal = Callable[[DesiredObject], dict[str, Any]]
Progress = Callable[[Result], None]


class Applier:
    def __init__(
        self,
        writers: Mapping[str, Writer],
        desired: Mapping[Address, DesiredObject],
        state: Mapping[Address, Applied],
        reveal: Reveal,
        options: Options,
        progress: Progress | None = None,
    ) -> None:
        self.writers = writers
        self.desired = desired
        self.state = state
        self.reveal = reveal
        self.options = options
        self.progress = progress
        self.results: dict[Address, Result] = {}
        self.phase: Any = None  # the apply phase while running: progress per change
        # A connection -> the first of its dependents whose change did not succeed.
        self.held_by: dict[Address, Address] = {}

    async def run(self, changes: list[Change]) -> list[Result]:
        gate = asyncio.Semaphore(max(1, self.options.parallelism))
        with phase("apply", "applied the changes", log) as applying:
            applying.expect(sum(1 for c in changes if c.is_change), "Applying the changes")
            self.phase = applying
            # Each change's tier found once: the last write's answer is not followed by
            # passes over every change for the tiers that have none (10,000 at state scale).
            tiers: list[list[Change]] = [[] for _ in range(TIERS)]
            for change in changes:
                if change.is_change:
                    tiers[_tier(change)].append(change)
            for tier in range(TIERS):
                ready = [c for c in tiers[tier] if self._admit(c)]
                if not ready:
                    continue
                chunks = list(batches(ready))
                with phase("apply.tier", f"applied tier {tier + 1} ({TIER_NAMES[tier]})", log, tier=tier + 1,
                           changes=len(ready), batches=len(chunks)):
                    await asyncio.gather(*(self._send(system, chunk, gate) for system, chunk in chunks))
            outcomes = [r.outcome for r in self.results.values()]
            for outcome in ("ok", "failed", "skipped", "blocked"):
                applying[outcome] = outcomes.count(outcome)
        return [self.results[c.address] for c in changes if c.address in self.results]

    def _record(self, result: Result) -> None:
        self.results[result.address] = result
        _log_result(result)
        if self.phase is not None:
            self.phase.advance()
        if result.outcome != "ok":
            up = parent(result.address, _spec_of(self, result.address))
            if up is not None:
                self.held_by.setdefault(up, result.address)
        if self.progress:
            self.progress(result)

    def _admit(self, change: Change) -> bool:
        """Whether ``change`` is to be sent; if not, its result is recorded."""
        address = change.address
        if change.action == "delete":
            reason = self._delete_refusal(address)
            if reason:
                self._record(Result(address, "delete", "skipped", reason))
                return False
        blocker = self._blocker(change)
        if blocker is not None:
            self._record(Result(address, change.action, "blocked", f"blocked on the failed change of {blocker}"))
            return False
        return True

    def _blocker(self, change: Change) -> Address | None:
        address = change.address
        if change.action == "delete":
            # A connection is deleted only after everything that hangs off it is.
            return self.held_by.get(address)
        up = parent(address, self.desired[address].spec)
        if up is not None and up in self.results and self.results[up].outcome != "ok":
            return up
        return None

    def _delete_refusal(self, address: Address) -> str:
        applied = self.state.get(address)
        if applied is not None and not applied.prune:
            return "protected by lifecycle.prune: false"
        if not self.options.prune:
            return "not deleted: rerun with --prune to delete objects no longer in the repository"
        return ""

    async def _send(self, system: str, changes: list[Change], gate: asyncio.Semaphore) -> None:
        async with gate:
            # Secrets are revealed here, per batch, and dropped with it.
            ops: list[BatchOp] = []
            sent: list[Change] = []
            refused: list[Result] = []
            for change in changes:
                try:
                    ops.append(self._op(change))
                    sent.append(change)
                except IntcfgError as e:
                    refused.append(Result(change.address, change.action, "failed", scrub(str(e))))
            started = time.perf_counter()
            results = await self._batch(system, sent, ops) if ops else []
            if ops:
                _log_batch(system, results, time.perf_counter() - started)
        for result in (*refused, *results):
            self._record(result)

    def _op(self, change: Change) -> BatchOp:
        a = change.address
        if change.action == "delete":
            return BatchOp("delete", a.district, a.kind, a.name, a.site)
        return BatchOp("put", a.district, a.kind, a.name, a.site, self.reveal(self.desired[a]))

    async def _batch(self, system: str, changes: list[Change], ops: list[BatchOp]) -> list[Result]:
        try:
            answers = await self.writers[system].batch(ops)
        except IntcfgError as e:
            message = scrub(str(e))
            return [Result(c.address, c.action, "failed", message) for c in changes]
        if len(answers) != len(changes):
            message = f"{system}: the batch answered {len(answers)} results for {len(changes)} changes"
            return [Result(c.address, c.action, "failed", message) for c in changes]
        return [_result(system, c, answer) for c, answer in zip(changes, answers, strict=True)]


def _log_batch(system: str, results: list[Result], seconds: float) -> None:
    ok = sum(1 for r in results if r.outcome == "ok")
    log.debug("%s: batch of %d sent: %d ok, %d failed", system, len(results), ok, len(results) - ok,
              extra=ev("apply.batch", system=system, size=len(results), ok=ok, failed=len(results) - ok,
                       duration_s=round(seconds, 3)))


def _log_result(result: Result) -> None:
    """Changes that went well at DEBUG (-vv), the others at INFO (-v); the message is
    scrubbed already and the log handler scrubs again."""
    level = logging.DEBUG if result.outcome in ("ok", "skipped") else logging.INFO
    if not log.isEnabledFor(level):  # a state's apply has thousands of changes
        return
    log.log(level, "%s %s: %s%s", result.action, result.address, result.outcome,
            f" ({result.message})" if result.message else "",
            extra=ev("apply.change", address=str(result.address), action=result.action, outcome=result.outcome,
                     message=result.message, revision=result.revision))


def _result(system: str, change: Change, answer: BatchResult) -> Result:
    a = change.address
    if not answer.ok:
        said = answer.error or "no message"
        code = f" [{answer.code}]" if answer.code else ""
        return Result(a, change.action, "failed", scrub(f"{system}: {answer.status} {said}{code}"))
    live = answer.object
    if change.action == "delete" or live is None:
        return Result(a, change.action, "ok")
    return Result(a, change.action, "ok", live_id=live.id, revision=live.revision)


def _spec_of(applier: Applier, address: Address) -> Mapping[str, Any] | None:
    obj = applier.desired.get(address)
    if obj is not None:
        return obj.spec
    applied = applier.state.get(address)
    return applied.spec if applied else None


Resolve = Callable[[dict[str, str], Any], Any]  # a secret reference, where it is -> its Secret
SpecPath = tuple[Any, ...]  # keys from a spec's root to a value: dict keys, list indexes


def secret_paths(spec: Any) -> tuple[SpecPath, ...]:
    """Where ``spec``'s secret references are, in the order of a walk. (The path on the way
    is a chain of pairs, spelt out only for a reference: a state holds 10,000 specs.)"""
    found: list[SpecPath] = []

    def walk(value: Any, way: tuple[Any, ...]) -> None:
        if isinstance(value, dict):
            if is_secret_ref(value):
                found.append(_spelt(way))
                return
            items: Any = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            return
        for key, item in items:
            if isinstance(item, (dict, list)):
                walk(item, (way, key))

    walk(spec, ())
    return tuple(found)


def reveal_at(obj: DesiredObject, paths: tuple[SpecPath, ...], resolve: Resolve) -> dict[str, Any]:
    """``obj``'s spec with the secret reference at each of ``paths`` resolved. Only the
    dicts and lists on the way to a secret are copied; the rest is the spec's own (nothing
    downstream changes it)."""
    if not paths:
        return obj.spec
    copies: dict[SpecPath, Any] = {}

    def copied(path: SpecPath) -> Any:
        node = copies.get(path)
        if node is None:
            parent = copied(path[:-1]) if path else None
            node = obj.spec if parent is None else parent[path[-1]]
            node = dict(node) if isinstance(node, dict) else list(node)
            if parent is not None:
                parent[path[-1]] = node
            copies[path] = node
        return node

    for path in paths:
        holder = copied(path[:-1])
        where = ".".join(map(str, path))
        holder[path[-1]] = resolve(holder[path[-1]], lambda where=where: obj.where(where)).reveal()
    return copies[()]  # type: ignore[no-any-return]


class RevealAhead:
    """A Reveal (secrets resolved for the HTTP boundary only) that finds where each spec's
    secret references are ahead, district by district while the reads go on (``add``):
    the writes then only resolve them (each value once, cached) and copy the way to them,
    instead of walking every spec while the live systems wait (10,000 at state scale).
    Nothing secret is held meanwhile. A spec not added is walked when it is revealed."""

    def __init__(self, resolve: Resolve) -> None:
        self.resolve = resolve
        self._found: dict[int, tuple[DesiredObject, tuple[SpecPath, ...]]] = {}

    def add(self, changes: list[Change], desired: Iterable[DesiredObject]) -> None:
        """Find the references of the specs that ``changes`` (one district's) will write."""
        writes = {c.address for c in changes if c.action in ("create", "update")}
        for obj in desired:
            if obj.address in writes:
                self._found[id(obj)] = (obj, secret_paths(obj.spec))

    def __call__(self, obj: DesiredObject) -> dict[str, Any]:
        found = self._found.pop(id(obj), None)
        paths = found[1] if found is not None and found[0] is obj else secret_paths(obj.spec)
        return reveal_at(obj, paths, self.resolve)


def _spelt(way: tuple[Any, ...]) -> SpecPath:
    """``(((), "a"), 0)`` -> ``("a", 0)``: a path walk() built a level at a time."""
    parts: list[Any] = []
    while way:
        way, key = way
        parts.append(key)
    return tuple(reversed(parts))


def new_state(
    old: Mapping[Address, Applied],
    results: list[Result],
    desired: Mapping[Address, DesiredObject],
    live: Mapping[Address, Any],
    fingerprint: Any,
    wants: Mapping[Address, dict[str, Any]] | None = None,
) -> dict[Address, Applied]:
    """The last-applied state after ``results``.

    Objects in sync whose state is missing or stale (an interrupted run wrote them but
    never recorded it) are recorded from what the live system holds: that is the
    recovery a crash between the live changes and the audit commit needs.
    """
    state = dict(old)
    for r in results:
        if r.outcome != "ok":
            continue
        if r.action == "delete":
            state.pop(r.address, None)
        else:
            state[r.address] = _applied(desired[r.address], r.live_id or "", r.revision or 0, fingerprint, wants)
    done = {r.address for r in results}
    for address, obj in desired.items():
        have = live.get(address)
        if address in done or have is None:
            continue
        fresh = _applied(obj, have.id, have.revision, fingerprint, wants)
        if state.get(address) != fresh and have.managed_by == "intcfg":
            state[address] = fresh
    for address in list(state):
        if address not in desired and address not in live:
            state.pop(address)  # gone from both sides
    return state


def _applied(
    obj: DesiredObject, live_id: str, revision: int, fingerprint: Any, wants: Mapping[Address, dict[str, Any]] | None
) -> Applied:
    prune = obj.lifecycle.get("prune", True) is not False
    want = wants.get(obj.address) if wants else None
    return Applied(live_id, revision, want if want is not None else comparable(obj, fingerprint), prune)
