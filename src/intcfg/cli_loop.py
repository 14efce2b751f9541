"""`intcfg plan`, `apply`, `drift`, `reconcile` and `show`: the GitOps loop's commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from . import cli_options as options
from . import output

PLAN_FORMATS = ("text", "markdown", "json")


def _common(f: Any) -> Any:
    shared = [
        options.DISTRICTS,
        click.option("--shard", metavar="K/N", help="Only the districts of shard K of N (stable hashing)."),
        click.option("--live", metavar="URL", help="The live systems' URL (default: live.url in intcfg.yaml)."),
        options.REPO,
    ]
    for option in reversed(shared):
        f = option(f)
    return f


def _output(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text, nl=False, color=output.colour() or None)
        return
    out.write_text(text, encoding="utf-8")
    output.note(f"wrote {out}", "wrote", path=str(out))


def _render(plan: Any, fmt: str, out: Path | None = None, verbose: bool = False) -> str:
    """A plan in ``fmt``; text on a terminal (or --color always) is coloured, with a table
    of the counts; --quiet leaves out all but the changes."""
    from .render.plan import RENDERERS

    quiet = output.current().quiet
    if fmt == "text" and out is None and output.colour():
        from .render.tty import plan as tty_plan

        return tty_plan(plan, verbose=verbose, quiet=quiet, width=output.width())
    return RENDERERS[fmt](plan, verbose=verbose, quiet=quiet)


def _echo(text: str, nl: bool = True, detail: bool = False) -> None:
    """The engine's lines; --quiet drops the details (changes that went well, plans with
    nothing to do)."""
    if not (detail and output.current().quiet):
        click.echo(text, nl=nl)


@click.command()
@_common
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Save the plan (JSON) to FILE for `intcfg apply FILE`.")
@click.option("--format", "fmt", type=click.Choice(PLAN_FORMATS), default="text", show_default=True, help="Output format (json: the format --out saves).")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none.")
@click.option("--no-secrets", is_flag=True, help="Resolve no secret: compare secrets by reference only (pull requests from forks).")
def plan(
    districts: tuple[str, ...], shard: str | None, live: str | None, repo: Path | None,
    out: Path | None, fmt: str, detailed_exitcode: bool, no_secrets: bool,
) -> None:
    """Show what would change in the live systems.

    A three-way diff of the repository (desired), the live systems and the last
    state intcfg applied (the audit branch): each entry names the object, the action
    and why — changed in git, changed in the live system outside git (drift), or
    both. Secrets are compared by keyed fingerprint and never shown. Read-only.
    With -v (before or after `plan`) unchanged objects are listed too; with -q
    only the changes are.

    Exit status: 0 planned (with --detailed-exitcode: no changes), 1 failed,
    2 usage error or, with --detailed-exitcode, there are changes.

    \b
    Examples:
      intcfg plan
      intcfg plan --district riverside-usd --format markdown
      intcfg plan --out plan.json && intcfg apply plan.json
    """
    from .engine import plan_repository, preparing

    ahead = preparing(text=fmt == "text", json=fmt == "json" or out is not None)
    ctx = plan_repository(repo, districts, shard, live, resolve_secrets=not no_secrets, prepare=ahead)
    if out is not None:
        out.write_text(ctx.plan.to_json(), encoding="utf-8")
    if fmt != "json" or out is None:
        click.echo(_render(ctx.plan, fmt, verbose=output.current().verbosity > 0), nl=False, color=output.colour() or None)
    if out is not None:
        output.note(f"Saved the plan to {out}; apply it with: intcfg apply {out}", "plan.saved", path=str(out))
    if detailed_exitcode and ctx.plan.has_changes():
        sys.exit(2)


@click.command()
@click.argument("plan_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_common
@click.option("--prune", is_flag=True, help="Delete managed objects the repository no longer declares.")
@click.option("--parallelism", type=click.IntRange(1, 64), default=8, show_default=True, help="Batch requests in flight at once (a batch holds up to 100 changes for one live system).")
@click.option("--auto-approve", is_flag=True, help="Apply without asking (required without a terminal).")
@click.option("--force", is_flag=True, help="Apply a plan above the safety thresholds.")
@click.option("--lock-timeout", type=click.FloatRange(0), default=60.0, show_default=True, help="Seconds to wait for another apply.")
@click.option("--push", is_flag=True, help="Push the audit branch to origin (refused if another reconciler pushed first).")
def apply(
    plan_file: Path | None, districts: tuple[str, ...], shard: str | None, live: str | None, repo: Path | None,
    prune: bool, parallelism: int, auto_approve: bool, force: bool, lock_timeout: float, push: bool,
) -> None:
    """Apply the changes, then record them on the audit branch.

    Without PLAN_FILE it plans, shows the plan and asks. With PLAN_FILE (from
    `intcfg plan --out`) it applies that plan only if the configuration, the live
    systems and the last-applied state are still what the plan was computed from.
    Deletes happen only with --prune. One failed change does not stop independent
    ones; changes that depend on it are reported as blocked.

    Exit status: 0 applied (or nothing to do), 1 a change failed, the plan is
    stale or above the safety thresholds without --force.

    \b
    Examples:
      intcfg apply
      intcfg apply --auto-approve --prune
      intcfg apply plan.json --auto-approve --push
    """
    from .engine import ApplyRequest, apply_repository

    request = ApplyRequest(plan_file, districts, shard, live, prune, parallelism, force, lock_timeout, push)
    outcome = apply_repository(repo, request, _confirm(auto_approve), _echo)
    if outcome.failed:
        sys.exit(1)


def _confirm(auto_approve: bool) -> Any:
    def confirm(plan_text: str) -> bool:
        if auto_approve:
            _echo(plan_text, nl=False, detail=True)
            return True
        click.echo(plan_text, nl=False)
        if not sys.stdin.isatty():
            raise click.UsageError("refusing to apply without a terminal to ask on; pass --auto-approve")
        return click.confirm("Apply these changes?", default=False)

    return confirm


@click.command()
@_common
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to FILE.")
@click.option("--format", "fmt", type=click.Choice(PLAN_FORMATS), default="text", show_default=True, help="Output format; markdown is ready for an alert or an issue.")
def drift(districts: tuple[str, ...], shard: str | None, live: str | None, repo: Path | None, out: Path | None, fmt: str) -> None:
    """Report changes made in the live systems outside git.

    Compares the live systems with the last state intcfg applied (the audit
    branch) and lists what someone changed by hand in an admin screen. Read-only.
    Markdown output is ready for an alert or an issue.

    Exit status: 0 no drift, 1 failed, 2 drift found.

    \b
    Examples:
      intcfg drift
      intcfg drift --format markdown --out drift.md
    """
    from .engine import drift_repository

    ctx = drift_repository(repo, districts, shard, live)
    _output(_render(ctx.plan, fmt, out), out)
    if ctx.plan.has_changes():
        sys.exit(2)


@click.command()
@_common
@click.option("--prune", is_flag=True, help="Delete managed objects the repository no longer declares.")
@click.option("--parallelism", type=click.IntRange(1, 64), default=8, show_default=True, help="Batch requests in flight at once (a batch holds up to 100 changes for one live system).")
@click.option("--auto-approve", is_flag=True, help="Apply without asking (the CI job).")
@click.option("--force", is_flag=True, help="Apply a plan above the safety thresholds.")
@click.option("--lock-timeout", type=click.FloatRange(0), default=60.0, show_default=True, help="Seconds to wait for another apply.")
@click.option("--push", is_flag=True, help="Push the audit branch to origin.")
@click.option("--skip-test", is_flag=True, help="Do not test the credentials first.")
def reconcile(
    districts: tuple[str, ...], shard: str | None, live: str | None, repo: Path | None,
    prune: bool, parallelism: int, auto_approve: bool, force: bool, lock_timeout: float, push: bool, skip_test: bool,
) -> None:
    """Validate, test, plan, apply and audit in one step.

    The CI job on merge to main. Stops before changing anything when the
    configuration is invalid or a credential fails its test.

    Exit status: 0 reconciled (or nothing to do), 1 invalid, a credential
    failed or a change failed.

    \b
    Examples:
      intcfg reconcile --auto-approve
      intcfg reconcile --auto-approve --push --shard 1/4
    """
    from .engine import ApplyRequest, reconcile_repository

    request = ApplyRequest(None, districts, shard, live, prune, parallelism, force, lock_timeout, push)
    outcome = reconcile_repository(repo, request, _confirm(auto_approve), _echo, test_first=not skip_test)
    if outcome.failed:
        sys.exit(1)


@click.command()
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(PLAN_FORMATS), default="text", show_default=True, help="Output format.")
def show(plan_file: Path, fmt: str) -> None:
    """Render a saved plan in any format.

    PLAN_FILE is a plan saved by `intcfg plan --out`; showing it reads nothing
    else (no configuration, no live system).

    \b
    Examples:
      intcfg show plan.json
      intcfg show plan.json --format markdown
    """
    from .plan import from_json

    saved = from_json(plan_file.read_text(encoding="utf-8"), str(plan_file))
    click.echo(_render(saved, fmt), nl=False, color=output.colour() or None)


def register(group: click.Group) -> None:
    for command in (plan, apply, drift, reconcile, show):
        group.add_command(command)
