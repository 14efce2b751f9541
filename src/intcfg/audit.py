"""The audit trail and the last-applied state, on a branch of the config repository.

Every apply that changed anything (or found changes an interrupted run left) writes one
commit on the audit branch (default ``intcfg/audit``): ``records/<time>-<digest>.json``
(the plan and every result, masked) and ``state/<system>/<district>.json`` (the new
last-applied state). The commit is built with plumbing in a private index, so the
working tree and the checked-out branch are never touched, and the branch ref is moved
with compare-and-swap: if another reconciler moved it first, the write fails and the
caller re-plans. The only GitPython importer.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import git

from . import gitpack
from .desired import Address
from .diff import Applied
from .errors import AuditError
from .jsonout import Made, items_text, pretty_bytes, pretty_chunks
from .log import ev, phased
from .secrets import child_environment

log = logging.getLogger(__name__)

STATE_FORMAT = "intcfg-state"
RECORD_FORMAT = "intcfg-audit"
VERSION = 1
_SAFE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_TRAILER_VALUE = re.compile(r"[^A-Za-z0-9._:/@+ -]")


class AuditHead(NamedTuple):
    commit: str | None  # None: the branch does not exist yet
    state: dict[Address, Applied]


def _repo(root: Path) -> git.Repo:
    try:
        return git.Repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as e:
        raise AuditError(f"{root} is not a git repository; the audit trail needs one (git init)") from e


def _safe(part: str, what: str) -> str:
    if not _SAFE.match(part):
        raise AuditError(f"refusing to use {what} {part!r} in a path of the audit branch")
    return part


def state_path(system: str, district: str) -> str:
    return f"state/{_safe(system, 'system')}/{_safe(district, 'district')}.json"


@phased("audit.read", "read the last-applied state", lambda head: {"commit": head.commit, "objects": len(head.state)})
def read(root: Path, branch: str) -> AuditHead:
    """The audit branch's head commit and the last-applied state it records."""
    with contextlib.closing(_repo(root)) as repo:
        return _read(repo, branch)


def _read(repo: git.Repo, branch: str) -> AuditHead:
    ref = f"refs/heads/{branch}"
    try:
        commit = repo.git.rev_parse("--verify", "--quiet", ref)
    except git.GitCommandError:
        return AuditHead(None, {})
    state: dict[Address, Applied] = {}
    tree = repo.commit(commit).tree
    if "state" not in tree:
        return AuditHead(commit, {})
    for blob in tree["state"].traverse():
        if blob.type != "blob" or not blob.path.endswith(".json"):
            continue
        state.update(_parse_state(blob.data_stream.read().decode("utf-8"), blob.path))
    return AuditHead(commit, state)


def _parse_state(text: str, path: str) -> dict[Address, Applied]:
    try:
        body = json.loads(text)
        if body.get("format") != STATE_FORMAT or body.get("version") != VERSION:
            raise AuditError(f"{path} on the audit branch is not intcfg state version {VERSION}")
        return {
            Address(o["system"], o["district"], o["kind"], o["name"], o["site"]): Applied(o["id"], o["revision"], o["spec"], o.get("prune", True))
            for o in body["objects"]
        }
    except (ValueError, KeyError, TypeError) as e:
        raise AuditError(f"{path} on the audit branch is unreadable ({type(e).__name__}); fix or remove it") from e


def render_state(objects: dict[Address, Applied]) -> bytes:
    rows = [
        {
            "system": a.system,
            "district": a.district,
            "kind": a.kind,
            "name": a.name,
            "site": a.site,
            "id": o.id,
            "revision": o.revision,
            "spec": o.spec,
            "prune": o.prune,
        }
        for a, o in sorted(objects.items(), key=lambda kv: kv[0].sort_key())
    ]
    return pretty_bytes({"format": STATE_FORMAT, "version": VERSION, "objects": rows}, sort_keys=True)


def trailer(value: str) -> str:
    """A value safe for one trailer line: no newline, no control or odd characters."""
    return _TRAILER_VALUE.sub("_", value)[:200] or "-"


