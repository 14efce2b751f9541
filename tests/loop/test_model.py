"""A model-based test of the GitOps loop: random sequences of config edits (committed),
hand edits in the live systems (including objects intcfg never managed), applies under
injected faults, applies killed with SIGKILL, and fault-free reconciles, against one
`intcfg sim serve`. The simulator's fault settings give the 5xx, the 429s and slow
504s; it has no dropped connection, so a proxy in front of it (loopkit.FaultProxy) drops
connections before a request reaches it and after it answered, and refuses writes.

After every apply that exits 0 (and at the end of every sequence):

- the live systems hold exactly the rendered configuration (`intcfg render --format
  json`), secrets aside (compared by path: the live systems never return them);
- no object intcfg never managed changed: each is byte-equal to its snapshot from
  before the apply (this is checked after every apply, whatever its outcome);
- every live change intcfg made appears in exactly one audit record.

"Exactly one audit record" is defined on the simulator's revisions. Each step runs one
actor, so the objects' revisions before and after an apply step tell exactly which live
writes that run made: an object created (revision 1), updated (revision + 1) or deleted.
A run writes each object at most once. A write W of run R (object id, address,
revision, or deleted) is accounted for:

1. by an ``ok`` result in R's own audit commit naming the same address, live id and
   revision (for a delete, the plan's live id); or, when R wrote no audit commit (killed
   between the live write and the commit) or its record does not report W as ``ok`` (the
   write reached the live system but its answer never reached intcfg),
2. by the first later audit commit that mentions the address, either
   - as ``recovered``: that commit's state for the address is what the live system held
     when that run planned (the id and revision), or no entry when nothing was live; or
   - as re-applied: an ``ok`` result for the address (the object was changed or deleted
     again by hand in between and written again, or the same write was repeated and
     found nothing to change: then the result names W's own id and revision); or
   - as ``interrupted``: R died before its audit commit, and the commit lists R's
     journal entry (see intcfg/journal.py) with a change for the address. This is what
     keeps a write another interrupted run undid (created, then deleted, both unrecorded)
     in the trail: the live systems no longer show it.

Conversely every ``ok`` result accounts for a write of its own run or, with the same id
and revision, for an unaccounted one of an earlier run; every ``recovered`` entry
accounts for at least one unaccounted write; nothing is accounted twice. After an apply
that exits 0 no write is left unaccounted. (A run that completed, with writes that
reached the live system but failed as far as intcfg knows, and no commit because nothing
changed, is not in the journal either: its writes are accounted for by 2, recovered or
re-applied.)

The profile is derandomized so the suite never flakes on a new sequence; run
``INTCFG_MODEL_PROFILE=loop-model-soak`` to explore new ones.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from loopkit import (
    VENDOR_SPEC,
    AuditCommit,
    FaultProxy,
    Repo,
    Run,
    Sim,
    address_of,
    assert_clean,
    assert_live_matches,
    assert_repository_sound,
    audit_log,
    finish,
    git,
    kill,
    make_repo,
    run_in_process,
    start,
)

from conftest import EXAMPLE

settings.register_profile(
    "loop-model",
    max_examples=10,
    stateful_step_count=8,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(
    "loop-model-soak", settings.get_profile("loop-model"), max_examples=200, derandomize=False
)
PROFILE = settings.get_profile(os.environ.get("INTCFG_MODEL_PROFILE", "loop-model"))

APPLY = ("apply", "--auto-approve", "--prune", "--force")
PICK = st.integers(0, 1023)
KILL_WAIT_SECONDS = 120.0
RIV, HILL, LAKE = "riverside-usd", "hillcrest-isd", "lakeside-sd"
REMOVABLE = (
    f"districts/{RIV}/etranscript.yaml",
    f"districts/{HILL}/etranscript.yaml",
    f"districts/{RIV}/schedule.yaml",
    f"districts/{LAKE}/schedules.yaml",
)
RIV_ETS = f"districts/{RIV}/ets.yaml"
OVERRIDE_SITES = {
    RIV: ("riverside-high", "jefferson-middle"),
    HILL: ("hillcrest-high", "summit-middle"),
}
VENDOR_SECRETS = {
    RIV: ("RIVERSIDE_PARCHMENT_CONSUMER_SECRET", "RIVERSIDE_PARCHMENT_PASSWORD"),
    HILL: ("HILLCREST_NSC_CONSUMER_SECRET", "HILLCREST_NSC_PASSWORD"),
}
ETS_SECRET = {RIV: "RIVERSIDE_ETS_SECRET_KEY", HILL: "HILLCREST_ETS_SECRET_KEY"}
HAND_FIELDS = {
    "ETranscriptVendor": "displayName",
    "StateAssessmentIntegration": "username",
    "SyncConnection": "displayName",
    "Schedule": "time",
}
HAND_DELETABLE = ("ETranscriptVendor", "StateAssessmentIntegration", "FieldMapping", "Schedule")


# -- accounting live writes against audit records ------------------------------------------------


class Write(NamedTuple):
    address: str
    id: str
    revision: int | None  # None: deleted


def writes(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> list[Write]:
    """The live writes one run made, from snapshots before and after it."""
    old = {o["id"]: o for o in before.values()}
    new = {o["id"]: o for o in after.values()}
    out = []
    for oid, o in new.items():
        prior = old.get(oid)
        if prior is None or prior["revision"] != o["revision"]:
            expected = prior["revision"] + 1 if prior else 1
            assert o["revision"] == expected, (
                f"{address_of(o)} was written more than once by one run"
            )
            out.append(Write(address_of(o), oid, o["revision"]))
    out += [Write(address_of(o), oid, None) for oid, o in old.items() if oid not in new]
    return out


class Ledger:
    """The writes not yet accounted for by an audit record (see the module docstring)."""

    def __init__(self) -> None:
        self.pending: list[Write] = []

    def account(
        self, own: list[Write], commits: list[AuditCommit], before: dict[str, dict[str, Any]]
    ) -> None:
        assert len(commits) <= 1, "one run wrote more than one audit commit"
        unclaimed = list(own)
        for commit in commits:
            unclaimed = self._results(commit, unclaimed)
            self._recovered(commit, before)
            named = {c["address"] for run in commit.record["interrupted"] for c in run["changes"]}
            self.pending = [w for w in self.pending if w.address not in named]
        self.pending += unclaimed

    def _results(self, commit: AuditCommit, own: list[Write]) -> list[Write]:
        live_ids = {c["address"]: c["liveId"] for c in commit.record["plan"]["changes"]}
        for r in commit.record["results"]:
            if r["outcome"] != "ok":
                continue
            address = r["address"]
            deleted = r["action"] == "delete"
            key = Write(
                address,
                live_ids[address] if deleted else r["liveId"],
                None if deleted else r["revision"],
            )
            change = next(c for c in commit.record["plan"]["changes"] if c["address"] == address)
            assert key in own or key in self.pending, (
                f"{commit.sha[:12]}: ok {r['action']} {address} matches no live write: {change}"
            )
            own = [w for w in own if w != key]
            self.pending = [w for w in self.pending if w.address != address]
        return own

    def _recovered(self, commit: AuditCommit, before: dict[str, dict[str, Any]]) -> None:
        for address in commit.record["recovered"]:
            assert any(w.address == address for w in self.pending), (
                f"{commit.sha[:12]}: {address} recovered, but no write was unrecorded"
            )
            held, state = before.get(address), commit.state.get(address)
            recorded = (state["id"], state["revision"]) if state else None
            assert recorded == ((held["id"], held["revision"]) if held else None), address
            self.pending = [w for w in self.pending if w.address != address]


# -- config edits --------------------------------------------------------------------------------


def _sub(path: Path, pattern: str, value: str) -> bool:
    if not path.exists():  # removed by an earlier edit
        return False
    text = path.read_text(encoding="utf-8")
    new, n = re.subn(pattern, lambda m: m.group(1) + value, text, count=1, flags=re.M)
    path.write_text(new, encoding="utf-8")
    return n == 1


VENDOR_YAML = """\
apiVersion: intcfg/v1
kind: ETranscriptVendor
metadata: {{name: {name}, district: {district}}}
spec:
  displayName: Model vendor {n}
  authServer: https://auth.vendor{n}.example.org
  authPath: /token
  uploadServer: https://upload.vendor{n}.example.org
  uploadPort: 443
  uploadPath: /up
  consumerKey: key-{n}
  consumerSecret: {{env: {secret}}}
  userName: user{n}@example.org
  password: {{env: {password}}}
