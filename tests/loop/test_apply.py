from __future__ import annotations

import asyncio
from typing import Any, NamedTuple

from intcfg.apply import Applier, Options, Result, RevealAhead, new_state
from intcfg.desired import Address, DesiredObject
from intcfg.diff import Applied, Change, diff
from intcfg.errors import ProviderError, SecretError
from intcfg.providers.base import MAX_BATCH, BatchOp, BatchResult

D = "lakeside-sd"
CONN = Address("enroll", D, "SyncConnection", "ps")
MAP = Address("enroll", D, "FieldMapping", "ps-import")
SCHED = Address("enroll", D, "Schedule", "ps-nightly")
VENDOR = Address("sis", D, "ETranscriptVendor", "parchment")


class Live(NamedTuple):
    id: str
    revision: int
    managed_by: str | None
    spec: dict[str, Any]


class FakeSystem:
    """An in-memory live system speaking the batch contract; it fails the items of some names."""

    def __init__(self, fail: set[str] = frozenset()) -> None:
        self.objects: dict[tuple[str, str, str, str | None], Live] = {}
        self.fail = fail
        self.calls: list[tuple[str, str]] = []
        self.requests: list[list[BatchOp]] = []

    async def batch(self, ops: list[BatchOp]) -> list[BatchResult]:
        self.requests.append(ops)
        await asyncio.sleep(0)
        return [self._one(op) for op in ops]

    def _one(self, op: BatchOp) -> BatchResult:
        self.calls.append((op.op, op.name))
        if op.name in self.fail:
            return BatchResult(op, 503, error="503 from the live system", code="unavailable")
        key = (op.district, op.kind, op.name, op.site)
        if op.op == "delete":
            self.objects.pop(key, None)
            return BatchResult(op, 204)
        old = self.objects.get(key)
        live = Live(old.id if old else f"id-{op.name}", (old.revision if old else 0) + 1, "intcfg", op.spec or {})
        self.objects[key] = live
        return BatchResult(op, 200 if old else 201, live)  # type: ignore[arg-type]


def obj(address: Address, **spec: Any) -> DesiredObject:
    return DesiredObject(address, spec, {}, {})


DESIRED = {
    CONN: obj(CONN, vendor="powerschool", secret={"env": "PS_SECRET"}),
    MAP: obj(MAP, connection="ps", type="import-student"),
    SCHED: obj(SCHED, connection="ps", job="import-student", time="02:00"),
    VENDOR: obj(VENDOR, displayName="Parchment"),
}


def reveal(o: DesiredObject) -> dict[str, Any]:
    return {k: ("s3cret" if isinstance(v, dict) else v) for k, v in o.spec.items()}


def run(systems: dict[str, FakeSystem], desired: dict[Address, DesiredObject], state: dict[Address, Applied], live: dict[Address, Any], **options: Any) -> list[Result]:
    changes = diff(list(desired.values()), live, state)
    applier = Applier(systems, desired, state, reveal, Options(**options))
    return asyncio.run(applier.run(changes))


def test_connection_first_then_dependents() -> None:
    enroll, sis = FakeSystem(), FakeSystem()
    results = run({"enroll": enroll, "sis": sis}, DESIRED, {}, {})
    assert {r.outcome for r in results} == {"ok"}
    assert enroll.calls[0] == ("put", "ps")
    assert enroll.objects[(D, "SyncConnection", "ps", None)].spec["secret"] == "s3cret"


def test_failed_connection_blocks_its_dependents_but_not_others() -> None:
    enroll, sis = FakeSystem(fail={"ps"}), FakeSystem()
    results = {r.address: r for r in run({"enroll": enroll, "sis": sis}, DESIRED, {}, {})}
    assert results[CONN].outcome == "failed" and "503" in results[CONN].message
    assert results[MAP] == Result(MAP, "create", "blocked", f"blocked on the failed change of {CONN}")
    assert results[SCHED].outcome == "blocked"
    assert results[VENDOR].outcome == "ok"
    assert ("put", "ps-import") not in enroll.calls


def test_deletes_need_prune_and_go_dependents_first() -> None:
    enroll = FakeSystem()
    live = {a: Live(f"id-{a.name}", 1, "intcfg", {"connection": "ps"} if a != CONN else {}) for a in (CONN, MAP, SCHED)}
    state = {a: Applied(f"id-{a.name}", 1, {"connection": "ps"} if a != CONN else {}) for a in live}
    results = run({"enroll": enroll, "sis": FakeSystem()}, {}, state, live)
    assert {r.outcome for r in results} == {"skipped"}
    assert "rerun with --prune" in results[0].message and enroll.calls == []
    results = run({"enroll": enroll, "sis": FakeSystem()}, {}, state, live, prune=True)
    assert {r.outcome for r in results} == {"ok"}
    assert enroll.calls[-1] == ("delete", "ps")


