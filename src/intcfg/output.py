"""How a command talks to people and to machines: the global output options (``-q``,
``-v``, ``--log-format``, ``--color``), colour, notes on stderr, and the progress bar.

The options are accepted before the command name and after it (``intcfg -v plan`` and
``intcfg plan -v`` are the same; counts add up). This module imports neither click nor
rich: ``intcfg validate`` parses the same options with getopt, and rich is imported by the
first progress bar or table a terminal gets.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NamedTuple, TextIO

LOG_FORMAT_ENV = "INTCFG_LOG_FORMAT"
LOG_FORMATS = ("text", "json")
COLOR_CHOICES = ("auto", "always", "never")


class OutputError(ValueError):
    """Options that do not go together, or a bad INTCFG_LOG_FORMAT: a usage error."""


class Settings(NamedTuple):
    verbosity: int = 0
    quiet: bool = False
    log_format: str | None = None  # None: INTCFG_LOG_FORMAT, else text
    color: str = "auto"

    def merged(self, verbosity: int = 0, quiet: bool = False, log_format: str | None = None,
               color: str | None = None) -> Settings:
        """These settings with options given at another position added."""
        return Settings(self.verbosity + verbosity, self.quiet or quiet, log_format or self.log_format,
                        color or self.color)

    def format(self) -> str:
        chosen = self.log_format or os.environ.get(LOG_FORMAT_ENV) or "text"
        if chosen not in LOG_FORMATS:
            raise OutputError(f"{LOG_FORMAT_ENV}={chosen!r} is not one of {', '.join(LOG_FORMATS)}")
        return chosen

    def check(self) -> None:
        if self.quiet and self.verbosity:
            raise OutputError("--quiet and --verbose cannot be used together: choose one")
        self.format()


_settings = Settings()


def current() -> Settings:
    return _settings


def configure(settings: Settings) -> Settings:
    """Make ``settings`` the run's and (re)install logging and progress for them."""
    global _settings
    settings.check()
    _settings = settings
    from . import log

    fmt = settings.format()
    log.setup(log.level_for(settings.verbosity, settings.quiet), "json" if fmt == "json" else "text",
              colour(sys.stderr, settings))
    if fmt == "text" and not settings.quiet and _interactive(sys.stderr):
        log.set_sink(ProgressBar())
    return settings


def reset() -> None:
    """Back to the defaults, logging removed (the end of a run)."""
    global _settings
    _settings = Settings()
    if "intcfg.log" in sys.modules:
        sys.modules["intcfg.log"].teardown()


def _interactive(stream: TextIO) -> bool:
    return _isatty(stream) and os.environ.get("TERM") != "dumb"


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no stream, or a closed one
        return False


def colour(stream: Any = None, settings: Settings | None = None) -> bool:
    """Whether to colour ``stream`` (default stdout): --color always/never, else a
    terminal without NO_COLOR."""
    chosen = (settings or _settings).color
    if chosen != "auto":
        return chosen == "always"
    return _isatty(stream or sys.stdout) and not os.environ.get("NO_COLOR")


def note(message: str, event: str = "note", **fields: Any) -> None:
    """A line for people on stderr (a JSON object with --log-format json); --quiet hides it."""
    import logging

    from .log import NOTE, ev

    logging.getLogger("intcfg.cli").log(NOTE, "%s", message, extra=ev(event, **fields))


def error(message: str, event: str = "error", **fields: Any) -> None:
    import logging

    from .log import ev

    logging.getLogger("intcfg.cli").error("%s", message, extra=ev(event, **fields))


def json_logs() -> bool:
    return _settings.format() == "json"


def width() -> int:
    """Columns for a table: the terminal's, or COLUMNS, or 100."""
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


class ProgressBar:
    """A ``log.Sink``: one transient rich progress bar per phase of known size, on stderr;
    log lines are printed above the bars."""

    def __init__(self) -> None:
        self._progress: Any = None
        self._tasks: dict[int, Any] = {}

    def _bar(self) -> Any:
        if self._progress is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(file=sys.stderr), transient=True, redirect_stdout=False, redirect_stderr=False,
            )
        return self._progress

    def start(self, phase: Any) -> None:
        bar = self._bar()
        if not self._tasks:
            bar.start()
        self._tasks[id(phase)] = bar.add_task(phase.label, total=phase.total, completed=phase.done)
        bar.refresh()

    def advance(self, phase: Any, n: int) -> None:
        task = self._tasks.get(id(phase))
        if task is not None:
            self._progress.advance(task, n)

    def stop(self, phase: Any) -> None:
        task = self._tasks.pop(id(phase), None)
        if task is None:
            return
        self._progress.remove_task(task)
        if not self._tasks:
            self._progress.stop()

    def write(self, line: str) -> None:
        if self._tasks:
            self._progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
