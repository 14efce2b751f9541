"""Serving the simulator with uvicorn on a socket bound first, so the caller knows the
port (``--port 0`` picks a free one) before the first request can arrive."""

from __future__ import annotations

import gc
import signal
import socket
import threading
from collections.abc import Callable
from types import FrameType

from starlette.applications import Starlette

from ..errors import ConfigError


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; OSError when the address is taken or not local."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say so, and without it
    # Nagle and delayed ACKs add about 40 ms to every response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(app: Starlette, sock: socket.socket, on_ready: Callable[[str], None]) -> None:
    """Run until SIGINT/SIGTERM, then return; ``on_ready(url)`` once the socket listens.

    uvicorn runs in a thread and this thread takes the signals: uvicorn's own handling
    re-raises the signal after shutting down, which would end the process before the
    caller closes the store.
    """
    import uvicorn

    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)

    def stop(signum: int, frame: FrameType | None) -> None:
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    # What the process holds by now (modules, schemas and their validators, the routes)
    # lives as long as the server: kept out of the collector's passes, which a busy
    # simulator makes every few thousand objects it allocates.
    gc.collect()
    gc.freeze()
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True
    )
    try:
        thread.start()
        on_ready(url_of(sock))
        while thread.is_alive():
            thread.join(0.5)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    if not server.should_exit:
        raise ConfigError("the simulator stopped without being asked to; see the messages above")
