"""Helpers of the security tests: a hostile loopback HTTP server, git, canary sweeps.

Not a conftest.py: see tests/live/livekit.py (whose helpers this folder reuses; it is
imported from its folder here).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

import pytest

LIVE = Path(__file__).resolve().parents[1] / "live"
if str(LIVE) not in sys.path:
    sys.path.insert(0, str(LIVE))

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "config-repo-example"
INTCFG = str(Path(sys.executable).with_name("intcfg"))


# -- a loopback server that answers what a test tells it to ------------------------------------------


class Request(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.body.decode("utf-8")))

    def basic(self) -> tuple[str, str] | None:
        """The user and password of a Basic Authorization header."""
        value = self.headers.get("authorization", "")
        if not value.lower().startswith("basic "):
            return None
        user, _, password = base64.b64decode(value[6:]).decode("utf-8").partition(":")
        return user, password


class Reply(NamedTuple):
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    # "full"; "truncate": declare the length, send half and close; "drop": close without
    # answering; "chunked": no Content-Length
    mode: str = "full"


def reply_json(status: int, body: Any, **kw: Any) -> Reply:
    return Reply(status, json.dumps(body).encode(), **kw)


Handler = Callable[[Request], Reply]


class _Quiet(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up early is what some tests are about


class Hostile:
    """A threaded HTTP/1.1 server on 127.0.0.1 (a free port) that records every request."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self.server = _Quiet(("127.0.0.1", 0), self._request_class())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def _request_class(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Answer(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                  self.rfile.read(length) if length else b"")
                with owner._lock:
                    owner.requests.append(request)
                self._answer(owner.handler(request))

            def _answer(self, reply: Reply) -> None:
                self.close_connection = True
                if reply.mode == "drop":
                    return
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                if reply.mode != "chunked":
                    self.send_header("Content-Length", str(len(reply.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    body = reply.body[: len(reply.body) // 2] if reply.mode == "truncate" else reply.body
                    try:
                        self.wfile.write(body)
                    except OSError:  # the client gave up first (a size limit, a timeout)
                        pass

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Answer

    def seen(self) -> list[Request]:
        with self._lock:
            return list(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@pytest.fixture(name="hostile")
def hostile_fixture() -> Iterator[Callable[[Handler], Hostile]]:
    """Start hostile servers: ``hostile(handler)``; all are stopped after the test."""
    servers: list[Hostile] = []

    def start(handler: Handler) -> Hostile:
        servers.append(Hostile(handler))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


# -- repositories and runs -------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args], cwd=repo,
                          check=True, capture_output=True, text=True, timeout=60)
    return done.stdout


def commit_all(repo: Path, message: str = "config") -> None:
    if not (repo / ".git").exists():
        git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def example_copy(dest: Path, live_url: str | None = None) -> Path:
    """A copy of the example repository, its live.url replaced."""
    shutil.copytree(EXAMPLE, dest)
    if live_url is not None:
        settings = dest / "intcfg.yaml"
        settings.write_text(settings.read_text(encoding="utf-8").replace("url: sim://", f"url: {live_url}"), encoding="utf-8")
    return dest


def git_objects(repo: Path) -> bytes:
    """Every object of the repository's object store, as text."""
    return subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"], cwd=repo, capture_output=True,
                          check=True, timeout=60).stdout


def files_under(root: Path, skip: Iterable[Path] = ()) -> Iterator[Path]:
    """Every regular file below ``root`` (symlinks not followed), but those in ``skip``."""
    skipped = {p.resolve() for p in skip}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.resolve() not in skipped:
            yield path


def forms(value: str) -> list[bytes]:
    """The ways a secret could be written down: as is, URL- and JSON-escaped, base64."""
    from urllib.parse import quote

    raw = value.encode()
    return sorted({raw, quote(value, safe="").encode(), json.dumps(value)[1:-1].encode(), base64.b64encode(raw)})


def leaks(canaries: Iterable[str], *blobs: bytes | str) -> list[str]:
    """The canaries found in any blob (by name of the blob's index and the form)."""
    found = []
    for value in canaries:
        for form in forms(value):
            for i, blob in enumerate(blobs):
                data = blob.encode() if isinstance(blob, str) else blob
                if form in data:
                    found.append(f"blob {i}: {form[:12]!r}...")
    return found
