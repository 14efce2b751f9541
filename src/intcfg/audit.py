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
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import git

from .desired import Address
from .diff import Applied
from .errors import AuditError
from .jsonout import pretty_bytes, pretty_chunks
from .log import ev, phased

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


class Commit(NamedTuple):
    subject: str
    body: str
    trailers: dict[str, str]
    record: dict[str, Any]
    record_name: str
    state: dict[Address, Applied]


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
    for address, applied in commit.state.items():
        by_file.setdefault(state_path(address.system, address.district), {})[address] = applied
    try:
        new = _build(repo, expected, commit, by_file)
    except (OSError, git.GitCommandError) as e:  # a full disk, a quota, a git that died
        raise AuditError(
            f"could not write the audit commit ({_reason(e)}); the audit branch {branch!r} was not "
            "moved and holds no part of it: fix that, then run again"
        ) from e
    try:
        repo.git.update_ref(f"refs/heads/{branch}", new, expected or "0" * 40)
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
        return str(repo.git.rev_parse("--verify", "--quiet", f"refs/heads/{branch}"))
    except git.GitCommandError:
        return None


def _build(repo: git.Repo, expected: str | None, commit: Commit, by_file: dict[str, dict[Address, Applied]]) -> str:
    """The commit object (its blobs, tree and commit written; no ref moved).

    Its objects are written to an object directory of their own and join the repository's
    only once all of them are written (git's own quarantine for pushes works so): a failure,
    a full disk, leaves no part of them behind.
    """
    with tempfile.TemporaryDirectory(prefix="intcfg-audit-") as tmp, _quarantine(repo) as objects:
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index"), **objects}
        g = repo.git
        if expected:
            g.read_tree(expected, env=env)
            for path in _state_files(repo, expected):
                if path not in by_file:
                    g.update_index("--force-remove", path, env=env)
        # Each file goes to git as it is rendered (a state's thousands are not all held at
        # once); one git process stores them all.
        files = [*by_file, f"records/{commit.record_name}"]
        shas = _blobs(repo, _contents(by_file, commit.record), len(files), Path(tmp), env)
        entries = "".join(f"100644 {sha}\t{path}\0" for path, sha in zip(files, shas, strict=True))
        _with_input(repo, ["update-index", "-z", "--index-info"], entries, Path(tmp), env)
        tree = g.write_tree(env=env)
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
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not _CRASH_REPORT.match(line)]
    if not lines:
        return f"git exited with status {e.status}"
    # fast-import names its temporary pack: "sha1 file '<path>' write error: <the OS's words>"
    written = _WRITE_ERROR.search(lines[-1])
    return one_line(written.group(1) if written else lines[-1])


_CRASH_REPORT = re.compile(r"^fast-import: dumping crash report")
_WRITE_ERROR = re.compile(r"write error: (.+)$")


def _state_files(repo: git.Repo, commit: str) -> list[str]:
    tree = repo.commit(commit).tree
    if "state" not in tree:
        return []
    return [b.path for b in tree["state"].traverse() if b.type == "blob"]


def _contents(
    by_file: dict[str, dict[Address, Applied]], record: dict[str, Any]
) -> Iterator[Iterable[bytes]]:
    """The state files' contents, then the record's in pieces, each rendered when asked for
    (the record of a 10,000-object apply is 40 MB of text)."""
    for objects in by_file.values():
        yield (render_state(objects),)
    yield pretty_chunks(record, sort_keys=True)


# Ends each blob in git fast-import's stream; never a line of indented JSON (each of those
# is a bracket or starts with a space), so never inside a file the audit writes.
_END = b"INTCFG-END-OF-FILE"


def _blobs(repo: git.Repo, contents: Iterable[Iterable[bytes]], count: int, tmp: Path, env: dict[str, str]) -> list[str]:
    """Write each of the ``count`` contents (its pieces, then a newline) as a blob; their
    shas, in order.

    One ``git fast-import`` takes them all as a stream: no file per blob on the way (a
    10,000-object state is 2,000 files and a 40 MB record), one pack (or loose objects
    when there are few) with light compression and no deltas; a later ``git gc`` repacks
    as usual. A content in one piece goes with its length; one in pieces (the record)
    ends with a line git looks for, which costs it a scan of the lines.
    """
    marks = tmp / "marks"
    command = [
        repo.git.GIT_PYTHON_GIT_EXECUTABLE or "git",
        "-c", "pack.compression=1",
        "fast-import", "--quiet", "--done", "--depth=0", f"--export-marks={marks}",
    ]  # fmt: skip
    with open(tmp / "fast-import.err", "w+b") as err:
        # restore_signals=False: under a file-size limit git then reports "File too large"
        # (SIGXFSZ stays ignored, as Python left it) instead of being killed without a word.
        proc = subprocess.Popen(
            command,
            cwd=repo.git_dir,
            env={**os.environ, **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=err,
            restore_signals=False,
        )
        assert proc.stdin is not None
        written = 0
        try:
            with proc.stdin as stream:
                for written, pieces in enumerate(contents, 1):
                    if isinstance(pieces, tuple) and len(pieces) == 1:  # whole: its length is known
                        stream.write(b"blob\nmark :%d\ndata %d\n" % (written, len(pieces[0]) + 1))
                        stream.write(pieces[0])
                        stream.write(b"\n\n")
                        continue
                    stream.write(b"blob\nmark :%d\ndata <<%s\n" % (written, _END))
                    stream.writelines(pieces)
                    stream.write(b"\n%s\n" % _END)
                stream.write(b"done\n")
        except BrokenPipeError:
            pass  # git stopped reading: its status and words below say why
        finally:
            code = proc.wait()
        if code != 0:
            for folder in {repo.git_dir, repo.common_dir}:  # the report git leaves when it dies
                Path(folder, f"fast_import_crash_{proc.pid}").unlink(missing_ok=True)
            err.seek(0)
            raise git.GitCommandError(command, code, err.read())
    shas = dict(line.split() for line in marks.read_text(encoding="ascii").splitlines())
    found = [shas.get(f":{i}") for i in range(1, count + 1)]
    if written != count or None in found:
        raise AuditError(f"git fast-import wrote {len(shas)} objects for {count} files")
    return [sha for sha in found if sha is not None]


def _with_input(repo: git.Repo, args: list[str], text: str, tmp: Path, env: dict[str, str] | None = None) -> str:
    """``git ARGS`` with ``text`` as its standard input; its output."""
    source = tmp / "stdin"
    source.write_text(text, encoding="utf-8")
    with open(source, "rb") as stdin:
        return str(repo.git.execute(["git", *args], istream=stdin, env=env))


def _commit_tree(repo: git.Repo, tree: str, parents: list[str], text: str, objects: dict[str, str] | None = None) -> str:
    env = {
        **(objects or {}),
        "GIT_AUTHOR_NAME": "intcfg",
        "GIT_AUTHOR_EMAIL": "intcfg@localhost",
        "GIT_COMMITTER_NAME": "intcfg",
        "GIT_COMMITTER_EMAIL": "intcfg@localhost",
    }
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", delete=False) as fh:
        fh.write(text)
    try:
        return str(repo.git.commit_tree(tree, *parents, "-F", fh.name, env=env))
    finally:
        os.unlink(fh.name)


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
