"""`intcfg fmt`: the command line of the formatter (intcfg.fmt does the work).

Diffs go to stdout; what happened to each file, and the summary, to stderr.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from .fmt import Result


def _display(path: Path) -> str:
    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") else rel


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _summary(changed: int, unchanged: int, failed: int, check: bool) -> str:
    if check:
        parts = [
            f"{_plural(changed, 'file')} would be reformatted",
            f"{unchanged} already formatted",
        ]
    else:
        parts = [f"{_plural(changed, 'file')} reformatted", f"{unchanged} left unchanged"]
    if failed:
        parts.append(f"{_plural(failed, 'file')} could not be formatted")
    return ", ".join(parts) + "."


def _report_problems(result: Result) -> None:
    for f in result.findings:
        click.echo(f"{f.location}: {f.severity} {f.rule} {f.message}", err=True)
    if result.refused:
        click.echo(f"{result.file}: error: {result.refused}; the file was left unchanged", err=True)


def _handle(result: Result, path: Path, check: bool, show_diff: bool) -> bool:
    """Report (and write, unless --check or --diff) one file; False if it failed."""
    from . import fmt
    from .errors import ConfigError

    if not result.ok:
        _report_problems(result)
        return False
    if not result.changed:
        return True
    if show_diff:
        click.echo(fmt.unified_diff(result), nl=False)
    if check or show_diff:
        click.echo(f"would reformat {result.file}", err=True)
        return True
    try:
        fmt.write(path, result.after)
    except ConfigError as e:
        click.echo(f"Error: {e}", err=True)
        return False
    click.echo(f"reformatted {result.file}", err=True)
    return True


def register(group: click.Group) -> None:
    """Add this module's commands to ``group``."""

    @group.command("fmt")
    @click.argument(
        "paths", nargs=-1, metavar="[PATH]...", type=click.Path(exists=True, path_type=Path)
    )
    @click.option("--check", is_flag=True, help="Write nothing; exit 1 if a file would change.")
    @click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff; write nothing.")
    @click.option(
        "--config-only",
        is_flag=True,
        help="Skip named files that are not config files of their repository (its "
        "include/exclude): for the pre-commit hook, which names every changed YAML file.",
    )
    def fmt_command(
        paths: tuple[Path, ...], check: bool, show_diff: bool, config_only: bool
    ) -> None:
        """Format config files canonically, keeping comments.

        One layout for every file: the envelope in the order apiVersion, kind,
        metadata, spec, lifecycle; each spec in its model's field order; two-space
        indentation; small flow mappings such as {env: NAME} on one line; comments
        kept with the entry they belong to. With no PATH, formats every config file
        of the repository containing the current directory, intcfg.yaml included;
        a PATH may be a file or a folder. Offline; refuses to write a file whose
        data or comments would change.

        \b
        Exit status:
          0  done (with --check: nothing to change)
          1  a file would change (--check) or could not be formatted
          2  usage error

        \b
        Examples:
          intcfg fmt
          intcfg fmt --check
          intcfg fmt --diff districts/riverside-usd
        """
        from . import fmt
        from .errors import ConfigError

        try:
            files, max_bytes = fmt.targets(list(paths), Path.cwd(), config_only)
        except ConfigError as e:
            raise click.UsageError(str(e)) from e
        changed = failed = 0
        jobs = [(path, _display(path)) for path in files]
        try:
            results = list(fmt.format_paths(jobs, max_bytes))
        except ConfigError as e:
            raise click.UsageError(str(e)) from e
        for (path, _), result in zip(jobs, results, strict=True):
            failed += not _handle(result, path, check, show_diff)
            changed += result.ok and result.changed
        click.echo(
            _summary(changed, len(files) - changed - failed, failed, check or show_diff), err=True
        )
        sys.exit(1 if failed or (check and changed) else 0)
