"""The engine's façade: what the CLI calls. Each function returns values; none prints."""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from . import defaults, early
from .desired import DesiredState, build
from .errors import AuditError, ConfigError
from .findings import Report
from .loader import Document, load_file
from .log import phased
from .main import keep
from .repo import RepoSettings, find_root
from .validate import load


class InvalidConfig(ConfigError):
    """The repository does not validate; ``report`` has the findings."""

    def __init__(self, report: Report) -> None:
        n = report.errors()
        super().__init__(
            f"the configuration is invalid ({n} error{'' if n == 1 else 's'}); "
            "run `intcfg validate` for details"
        )
        self.report = report


class Repository(NamedTuple):
    root: Path
    settings: RepoSettings
    documents: list[Document]
    report: Report

    def desired(self) -> DesiredState:
        return build([d for d in self.documents if d.data.get("kind") in _RESOURCE_KINDS])


_RESOURCE_KINDS = {
    "District",
    "ETranscriptVendor",
    "StateAssessmentIntegration",
    "SiteOverride",
    "SyncConnection",
    "FieldMapping",
    "Schedule",
}


@phased("load", "loaded the repository", lambda r: {"documents": len(r.documents), "files": r.report.files})
def load_repository(
    start: Path | None = None, tolerate: frozenset[str] = frozenset(), processes: int | None = None
) -> Repository:
    """The valid repository containing ``start``; raises InvalidConfig when it does not validate.

    Errors of the rules in ``tolerate`` do not count (``intcfg expiries`` must list
    expired credentials, which validate reports as errors). ``processes``: how many
    check the files (default: validate's choice).
    """
    start = (start or Path.cwd()).resolve()
    root = _root(start)
    if start == root:
        report, loaded = load(None, cwd=root, processes=processes)
    else:
        report, loaded = load([root], processes=processes)
    if any(f.is_error and f.rule not in tolerate for f in report.findings):
        raise InvalidConfig(report)
    settings_doc = load_file(str(root / defaults.SETTINGS_FILE))
    settings = RepoSettings.from_data(settings_doc.documents[0].data if settings_doc.documents else None)
    # validate() names files as findings do (relative to the working directory); here
    # they are named relative to the root, so provenance reads the same from any directory.
    here = Path.cwd()
    if here == root:
        documents = loaded
    else:
        names: dict[str, str] = {}
        documents = [Document(_from_root(d.file, here, root, names), d.index, d.data, None, d.text) for d in loaded]
    return Repository(root, settings, documents, report)


def _root(start: Path | None) -> Path:
    start = (start or Path.cwd()).resolve()
    root = find_root(start)
    if root is None:
        raise ConfigError(f"no {defaults.SETTINGS_FILE} in {start} or above: run intcfg inside a config repository")
    return root


def _from_root(name: str, here: Path, root: Path, seen: dict[str, str]) -> str:
    found = seen.get(name)
    if found is None:
        found = seen[name] = Path(os.path.relpath(here / name, root)).as_posix()
    return found


# -- the GitOps loop ---------------------------------------------------------------------


class ApplyRequest(NamedTuple):
    plan_file: Path | None
    districts: tuple[str, ...]
    shard: str | None
    live: str | None
    prune: bool
    parallelism: int
    force: bool
    lock_timeout: float
    push: bool


class ApplyOutcome(NamedTuple):
    results: list[Any]
    commit: str | None
    credentials_failed: bool = False

    @property
    def failed(self) -> bool:
        return self.credentials_failed or any(r.outcome in ("failed", "blocked") for r in self.results)


def _source_commit(root: Path) -> str | None:
    import subprocess

    proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def _fingerprint(repository: Repository, resolve: bool, resolver: Any = None) -> Any:
    """Keyed fingerprints of the secrets, through ``resolver`` (an apply's one resolver
    for the plan, the writes and the record: each value resolved once), or a new one."""
    if not resolve:
        return None
    from .secrets import SecretResolver, fingerprint, fingerprint_key

    resolver = resolver or SecretResolver(repository.root)
    key = fingerprint_key(repository.root)
    known: dict[tuple[str, str], str] = {}  # a secret named by many objects is keyed once

    def fp(address: Any, path: str, ref: dict[str, str]) -> str:
        (kind, name), = ref.items()
        found = known.get((kind, name))
        if found is None:
            found = known[(kind, name)] = fingerprint(resolver.resolve(ref, lambda: f"{address} {path}"), key)
        return found

    return fp