def test_a_failed_dependent_delete_keeps_the_connection() -> None:
    enroll = FakeSystem(fail={"ps-import"})
    live = {a: Live(f"id-{a.name}", 1, "intcfg", {"connection": "ps"} if a != CONN else {}) for a in (CONN, MAP)}
    state = {a: Applied(f"id-{a.name}", 1, {"connection": "ps"} if a != CONN else {}) for a in live}
    results = {r.address: r for r in run({"enroll": enroll, "sis": FakeSystem()}, {}, state, live, prune=True)}
    assert results[MAP].outcome == "failed"
    assert results[CONN] == Result(CONN, "delete", "blocked", f"blocked on the failed change of {MAP}")


def test_lifecycle_prune_false_protects_even_with_prune() -> None:
    live = {VENDOR: Live("v", 1, "intcfg", {})}
    state = {VENDOR: Applied("v", 1, {}, prune=False)}
    results = run({"sis": FakeSystem(), "enroll": FakeSystem()}, {}, state, live, prune=True)
    assert results == [Result(VENDOR, "delete", "skipped", "protected by lifecycle.prune: false")]


def test_parallelism_bounds_the_batches_in_flight() -> None:
    active = peak = 0

    class Slow(FakeSystem):
        async def batch(self, ops: list[BatchOp]) -> list[BatchResult]:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.001)
            active -= 1
            return await super().batch(ops)

    sis = Slow()
    desired = {a.address: a for a in (obj(Address("sis", D, "ETranscriptVendor", f"v{i:04}"), n=i) for i in range(1000))}
    results = run({"sis": sis, "enroll": FakeSystem()}, desired, {}, {}, parallelism=3)
    assert len(results) == 1000 and {r.outcome for r in results} == {"ok"} and peak == 3
    assert [len(ops) for ops in sis.requests] == [MAX_BATCH] * 10


def test_one_batch_per_system_and_tier_and_results_mapped_back() -> None:
    enroll, sis = FakeSystem(fail={"ps-nightly"}), FakeSystem()
    results = {r.address: r for r in run({"enroll": enroll, "sis": sis}, DESIRED, {}, {})}
    assert [[op.name for op in ops] for ops in enroll.requests] == [["ps"], ["ps-import", "ps-nightly"]]
    assert [[op.name for op in ops] for ops in sis.requests] == [["parchment"]]
    assert results[MAP] == Result(MAP, "create", "ok", live_id="id-ps-import", revision=1)
    assert results[SCHED] == Result(SCHED, "create", "failed", "enroll: 503 503 from the live system [unavailable]")


def test_a_failed_batch_request_fails_each_of_its_changes_with_the_scrubbed_error() -> None:
    class Down(FakeSystem):
        async def batch(self, ops: list[BatchOp]) -> list[BatchResult]:
            raise ProviderError("sis: POST http://127.0.0.1:9/sis/admin/v1/batch: 502 Bad Gateway",
                                system="sis", method="POST", url="/sis/admin/v1/batch", status=502)

    vendors = {a.address: a for a in (obj(Address("sis", D, "ETranscriptVendor", f"v{i}"), n=i) for i in range(3))}
    results = run({"sis": Down(), "enroll": FakeSystem()}, vendors, {}, {})
    assert [(r.outcome, r.message) for r in results] == [("failed", "sis: POST http://127.0.0.1:9/sis/admin/v1/batch: 502 Bad Gateway")] * 3


def test_a_secret_that_cannot_be_revealed_fails_its_change_only() -> None:
    def picky(o: DesiredObject) -> dict[str, Any]:
        if o.address == CONN:
            raise SecretError("PS_SECRET is not set (lakeside.yaml:7:13)")
        return reveal(o)

    enroll, sis = FakeSystem(), FakeSystem()
    changes = diff(list(DESIRED.values()), {}, {})
    results = {r.address: r for r in asyncio.run(Applier({"enroll": enroll, "sis": sis}, DESIRED, {}, picky, Options()).run(changes))}
    assert results[CONN] == Result(CONN, "create", "failed", "PS_SECRET is not set (lakeside.yaml:7:13)")
    assert results[MAP].outcome == "blocked" and results[VENDOR].outcome == "ok"
    assert enroll.requests == []


class Shown(NamedTuple):
    value: str

    def reveal(self) -> str:
        return self.value


