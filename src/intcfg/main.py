"""The `intcfg` console script."""

from __future__ import annotations

import atexit
import gc
import os
import sys
from typing import Any, NoReturn

from . import early

# True in the console script's process: the command's own, whose priority a plan may lower
# while its read-ahead child reads (prefetch.py). A library caller's process is left alone.
console = False
# What the console script holds until its exit, which leaves the heap to the system (run).
_kept: list[Any] = []


def keep(value: Any) -> None:
    """In the console script, hold ``value`` (a plan's objects) until the exit: freed as
    the command returns, the hundreds of MB of small objects of a state's plan took a
    tenth of a second, one by one, after the work was done. Nothing in a library caller's
    process, which frees them as usual."""
    if console:
        _kept.append(value)


def run() -> NoReturn:
    """The console script: ``main``, then an exit that leaves the heap to the operating
    system. A plan holds hundreds of MB of small objects until it ends; the interpreter
    would free each of them on the way out (a fifth of a second at state scale) after the
    answer is already written."""
    global console
    console = True
    code = main()
    atexit._run_exitfuncs()  # what a normal exit runs: temporary files' clean-up, ...
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 120  # what the interpreter returns when its last flush fails
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    leading, rest = _output_options(args)
    if rest[:1] == ["validate"]:
        from .output import Settings
        from .validate_cmd import main as validate_main

        preset = Settings().merged(**leading)
        return _guard(lambda: validate_main(rest[1:], preset))
    # The other commands hold a whole repository until they exit (a state's: hundreds of MB
    # of small objects); the collector's passes over it cost more than the work itself
    # (3x for the diff of 1,000 objects). Collect young objects far less often (the
    # read-ahead child too, which builds every live object it reads).
    gc.set_threshold(50_000, 20, 100)
    if console and rest[:1] and rest[0] in early.COMMANDS:
        early.fork()
    from .cli import main as cli_main

    return cli_main(args)


# The output options intcfg takes before a command name (see output.py); click parses them
# for every other command, this for validate's fast path.
_FLAGS: dict[str, tuple[str, Any]] = {"-q": ("quiet", True), "--quiet": ("quiet", True), "-v": ("verbosity", 1), "--verbose": ("verbosity", 1)}
_VALUED = {"--log-format": "log_format", "--color": "color"}


def _output_options(args: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The output options before the command name, and the rest; unknown ones stay in the
    rest (click will say what is wrong with them)."""
    found: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        name, _, value = arg.partition("=")
        if arg in _FLAGS:
            key, given = _FLAGS[arg]
            found[key] = found.get(key, 0) + given if key == "verbosity" else given
        elif len(arg) > 2 and arg.startswith("-v") and set(arg[1:]) == {"v"}:
            found["verbosity"] = found.get("verbosity", 0) + len(arg) - 1
        elif name in _VALUED and (value or "=" in arg):
            found[_VALUED[name]] = value
        elif arg in _VALUED and i + 1 < len(args):
            found[_VALUED[arg]] = args[i + 1]
            i += 1
        else:
            break
        i += 1
    return found, args[i:]


def _guard(run: "object") -> int:
    try:
        return run()  # type: ignore[operator,no-any-return]
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception as e:  # noqa: BLE001 - the one place that turns any failure into a line
        if "--traceback" in sys.argv or "INTCFG_TRACEBACK" in __import__("os").environ:
            raise
        sys.stderr.write(f"An unexpected error has occurred: {type(e).__name__}. Rerun with INTCFG_TRACEBACK=1 to see the traceback.\n")
        return 3
