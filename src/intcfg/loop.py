"""The GitOps loop's steps: scope, read live, plan, guard, apply, audit.

The engine functions here take the providers and the audit state as arguments and
return values; `engine.py` wires them to a repository, and the CLI renders them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from . import audit, log
from .apply import Applier, Options, Progress, Result, Reveal, new_state
from .desired import Address, DesiredObject, DesiredState
from .diff import Applied, Change, Fingerprint, comparable, diff, managed
from .errors import ConfigError, StalePlanError, UnsafePlanError
from .jsonout import canonical
from .plan import Inputs, Plan, digest_of
from .prefetch import Prefetch, Prefetched
from .reads import read_live
from .shards import in_shard, parse_shard


class Scope(NamedTuple):
    districts: tuple[str, ...]
    shard: str | None = None


# What makes a district's output (and an apply's writes) ahead: its changes, its desired objects.
Prepare = Callable[[list[Change], list[DesiredObject]], None]


class PlanContext(NamedTuple):
    plan: Plan
    desired: dict[Address, DesiredObject]
    live: dict[Address, Any]
    head: audit.AuditHead
    scope: Scope
    # Each desired object's comparable (diff.comparable): the diff, the config digest and
    # the new state all need it, and at state scale it costs seconds to compute.
    wants: dict[Address, dict[str, Any]] = {}  # noqa: RUF012 - never mutated


def scope(state: DesiredState, head: audit.AuditHead, districts: Iterable[str], shard: str | None) -> Scope:
    known = set(state.districts) | {a.district for a in head.state}
    chosen = list(districts) or sorted(known)
    unknown = [d for d in chosen if d not in known]
    if unknown:
        raise ConfigError(f"unknown district(s) {', '.join(map(repr, unknown))} (known: {', '.join(sorted(known))})")
    if shard:
        parsed = parse_shard(shard)
        chosen = [d for d in chosen if in_shard(d, parsed)]
    return Scope(tuple(sorted(chosen)), shard)


def _live_digest(live: Mapping[Address, Any]) -> str:
    return digest_of(_live_rows(live))


def _live_rows(live: Mapping[Address, Any]) -> list[list[Any]]:
    return [[str(a), o.id, o.revision, o.managed_by, o.spec] for a, o in sorted(live.items(), key=lambda kv: kv[0].sort_key())]


def _config_digest(desired: Mapping[Address, DesiredObject], wants: Mapping[Address, dict[str, Any]]) -> str:
    rows = [[str(a), wants[a], o.lifecycle] for a, o in sorted(desired.items(), key=lambda kv: kv[0].sort_key())]
    return digest_of(rows)


async def make_plan(
    state: DesiredState,
    providers: Mapping[str, Any],
    head: audit.AuditHead,
    chosen: Scope,
    fingerprint: Fingerprint | None,
    source_commit: str | None,
    prefetched: Prefetch | Prefetched | None = None,
    prepare: Prepare | None = None,
) -> PlanContext:
    """Read the live systems of the scope and diff them against the desired state (the
    districts ``prefetched`` read already are taken from it). ``prepare`` is given each
    district's changes and desired objects as they are known: the output (and an apply's
    writes) made ahead while the reads go on."""
    in_scope = set(chosen.districts)
    desired = {o.address: o for o in state.objects if o.address.district in in_scope}
    # What needs no live object first: a read-ahead child may still be reading.
    wants = {a: comparable(o, fingerprint) for a, o in desired.items()}
    config_digest = _config_digest(desired, wants)
    applied = {a: s for a, s in head.state.items() if a.district in in_scope}
    by_district = _ByDistrict(desired, applied, fingerprint, wants, prepare, chosen.districts)
    # The districts a read-ahead child sends are compared as they come, while it reads on.
    live = await _live(providers, chosen.districts, prefetched, by_district.compare)
    with log.phase("plan.diff", "compared desired, live and last-applied", desired=len(desired)) as p:
        changes = by_district.changes(chosen.districts, live)
        p["changes"] = sum(1 for c in changes if c.is_change)
    inputs = Inputs(
        config_digest,
        by_district.live_digest(),
        head.commit or "none",
        source_commit,
        chosen.districts,
        chosen.shard,
    )
    return PlanContext(Plan.create(changes, inputs), desired, live, head, chosen, wants)


class _ByDistrict:
    """The diff, district by district: a change depends only on its own address's desired,
    live and last-applied objects, and a plan's changes are in address order, whose first
    key is the district. Districts are compared as they come, and prepared (``prepare``)
    in the plan's order: each once those before it (of ``order``, the plan's districts)
    are compared."""

    def __init__(
        self,
        desired: Mapping[Address, DesiredObject],
        applied: Mapping[Address, Applied],
        fingerprint: Fingerprint | None,
        wants: Mapping[Address, dict[str, Any]],
        prepare: Prepare | None = None,
        order: Iterable[str] = (),
    ) -> None:
        self.prepare = prepare
        self.order = sorted(set(order))
        self.prepared = 0  # how many districts of ``order`` are prepared
        self.desired: dict[str, list[DesiredObject]] = {}
        for address, obj in desired.items():
            self.desired.setdefault(address.district, []).append(obj)
        self.applied: dict[str, dict[Address, Applied]] = {}
        for address, last in applied.items():
            self.applied.setdefault(address.district, {})[address] = last
        self.fingerprint, self.wants = fingerprint, wants
        self.done: dict[str, list[Change]] = {}
        self.rows: dict[str, bytes] = {}  # each district's part of the live digest's text

    def compare(self, district: str, live: Mapping[Address, Any]) -> None:
        """Diff ``district`` (one of the plan's) against ``live``, all of its live objects."""
        if district in self.done:
            return
        changes = diff(
            self.desired.get(district, []), dict(live), self.applied.get(district, {}), self.fingerprint, self.wants
        )
        self.done[district] = sorted(changes, key=lambda c: c.address.sort_key())  # as the plan holds them
        self.rows[district] = canonical(_live_rows(live))[1:-1]
        while self.prepared < len(self.order) and self.order[self.prepared] in self.done:
            ready = self.order[self.prepared]
            self.prepared += 1
            if self.prepare is not None:
                self.prepare(self.done[ready], self.desired.get(ready, []))

    def live_digest(self) -> str:
        """``_live_digest`` of every live object compared: the text of a list of rows in
        address order is its districts' rows, district after district."""
        parts = [self.rows[d] for d in sorted(self.rows) if self.rows[d]]
        return "sha256:" + hashlib.sha256(b"[" + b",".join(parts) + b"]").hexdigest()

    def changes(self, districts: Iterable[str], live: Mapping[Address, Any]) -> list[Change]:
        """Every change of ``districts``, in address order (those not compared yet are
        compared now against ``live``)."""
        rest = [d for d in districts if d not in self.done]
        if rest:
            wanted = set(rest)
            by_district: dict[str, dict[Address, Any]] = {d: {} for d in rest}
            for address, obj in live.items():
                if address.district in wanted:
                    by_district[address.district][address] = obj
            for district in rest:
                self.compare(district, by_district[district])
        return [c for district in sorted(set(districts)) for c in self.done.get(district, [])]


@log.phased("plan.read", "read the live systems", lambda live: {"objects": len(live)})
async def _live(
    providers: Mapping[str, Any],
    districts: tuple[str, ...],
    prefetched: Prefetch | Prefetched | None,
    arrived: Callable[[str, Mapping[Address, Any]], None] = lambda district, live: None,
) -> dict[Address, Any]:
    if prefetched is None:
        return await read_live(providers, districts)
    if not isinstance(prefetched, Prefetched):  # still in the child: wait, showing its progress
        wanted = set(districts)
        prefetched = prefetched.take(
            lambda total: log.expect(total, "Reading the live systems"),
            log.advance,
            lambda district, live: arrived(district, live) if district in wanted else None,
        )
    for name, n in prefetched.counts.items():  # the child's requests and retries
        log.count(name, n)
    rest = [d for d in districts if d not in prefetched.districts]
    live = await read_live(providers, rest) if rest else {}
    wanted = set(districts)
    live.update((a, o) for a, o in prefetched.live.items() if a.district in wanted)
    return live


def managed_counts(ctx: PlanContext) -> dict[str, int]:
    counts: dict[str, int] = {}
    for address, live in ctx.live.items():
        if managed(live, ctx.head.state.get(address)):
            counts[address.district] = counts.get(address.district, 0) + 1
    return counts


def prune_guard(ctx: PlanContext, prune: bool) -> None:
    """Refuse a prune that would empty a district whose config declares nothing."""
    if not prune:
        return
    declared = {a.district for a in ctx.desired}
    for district, count in sorted(managed_counts(ctx).items()):
        deletes = sum(1 for c in ctx.plan.changes if c.action == "delete" and c.address.district == district)
        if deletes and district not in declared:
            raise UnsafePlanError(
                f"refusing to prune district {district!r}: its configuration declares nothing, so all "
                f"{count} managed objects would be deleted (an empty or unreadable config looks the same); "
                "remove its objects explicitly or restore its files"
            )


def check_current(saved: Plan, fresh: Plan) -> None:
    """A saved plan may be applied only while its inputs are what they were."""
    stale = [
        name
        for name, a, b in (
            ("the configuration", saved.inputs.config, fresh.inputs.config),
            ("the live systems", saved.inputs.live, fresh.inputs.live),
            ("the last-applied state", saved.inputs.state, fresh.inputs.state),
        )
        if a != b
    ]
    if stale or saved.inputs.districts != fresh.inputs.districts:
        what = " and ".join(stale) or "the districts it covers"
        raise StalePlanError(f"the saved plan is stale: {what} changed since it was computed; plan again")


async def apply_context(
    ctx: PlanContext,
    providers: Mapping[str, Any],
    reveal: Reveal,
    options: Options,
    progress: Progress | None = None,
) -> list[Result]:
    applier = Applier(providers, ctx.desired, ctx.head.state, reveal, options, progress)
    return await applier.run(list(ctx.plan.changes))


class AuditOutcome(NamedTuple):
    commit: str | None
    state: dict[Address, Applied]
    recovered: tuple[Address, ...]


def record(
    root: Path,
    branch: str,
    ctx: PlanContext,
    results: list[Result],
    fingerprint: Fingerprint | None,
    actor: str,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    run: str = "",
    interrupted: Sequence[dict[str, Any]] = (),
    ahead: audit.RecordAhead | None = None,
) -> AuditOutcome:
    """Write one audit commit when anything changed, an interrupted run's changes are
    recovered, or ``interrupted`` runs (their journal entries, see journal.py) are to be
    recorded. ``run`` is this run's id, the one its own journal entry carries; ``ahead``:
    the record's plan changes, made ahead while the reads went on."""
    in_scope = set(ctx.scope.districts)
    old = {a: s for a, s in ctx.head.state.items() if a.district in in_scope}
    fresh = new_state(old, results, ctx.desired, ctx.live, fingerprint, ctx.wants)
    done = {r.address for r in results}
    # State the live systems contradict, without a result of this run: an interrupted run's
    # writes (or deletes: the address is gone from both sides), recorded now.
    recovered = tuple(
        sorted(
            (a for a in fresh.keys() | old.keys() if a not in done and fresh.get(a) != old.get(a)),
            key=Address.sort_key,
        )
    )
    changed = [r for r in results if r.outcome == "ok"]
    if not changed and fresh == old and not interrupted:
        return AuditOutcome(None, fresh, ())
    full = {a: s for a, s in ctx.head.state.items() if a.district not in in_scope}
    full.update(fresh)
    stamp = now()
    plan_digest = ctx.plan.digest()
    failed = [r for r in results if r.outcome in ("failed", "blocked")]
    result = "failed" if failed and not changed else "partial" if failed else "success"
    counts = _counts(results)
    body = _record_body(ctx, results, recovered, actor, stamp, result)
    body.update(run=run, interrupted=list(interrupted))
    commit = audit.Commit(
        subject=f"intcfg apply: {counts} ({', '.join(ctx.scope.districts) or 'no districts'})"[:200],
        body="\n".join(f"{r.outcome:<8}{r.action:<7} {r.address}" for r in results)
        + "".join(f"\nrecovered {a}" for a in recovered)
        + "".join(
            f"\ninterrupted {i['run']}: {c['action']} {c['address']}" for i in interrupted for c in i.get("changes", [])
        ),
        trailers={
            "Intcfg-Source-Commit": ctx.plan.inputs.source_commit or "none",
            "Intcfg-Plan-Digest": plan_digest,
            "Intcfg-Result": result,
            "Intcfg-Actor": actor,
            "Intcfg-Run": run or "none",
        },
        record=body,
        record_name=f"{stamp:%Y%m%dT%H%M%SZ}-{plan_digest[7:19]}.json",
        state=full,
        ahead=ahead,
    )
    sha = audit.write(root, branch, ctx.head.commit, commit)
    return AuditOutcome(sha, fresh, recovered)


def _counts(results: list[Result]) -> str:
    done = {a: sum(1 for r in results if r.outcome == "ok" and r.action == a) for a in ("create", "update", "delete")}
    bad = sum(1 for r in results if r.outcome in ("failed", "blocked"))
    text = f"{done['create']} created, {done['update']} updated, {done['delete']} deleted"
    return text + (f", {bad} failed" if bad else "")


def _record_body(
    ctx: PlanContext, results: list[Result], recovered: tuple[Address, ...], actor: str, stamp: dt.datetime, result: str
) -> dict[str, Any]:
    return {
        "format": audit.RECORD_FORMAT,
        "version": audit.VERSION,
        "at": stamp.isoformat(),
        "actor": actor,
        "result": result,
        "plan": ctx.plan.to_dict(),
        "results": [
            {
                "address": str(r.address),
                "action": r.action,
                "outcome": r.outcome,
                "message": r.message,
                "liveId": r.live_id,
                "revision": r.revision,
            }
            for r in results
        ],
        "recovered": [str(a) for a in recovered],
    }


def actor() -> str:
    """Who applies: the CI's actor when there is one, else the local user."""
    for name in ("INTCFG_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "USER"):
        if os.environ.get(name):
            return os.environ[name]
    return "unknown"