class RecordAhead:
    """The text of the next record's plan changes, deflated district by district while the
    reads go on (the plan of a 10,000-object apply is 30 MB of text: a third of a second
    that the writes and the audit commit need not spend). ``add`` takes a district's
    changes as the plan's JSON holds them, as soon as they are known."""

    LEVEL = 2  # where a record holds its plan's changes: record -> plan -> changes

    def __init__(self) -> None:
        self._runs: dict[str, tuple[list[dict[str, Any]], gitpack.Deflated]] = {}

    def add(self, changes: list[dict[str, Any]]) -> None:
        """One district's changes (the JSON objects of ``plan.prepare``), in plan order."""
        if changes:
            run = gitpack.deflated([items_text(changes, True, self.LEVEL)])
            self._runs[changes[0]["district"]] = (changes, run)

    def made(self, record: dict[str, Any]) -> dict[str, Any]:
        """``record`` with its plan's changes as the runs made ahead when it holds exactly
        the objects they were made of, district after district; else ``record`` itself
        (the runs are of those objects: another object, even an equal one, is written
        as usual)."""
        plan = record.get("plan")
        if not isinstance(plan, dict) or not isinstance(plan.get("changes"), list) or not self._runs:
            return record
        changes = plan["changes"]
        runs: list[gitpack.Deflated] = []
        at = 0
        for district in sorted(self._runs):
            objects, run = self._runs[district]
            if any(a is not b for a, b in itertools.zip_longest(objects, changes[at : at + len(objects)])):
                return record
            runs.append(run)
            at += len(objects)
        if at != len(changes):
            return record
        return {**record, "plan": {**plan, "changes": Made(tuple(runs))}}


class Commit(NamedTuple):
    subject: str
    body: str
    trailers: dict[str, str]
    record: dict[str, Any]
    record_name: str
    state: dict[Address, Applied]
    ahead: RecordAhead | None = None


def one_line(text: str) -> str:
    """Text for the subject line: control characters (newlines included) become spaces."""
    return re.sub(r"[\x00-\x1f\x7f]", " ", text)[:200]


def message(commit: Commit) -> str:
    subject = one_line(commit.subject)
    body = commit.body.replace("\r", "")
    lines = [subject, "", body.strip(), ""] if body.strip() else [subject, ""]
    lines += [f"{key}: {trailer(value)}" for key, value in commit.trailers.items()]
    return "\n".join(lines) + "\n"


@phased("audit.commit", "wrote the audit commit", lambda sha: {"commit": sha})
def write(root: Path, branch: str, expected: str | None, commit: Commit) -> str:
    """Commit ``commit`` on ``branch`` if its head is still ``expected``; returns the new sha."""
    with contextlib.closing(_repo(root)) as repo:
        return _write(repo, branch, expected, commit)


