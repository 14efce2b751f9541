"""The command line: parse options, call the engine, render, exit. The only writer.

Exit codes everywhere: 0 success or nothing to do, 1 invalid input or a failed
operation, 2 usage error (and "there are changes" for plan --detailed-exitcode and
drift), 3 an unexpected internal error, 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .errors import IntcfgError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class IntcfgGroup(click.Group):
    """Turns intcfg's errors into one line and an exit code; never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except IntcfgError as e:
            report = getattr(e, "report", None)
            if report is not None:  # an invalid configuration: show what validate found
                from .render.findings import text

                click.echo(text(report), err=True, nl=False)
            click.secho(f"Error: {e}", fg="red", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as e:
            if os.environ.get("INTCFG_TRACEBACK"):
                raise
            click.secho(
                f"An unexpected error has occurred: {type(e).__name__}. "
                "Rerun with INTCFG_TRACEBACK=1 to see the traceback, and report it.",
                fg="red",
                err=True,
            )
            ctx.exit(3)
        return None  # pragma: no cover


@click.group(cls=IntcfgGroup, context_settings=CONTEXT)
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
    """


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

    sys.exit(validate_main(list(args)))


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


_register_commands()


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="intcfg", standalone_mode=True)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0
