"""Structured logs on the standard logging library, and the timed phases of a run.

Every record intcfg emits is an *event*: a dotted name (``plan.read``), a message for
people and fields for machines, given as ``extra=ev("plan.read", objects=12)``. The CLI
installs one handler (``setup``) that writes each record as one line on stderr, as text
or as one JSON object, and passes the whole line through the secret scrubber last: no
value intcfg has resolved as a secret reaches a log line, whatever a message, a field or
an exception holds.

Levels: ERROR (``-q``), NOTE (the default: the CLI's notes to people, such as "Saved the
plan to ..."), INFO (``-v``: phases with durations and counts, HTTP retries, failed
changes), DEBUG (``-vv``: every request, batch and change).

A phase (``with phase(...)`` or ``@phased(...)``) times one step of a run, logs it with
its own fields and the counters that moved during it (``count``: HTTP requests and
retries), and reports its progress to a sink the CLI may install (a progress bar).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import inspect
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal, Protocol, TypeVar

from .secrets import scrub

NOTE = 25  # between INFO and WARNING: shown by default, hidden by --quiet
logging.addLevelName(NOTE, "NOTE")
LEVEL_NAMES = {logging.DEBUG: "debug", logging.INFO: "info", NOTE: "notice", logging.WARNING: "warning",
               logging.ERROR: "error", logging.CRITICAL: "critical"}
# Keys of a JSON line that fields may not take (a field named so is written with a "_").
RESERVED = frozenset({"time", "level", "event", "message", "logger", "exception"})
LogFormat = Literal["text", "json"]
F = TypeVar("F", bound=Callable[..., Any])

_counters: dict[str, int] = {}


def ev(event: str, **fields: Any) -> dict[str, Any]:
    """The ``extra`` of a log call: ``log.info("...", extra=ev("plan.read", objects=3))``."""
    return {"event": event, "fields": fields}


def count(name: str, n: int = 1) -> None:
    """Add ``n`` to a process-wide counter; phases log how much each moved."""
    _counters[name] = _counters.get(name, 0) + n


def counts() -> dict[str, int]:
    """The counters so far (requests, retries), for a child process to hand its parent."""
    return dict(_counters)


def level_for(verbosity: int, quiet: bool) -> int:
    if quiet:
        return logging.ERROR
    if verbosity <= 0:
        return NOTE
    return logging.INFO if verbosity == 1 else logging.DEBUG


# -- formatting ----------------------------------------------------------------------------------


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None) or {}
    return {(f"{k}_" if k in RESERVED else k): v for k, v in fields.items()}


def _event(record: logging.LogRecord) -> str:
    return str(getattr(record, "event", None) or record.name)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, event, message, logger, fields."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = dt.datetime.fromtimestamp(record.created, dt.UTC)
        line: dict[str, Any] = {
            "time": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": LEVEL_NAMES.get(record.levelno, record.levelname.lower()),
            "event": _event(record),
            "message": scrub(record.getMessage()),
            "logger": record.name,
        }
        line.update({k: scrub(v) if isinstance(v, str) else v for k, v in _fields(record).items()})
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``12:00:01.234 INFO  plan.read: read the live systems in 0.41s  objects=40``; a NOTE
    is its message alone (what the command printed before logs existed)."""

    COLOURS = {logging.DEBUG: "\033[2m", logging.INFO: "\033[36m", logging.WARNING: "\033[33m",
               logging.ERROR: "\033[31m", logging.CRITICAL: "\033[31m"}

    def __init__(self, colour: bool = False) -> None:
        super().__init__()
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno == NOTE:
            return message
        level = f"{record.levelname:<5}"
        if self.colour:
            level = f"{self.COLOURS.get(record.levelno, '')}{level}\033[0m"
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created)) + f".{int(record.msecs):03d}"
        fields = "".join(f" {k}={_text_value(v)}" for k, v in _fields(record).items())
        line = f"{stamp} {level} {_event(record)}: {message}" + (f" {fields}" if fields else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _text_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return json.dumps(text) if not text or any(c in text for c in " \"=\n") else text


# -- the handler ---------------------------------------------------------------------------------


class Sink(Protocol):
    """Progress of phases with a known size (the CLI's progress bar)."""

    def start(self, phase: Phase) -> None: ...

    def advance(self, phase: Phase, n: int) -> None: ...

    def stop(self, phase: Phase) -> None: ...

    def write(self, line: str) -> None:
        """Write a log line without garbling the progress shown."""


_sink: Sink | None = None


def set_sink(sink: Sink | None) -> None:
    global _sink
    _sink = sink


class ScrubbingHandler(logging.Handler):
    """Writes each record as one scrubbed line to the current ``sys.stderr`` (looked up at
    each record, so a test's capture of stderr sees it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = scrub(self.format(record))
            if _sink is not None:
                _sink.write(line)
            else:
                sys.stderr.write(line + "\n")
                sys.stderr.flush()
        except Exception:  # noqa: BLE001 - logging must never end the run
            self.handleError(record)


_configured: tuple[int, LogFormat, bool] | None = None  # setup's arguments, while set up


def setup(level: int, fmt: LogFormat = "text", colour: bool = False) -> logging.Handler:
    """Route intcfg's records at ``level`` and above (and other libraries' warnings) to
    stderr; replaces a handler an earlier ``setup`` installed."""
    global _configured
    teardown()
    _configured = (level, fmt, colour)
    handler = ScrubbingHandler(level)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter(colour))
    handler.set_name("intcfg")
    logging.getLogger().addHandler(handler)
    logging.getLogger("intcfg").setLevel(level)
    return handler


def configured() -> tuple[int, LogFormat, bool] | None:
    """The arguments of the ``setup`` in force (a child forked before it repeats it)."""
    return _configured


def teardown() -> None:
    global _configured
    _configured = None
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == "intcfg"]:
        root.removeHandler(handler)
    logging.getLogger("intcfg").setLevel(logging.NOTSET)
    set_sink(None)


# -- phases --------------------------------------------------------------------------------------

_current: contextvars.ContextVar[Phase | None] = contextvars.ContextVar("intcfg_phase", default=None)


class Phase:
    """One timed step of a run; ``phase[key] = value`` adds a field to its log line."""

    def __init__(self, name: str, what: str, logger: logging.Logger, fields: dict[str, Any]) -> None:
        self.name = name
        self.what = what
        self.logger = logger
        self.fields = fields
        self.total: int | None = None
        self.label = what
        self.done = 0
        self.shown = False
        self.started = time.perf_counter()
        self.counters = dict(_counters)

    def __setitem__(self, key: str, value: Any) -> None:
        self.fields[key] = value

    def expect(self, total: int, label: str = "") -> None:
        """The phase's size (requests, changes) and what it is doing ("Reading the live
        systems"): shown as a progress bar when the CLI installed one."""
        self.total = total
        self.label = label or self.label
        if _sink is not None and not self.shown:
            self.shown = True
            _sink.start(self)

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.shown and _sink is not None:
            _sink.advance(self, n)

    def finish(self, error: BaseException | None) -> None:
        if self.shown and _sink is not None:
            _sink.stop(self)
        seconds = time.perf_counter() - self.started
        moved = {k: v - self.counters.get(k, 0) for k, v in _counters.items() if v != self.counters.get(k, 0)}
        fields = {**self.fields, **moved, "duration_s": round(seconds, 3)}
        if error is None:
            self.logger.info("%s in %.2fs", self.what, seconds, extra=ev(self.name, **fields))
        else:
            fields["error"] = type(error).__name__
            self.logger.info("%s: stopped after %.2fs by %s", self.what, seconds, type(error).__name__,
                             extra=ev(self.name, **fields))