def _write(repo: git.Repo, branch: str, expected: str | None, commit: Commit) -> str:
    if not re.fullmatch(r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{12}\.json", commit.record_name):
        raise AuditError(f"refusing record name {commit.record_name!r}")
    by_file: dict[str, dict[Address, Applied]] = {}
    paths: dict[tuple[str, str], str] = {}  # a file's path checked once, not once an object
    for address, applied in commit.state.items():
        key = (address.system, address.district)
        path = paths.get(key) or paths.setdefault(key, state_path(*key))
        by_file.setdefault(path, {})[address] = applied
    env = _environment()
    try:
        new = _build(repo, expected, commit, by_file, env)
    except (OSError, git.GitCommandError) as e:  # a full disk, a quota, a git that died
        raise AuditError(
            f"could not write the audit commit ({_reason(e)}); the audit branch {branch!r} was not "
            "moved and holds no part of it: fix that, then run again"
        ) from e
    try:
        _git(repo, "update-ref", f"refs/heads/{branch}", new, expected or "0" * 40, env=env)
    except git.GitCommandError as e:
        if _head(repo, branch) == expected:  # not moved: the ref could not be written
            raise AuditError(
                f"could not move the audit branch {branch!r} ({_reason(e)}); it still points to "
                "its last commit: fix that, then run again"
            ) from e
        raise AuditError(
            f"the audit branch {branch!r} moved while applying (another reconciler wrote to it); "
            "nothing was overwritten: plan again"
        ) from e
    return new


def _head(repo: git.Repo, branch: str) -> str | None:
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
    except git.GitCommandError:
        return None


def _build(
    repo: git.Repo, expected: str | None, commit: Commit, by_file: dict[str, dict[Address, Applied]], base: dict[str, str]
) -> str:
    """The commit object (its blobs, tree and commit written; no ref moved).

    Its objects are written to an object directory of their own and join the repository's
    only once all of them are written (git's own quarantine for pushes works so): a failure,
    a full disk, leaves no part of them behind.
    """
    with tempfile.TemporaryDirectory(prefix="intcfg-audit-") as tmp, _quarantine(repo) as objects:
        env = {**base, "GIT_INDEX_FILE": os.path.join(tmp, "index"), **objects}
        stored: dict[str, str] = {}
        if expected:
            _git(repo, "read-tree", expected, env=env)
            stored = _state_files(repo, expected, base)
        files = [*by_file, f"records/{commit.record_name}"]
        shas = _blobs(by_file, commit, set(stored.values()), Path(objects["GIT_OBJECT_DIRECTORY"]) / "pack")
        # A state file no longer written is removed (mode 0), the others added or replaced.
        gone = "".join(f"0 {'0' * 40}\t{path}\0" for path in stored if path not in by_file)
        entries = gone + "".join(f"100644 {sha}\t{path}\0" for path, sha in zip(files, shas, strict=True))
        _git(repo, "update-index", "-z", "--index-info", env=env, stdin=entries)
        tree = _git(repo, "write-tree", env=env)
        args = ["-p", expected] if expected else []
        return _commit_tree(repo, tree, args, message(commit), env)


@contextlib.contextmanager
def _quarantine(repo: git.Repo) -> Iterator[dict[str, str]]:
    """The environment that has git write new objects to a directory of their own (and read
    the repository's); they move into the repository's when the block ends without error,
    and are removed with that directory otherwise."""
    objects = Path(repo.common_dir) / "objects"
    incoming = Path(tempfile.mkdtemp(prefix="incoming-", dir=objects))
    try:
        alternates = [str(objects), *filter(None, [os.environ.get("GIT_ALTERNATE_OBJECT_DIRECTORIES")])]
        yield {"GIT_OBJECT_DIRECTORY": str(incoming), "GIT_ALTERNATE_OBJECT_DIRECTORIES": os.pathsep.join(alternates)}
        _migrate(incoming, objects)
    finally:
        shutil.rmtree(incoming, ignore_errors=True)


def _migrate(source: Path, target: Path) -> None:
    """Move loose objects and packs from ``source`` into the object directory ``target``:
    each pack before its index, since readers find a pack through its index."""
    for folder in sorted(source.iterdir()):
        if not folder.is_dir() or not (folder.name == "pack" or re.fullmatch(r"[0-9a-f]{2}", folder.name)):
            continue
        (target / folder.name).mkdir(exist_ok=True)
        for path in sorted(folder.iterdir(), key=lambda p: (p.suffix == ".idx", p.name)):
            os.replace(path, target / folder.name / path.name)


def _reason(e: OSError | git.GitCommandError) -> str:
    """What failed, in one line: the OS's words, or git's last line of complaint."""
    if isinstance(e, OSError):
        return e.strerror or type(e).__name__
    stderr = re.sub(r"^\s*stderr: '(.*)'\s*$", r"\1", str(e.stderr or ""), flags=re.S)
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return one_line(lines[-1]) if lines else f"git exited with status {e.status}"


def _state_files(repo: git.Repo, commit: str, env: dict[str, str]) -> dict[str, str]:
    """The files under ``state/`` of ``commit``: each one's blob id by its path (one git
    process, not a walk of the trees in Python)."""
    listing = _git(repo, "ls-tree", "-r", "-z", "--full-tree", commit, "--", "state", env=env)
    rows = (line.split("\t", 1) for line in listing.split("\0") if line)
    return {path: meta.split()[2] for meta, path in rows if meta.split()[1] == "blob"}


def _blobs(by_file: dict[str, dict[Address, Applied]], commit: Commit, stored: set[str], folder: Path) -> list[str]:
    """Store the state files, then the record (each ends with a newline) in one pack in
    ``folder``; their blob ids, in that order.

    The state files are rendered and packed on a thread of their own while this one packs
    the record (what of it was not made ahead): hashing and deflating release Python's
    lock, so the two share the cores. (Sharing the state files between two threads, the
    record's joining in once done, was measured slower and 7 MB larger at the peak at
    state scale.) A state file the last commit holds as it is (``stored``: those ids) is
    not packed again.
    """
    record = commit.ahead.made(commit.record) if commit.ahead else commit.record
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="intcfg-pack") as pool:
        states = pool.submit(_state_blobs, by_file, stored)
        last = gitpack.streamed(itertools.chain(pretty_chunks(record, True), (b"\n",)))
        ids, entries = states.result()
    new = {e.oid: e for e in [*entries, last]}  # one entry an object, however many files hold it
    gitpack.write(folder, list(new.values()))
    return [*ids, last.oid.hex()]


