"""The read-ahead child forked as the console script starts (prefetch.py says what it
reads and why), before the command has loaded its own modules.

What the child needs before its first request (httpx, aiohttp, the providers) takes about
a quarter of a second to import, and the command about as long to load its own modules,
parse its command line and read its settings before it knows what to read. Forked here,
the child imports on the other core meanwhile, then waits for its orders (prefetch.start
gives them): the first list request leaves that much sooner. A command that reads nothing
ahead dismisses the child; one that ends before deciding dismisses it on its way out (and
the child dies with its parent in any case).

This module imports nothing the command would not: the fork comes before anything else.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
from collections.abc import Callable
from typing import NamedTuple

READ_AHEAD_ENV = "INTCFG_READ_AHEAD"  # "0": no reads ahead of the load
COMMANDS = frozenset({"plan", "apply", "reconcile", "drift"})  # the commands that plan


class Waiting(NamedTuple):
    """A child waiting for its orders."""

    pid: int
    orders: int  # the write end of the pipe that carries its orders
    stream: int  # the read end of the pipe it writes its stream to (prefetch._child)


_waiting: Waiting | None = None


def may_fork() -> bool:
    """Reading ahead is on, the system forks, and this process has no other thread (a
    child forked while another thread holds a lock can wait on it forever)."""
    threading = sys.modules.get("threading")
    single = threading is None or threading.active_count() == 1
    return single and sys.platform.startswith("linux") and os.environ.get(READ_AHEAD_ENV, "1") != "0"


def fork() -> None:
    """Fork the child, to wait for its orders; nothing when one waits already or this
    process may not fork."""
    global _waiting
    if _waiting is not None or not may_fork():
        return
    orders_in, orders_out = os.pipe()
    stream_in, stream_out = os.pipe()

    def wait(parent: int) -> None:
        from . import prefetch

        prefetch.wait_for_orders(parent, orders_in, stream_out)

    pid = forked(wait)
    os.close(orders_in)
    os.close(stream_out)
    _waiting = Waiting(pid, orders_out, stream_in)
    atexit.register(dismiss)


def forked(child: Callable[[int], None]) -> int:
    """Fork: the child runs ``child(the parent's pid)`` and leaves, without unwinding its
    caller, with status 0, or 1 when it raised anything (the parent then reads in process
    and reports); the parent gets the child's pid."""
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            child(parent)
            code = 0
        except BaseException:  # noqa: BLE001 - see above
            pass
        finally:
            os._exit(code)
    return pid


def take() -> Waiting | None:
    """The waiting child, for the one plan that gives it orders (None: no child waits)."""
    global _waiting
    waiting, _waiting = _waiting, None
    return waiting


def dismiss() -> None:
    """Stop the waiting child, if any: its command reads nothing ahead, or ends."""
    waiting = take()
    if waiting is None:
        return
    os.close(waiting.orders)
    os.close(waiting.stream)
    try:
        os.kill(waiting.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(waiting.pid, 0)
