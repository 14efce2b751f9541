"""Shared helpers of the loop's fault, crash and concurrency tests: `intcfg sim serve` as a
subprocess, a fault-injecting proxy in front of it, git copies of the example repository
with canary secrets, CLI runs (in process, as a subprocess, killed), and the checks every
test makes afterwards (live state against the rendered configuration, audit branch).

Not a conftest.py: conftest modules outside a package are all named ``conftest``, and
another folder's would shadow the suite's root conftest for ``from conftest import``.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import re
import secrets
import selectors
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
from click.testing import CliRunner

from conftest import EXAMPLE, INTCFG, TODAY
from intcfg.cli import cli
from intcfg.loader import load_file
from intcfg.sim.fromconfig import seed_from_config

ADMIN_TOKEN = "canary-admin-token-" + secrets.token_hex(6)
FINGERPRINT_KEY = "canary-fingerprint-key-" + secrets.token_hex(8)
AUDIT = "intcfg/audit"
LOCK_MESSAGE = "another intcfg apply holds the lock on this repository"
ENV_REF = re.compile(r"\{env: ([A-Z0-9_]+)\}")
STARTUP_SECONDS = 30.0


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


# -- the config repository -----------------------------------------------------------------------


class Repo(NamedTuple):
    root: Path
    secrets: dict[str, str]  # environment variable -> canary value

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a CLI run: canary secrets, the admin token, the suite's clock."""
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "INTCFG_"))}
        return {
            **base,
            **self.secrets,
            "INTCFG_ADMIN_TOKEN": ADMIN_TOKEN,
            "INTCFG_FINGERPRINT_KEY": FINGERPRINT_KEY,
            "INTCFG_TODAY": TODAY,
            "NO_COLOR": "1",
            **extra,
        }

    def commit(self, message: str) -> None:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "--allow-empty", "-m", message)


def make_repo(dest: Path) -> Repo:
    """A git copy of config-repo-example with a canary value for every secret it names."""
    shutil.copytree(EXAMPLE, dest)
    git(dest, "init", "-q", "-b", "main")
    repo = Repo(dest, canaries(dest))
    repo.commit("config")
    return repo


def canaries(root: Path) -> dict[str, str]:
    names = {
        m for f in root.rglob("*.yaml") for m in ENV_REF.findall(f.read_text(encoding="utf-8"))
    }
    return {
        name: f"canary-{name.lower().replace('_', '-')}-{secrets.token_hex(4)}"
        for name in sorted(names)
    }


def documents(root: Path) -> list[dict[str, Any]]:
    return [
        d.data
        for p in sorted((root / "districts").rglob("*.yaml"))
        for d in load_file(str(p)).documents
    ]


# -- running the CLI -----------------------------------------------------------------------------


class Run(NamedTuple):
    code: int
    out: str
    err: str