def _state_blobs(by_file: dict[str, dict[Address, Applied]], stored: set[str]) -> tuple[list[str], list[gitpack.Entry]]:
    """Each state file's blob id, and the pack entries of those not ``stored`` yet."""
    ids: list[str] = []
    entries: list[gitpack.Entry] = []
    for objects in by_file.values():
        content = render_state(objects) + b"\n"
        oid = gitpack.blob_id(content)
        ids.append(oid.hex())
        if ids[-1] not in stored:
            entries.append(gitpack.whole(content, oid))
    return ids, entries


def _git(repo: git.Repo, *args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> str:
    """``git ARGS`` in ``repo`` with the environment ``env`` (default: ``_environment()``):
    its output without the last newline, or GitCommandError. The audit commit's git
    processes run here, not through GitPython, which hands every child the whole
    environment."""
    command = ["git", *args]
    proc = subprocess.run(
        command,
        cwd=repo.working_dir,
        input=stdin.encode("utf-8") if stdin is not None else None,
        capture_output=True,
        env=_environment() if env is None else env,
        check=False,
    )
    if proc.returncode != 0:
        raise git.GitCommandError(command, proc.returncode, proc.stderr, proc.stdout)
    out = proc.stdout.decode("utf-8", "replace")
    return out[:-1] if out.endswith("\n") else out


def _environment() -> dict[str, str]:
    """What intcfg's git processes run with: ``secrets.child_environment()`` (made once
    for a commit's processes: a state's thousands of secrets take a while to leave out),
    in English, as GitPython runs git."""
    return {**child_environment(), "LANGUAGE": "C", "LC_ALL": "C"}


def _commit_tree(repo: git.Repo, tree: str, parents: list[str], text: str, base: dict[str, str] | None = None) -> str:
    env = {
        **(base or _environment()),
        "GIT_AUTHOR_NAME": "intcfg",
        "GIT_AUTHOR_EMAIL": "intcfg@localhost",
        "GIT_COMMITTER_NAME": "intcfg",
        "GIT_COMMITTER_EMAIL": "intcfg@localhost",
    }
    return _git(repo, "commit-tree", tree, *parents, "-F", "-", env=env, stdin=text)


def push(root: Path, branch: str, remote: str = "origin") -> None:
    """Push the audit branch; a rejected push (someone else got there first) is an AuditError."""
    with contextlib.closing(_repo(root)) as repo:
        _push(repo, branch, remote)


def _push(repo: git.Repo, branch: str, remote: str) -> None:
    try:
        repo.git.push(remote, f"refs/heads/{branch}:refs/heads/{branch}")
    except git.GitCommandError as e:
        why, remedy = _rejection(e)
        raise AuditError(f"pushing {branch!r} to {remote!r} was rejected ({why}); {remedy} — nothing was overwritten") from e


def publish(root: Path, branch: str, commit: str, previous: str | None, remote: str = "origin") -> None:
    """Push the audit branch, whose head ``commit`` was just written on ``previous``. If
    the remote refuses it, the branch is moved back to ``previous``: the remote's branch is
    the record (see fetch), so a commit it never took must not stay on this clone's."""
    with contextlib.closing(_repo(root)) as repo:
        try:
            repo.git.push(remote, f"refs/heads/{branch}:refs/heads/{branch}")
        except git.GitCommandError as e:
            why, remedy = _rejection(e)
            _withdraw(repo, branch, commit, previous)
            raise AuditError(
                f"pushing {branch!r} to {remote!r} was rejected ({why}); the audit commit "
                f"{commit[:12]} was taken back from this clone: {remedy}"
            ) from e


_RACED = ("fetch first", "non-fast-forward", "stale info")


def _rejection(e: git.GitCommandError) -> tuple[str, str]:
    """Why git push failed, and what to do."""
    why = _push_failure(e)
    if why in _RACED:
        return "another reconciler pushed first", "fetch, plan again and reapply"
    return why, "once the remote accepts the push, apply again (it records this run's changes)"


def _push_failure(e: git.GitCommandError) -> str:
    """git's reason for refusing a push (never the remote's URL: it may hold a token)."""
    found = re.search(r"^\s*! \[(?:remote )?rejected\] .* \((.+)\)\s*$", str(e.stderr or ""), re.M)
    return one_line(found.group(1) if found else re.sub(r"\S*://\S*", "<remote>", _reason(e)))


def _withdraw(repo: git.Repo, branch: str, commit: str, previous: str | None) -> None:
    ref = f"refs/heads/{branch}"
    try:
        if previous:
            repo.git.update_ref(ref, previous, commit)
        else:
            repo.git.update_ref("-d", ref, commit)
    except git.GitCommandError as e:
        raise AuditError(f"the push of {branch!r} was rejected, and moving it back failed ({_reason(e)})") from e


def fetch(root: Path, branch: str, remote: str = "origin") -> None:
    """Bring the remote's audit branch here (fast-forward only); no remote branch is fine."""
    with contextlib.closing(_repo(root)) as repo:
        _fetch(repo, branch, remote)


def _fetch(repo: git.Repo, branch: str, remote: str) -> None:
    if remote not in [r.name for r in repo.remotes]:
        return
    with contextlib.suppress(git.GitCommandError):  # the branch may not exist remotely yet
        # The remote's audit branch is the truth: every apply that pushes holds the lease,
        # so a local commit the remote lacks was never published and must not win.
        repo.git.fetch(remote, f"+refs/heads/{branch}:refs/heads/{branch}")


def git_dir(root: Path) -> Path:
    """The repository's git directory: intcfg's lock and apply journal live there."""
    with contextlib.closing(_repo(root)) as repo:
        return Path(repo.git_dir)


def head_runs(root: Path, branch: str) -> set[str]:
    """The runs the branch's newest record accounts for: its own and the interrupted ones
    it recorded (a run killed after its commit, before clearing the journal, is one)."""
    with contextlib.closing(_repo(root)) as repo:
        try:
            sha = repo.git.rev_parse("--verify", "--quiet", f"refs/heads/{branch}")
        except git.GitCommandError:
            return set()
        names = repo.git.diff_tree("--root", "--no-commit-id", "--name-only", "-r", sha, "--", "records").split()
        runs: set[str] = set()
        for name in names:
            try:
                body = json.loads(repo.git.show(f"{sha}:{name}"))
                runs.add(body.get("run") or "")
                runs.update(r.get("run") or "" for r in body.get("interrupted") or [])
            except (ValueError, TypeError, AttributeError) as e:
                raise AuditError(f"{name} on the audit branch is unreadable ({type(e).__name__})") from e
    return runs - {""}


@contextlib.contextmanager
def lock(root: Path, timeout: float) -> Iterator[None]:
    """Serialise reconcilers of one repository. The OS drops the lock if the holder dies."""
    with contextlib.closing(_repo(root)) as repo:
        path = Path(repo.git_dir) / "intcfg.lock"
    started = time.monotonic()
    deadline = started + timeout
    waiting = False
    with open(path, "a+") as fh:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                _log_locked(time.monotonic() - started, waiting)
                break
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise AuditError(f"cannot lock {path}: {e.strerror}") from e
                if not waiting:
                    waiting = True
                    log.info("another apply holds the lock; waiting up to %gs", timeout,
                             extra=ev("lock.wait", timeout_s=timeout))
                if time.monotonic() >= deadline:
                    raise AuditError(
                        f"another intcfg apply holds the lock on this repository; waited {timeout:g}s "
                        "(raise --lock-timeout to wait longer)"
                    ) from e
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _log_locked(seconds: float, waited: bool) -> None:
    level = logging.INFO if waited else logging.DEBUG
    log.log(level, "took the apply lock after %.2fs", seconds, extra=ev("lock.acquired", waited_s=round(seconds, 3)))


# -- the lease: one reconciler at a time across machines ---------------------------------

LEASE_REF = "refs/heads/intcfg/lease"


class Lease(NamedTuple):
    commit: str
    holder: str
    expires: float  # epoch seconds


def _remote_ref(repo: git.Repo, remote: str, ref: str) -> str | None:
    out = repo.git.ls_remote(remote, ref)
    return out.split()[0] if out.strip() else None


def _lease_of(repo: git.Repo, remote: str, sha: str) -> Lease | None:
    with contextlib.suppress(git.GitCommandError):
        repo.git.fetch(remote, sha)
    try:
        text = repo.git.log("-1", "--format=%(trailers:key=Intcfg-Lease-Expires,valueonly)%n%(trailers:key=Intcfg-Actor,valueonly)", sha)
    except git.GitCommandError:
        return None
    expires, _, holder = text.partition("\n")
    try:
        return Lease(sha, holder.strip(), float(expires.strip()))
    except ValueError:
        return None


def acquire_lease(root: Path, actor: str, ttl: float, timeout: float, remote: str = "origin") -> Lease:
    """Take the lease on the remote (compare-and-swap push), waiting for a live holder.

    A lease expires by itself after ``ttl`` seconds, so a reconciler that died does not
    block the others for longer than that.
    """
    deadline = time.monotonic() + timeout
    with contextlib.closing(_repo(root)) as repo:
        while True:
            current = _remote_ref(repo, remote, LEASE_REF)
            held = _lease_of(repo, remote, current) if current else None
            if held is None or held.expires <= time.time():
                lease = _try_lease(repo, remote, current, actor, ttl)
                if lease is not None:
                    return lease
            elif time.monotonic() >= deadline:
                raise AuditError(
                    f"another reconciler ({trailer(held.holder)}) holds the lease until "
                    f"{time.strftime('%H:%M:%S', time.gmtime(held.expires))} UTC; waited {timeout:g}s"
                )
            if time.monotonic() >= deadline:
                raise AuditError(f"could not take the lease within {timeout:g}s (others kept taking it)")
            time.sleep(1.0)


def _try_lease(repo: git.Repo, remote: str, current: str | None, actor: str, ttl: float) -> Lease | None:
    expires = time.time() + ttl
    text = f"intcfg lease\n\nIntcfg-Lease-Expires: {expires:.0f}\nIntcfg-Actor: {trailer(actor)}\n"
    empty_tree = repo.git.hash_object("-t", "tree", "-w", "/dev/null")
    sha = _commit_tree(repo, empty_tree, [], text)
    try:
        repo.git.push(f"--force-with-lease={LEASE_REF}:{current or ''}", remote, f"{sha}:{LEASE_REF}")
    except git.GitCommandError as e:
        why = _push_failure(e)
        if why in _RACED:
            return None  # someone else took it between our look and our push
        raise AuditError(
            f"could not take the lease: pushing {LEASE_REF} to {remote!r} was rejected ({why}); "
            "nothing was changed: once the remote accepts pushes, run again"
        ) from e
    return Lease(sha, actor, expires)


def release_lease(root: Path, lease: Lease, remote: str = "origin") -> None:
    """Give the lease back, unless it has already passed to someone else."""
    with contextlib.closing(_repo(root)) as repo, contextlib.suppress(git.GitCommandError):
        repo.git.push(f"--force-with-lease={LEASE_REF}:{lease.commit}", remote, f":{LEASE_REF}")


def has_remote(root: Path, remote: str = "origin") -> bool:
    with contextlib.closing(_repo(root)) as repo:
        return remote in [r.name for r in repo.remotes]


def newer_source(root: Path, branch: str, source: str | None) -> str | None:
    """The source commit of the last audit record when it descends from ``source``.

    Merge jobs of successive commits may run out of order; the older one must not undo
    what the newer one applied.
    """
    if source is None:
        return None
    with contextlib.closing(_repo(root)) as repo:
        try:
            last = repo.git.log("-1", "--format=%(trailers:key=Intcfg-Source-Commit,valueonly)", f"refs/heads/{branch}").strip()
        except git.GitCommandError:
            return None
        if not last or last == source or not re.fullmatch(r"[0-9a-f]{40}", last):
            return None
        if not _has_commit(repo, last) and "origin" in [r.name for r in repo.remotes]:
            with contextlib.suppress(git.GitCommandError):  # the newer commit may not be here yet
                repo.git.fetch("origin")
        try:
            repo.git.merge_base("--is-ancestor", source, last)
        except git.GitCommandError:
            return None  # not an ancestor, or the commit is unknown here
        return last


def _has_commit(repo: git.Repo, sha: str) -> bool:
    try:
        repo.git.cat_file("-e", f"{sha}^{{commit}}")
    except git.GitCommandError:
        return False
    return True
