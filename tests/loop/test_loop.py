from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from intcfg import audit, loop
from intcfg.apply import Options
from intcfg.desired import Address, DesiredObject, DesiredState
from intcfg.errors import StalePlanError, UnsafePlanError
from intcfg.providers.base import BatchOp, BatchResult

D = "riverside-usd"
ETS = Address("portal", D, "StateAssessmentIntegration", "ets")
SITE = ETS._replace(site="river-charter")


class LiveObject(NamedTuple):
    system: str
    district: str
    kind: str
    name: str
    site: str | None
    id: str
    revision: int
    managed_by: str | None
    spec: dict[str, Any]


class FakePortal:
    system = "portal"
    kinds = ("StateAssessmentIntegration",)

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str | None], LiveObject] = {}

    async def list(self, district: str, kind: str) -> list[LiveObject]:
        return [o for (d, _, _), o in sorted(self.objects.items(), key=lambda kv: str(kv[0])) if d == district]

    async def put(self, district: str, kind: str, name: str, site: str | None, spec: dict[str, Any]) -> LiveObject:
        old = self.objects.get((district, name, site))
        visible = {k: v for k, v in spec.items() if k != "secretKey"}
        o = LiveObject("portal", district, kind, name, site, old.id if old else f"ets-{len(self.objects)}", (old.revision + 1) if old else 1, "intcfg", visible)
        self.objects[(district, name, site)] = o
        return o

    async def delete(self, district: str, kind: str, name: str, site: str | None = None) -> None:
        self.objects.pop((district, name, site), None)

    async def batch(self, ops: list[BatchOp]) -> list[BatchResult]:
        results = []
        for op in ops:
            if op.op == "delete":
                await self.delete(op.district, op.kind, op.name, op.site)
                results.append(BatchResult(op, 204))
            else:
                results.append(BatchResult(op, 200, await self.put(op.district, op.kind, op.name, op.site, op.spec or {})))  # type: ignore[arg-type]
        return results


def obj(address: Address, username: str) -> DesiredObject:
    spec = {"provider": "ets", "apiUrl": "https://caaspp-aws.ets.org/api/v1/token", "username": username, "secretKey": {"env": "K"}, "credentialsRotated": "2026-10-01"}
    return DesiredObject(address, spec, {}, {})


def state(*objects: DesiredObject) -> DesiredState:
    return DesiredState({D: {"name": "Riverside"}}, objects)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "config")
    return tmp_path


def plan(portal: FakePortal, desired: DesiredState, repo: Path) -> loop.PlanContext:
    head = audit.read(repo, "intcfg/audit")
    chosen = loop.scope(desired, head, (), None)
    return asyncio.run(loop.make_plan(desired, {"portal": portal}, head, chosen, None, "abc"))


def apply(ctx: loop.PlanContext, portal: FakePortal, repo: Path, **options: Any) -> loop.AuditOutcome:
    reveal = lambda o: {**o.spec, "secretKey": "s3cret"}  # noqa: E731
    results = asyncio.run(loop.apply_context(ctx, {"portal": portal}, reveal, Options(**options)))
    fixed = lambda: dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.timezone.utc)  # noqa: E731
    return loop.record(repo, "intcfg/audit", ctx, results, None, "ci", fixed)


def test_the_loop_converges_and_audits_once_per_change(repo: Path) -> None:
    portal = FakePortal()
    desired = state(obj(ETS, "district"), obj(SITE, "charter"))
    ctx = plan(portal, desired, repo)
    assert ctx.plan.counts()["create"] == 2
    outcome = apply(ctx, portal, repo)
    assert outcome.commit is not None
    assert git(repo, "log", "-1", "--format=%s", "intcfg/audit") == f"intcfg apply: 2 created, 0 updated, 0 deleted ({D})"
    trailers = git(repo, "log", "-1", "--format=%(trailers:only)", "intcfg/audit")
    assert "Intcfg-Result: success" in trailers and "Intcfg-Source-Commit: abc" in trailers
    # Nothing to do the second time, and no audit commit for nothing.
    again = plan(portal, desired, repo)
    assert not again.plan.has_changes()
    assert apply(again, portal, repo).commit is None
    assert len(git(repo, "log", "--format=%H", "intcfg/audit").splitlines()) == 1


def test_drift_is_reported_then_reverted(repo: Path) -> None:
    portal = FakePortal()
    desired = state(obj(ETS, "district"))
    apply(plan(portal, desired, repo), portal, repo)
    key = (D, "ets", None)
    portal.objects[key] = portal.objects[key]._replace(revision=2, spec={**portal.objects[key].spec, "username": "typo"})
    ctx = plan(portal, desired, repo)
    (change,) = [c for c in ctx.plan.changes if c.is_change]
    assert (change.action, change.reason) == ("update", "drift")
    apply(ctx, portal, repo)
    assert portal.objects[key].spec["username"] == "district"


def test_a_crash_before_the_audit_commit_is_recovered(repo: Path) -> None:
    portal = FakePortal()
    desired = state(obj(ETS, "district"))
    ctx = plan(portal, desired, repo)
    # The live change happens, then the process dies before loop.record().
    asyncio.run(loop.apply_context(ctx, {"portal": portal}, lambda o: o.spec, Options()))
    rerun = plan(portal, desired, repo)
    # No state says the secret was written, so the rerun writes it again (idempotent),
    # and the visible fields are already in place.
    (change,) = rerun.plan.changes
    assert (change.action, [f.path for f in change.fields]) == ("update", ["secretKey"])
    outcome = apply(rerun, portal, repo)
    record = json.loads(git(repo, "show", f"{outcome.commit}:records/20261122T100000Z-{rerun.plan.digest()[7:19]}.json"))
    assert [r["outcome"] for r in record["results"]] == ["ok"]
    assert not plan(portal, desired, repo).plan.has_changes()


def test_state_lost_for_an_object_in_sync_is_recorded_as_recovered(repo: Path) -> None:
    portal = FakePortal()
    desired = state(obj(ETS, "district"), obj(SITE, "charter"))
    apply(plan(portal, desired, repo), portal, repo)
    # An interrupted run created the site object and recorded nothing; its state is gone.
    git(repo, "update-ref", "-d", "refs/heads/intcfg/audit")
    ctx = plan(portal, desired, repo)
    outcome = apply(ctx, portal, repo)
    assert outcome.commit is not None
    assert set(outcome.state) == {ETS, SITE}


def test_a_saved_plan_goes_stale_when_the_live_system_moves(repo: Path) -> None:
    portal = FakePortal()
    desired = state(obj(ETS, "district"))
    saved = plan(portal, desired, repo).plan
    asyncio.run(portal.put(D, "StateAssessmentIntegration", "other", None, {}))
    with pytest.raises(StalePlanError, match="the live systems changed since it was computed; plan again"):
        loop.check_current(saved, plan(portal, desired, repo).plan)


def test_pruning_a_district_whose_config_is_empty_is_refused(repo: Path) -> None:
    portal = FakePortal()
    apply(plan(portal, state(obj(ETS, "district")), repo), portal, repo)
    ctx = plan(portal, DesiredState({D: {}}, ()), repo)
    with pytest.raises(UnsafePlanError, match="refusing to prune district 'riverside-usd': its configuration declares nothing"):
        loop.prune_guard(ctx, prune=True)
    loop.prune_guard(ctx, prune=False)


def test_shards_partition_districts_exactly() -> None:
    districts = [f"district-{i:03d}" for i in range(200)]
    shards = [[d for d in districts if loop.in_shard(d, (k, 4))] for k in range(1, 5)]
    assert sorted(sum(shards, [])) == districts
    assert all(shards)
