from __future__ import annotations

import asyncio
from typing import Any, NamedTuple

from intcfg.apply import Applier, Options, Result, new_state
from intcfg.desired import Address, DesiredObject
from intcfg.diff import Applied, diff
from intcfg.errors import ProviderError

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
    """An in-memory live system that can be told to fail for some names."""

    def __init__(self, fail: set[str] = frozenset()) -> None:
        self.objects: dict[tuple[str, str, str, str | None], Live] = {}
        self.fail = fail
        self.calls: list[tuple[str, str]] = []

    async def put(self, district: str, kind: str, name: str, site: str | None, spec: dict[str, Any]) -> Live:
        self.calls.append(("put", name))
        await asyncio.sleep(0)
        if name in self.fail:
            raise ProviderError("503 from the live system", system="enroll", method="PUT", url="/x", status=503)
        key = (district, kind, name, site)
        old = self.objects.get(key)
        live = Live(old.id if old else f"id-{name}", (old.revision if old else 0) + 1, "intcfg", spec)
        self.objects[key] = live
        return live

    async def delete(self, district: str, kind: str, name: str, site: str | None = None) -> None:
        self.calls.append(("delete", name))
        if name in self.fail:
            raise ProviderError("503", system="enroll", method="DELETE", url="/x", status=503)
        self.objects.pop((district, kind, name, site), None)


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


def test_parallelism_is_bounded() -> None:
    active = peak = 0

    class Slow(FakeSystem):
        async def put(self, *args: Any) -> Live:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.001)
            active -= 1
            return await super().put(*args)

    desired = {a.address: a for a in (obj(Address("sis", D, "ETranscriptVendor", f"v{i}"), n=i) for i in range(20))}
    results = run({"sis": Slow(), "enroll": FakeSystem()}, desired, {}, {}, parallelism=3)
    assert len(results) == 20 and peak == 3


def test_new_state_records_results_and_recovers_unrecorded_writes() -> None:
    desired = {VENDOR: DESIRED[VENDOR], CONN: DESIRED[CONN]}
    # CONN was written by an interrupted run: live has it, state does not.
    live = {CONN: Live("id-ps", 4, "intcfg", {"vendor": "powerschool"})}
    results = [Result(VENDOR, "create", "ok", live_id="v1", revision=1)]
    state = new_state({}, results, desired, live, None)
    assert state[VENDOR] == Applied("v1", 1, {"displayName": "Parchment"})
    assert state[CONN] == Applied("id-ps", 4, {"vendor": "powerschool", "secret": "ref:env:PS_SECRET"})
