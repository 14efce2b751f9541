"""A tiny Language Server Protocol client over stdio (Content-Length framing, JSON-RPC 2.0).

Enough to drive a language server the way an editor does: requests with responses,
notifications both ways, and answers to the server's own requests. Every wait has a
deadline.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from typing import IO, Any

Message = dict[str, Any]


class LspError(Exception):
    pass


def _read_message(stream: IO[bytes]) -> Message | None:
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("ascii").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length is None:
        raise LspError("a message without Content-Length")
    return json.loads(stream.read(length).decode("utf-8"))  # type: ignore[no-any-return]


class LspClient:
    def __init__(
        self, command: list[str], answer: Callable[[Message], Any], cwd: str | None = None
    ) -> None:
        """Start the server; ``answer`` returns the result for each request the server makes."""
        self.proc = subprocess.Popen(
            command, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self._answer = answer
        self._lock = threading.Lock()
        self._next_id = 0
        self._responses: dict[int, queue.Queue[Message]] = {}
        self.notifications: queue.Queue[Message] = queue.Queue()
        self._stderr = b""
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        # Drained all the time: a server blocked on a full stderr pipe would look hung.
        self._drain = threading.Thread(target=self._drain_stderr, daemon=True)
        self._drain.start()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for chunk in iter(lambda: self.proc.stderr.read1(4096), b""):  # type: ignore[union-attr]
            self._stderr = (self._stderr + chunk)[-4000:]

    def _send(self, message: Message) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.proc.stdin is not None
        with self._lock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def _read_loop(self) -> None:
        assert self.proc.stdout is not None
        while True:
            try:
                message = _read_message(self.proc.stdout)
            except (OSError, ValueError, LspError):
                return
            if message is None:
                return
            if "id" in message and "method" in message:
                self._send({"id": message["id"], "result": self._answer(message)})
            elif "id" in message:
                self._responses.setdefault(message["id"], queue.Queue()).put(message)
            else:
                self.notifications.put(message)

    def request(self, method: str, params: Any, timeout: float = 30) -> Any:
        with self._lock:
            self._next_id += 1
            request_id = self._next_id
            self._responses.setdefault(request_id, queue.Queue())
        self._send({"id": request_id, "method": method, "params": params})
        try:
            response = self._responses[request_id].get(timeout=timeout)
        except queue.Empty:
            raise LspError(
                f"no answer to {method} within {timeout} s; stderr: {self.stderr()}"
            ) from None
        if "error" in response:
            raise LspError(f"{method}: {response['error']}")
        return response.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def wait_for(self, accept: Callable[[Message], bool], timeout: float = 30) -> Message:
        """The first notification ``accept`` takes; others are dropped."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = self.notifications.get(timeout=left)
            except queue.Empty:
                break
            if accept(message):
                return message
        raise LspError(f"no matching notification within {timeout} s; stderr: {self.stderr()}")

    def stderr(self) -> str:
        return self._stderr.decode("utf-8", "replace") or "(empty)"

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self.request("shutdown", None, timeout=10)
                self.notify("exit", None)
                self.proc.wait(timeout=10)
        except (LspError, OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=10)
            # The server is gone: both readers see the end of their pipe.
            self._reader.join(timeout=10)
            self._drain.join(timeout=10)
            for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