@contextlib.contextmanager
def phase(name: str, what: str, logger: logging.Logger | None = None, **fields: Any) -> Iterator[Phase]:
    """Time ``what`` (said in the past tense: "read the live systems") as event ``name``."""
    log = logger or logging.getLogger("intcfg")
    current = Phase(name, what, log, fields)
    log.debug("%s: started", what, extra=ev(f"{name}.start", **fields))
    token = _current.set(current)
    try:
        yield current
    except BaseException as e:
        current.finish(e)
        raise
    else:
        current.finish(None)
    finally:
        _current.reset(token)


def phased(name: str, what: str, result: Callable[[Any], dict[str, Any]] | None = None) -> Callable[[F], F]:
    """Decorate a function (or coroutine function) as a phase; ``result`` turns its return
    value into fields (counts)."""

    def decorate(fn: F) -> F:
        logger = logging.getLogger(fn.__module__)

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any, **kw: Any) -> Any:
                with phase(name, what, logger) as p:
                    value = await fn(*args, **kw)
                    p.fields.update(result(value) if result else {})
                    return value

            return run_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def run(*args: Any, **kw: Any) -> Any:
            with phase(name, what, logger) as p:
                value = fn(*args, **kw)
                p.fields.update(result(value) if result else {})
                return value

        return run  # type: ignore[return-value]

    return decorate


def expect(total: int, label: str = "") -> None:
    """Set the size of the innermost phase of this task (no-op outside a phase)."""
    current = _current.get()
    if current is not None:
        current.expect(total, label)


def advance(n: int = 1) -> None:
    """Advance the innermost phase of this task (no-op outside a phase)."""
    current = _current.get()
    if current is not None:
        current.advance(n)