"""
OVERRIDE_YAML = """\
apiVersion: intcfg/v1
kind: SiteOverride
metadata: {{name: ets-{site}, district: {district}}}
spec:
  target: {{kind: StateAssessmentIntegration, name: ets}}
  site: {site}
  patch:
    username: {site}-toms-{n}
    secretKey: {{env: {secret}}}
    credentialsRotated: 2026-10-01
"""


def _vendor(district: str, name: str, n: int) -> str:
    secret, password = VENDOR_SECRETS[district]
    return VENDOR_YAML.format(name=name, district=district, n=n, secret=secret, password=password)


def _override(district: str, site: str, n: int) -> str:
    return OVERRIDE_YAML.format(site=site, district=district, n=n, secret=ETS_SECRET[district])


class Config:
    """The edits the model makes to its copy of the example repository."""

    def __init__(self, repo: Repo) -> None:
        self.root = repo.root

    def changes(self, n: int) -> list[Callable[[], bool]]:
        r = self.root
        return [
            lambda: _sub(r / REMOVABLE[0], r"^(  displayName: ).*$", f"Parchment {n}"),
            lambda: _sub(r / REMOVABLE[1], r"^(  displayName: ).*$", f"Clearinghouse {n}"),
            lambda: _sub(r / REMOVABLE[2], r"^(  time: ).*$", f'"0{n % 10}:{n % 60:02d}"'),
            lambda: _sub(r / REMOVABLE[3], r"^(  time: ).*$", f'"0{n % 10}:{n % 60:02d}"'),
            lambda: _sub(
                r / RIV_ETS, r"^(  apiUrl: ).*$", f"https://caaspp-aws.ets.org/api/v{n}/token"
            ),
            lambda: _sub(r / RIV_ETS, r"^(    username: ).*$", f"river-charter-toms-{n}"),
            lambda: _sub(
                r / f"districts/{RIV}/sync.yaml",
                r"^(    students\.lname: \{type: direct, source: ).*$",
                f"LastName{n}}}",
            ),
        ]

    def adds(self, n: int) -> list[Callable[[], bool]]:
        out: list[Callable[[], bool]] = [
            self._write(f"districts/{d}/model-vendor-{n}.yaml", _vendor(d, f"model-vendor-{n}", n))
            for d in (RIV, HILL)
        ]
        for district, sites in OVERRIDE_SITES.items():
            out += [
                self._write(
                    f"districts/{district}/model-override-{site}.yaml", _override(district, site, n)
                )
                for site in sites
            ]
        return out + [self._restore(path) for path in (*REMOVABLE, RIV_ETS)]

    def removals(self) -> list[Callable[[], bool]]:
        model = sorted(self.root.glob("districts/*/model-*.yaml"))
        return (
            [self._unlink(p) for p in model]
            + [self._unlink(self.root / p) for p in REMOVABLE]
            + [self._drop_override]
        )

    def _write(self, relative: str, text: str) -> Callable[[], bool]:
        path = self.root / relative

        def write() -> bool:
            if path.exists():  # one override per site: an add never replaces a file
                return False
            path.write_text(text, encoding="utf-8")
            return True

        return write

    def _restore(self, relative: str) -> Callable[[], bool]:
        def restore() -> bool:
            path = self.root / relative
            if path.exists() and path.read_bytes() == (EXAMPLE / relative).read_bytes():
                return False
            shutil.copyfile(EXAMPLE / relative, path)
            return True

        return restore

    def _unlink(self, path: Path) -> Callable[[], bool]:
        def unlink() -> bool:
            if not path.exists():
                return False
            path.unlink()
            return True

        return unlink

    def _drop_override(self) -> bool:
        path = self.root / RIV_ETS
        text = path.read_text(encoding="utf-8")
        if "\n---\n" not in text:
            return False
        path.write_text(text.split("\n---\n", 1)[0] + "\n", encoding="utf-8")
        return True


# -- the machine ---------------------------------------------------------------------------------


def _with_secrets(spec: dict[str, Any], paths: list[str], value: str) -> dict[str, Any]:
    """The spec as the admin screen sends it: the whole form, secrets included."""
    out = copy.deepcopy(spec)
    for path in paths:
        *parents, leaf = path.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def _hand_value(kind: str, n: int) -> str:
    # Config edits set times 00:00-09:59; a hand-made value is never a declared one.
    return (
        f"23:{59 - n % 60:02d}"
        if kind == "Schedule"
        else f"hand {n}"
        if "display" in HAND_FIELDS[kind]
        else f"hand-{n}"
    )


def _outcomes(result: Run) -> str:
    """The result lines of an apply (the plan it printed aside)."""
    marks = ("ok ", "FAILED ", "blocked ", "skipped ", "Audit commit ", "Error: ", "No changes")
    return "".join(
        line + "\n" for line in (result.out + result.err).splitlines() if line.startswith(marks)
    )


class LoopMachine(RuleBasedStateMachine):
    def __init__(self, sim: Sim, proxy: FaultProxy, base: Path) -> None:
        super().__init__()
        self.sim, self.proxy, self.base = sim, proxy, base
        self.repo: Repo | None = None
        self.ledger = Ledger()
        self.unmanaged: set[str] = set()
        self.n = 0
        self.history: list[str] = []  # what ran, for a failure that does not replay (timing)

    @initialize()
    def fresh_copy(self) -> None:
        self.repo = make_repo(self.base / f"example-{time.monotonic_ns()}")
        self.config = Config(self.repo)
        self.sim.reset(self.repo)
        self.proxy.configure()

    def _next(self) -> int:
        self.n += 1
        return self.n

    @property
    def live_url(self) -> str:
        return self.proxy.url

    # -- config edits -----------------------------------------------------------------------------

    # Every draw has a fixed range and happens whatever the live state: a replayed sequence
    # draws the same (kills make the live state differ between runs of one sequence).
    @rule(kind=st.sampled_from(["change", "add", "remove"]), pick=PICK)
    def edit_config(self, kind: str, pick: int) -> None:
        assert self.repo is not None
        n = self._next()
        edits = {
            "change": self.config.changes(n),
            "add": self.config.adds(n),
            "remove": self.config.removals(),
        }[kind]
        if edits[pick % len(edits)]():
            self.repo.commit(f"model: {kind} {n}")
            self.history.append(
                f"edit_config {kind}:\n"
                + git(self.repo.root, "show", "--format=", "--stat", "HEAD")
            )

    # -- hand edits in the admin screens ----------------------------------------------------------

    @rule(what=st.sampled_from(["change", "delete", "secret", "unmanaged"]), pick=PICK)
    def hand_edit(self, what: str, pick: int) -> None:
        n = self._next()
        if what == "unmanaged":
            district = (RIV, HILL, LAKE)[pick % 3]
            name = f"hand-made-{pick // 3 % 2}"
            spec = _with_secrets(
                {**VENDOR_SPEC, "displayName": f"Hand made {n}"},
                ["consumerSecret", "password"],
                "typed",
            )
            self._put(
                {
                    "system": "sis",
                    "district": district,
                    "kind": "ETranscriptVendor",
                    "name": name,
                    "site": None,
                },
                spec,
                None,
            )
            self.unmanaged.add(f"sis/{district}/ETranscriptVendor/{name}")
            self.history.append(f"hand_edit unmanaged sis/{district}/ETranscriptVendor/{name}")
            return
        live = self.sim.objects()
        kinds = HAND_DELETABLE if what == "delete" else tuple(HAND_FIELDS)
        candidates = sorted(
            a
            for a, o in live.items()
            if a not in self.unmanaged and o["kind"] in kinds and (what != "secret" or o["secrets"])
        )
        if not candidates:
            return
        o = live[candidates[pick % len(candidates)]]
        self.history.append(f"hand_edit {what} {address_of(o)} (revision {o['revision']})")
        if what == "delete":
            response = self.sim.client.delete(self._path(o), params=self._site(o))
            assert response.status_code == 204, response.text
            return
        spec = dict(o["spec"])
        if what == "change":
            spec[HAND_FIELDS[o["kind"]]] = _hand_value(o["kind"], n)
        self._put(
            o, _with_secrets(spec, sorted(o["secrets"]), f"typed-in-the-screen-{n}"), o["managedBy"]
        )

    def _path(self, o: dict[str, Any]) -> str:
        from intcfg.providers.base import COLLECTION, SYSTEM_OF_KIND

        system, collection = SYSTEM_OF_KIND[o["kind"]], COLLECTION[o["kind"]]
        return f"/{system}/admin/v1/districts/{o['district']}/{collection}/{o['name']}"

    @staticmethod
    def _site(o: dict[str, Any]) -> dict[str, str]:
        return {"site": o["site"]} if o.get("site") else {}

    def _put(self, o: dict[str, Any], spec: dict[str, Any], managed_by: str | None) -> None:
        response = self.sim.client.put(
            self._path(o), params=self._site(o), json={"spec": spec, "managedBy": managed_by}
        )
        assert response.status_code in (200, 201), response.text

    # -- applies ----------------------------------------------------------------------------------

    @rule()
    def reconcile(self) -> None:
        assert self.repo is not None
        self.history.append("reconcile")
        result = self._apply_step(self._apply_in_process)
        assert result.code == 0, result.out + result.err

    @rule(
        errors=st.sampled_from([0.0, 0.1, 0.3]),
        rate_limits=st.sampled_from([0.0, 0.1]),
        timeouts=st.sampled_from([0.0, 0.05]),
        drops=st.sampled_from([0.0, 0.05]),
        write_errors=st.sampled_from([0.0, 0.1, 0.9]),
        seed=st.integers(0, 2**16),
    )
    def faulty_apply(
        self,
        errors: float,
        rate_limits: float,
        timeouts: float,
        drops: float,
        write_errors: float,
        seed: int,
    ) -> None:
        """5xx, 429 and slow 504s from the simulator; connections dropped before a request
        reaches it or after it answered, and writes refused, by the proxy; seeded."""
        assert self.repo is not None
        self.history.append(
            f"faulty_apply 5xx={errors} 429={rate_limits} 504={timeouts} drops={drops} "
            f"write-errors={write_errors} seed={seed}"
        )
        self.sim.faults(
            errorRate=errors,
            rateLimitRate=rate_limits,
            timeoutRate=timeouts,
            timeoutSeconds=0.05,
            seed=seed,
        )
        self.proxy.configure(
            drop_before=drops, drop_after=drops, write_error=write_errors, seed=seed
        )
        try:
            self._apply_step(self._apply_in_process)
        finally:
            self.sim.faults(errorRate=0, rateLimitRate=0, timeoutRate=0, seed=None)
            self.proxy.configure()

    @rule(
        when=st.sampled_from(["requests", "writes", "quiet"]),
        k=st.integers(1, 12),
        delay=st.sampled_from([0.0, 0.02, 0.1]),
    )
    def killed_apply(self, when: str, k: int, delay: float) -> None:
        """SIGKILL an `intcfg apply` subprocess: after its k-th request, its first to third
        write request (a batch), or once its writes have gone quiet (it is writing the audit
        commit), plus a short delay."""
        self.history.append(f"killed_apply when={when} k={k} delay={delay}")
        self.sim.faults(latencyMs=60)
        try:
            self._apply_step(lambda: self._kill_when(when, k, delay), killed=True)
        finally:
            self.sim.faults(latencyMs=0)

    def _apply_in_process(self) -> Run:
        assert self.repo is not None
        return run_in_process(self.repo, *APPLY, "--live", self.live_url)

    def _kill_when(self, when: str, k: int, delay: float) -> Run:
        assert self.repo is not None
        requests, writes_before = self.sim.counts()
        proc = start(self.repo, *APPLY, "--live", self.live_url)
        deadline = time.monotonic() + KILL_WAIT_SECONDS
        last, quiet_since = writes_before, time.monotonic()
        while proc.poll() is None and time.monotonic() < deadline:
            seen, written = self.sim.counts()
            if written != last:
                last, quiet_since = written, time.monotonic()
            if (when == "requests" and seen >= requests + k) or (
                when == "writes" and written >= writes_before + 1 + k % 3
            ):
                break
            if (
                when == "quiet"
                and written > writes_before
                and time.monotonic() - quiet_since > 0.06
            ):
                break
            time.sleep(0.005)
        time.sleep(delay)
        return finish(proc) if proc.poll() is not None else kill(proc)

    def _apply_step(self, runner: Callable[[], Run], killed: bool = False) -> Run:
        assert self.repo is not None
        before = self.sim.objects()
        untouchable = {a: json.dumps(before.get(a), sort_keys=True) for a in self.unmanaged}
        head = self._head()
        result = runner()
        self.proxy.settle()
        self.history.append(f"  -> exit {result.code}\n" + _outcomes(result))
        try:
            assert_clean(result, self.repo, killed=killed)
            after = self.sim.objects()
            assert {
                a: json.dumps(after.get(a), sort_keys=True) for a in self.unmanaged
            } == untouchable
            self.ledger.account(writes(before, after), audit_log(self.repo, since=head), before)
            if result.code == 0:
                assert_live_matches(self.repo, after, self.unmanaged)
                assert self.ledger.pending == [], "writes no audit record accounts for"
        except AssertionError as e:
            raise AssertionError(f"{e}\n\nThe steps so far:\n" + "\n".join(self.history)) from e
        return result

    def _head(self) -> str | None:
        assert self.repo is not None
        heads = git(
            self.repo.root, "branch", "--list", "--format=%(objectname)", "intcfg/audit"
        ).split()
        return heads[0] if heads else None

    def teardown(self) -> None:
        if self.repo is None:
            return
        try:
            self.reconcile()
            plan = run_in_process(self.repo, "plan", "--detailed-exitcode", "--live", self.live_url)
            assert plan.code == 0, plan.out + plan.err
            assert_repository_sound(self.repo)
        finally:
            shutil.rmtree(self.repo.root, ignore_errors=True)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    server = Sim(tmp_path_factory.mktemp("model-sim") / "sim.sqlite3")
    yield server
    server.close()


@pytest.fixture(scope="module")
def proxy(sim: Sim) -> Iterator[FaultProxy]:
    front = FaultProxy(sim.url, seed=0)
    yield front
    front.close()


@pytest.mark.slow
def test_the_loop_converges_under_edits_faults_and_kills(
    sim: Sim, proxy: FaultProxy, tmp_path: Path
) -> None:
    class OnThisSimulator(LoopMachine):
        def __init__(self) -> None:
            super().__init__(sim, proxy, tmp_path)

    run_state_machine_as_test(OnThisSimulator, settings=PROFILE)