def run(
    repo: Repo, *args: str, timeout: float = 180.0, preexec_fn: Callable[[], None] | None = None
) -> Run:
    proc = subprocess.run(
        [INTCFG, *args],
        cwd=repo.root,
        env=repo.env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


# An eTranscript vendor as someone fills in the admin screen by hand (secrets aside).
VENDOR_SPEC = {
    "displayName": "Hand made",
    "authServer": "https://auth.example.org",
    "authPath": "/token",
    "uploadServer": "https://upload.example.org",
    "uploadPort": 443,
    "uploadPath": "/up",
    "consumerKey": "key",
    "userName": "someone",
}


def move_two_schedules(repo: Repo) -> None:
    """A commit that deletes lakeside's schedules and moves riverside's (one delete tier,
    one update)."""
    (repo.root / "districts/lakeside-sd/schedules.yaml").unlink()
    schedule = repo.root / "districts/riverside-usd/schedule.yaml"
    schedule.write_text(
        schedule.read_text(encoding="utf-8").replace('"01:30"', '"02:45"'), encoding="utf-8"
    )
    repo.commit("lakeside's schedules go; riverside's moves")


def run_in_process(repo: Repo, *args: str) -> Run:
    """The same command in this process (click's runner): no interpreter start-up to pay."""
    result = CliRunner().invoke(
        cli, [*args, "-C", str(repo.root)], env=_overlay(repo.env()), catch_exceptions=False
    )
    return Run(result.exit_code, result.stdout, result.stderr)


def _overlay(env: dict[str, str]) -> dict[str, str | None]:
    # CliRunner sets these on top of os.environ; pytest's INTCFG_* and PYTEST_* must not leak in.
    unset: dict[str, str | None] = {
        k: None for k in os.environ if k.startswith("INTCFG_") and k not in env
    }
    return {**unset, **env}


def start(repo: Repo, *args: str) -> subprocess.Popen[str]:
    """A CLI run in its own process group (so a kill can wait for the git processes it started)."""
    return subprocess.Popen(
        [INTCFG, *args],
        cwd=repo.root,
        env=repo.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def kill(proc: subprocess.Popen[str], then: Callable[[], None] | None = None) -> Run:
    """SIGKILL the process, call ``then``, and wait for what it left running (a git child
    finishes its step)."""
    os.kill(proc.pid, signal.SIGKILL)
    if then is not None:
        then()
    out, err = proc.communicate(timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not _running_in_group(proc.pid):
            break
        time.sleep(0.02)
    else:
        raise AssertionError("processes of the killed apply were still running after 30 s")
    return Run(proc.returncode, out, err)


def _running_in_group(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs. A zombie has finished: orphaned, it
    waits for init to reap it, which can take a second or two (os.killpg still finds it)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # gone meanwhile
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up after {timeout:g}s waiting for {what}"
        time.sleep(0.005)


HOOK = """#!/bin/sh
# Installed by a test: holds intcfg's audit commit as the branch is about to move, then
# aborts the move, so the apply can be killed at exactly that point.
[ "$1" = prepared ] || exit 0
grep -q " refs/heads/{branch}$" || exit 0
touch '{held}'
i=0
while [ ! -e '{release}' ] && [ $i -lt 6000 ]; do sleep 0.01; i=$((i + 1)); done
exit 1
"""


class AuditHold:
    """A reference-transaction hook in ``repo`` that stops the next audit commit just
    before the audit branch moves (all live writes done, the commit object built)."""

    def __init__(self, repo: Repo) -> None:
        hooks = repo.root / ".git" / "hooks"
        self.hook = hooks / "reference-transaction"
        self.held, self.released = hooks / "audit-held", hooks / "audit-release"
        text = HOOK.format(branch=AUDIT, held=self.held, release=self.released)
        self.hook.write_text(text, encoding="utf-8")
        self.hook.chmod(0o755)

    def reached(self) -> bool:
        return self.held.exists()

    def release(self) -> None:
        """Let the held update fail (the branch does not move) and remove the hook."""
        self.released.touch()
        self.hook.unlink()

    def clear(self) -> None:
        for path in (self.held, self.released):
            path.unlink(missing_ok=True)


def finish(proc: subprocess.Popen[str], timeout: float = 180.0) -> Run:
    out, err = proc.communicate(timeout=timeout)
    return Run(proc.returncode, out, err)


def assert_clean(result: Run, repo: Repo, killed: bool = False) -> None:
    """No traceback, no unexpected-error exit, no secret anywhere in the output."""
    text = result.out + result.err
    assert (
        "Traceback" not in text and "An unexpected error" not in text and "Warning" not in text
    ), text
    assert result.code in ((0, 1, -signal.SIGKILL) if killed else (0, 1)), text
    for value in [*repo.secrets.values(), ADMIN_TOKEN, FINGERPRINT_KEY]:
        assert value not in text


# -- the simulator as a server -------------------------------------------------------------------


class Sim:
    """`intcfg sim serve --port 0` on loopback, and a client of its admin and control APIs."""

    def __init__(self, db: Path, *args: str) -> None:
        self.log = db.with_suffix(".log")
        with open(self.log, "w", encoding="utf-8") as err:
            self.proc = subprocess.Popen(
                [INTCFG, "sim", "serve", "--port", "0", "--db", str(db), *args],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                env=Repo(db.parent, {}).env(),
            )
        line = _first_line(self.proc)
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if match is None:
            self.proc.kill()
            self.proc.communicate(timeout=30)
            raise AssertionError(
                f"the simulator did not start: {line!r} {self.log.read_text(encoding='utf-8')!r}"
            )
        self.url = match.group(1)
        self.client = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60.0
        )

    def call(self, method: str, path: str, **kw: Any) -> Any:
        response = self.client.request(method, path, **kw)
        assert response.is_success, response.text
        return response.json() if response.content else None

    def state(self) -> dict[str, Any]:
        return dict(self.call("GET", "/_sim/state"))

    def objects(self) -> dict[str, dict[str, Any]]:
        """Every live object by address (system/district/kind/name[/site])."""
        return {address_of(o): o for o in self.state()["objects"]}

    def faults(self, **settings: Any) -> None:
        self.call("POST", "/_sim/faults", json=settings)

    def seed(self, repo: Repo) -> None:
        """The districts and schools of ``repo`` (a real live system knows them already)."""
        self.call("POST", "/_sim/seed", json=seed_from_config(documents(repo.root)))

    def reset(self, repo: Repo) -> None:
        """Empty state, counters and faults; then the districts and schools of ``repo``."""
        self.call("POST", "/_sim/reset")
        self.faults(
            errorRate=0, rateLimitRate=0, timeoutRate=0, latencyMs=0, retryAfter=0, seed=None
        )
        self.seed(repo)

    def counts(self) -> tuple[int, int]:
        """Requests to the live systems (control calls aside) and write requests among them,
        whatever their status, from /_sim/stats."""
        by_route = self.call("GET", "/_sim/stats")["byRoute"]
        counted = {
            route: sum(statuses.values())
            for route, statuses in by_route.items()
            if " /_sim/" not in route
        }
        writes = sum(
            n
            for route, n in counted.items()
            if route.split(" ", 1)[0] in ("PUT", "DELETE") or route.endswith("/batch")
        )
        return sum(counted.values()), writes

    def close(self) -> None:
        self.client.close()
        self.proc.terminate()
        try:
            self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate(timeout=30)


class Rig(NamedTuple):
    sim: Sim
    repo: Repo


@pytest.fixture(scope="module", name="server")
def server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    """One ``intcfg sim serve`` for a module's tests; each test's ``rig`` empties it."""
    sim = Sim(tmp_path_factory.mktemp("sim") / "sim.sqlite3")
    yield sim
    sim.close()


@pytest.fixture(name="rig")
def rig_fixture(server: Sim, tmp_path: Path) -> Rig:
    """A fresh example repository and the module's simulator, emptied and seeded for it."""
    repo = make_repo(tmp_path / "repo")
    server.reset(repo)
    return Rig(server, repo)


def _first_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and proc.poll() is None:
            if selector.select(timeout=0.2):
                return proc.stdout.readline()
    return ""


def address_of(o: dict[str, Any]) -> str:
    tail = f"/{o['site']}" if o.get("site") else ""
    system = o.get("system") or SYSTEM[o["kind"]]
    return f"{system}/{o['district']}/{o['kind']}/{o['name']}{tail}"


SYSTEM = {
    "ETranscriptVendor": "sis",
    "StateAssessmentIntegration": "portal",
    "SyncConnection": "enroll",
    "FieldMapping": "enroll",
    "Schedule": "enroll",
}


# -- the live systems against the configuration --------------------------------------------------


def rendered(repo: Repo) -> dict[str, dict[str, Any]]:
    """`intcfg render --format json`: each desired object's spec by address."""
    result = run_in_process(repo, "render", "--format", "json")
    assert result.code == 0, result.err
    body = json.loads(result.out)
    return {o["address"]: o["spec"] for d in body["districts"] for o in d["objects"]}


def split_secrets(spec: Any, prefix: str = "") -> tuple[Any, set[str]]:
    """The spec without its secret references, and the dotted paths where they were."""
    if isinstance(spec, dict) and len(spec) == 1 and next(iter(spec)) in ("env", "file"):
        return None, {prefix}
    if isinstance(spec, dict):
        out, paths = {}, set()
        for key, value in spec.items():
            kept, found = split_secrets(value, f"{prefix}.{key}" if prefix else key)
            paths |= found
            if kept is not None or not found:
                out[key] = kept
        return out, paths
    return spec, set()


def assert_live_matches(repo: Repo, live: dict[str, dict[str, Any]], unmanaged: set[str]) -> None:
    """Every declared object is live, managed by intcfg, with the declared spec (secrets by
    path only: the live systems never return them); nothing else is live but ``unmanaged``."""
    want = rendered(repo)
    have = {a: o for a, o in live.items() if a not in unmanaged}
    assert sorted(have) == sorted(want)
    for address, spec in want.items():
        visible, secret_paths = split_secrets(spec)
        obj = have[address]
        assert (address, obj["managedBy"], obj["spec"]) == (address, "intcfg", visible)
        assert sorted(obj["secrets"]) == sorted(secret_paths), address


# -- the audit branch ----------------------------------------------------------------------------


class AuditCommit(NamedTuple):
    sha: str
    record: dict[str, Any]
    state: dict[str, dict[str, Any]]  # address -> its last-applied state row
    result: str  # the Intcfg-Result trailer


def audit_log(repo: Repo, since: str | None = None) -> list[AuditCommit]:
    """The audit branch (after ``since``), oldest first, each commit checked: one new record,
    every file parses."""
    if not git(repo.root, "branch", "--list", AUDIT).strip():
        return []
    shas = git(
        repo.root,
        "rev-list",
        "--reverse",
        "--first-parent",
        f"{since}..{AUDIT}" if since else AUDIT,
    ).split()
    return [_audit_commit(repo.root, sha) for sha in shas]


def _audit_commit(root: Path, sha: str) -> AuditCommit:
    changed = [
        line.split("\t")
        for line in git(
            root, "diff-tree", "--root", "--no-commit-id", "-r", "--name-status", sha
        ).splitlines()
    ]
    records = [path for status, path in changed if path.startswith("records/")]
    assert [s for s, p in changed if p.startswith("records/")] == ["A"], (
        f"{sha}: records are append-only, one per commit: {changed}"
    )
    record = json.loads(git(root, "show", f"{sha}:{records[0]}"))
    assert (record["format"], record["version"]) == ("intcfg-audit", 1)
    state: dict[str, dict[str, Any]] = {}
    for path in git(root, "ls-tree", "-r", "--name-only", sha, "--", "state").split():
        body = json.loads(git(root, "show", f"{sha}:{path}"))
        assert (body["format"], body["version"]) == ("intcfg-state", 1), path
        state.update({address_of(o): o for o in body["objects"]})
    result = git(root, "log", "-1", "--format=%(trailers:key=Intcfg-Result,valueonly)", sha).strip()
    assert result == record["result"], sha
    return AuditCommit(sha, record, state, result)


def assert_repository_sound(repo: Repo) -> None:
    """git fsck is clean, no git lock file is left, and intcfg's own lock is free."""
    proc = subprocess.run(
        ["git", "fsck", "--strict", "--no-progress"],
        cwd=repo.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    problems = [
        line
        for line in (proc.stdout + proc.stderr).splitlines()
        if not line.startswith("dangling ")
    ]
    assert proc.returncode == 0 and not problems, proc.stdout + proc.stderr
    git_dir = repo.root / ".git"
    assert (
        sorted(
            str(p.relative_to(git_dir)) for p in git_dir.rglob("*.lock") if p.name != "intcfg.lock"
        )
        == []
    )
    with open(git_dir / "intcfg.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises when someone still holds it
        fcntl.flock(fh, fcntl.LOCK_UN)


# -- a proxy that drops connections and fails writes ---------------------------------------------


class FaultProxy:
    """A loopback HTTP/1.1 proxy that, per request and from a seeded sequence, drops the
    connection before forwarding it (``drop_before``), after the server answered it
    (``drop_after``: the write happened, the client never hears so), or answers a write
    (PUT, DELETE, POST) with a 503 itself (``write_error``). The simulator's own faults
    have no dropped connection; this adds them without touching it."""

    def __init__(self, upstream: str, seed: int) -> None:
        host, port = upstream.removeprefix("http://").rsplit(":", 1)
        self.upstream = (host, int(port))
        self.rng = random.Random(seed)
        self.rates = {"drop_before": 0.0, "drop_after": 0.0, "write_error": 0.0}
        self.counts: Counter[str] = Counter()
        self.in_flight = 0  # requests sent on and not yet answered
        self.peak = 0  # the most in flight at once
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def configure(
        self,
        drop_before: float = 0.0,
        drop_after: float = 0.0,
        write_error: float = 0.0,
        seed: int | None = None,
    ) -> None:
        with self._lock:
            self.rates = {
                "drop_before": drop_before,
                "drop_after": drop_after,
                "write_error": write_error,
            }
            if seed is not None:
                self.rng = random.Random(seed)

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until the server has answered every request sent on: a killed client's last
        requests are still being processed after it died."""
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.in_flight == 0, f"{self.in_flight} requests still unanswered after {timeout:g}s"

    def close(self) -> None:
        _shut(self._listener)  # shutdown, not just close, wakes the thread blocked in accept()
        with self._lock:
            for sock in list(self._sockets):
                _shut(sock)
        self._thread.join(timeout=10)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _draw(self, method: bytes) -> str | None:
        with self._lock:
            r = self.rng.random()
            edge = 0.0
            for fault, rate in self.rates.items():
                if fault == "write_error" and method == b"GET":
                    continue
                edge += rate
                if r < edge:
                    self.counts[fault] += 1
                    return fault
        return None

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=120)
        except OSError:
            client.close()
            return
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._sockets |= {client, upstream}
        try:
            self._relay(_Stream(client), _Stream(upstream))
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets -= {client, upstream}
            _shut(client)
            _shut(upstream)

    def _relay(self, client: _Stream, upstream: _Stream) -> None:
        while True:
            request = client.message(None)
            if request is None:
                return
            method = request.split(b" ", 1)[0]
            fault = self._draw(method)
            if fault == "drop_before":
                return
            if fault == "write_error":
                body = (
                    b'{"error": {"code": "proxy_error", "message": "injected by the test proxy"}}'
                )
                client.sock.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(body), body)
                )
                continue
            with self._lock:
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
            try:
                upstream.sock.sendall(request)
                response = upstream.message(method)
            finally:
                with self._lock:
                    self.in_flight -= 1
            if response is None or fault == "drop_after":
                return
            client.sock.sendall(response)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class _Stream:
    """Whole HTTP/1.1 messages from a socket (Content-Length or chunked bodies)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buf += data
        return bool(data)

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise OSError("connection closed inside a message")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            if not self._fill():
                raise OSError("connection closed inside a message")
        return self._take(self.buf.index(b"\r\n") + 2)

    def message(self, request_method: bytes | None) -> bytes | None:
        """The next request (``request_method`` None) or the response to one; None at EOF."""
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                return None
        head = self._take(self.buf.index(b"\r\n\r\n") + 4)
        fields = dict(_field(line) for line in head.split(b"\r\n")[1:] if b":" in line)
        status = head.split(b" ", 2)[1] if request_method is not None else b""
        if request_method == b"HEAD" or status in (b"204", b"304") or status.startswith(b"1"):
            return head
        if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
            return head + self._chunks()
        return head + self._take(int(fields.get(b"content-length", b"0")))

    def _chunks(self) -> bytes:
        out = b""
        while True:
            line = self._line()
            size = int(line.split(b";")[0], 16)
            out += line + self._take(size + 2)
            if size == 0:
                return out


def _field(line: bytes) -> tuple[bytes, bytes]:
    name, _, value = line.partition(b":")
    return name.strip().lower(), value.strip()
