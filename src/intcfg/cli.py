"""The command line: parse options, call the engine, render, exit. The only writer.

Exit codes everywhere: 0 success or nothing to do, 1 invalid input or a failed
operation, 2 usage error (and "there are changes" for plan --detailed-exitcode and
drift), 3 an unexpected internal error, 130 interrupted.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from . import __version__, output
from .errors import IntcfgError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class IntcfgGroup(click.Group):
    """Turns intcfg's errors into one line and an exit code; never a traceback. Sets up
    the run's output (logging, progress) and logs how the command ended."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        output.reset()  # a fresh run (several in one process: tests, the demo)
        return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> object:
        started = time.perf_counter()
        code: int | str | None = 0
        try:
            _configure(ctx, output.current())
            return self._guarded(ctx)
        except click.exceptions.Exit as e:
            code = e.exit_code
            raise
        except click.ClickException as e:
            code = e.exit_code
            raise
        except SystemExit as e:
            code = e.code
            raise
        finally:
            name = ctx.meta.get(COMMAND_KEY, "intcfg")
            seconds = time.perf_counter() - started
            logging.getLogger("intcfg.cli").info(
                "intcfg %s finished in %.2fs (exit %s)", name, seconds, code,
                extra={"event": "command", "fields": {"command": name, "exit": code, "duration_s": round(seconds, 3)}},
            )
            output.reset()

    def _guarded(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except IntcfgError as e:
            _report_error(e)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as e:
            if os.environ.get("INTCFG_TRACEBACK"):
                raise
            message = (
                f"An unexpected error has occurred: {type(e).__name__}. "
                "Rerun with INTCFG_TRACEBACK=1 to see the traceback, and report it."
            )
            if output.json_logs():
                output.error(message, "unexpected_error", type=type(e).__name__)
            else:
                click.secho(message, fg="red", err=True)
            ctx.exit(3)
        return None  # pragma: no cover


def _report_error(e: IntcfgError) -> None:
    report = getattr(e, "report", None)
    if output.json_logs():
        findings = [] if report is None else [f"{f.location}: {f.severity} {f.rule} {f.message}" for f in report.findings]
        output.error(str(e), "error", type=type(e).__name__, **({"findings": findings} if report is not None else {}))
        return
    if report is not None:  # an invalid configuration: show what validate found
        from .render.findings import text

        click.echo(text(report), err=True, nl=False)
    click.secho(f"Error: {e}", fg="red", err=True)


# -- the global output options, accepted before the command name and after it ------------------

COMMAND_KEY = "intcfg.command"


def _configure(ctx: click.Context, settings: output.Settings) -> None:
    try:
        output.configure(settings)
    except output.OutputError as e:
        raise click.UsageError(str(e), ctx) from None


def _take(name: str) -> Any:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value:
            _configure(ctx, output.current().merged(**{name: value}))

    return callback


def output_options() -> list[click.Option]:
    """New Option objects for one command (or the group): -q, -v, --log-format, --color."""
    return [
        click.Option(["-q", "--quiet"], is_flag=True, expose_value=False, callback=_take("quiet"),
                     help="Print only errors and the result: no notes, logs or progress."),
        click.Option(["-v", "--verbose"], count=True, expose_value=False, callback=_take("verbosity"),
                     help="Log on stderr: -v phases, durations, counts and retries; -vv every "
                     "request, batch and change. plan: also list unchanged objects."),
        click.Option(["--log-format"], type=click.Choice(output.LOG_FORMATS), expose_value=False,
                     callback=_take("log_format"), help="Logs as text, or json: one JSON object per "
                     "line on stderr, for CI [env INTCFG_LOG_FORMAT; default: text]."),
        click.Option(["--color"], type=click.Choice(output.COLOR_CHOICES), expose_value=False,
                     callback=_take("color"), help="Colour and tables: auto (a terminal without "
                     "NO_COLOR), always or never [default: auto]."),
    ]


@click.group(cls=IntcfgGroup, context_settings=CONTEXT, params=output_options())
@click.version_option(__version__, prog_name="intcfg")
def cli() -> None:
    """Configuration-as-code for school-district integrations.

    Declare eTranscript release vendors, state-assessment (ETS) integrations with
    per-site overrides, and SIS sync connections with their mappings and schedules
    as YAML in a git repository; intcfg validates them offline, tests the
    credentials, plans what would change in the live systems, applies it and
    records an audit trail in git.

    Commands work on the config repository containing the current directory
    (found by its intcfg.yaml); most also take -C DIR. Run `intcfg COMMAND
    --help` for a command's options and examples.

    \b
    Exit codes:
      0    success, valid, nothing to do
      1    invalid input or a failed operation
      2    usage error; with plan --detailed-exitcode and drift: there are changes
      3    an unexpected internal error (rerun with INTCFG_TRACEBACK=1, report it)
      130  interrupted

    \b
    Examples:
      intcfg demo
      intcfg validate
      intcfg plan --out plan.json
      intcfg apply plan.json
      intcfg reconcile --auto-approve

    The output options (-q, -v, --log-format, --color) go before or after the
    command name.
    """
    ctx = click.get_current_context()
    ctx.meta[COMMAND_KEY] = ctx.invoked_subcommand or "intcfg"


@cli.command(
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def validate(args: tuple[str, ...]) -> None:
    """Validate config files offline: schema and rules.

    Parsed without click to start fast (a pre-commit hook); see
    `intcfg validate --help` for its options and examples.
    """
    from .validate_cmd import main as validate_main

    sys.exit(validate_main(list(args), output.current()))


@cli.command()
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("schemas"),
    show_default=True,
    help="Directory to write the JSON Schemas into.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a schema file is stale.")
def schema(out: Path, check: bool) -> None:
    """Regenerate schemas/ from the resource models.

    Writes the JSON Schemas (draft 2020-12): one per kind, settings.json for
    intcfg.yaml, and any.json for any document. Editors use them through a
    modeline:

    \b
      # yaml-language-server: $schema=../schemas/any.json

    Exit status: 0 written or up to date, 1 a schema is stale (--check).

    \b
    Examples:
      intcfg schema
      intcfg schema --check
      intcfg schema --out build/schemas
    """
    from . import schemagen

    if check:
        stale = schemagen.stale(out)
        for path in stale:
            click.echo(f"stale: {path}")
        if stale:
            click.echo("Run `intcfg schema` to regenerate.", err=True)
            sys.exit(1)
        click.echo(f"{out}: up to date")
        return
    changed = schemagen.write(out)
    for path in changed:
        click.echo(f"wrote {path}")
    if not changed:
        click.echo(f"{out}: up to date")


# Commands living in their own modules; each module's register(group) adds them. Those
# modules import their heavy dependencies inside the commands, not at the top.
COMMAND_MODULES = ("intcfg.cli_config", "intcfg.cli_loop", "intcfg.cli_fmt", "intcfg.cli_live", "intcfg.cli_expiries", "intcfg.cli_secrets", "intcfg.cli_mapping")


def _register_commands() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(cli)
    _add_output_options(cli)


def _add_output_options(group: click.Group) -> None:
    for name, command in group.commands.items():
        if name == "validate":  # parses its own arguments, these options included
            continue
        command.params.extend(output_options())
        if isinstance(command, click.Group):
            _add_output_options(command)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="intcfg", standalone_mode=True)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0