READ_AHEAD_ENV = early.READ_AHEAD_ENV  # "0": no reads ahead of the load (prefetch.py)


@contextlib.contextmanager
def _reading_ahead(
    start: Path | None, districts: tuple[str, ...], shard: str | None, live: str | None
) -> Iterator[Any]:
    """Start listing the live systems in a child while the repository loads (prefetch.py);
    yields the child, or None when there is none to start."""
    from . import prefetch

    ahead = None
    if os.environ.get(READ_AHEAD_ENV, "1") != "0":
        root = find_root((start or Path.cwd()).resolve())
        settings = _valid_settings(root) if root else None
        if root is not None and settings is not None:
            ahead = prefetch.start(root, settings, live, districts, shard)
    if ahead is None:
        early.dismiss()  # the child forked as the command started, if any, has nothing to read
    try:
        yield ahead
    finally:
        if ahead is not None:
            ahead.abandon()


class Ahead(NamedTuple):
    """What an apply makes of each district while the reads go on, for after them: where
    the secrets of the specs its writes send are, the text of its record's plan changes."""

    reveal: Any  # apply.RevealAhead
    record: Any  # audit.RecordAhead


def preparing(text: bool = False, json: bool = False, writes: Ahead | None = None) -> Any:
    """What makes a plan's output ahead, district by district while the read-ahead child
    reads the others (the command's process waits then, and steps back for the child:
    prefetch.py): the text's lines, the JSON objects (a saved plan, a journal, a record),
    and an apply's ``writes``. None when none is wanted."""
    from . import plan
    from .render import plan as rendered

    if not (text or json or writes):
        return None

    def prepare(changes: list[Any], desired: list[Any]) -> None:
        if text:
            rendered.prepare(changes)
        if json or writes:
            made = plan.prepare(changes)
            if writes:
                writes.record.add(made)
        if writes:
            writes.reveal.add(changes, desired)

    return prepare


def _loading_beside(ahead: Any) -> int | None:
    """The processes that check the files while ``ahead`` reads: one. The load has
    seconds to spare before the reads end; a second process checking files would take
    CPU from the child and delay every answer it waits for."""
    return 1 if ahead is not None else None


def _valid_settings(root: Path) -> RepoSettings | None:
    """intcfg.yaml's settings when they pass their schema (nothing is read ahead with
    settings that validate would refuse: the live URL or token may be the mistake)."""
    from .validate import schema

    loaded = load_file(str(root / defaults.SETTINGS_FILE))
    if loaded.findings or len(loaded.documents) != 1 or schema.check_settings(loaded.documents[0]):
        return None
    return RepoSettings.from_data(loaded.documents[0].data)


async def _plan(
    repository: Repository,
    districts: tuple[str, ...],
    shard: str | None,
    live: str | None,
    resolve: bool,
    ahead: Any = None,
    prepare: Any = None,
    resolver: Any = None,
) -> Any:
    from . import audit, loop
    from .providers.connect import open_providers
    from .reads import READS_IN_FLIGHT

    head = audit.read(repository.root, repository.settings.audit_branch)
    state = repository.desired()
    chosen = loop.scope(state, head, districts, shard)
    fingerprint = _fingerprint(repository, resolve, resolver)
    async with open_providers(repository, live, in_flight=READS_IN_FLIGHT) as providers:
        return await loop.make_plan(
            state, providers, head, chosen, fingerprint, _source_commit(repository.root), ahead, prepare
        )


def _run(job: Any) -> Any:
    """``asyncio.run(job)`` returning its result outside the task: on its way out, Python
    3.11's asyncio.run formats the repr of its main task, result included (signal.getsignal
    of its interrupt handler), which for a state's plan or results costs seconds."""
    import asyncio

    box: list[Any] = []

    async def main() -> None:
        box.append(await job)

    asyncio.run(main())
    return box[0]


