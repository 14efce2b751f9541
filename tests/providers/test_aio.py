"""The aiohttp transport of the providers: aiohttp's failures become the httpx errors the
retry policy expects, so a request the server received is not retried unless it is safe."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import threading
from collections.abc import Iterator

import pytest

from intcfg.errors import ProviderError
from intcfg.providers import http
from intcfg.providers.aio import AioTransport
from intcfg.providers.retry import RetryPolicy

FAST = RetryPolicy(max_attempts=4, base_delay=0.0, max_delay=0.0, max_total=10.0, attempt_timeout=10.0)


@pytest.fixture
def hangup() -> Iterator[Canned]:
    """A loopback server that reads each request and closes the connection unanswered."""
    server = Canned(None)
    yield server
    server.close()


async def _post(url: str, retry: bool | None) -> None:
    client = http.build_client(url, transport=AioTransport(verify=False, connections=4), policy=FAST)
    try:
        await http.send(client, "POST", "/enroll/admin/v1/districts/d/schedules/n/run", system="enroll", retry=retry)
    finally:
        await client.aclose()


def test_a_dropped_connection_after_sending_is_not_retried_for_a_post(hangup: Canned) -> None:
    with pytest.raises(ProviderError) as caught:
        asyncio.run(_post(hangup.url, None))
    assert str(caught.value).startswith(f"enroll: POST {hangup.url}/enroll/admin/v1/districts/d/schedules/n/run: RemoteProtocolError")
    assert hangup.requests == 1


def test_a_dropped_connection_is_retried_when_the_request_is_safe_to_retry(hangup: Canned) -> None:
    with pytest.raises(ProviderError):
        asyncio.run(_post(hangup.url, True))
    assert hangup.requests == FAST.max_attempts


def test_a_refused_connection_says_it_cannot_connect() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    with pytest.raises(ProviderError) as caught:
        asyncio.run(_post(f"http://127.0.0.1:{port}", None))
    assert f"enroll: POST http://127.0.0.1:{port}/enroll/admin/v1/districts/d/schedules/n/run: cannot connect" in str(caught.value)


class Canned:
    """A loopback server that answers every request with ``answer`` (status line, headers
    and body as bytes), or reads it and closes the connection unanswered (None), then
    closes the connection."""

    def __init__(self, answer: bytes | None) -> None:
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.listener.settimeout(0.1)
        self.requests = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                if data:
                    self.requests += 1
                    if self.answer is not None:
                        conn.sendall(self.answer)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.listener.close()


def _answer(body: bytes, *headers: str, length: int | None = None) -> bytes:
    head = ["HTTP/1.1 200 OK", "Content-Type: application/json", "Connection: close", *headers]
    if length is not None:
        head.append(f"Content-Length: {length}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _list(url: str, policy: RetryPolicy = FAST, max_bytes: int = http.MAX_RESPONSE_BYTES) -> list[dict[str, object]]:
    async def go() -> list[dict[str, object]]:
        client = http.build_client(
            url, transport=AioTransport(verify=False, connections=4), policy=policy, max_bytes=max_bytes
        )
        try:
            return await http.paginate(client, "/sis/admin/v1/districts/d/students", system="sis")
        finally:
            await client.aclose()

    return asyncio.run(go())


ITEMS = [{"n": n, "text": "x" * 40} for n in range(3000)]  # about 150 KB as JSON
PAGE = json.dumps({"items": ITEMS, "next": None}).encode()
SHORT = json.dumps({"items": ITEMS[:3], "next": None}).encode()


@pytest.mark.parametrize(
    "answer",
    [
        _answer(SHORT, length=len(SHORT)),  # read at once
        _answer(PAGE, length=len(PAGE)),  # longer than the transport reads at once: streamed
        _answer(gzip.compress(PAGE), "Content-Encoding: gzip", length=len(gzip.compress(PAGE))),  # short, compressed
        _answer(PAGE),  # no length: read to the end of the connection
    ],
    ids=["short", "long", "gzip", "unknown-length"],
)
def test_a_page_comes_whole_and_decoded_however_it_is_sent(answer: bytes) -> None:
    server = Canned(answer)
    try:
        items = _list(server.url)
    finally:
        server.close()
    body = answer.split(b"\r\n\r\n", 1)[1]
    expected = json.loads(gzip.decompress(body) if b"Content-Encoding: gzip" in answer else body)
    assert items == expected["items"] and server.requests == 1


@pytest.mark.parametrize("length", [None, len(PAGE)], ids=["no-length", "declared"])
def test_a_page_over_the_size_limit_is_an_error(length: int | None) -> None:
    server = Canned(_answer(PAGE, length=length))
    try:
        with pytest.raises(ProviderError) as caught:
            _list(server.url, max_bytes=10_000)
    finally:
        server.close()
    assert str(caught.value) == f"sis: GET {server.url}/sis/admin/v1/districts/d/students: response larger than 10000 bytes"


def test_a_short_page_cut_short_is_retried_then_a_read_error() -> None:
    server = Canned(_answer(b'{"items": [], "ne', length=30))
    try:
        with pytest.raises(ProviderError) as caught:
            _list(server.url)
    finally:
        server.close()
    assert str(caught.value).startswith(f"sis: GET {server.url}/sis/admin/v1/districts/d/students: ReadError (")
    assert server.requests == FAST.max_attempts