def test_reveal_copies_only_the_way_to_each_secret_and_names_where_one_failed() -> None:
    asked: list[str] = []

    def resolve(ref: dict[str, str], where: Any) -> Shown:
        if ref == {"env": "MISSING"}:
            raise SecretError(f"MISSING is not set ({where()})")
        asked.append(ref["env"])
        return Shown("value-of-" + ref["env"])

    plain = {"host": "sis.example.org", "ports": [1, 2]}
    spec = {"plain": plain, "auth": {"keys": [{"token": {"env": "A"}}, {"n": 1}]}, "secret": {"env": "B"}}
    o = DesiredObject(CONN, spec, {"auth.keys.1.token": "lakeside.yaml:9:11"}, {})  # type: ignore[dict-item]
    shown = RevealAhead(resolve)(o)
    assert shown == {
        "plain": plain,
        "auth": {"keys": [{"token": "value-of-A"}, {"n": 1}]},
        "secret": "value-of-B",
    }
    assert shown["plain"] is plain and shown["auth"]["keys"][1] is spec["auth"]["keys"][1]
    assert spec["auth"]["keys"][0] == {"token": {"env": "A"}} and spec["secret"] == {"env": "B"}  # not changed
    assert sorted(asked) == ["A", "B"]

    broken = o._replace(spec={"auth": {"keys": [{"n": 1}, {"token": {"env": "MISSING"}}]}})
    try:
        RevealAhead(resolve)(broken)
    except SecretError as e:
        assert str(e) == "MISSING is not set (lakeside.yaml:9:11)"
    else:
        raise AssertionError("the missing secret was revealed")


def test_secrets_found_ahead_are_revealed_when_written_and_a_failure_comes_with_its_write() -> None:
    walked: list[Address] = []

    class Spec(dict):  # type: ignore[type-arg]
        """A spec that tells when a walk goes through it."""

        def items(self) -> Any:
            walked.append(self["at"])
            return super().items()

    def resolve(ref: dict[str, str], where: Any) -> Shown:
        if ref == {"env": "MISSING"}:
            raise SecretError(f"MISSING is not set ({where()})")
        return Shown("value-of-" + ref["env"])

    def spec(address: Address, **fields: Any) -> DesiredObject:
        return DesiredObject(address, Spec(at=address, **fields), {"secret": "lakeside.yaml:3:9"}, {})  # type: ignore[dict-item]

    gone = Address("enroll", D, "Schedule", "old")
    same = Address("sis", D, "ETranscriptVendor", "same")
    desired = {
        CONN: spec(CONN, vendor="powerschool", secret={"env": "MISSING"}),
        MAP: spec(MAP, connection="ps", type="import-student", auth={"token": {"env": "TOKEN"}}),
        SCHED: spec(SCHED, connection="ps", cron="0 2 * * *"),
        VENDOR: spec(VENDOR, url="https://p.example.org", key={"env": "KEY"}),
    }
    changes = [*diff(list(desired.values()), {}, {}), Change(gone, "delete", "git"), Change(same, "noop", "git")]
    walked.clear()
    ahead = RevealAhead(resolve)
    ahead.add(changes, [*desired.values(), spec(gone), spec(same)])
    assert sorted(walked) == sorted(desired)  # what is written, each once: not a delete's, not a no-op's
    walked.clear()
    system = FakeSystem()
    results = asyncio.run(Applier({"enroll": system, "sis": system}, desired, {}, ahead, Options()).run(changes))
    assert walked == []  # no spec walked again while writing
    outcomes = {r.address: (r.outcome, r.message) for r in results}
    assert outcomes[CONN] == ("failed", "MISSING is not set (lakeside.yaml:3:9)")
    assert outcomes[MAP][0] == outcomes[SCHED][0] == "blocked"  # on the connection, as without finding them ahead
    sent = {op.name: op.spec for ops in system.requests for op in ops}
    assert sent == {"parchment": {"at": VENDOR, "url": "https://p.example.org", "key": "value-of-KEY"}}
    assert desired[VENDOR].spec["key"] == {"env": "KEY"}  # the spec itself unchanged
    assert ahead(desired[VENDOR]) == sent["parchment"] and walked == [VENDOR]  # found once: then walked anew


def test_progress_reports_each_result_once() -> None:
    seen: list[Result] = []
    changes = diff(list(DESIRED.values()), {}, {})
    applier = Applier({"enroll": FakeSystem(fail={"ps"}), "sis": FakeSystem()}, DESIRED, {}, reveal, Options(), seen.append)
    results = asyncio.run(applier.run(changes))
    assert sorted(seen) == sorted(results) and len(seen) == 4


def test_new_state_records_results_and_recovers_unrecorded_writes() -> None:
    desired = {VENDOR: DESIRED[VENDOR], CONN: DESIRED[CONN]}
    # CONN was written by an interrupted run: live has it, state does not.
    live = {CONN: Live("id-ps", 4, "intcfg", {"vendor": "powerschool"})}
    results = [Result(VENDOR, "create", "ok", live_id="v1", revision=1)]
    state = new_state({}, results, desired, live, None)
    assert state[VENDOR] == Applied("v1", 1, {"displayName": "Parchment"})
    assert state[CONN] == Applied("id-ps", 4, {"vendor": "powerschool", "secret": "ref:env:PS_SECRET"})