def plan_repository(
    start: Path | None,
    districts: tuple[str, ...],
    shard: str | None,
    live: str | None,
    resolve_secrets: bool = True,
    prepare: Any = None,
) -> Any:
    """The plan; ``prepare`` (if any) is given each district's changes as soon as they are
    known (``preparing`` says what for)."""
    with _reading_ahead(start, districts, shard, live) as ahead:
        if resolve_secrets:
            # Imported now, while the child reads: after the reads, the import (the
            # transform steps' modules, about 0.05 s) would come on top of them.
            from .effects import enrich
        repository = load_repository(start, processes=_loading_beside(ahead))
        ctx = _run(_plan(repository, districts, shard, live, resolve_secrets, ahead, prepare))
    keep((repository, ctx))
    if not resolve_secrets:
        return ctx
    found = enrich(repository, ctx)
    effects = tuple((a, tuple(e.to_json() for e in found[a])) for a in sorted(found) if found[a])
    return ctx._replace(plan=ctx.plan._replace(effects=effects))


def drift_repository(start: Path | None, districts: tuple[str, ...], shard: str | None, live: str | None) -> Any:
    """A plan restricted to changes made outside git, compared with the last-applied state."""
    from .diff import Change
    from .plan import Plan

    ctx = plan_repository(start, districts, shard, live, resolve_secrets=False)
    drifted: list[Change] = [c for c in ctx.plan.changes if c.reason in ("drift", "both")]
    return ctx._replace(plan=Plan.create(drifted, ctx.plan.inputs))


def _reveal(repository: Repository, resolver: Any = None) -> Any:
    from .apply import RevealAhead
    from .secrets import SecretResolver

    return RevealAhead((resolver or SecretResolver(repository.root)).resolve)


async def _apply(
    repository: Repository, ctx: Any, request: ApplyRequest, progress: Any, reveal: Any = None
) -> list[Any]:
    from . import loop
    from .apply import Options
    from .providers.connect import open_providers

    async with open_providers(repository, request.live, in_flight=request.parallelism) as providers:
        options = Options(request.prune, request.parallelism)
        return await loop.apply_context(ctx, providers, reveal or _reveal(repository), options, progress)


def _safety(repository: Repository) -> Any:
    from .plan import Safety

    raw = repository.settings.safety
    default = Safety()
    return Safety(
        int(raw.get("maxDeletes", default.max_deletes)),
        float(raw.get("maxDeleteRatio", default.max_delete_ratio)),
        int(raw.get("maxChanges", default.max_changes)),
    )


def _result_line(result: Any) -> str:
    marks = {"ok": "ok", "failed": "FAILED", "skipped": "skipped", "blocked": "blocked"}
    text = f"{marks[result.outcome]:<8} {result.action:<7} {result.address}"
    return text + (f": {result.message}" if result.message else "")


LEASE_TTL = 900.0


@contextlib.contextmanager
def _lease(root: Path, request: ApplyRequest) -> Iterator[None]:
    """With --push, hold the remote lease while planning, applying and pushing, so two
    reconcilers on different machines take turns; the second re-plans on the first's
    audit commit."""
    from . import audit, loop

    if not request.push:
        yield
        return
    if not audit.has_remote(root):
        raise ConfigError("--push needs a git remote named 'origin'")
    lease = audit.acquire_lease(root, loop.actor(), LEASE_TTL, request.lock_timeout)
    try:
        audit.fetch(root, load_settings_branch(root))
        yield
    finally:
        audit.release_lease(root, lease)


def load_settings_branch(root: Path) -> str:
    loaded = load_file(str(root / defaults.SETTINGS_FILE))
    return RepoSettings.from_data(loaded.documents[0].data if loaded.documents else None).audit_branch


