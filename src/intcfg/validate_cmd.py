"""`intcfg validate`, parsed without click or argparse: the pre-commit hook's start-up
budget goes to PyYAML and jsonschema-rs (see README, Performance). `intcfg --help`
lists the same command through click, which delegates here."""

from __future__ import annotations

import getopt
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .output import Settings

FORMATS = ("text", "json", "github", "sarif", "junit")
COLOR_CHOICES = ("auto", "always", "never")
LOG_FORMATS = ("text", "json")
HELP = """\
Usage: intcfg validate [OPTIONS] [PATH]...

  Validate config files offline: schema and rules.

  Reads the YAML, checks every document against its kind's schema and the
  cross-file rules (references, site overrides, mappings, credential age), and
  prints each finding as file:line:column, severity, rule id and message. Never
  opens a network connection and never resolves a secret.

  With no PATH, validates the repository containing the current directory (found
  by its intcfg.yaml). With PATHs (files or folders), the whole repository still
  provides the context for references, but only findings in those files are
  reported. INTCFG_TODAY=YYYY-MM-DD fixes the date the credential-age rules use.

  Exit status: 0 valid (warnings allowed), 1 invalid, 2 usage error.

  Examples:
    intcfg validate
    intcfg validate districts/riverside-usd/ets.yaml
    intcfg validate --format github --strict
    intcfg validate -f sarif -o validate.sarif

Options:
  -f, --format [text|json|github|sarif|junit]
                                  Output format (default: text).
  -o, --output FILE               Write the report to FILE instead of stdout.
  --strict                        Warnings fail too (exit 1).
  -q, --quiet                     Text format: print only the findings.
  -v, --verbose                   Log on stderr what was checked and how long it
                                  took (-vv: more).
  --log-format [text|json]        Logs as text, or one JSON object per line
                                  (default: INTCFG_LOG_FORMAT, else text).
  --color [auto|always|never]     Colour the text format (default: auto: on a
                                  terminal unless NO_COLOR is set).
  -h, --help                      Show this message and exit.
"""


class Options:
    __slots__ = ("paths", "format", "output", "strict", "quiet", "color", "verbosity", "log_format")

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.format = "text"
        self.output: str | None = None
        self.strict = False
        self.quiet = False
        self.color: str | None = None  # None: the one given before `validate`, else auto
        self.verbosity = 0
        self.log_format: str | None = None


class UsageError(Exception):
    pass


def _choice(option: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise UsageError(f"invalid value for {option}: {value!r} is not one of {', '.join(choices)}")
    return value


def parse(argv: list[str]) -> Options | None:
    """Parsed options, or None when help was asked for. Raises UsageError."""
    try:
        pairs, rest = getopt.gnu_getopt(
            argv, "f:o:qvh", ["format=", "output=", "strict", "quiet", "verbose", "log-format=", "color=", "help"]
        )
    except getopt.GetoptError as e:
        raise UsageError(str(e)) from e
    opts = Options()
    opts.paths = rest
    for key, value in pairs:
        if key in ("-h", "--help"):
            return None
        if key in ("-f", "--format"):
            opts.format = _choice("--format", value, FORMATS)
        elif key in ("-o", "--output"):
            opts.output = value
        elif key == "--strict":
            opts.strict = True
        elif key in ("-q", "--quiet"):
            opts.quiet = True
        elif key == "--color":
            opts.color = _choice("--color", value, COLOR_CHOICES)
        elif key in ("-v", "--verbose"):
            opts.verbosity += 1
        elif key == "--log-format":
            opts.log_format = _choice("--log-format", value, LOG_FORMATS)
    return opts


def _settings(opts: Options, preset: Settings | None) -> Settings:
    """The output settings: the options given before `validate` with these added."""
    from .output import OutputError, Settings

    base = preset or Settings()
    for option, value, choices in (("--color", base.color, COLOR_CHOICES), ("--log-format", base.log_format, LOG_FORMATS)):
        if value is not None:
            _choice(option, value, choices)
    settings = base.merged(opts.verbosity, opts.quiet, opts.log_format, opts.color)
    try:
        settings.check()
    except OutputError as e:
        raise UsageError(str(e)) from None
    return settings


def _colour(choice: str, output: str | None) -> bool:
    if choice != "auto":
        return choice == "always"
    return output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def execute(
    paths: list[str],
    fmt: str = "text",
    strict: bool = False,
    colour: bool = False,
    quiet: bool = False,
    logged: bool = False,
) -> tuple[str, str, int]:
    """Run validate; returns (report, error line, exit code). Writes nothing but logs
    (``logged``: the phase, with its counts)."""
    from pathlib import Path

    from . import __version__
    from .errors import IntcfgError
    from .render.findings import RENDERERS
    from .validate import validate

    try:
        if logged:
            from .log import phased

            report = phased("validate", "validated the configuration", _counts)(validate)([Path(p) for p in paths] or None)
        else:
            report = validate([Path(p) for p in paths] or None)
    except IntcfgError as e:
        return "", f"Error: {e}", 2
    text = RENDERERS[fmt](report, colour=colour, version=__version__)
    if quiet and fmt == "text":
        text = "".join(line + "\n" for line in text.splitlines()[:-1])
    return text, "", 0 if report.ok(strict) else 1


def _counts(report: object) -> dict[str, object]:
    return {name: getattr(report, name, None) for name in ("files", "documents")} | {
        "errors": report.errors(),  # type: ignore[attr-defined]
        "warnings": report.warnings(),  # type: ignore[attr-defined]
    }


def main(argv: list[str], preset: Settings | None = None) -> int:
    """``intcfg validate ARGV``; ``preset``: the output options given before `validate`."""
    try:
        opts = parse(argv)
        settings = _settings(opts, preset) if opts is not None else None
    except UsageError as e:
        sys.stderr.write(f"Usage: intcfg validate [OPTIONS] [PATH]...\nTry 'intcfg validate --help' for help.\n\nError: {e}\n")
        return 2
    if opts is None or settings is None:
        sys.stdout.write(HELP)
        return 0
    # Logging costs start-up time the pre-commit hook does not have: only when asked for.
    logged = settings.verbosity > 0 or settings.format() == "json"
    if not logged:
        return _run(opts, settings, False)
    from . import output

    output.configure(settings)
    try:
        return _run(opts, settings, True)
    finally:
        output.reset()


def _run(opts: Options, settings: Settings, logged: bool) -> int:
    colour = _colour(settings.color, opts.output)
    text, error, code = execute(opts.paths, opts.format, opts.strict, colour, opts.quiet or settings.quiet, logged)
    if error:
        _error(error, logged)
        return code
    if opts.output:
        try:
            with open(opts.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as e:
            _error(f"Error: cannot write {opts.output}: {e.strerror}", logged)
            return 1
    else:
        sys.stdout.write(text)
    return code


def _error(line: str, logged: bool) -> None:
    from . import output

    if logged and output.json_logs():
        output.error(line.removeprefix("Error: "))
    else:
        sys.stderr.write(line + "\n")
