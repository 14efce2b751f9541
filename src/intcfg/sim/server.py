"""Serving the simulator with uvicorn on a socket bound first, so the caller knows the
port (``--port 0`` picks a free one) before the first request can arrive."""

from __future__ import annotations

import socket
from collections.abc import Callable

from starlette.applications import Starlette


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; OSError when the address is taken or not local."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
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
    """Run until SIGINT/SIGTERM; ``on_ready(url)`` is called once the socket listens."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    on_ready(url_of(sock))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