def apply_repository(start: Path | None, request: ApplyRequest, confirm: Any, echo: Any) -> ApplyOutcome:
    """Plan (or load a saved plan), check it, apply it and write the audit commit."""
    import datetime as dt
    import secrets

    from . import audit, journal, loop
    from .plan import check_safety, from_json
    from .render.plan import text
    from .secrets import SecretResolver

    root = _root(start)
    branch = load_settings_branch(root)
    run_id = secrets.token_hex(8)
    with audit.lock(root, request.lock_timeout), _lease(root, request):
        newer = audit.newer_source(root, branch, _source_commit(root)) if request.push else None
        if newer is not None:
            echo(f"A newer commit ({newer[:12]}) has already been reconciled; nothing to do for this one.")
            return ApplyOutcome([], None)
        saved = from_json(request.plan_file.read_text(encoding="utf-8"), str(request.plan_file)) if request.plan_file else None
        districts = saved.inputs.districts if saved else request.districts
        shard = saved.inputs.shard if saved else request.shard
        # Loaded under the lock, so the reads can start at once (and the live systems
        # cannot change under another apply between them and this one's writes).
        with _reading_ahead(start, districts, shard, request.live) as ahead:
            repository = load_repository(start, processes=_loading_beside(ahead))
            # The plan is shown as text, its JSON (and digest) goes to the journal and the
            # record, and the writes' specs hold secrets: all made as each district is
            # compared (the record's plan text, and where each spec's secrets are, too).
            resolver = SecretResolver(repository.root)  # each secret resolved once for all
            writes = Ahead(_reveal(repository, resolver), audit.RecordAhead())
            prepare = preparing(text=True, json=True, writes=writes)
            ctx = _run(_plan(repository, districts, shard, request.live, True, ahead, prepare, resolver))
        if saved is not None:
            loop.check_current(saved, ctx.plan)
        loop.prune_guard(ctx, request.prune)
        check_safety(ctx.plan, loop.managed_counts(ctx), _safety(repository), request.force, request.prune)
        results: list[Any] = []
        git_dir = audit.git_dir(root)
        left = journal.read(git_dir)  # entries of applies that died before their audit commit
        recorded = audit.head_runs(root, branch) if left else set()
        interrupted = [e for e in left if e["run"] not in recorded]
        if ctx.plan.has_changes():
            if not confirm(text(ctx.plan)):
                echo("Apply cancelled; nothing was changed.")
                return ApplyOutcome([], None)
            now = dt.datetime.now(dt.timezone.utc)
            journal.write(git_dir, [*interrupted, journal.entry(run_id, ctx.plan, loop.actor(), now)])
            results = _run(_apply(repository, ctx, request, None, writes.reveal))
            # A line a result, written a run of lines at a time (a state's apply has 10,000).
            for ok, run in itertools.groupby(results, key=lambda r: r.outcome == "ok"):
                echo("\n".join(_result_line(r) for r in run), detail=ok)
        else:
            echo(text(ctx.plan), nl=False, detail=True)
        fingerprint = _fingerprint(repository, True, resolver)
        outcome = _record(root, branch, ctx, results, fingerprint, run_id, interrupted, git_dir, writes.record)
        if outcome.commit:
            notes = [f"recovered {len(outcome.recovered)}"] if outcome.recovered else []
            n = len(interrupted)
            notes += [f"{n} interrupted {'apply' if n == 1 else 'applies'} recorded"] if n else []
            echo(f"Audit commit {outcome.commit[:12]} on {branch}" + (f" ({'; '.join(notes)})" if notes else ""))
            if request.push:
                # Until the remote has the commit, the journal keeps what this run changed.
                audit.publish(root, branch, outcome.commit, ctx.head.commit)
                echo(f"Pushed {branch} to origin.")
        journal.clear(git_dir)  # recorded (and pushed), or nothing was changed
    keep((repository, ctx))
    return ApplyOutcome(results, outcome.commit)


def _record(
    root: Path,
    branch: str,
    ctx: Any,
    results: list[Any],
    fingerprint: Any,
    run_id: str,
    interrupted: list[Any],
    git_dir: Path,
    ahead: Any,
) -> Any:
    from . import journal, loop

    try:
        return loop.record(
            root, branch, ctx, results, fingerprint, loop.actor(), run=run_id, interrupted=interrupted, ahead=ahead
        )
    except AuditError as e:
        if not any(r.outcome == "ok" for r in results):
            raise
        raise AuditError(
            f"{e} (the live systems were changed: {journal.path(git_dir)} lists this run's changes, "
            "and the next apply records them)"
        ) from e


def reconcile_repository(
    start: Path | None, request: ApplyRequest, confirm: Any, echo: Any, test_first: bool = True
) -> ApplyOutcome:
    """Validate, test every credential, then plan, apply and audit (the merge job)."""
    if test_first:
        from .credtest import execute
        from .render.credtest import text as credtest_text

        report = execute(start, request.districts, request.live)
        if not report.ok:
            echo(credtest_text(report), nl=False)
            echo("Not applying: fix the failing credentials first (or rerun with --skip-test).")
            return ApplyOutcome([], None, credentials_failed=True)
        echo(f"Credentials: all {len(report.results)} valid.", detail=True)
    return apply_repository(start, request, confirm, echo)
