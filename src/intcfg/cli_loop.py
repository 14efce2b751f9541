"""`intcfg plan`, `apply`, `drift`, `reconcile` and `show`: the GitOps loop's commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

PLAN_FORMATS = ("text", "markdown", "json")


def _common(f: Any) -> Any:
    options = [
        click.option("--district", "districts", multiple=True, metavar="ID", help="Only this district (repeatable)."),
        click.option("--shard", metavar="K/N", help="Only the districts of shard K of N (stable hashing)."),
        click.option("--live", metavar="URL", help="The live systems' URL (default: live.url in intcfg.yaml)."),
        click.option(
            "-C",
            "--repo",
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            help="The config repository (default: the one containing the current directory).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _output(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}", err=True)


def _colour() -> bool:
    import os

    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


@click.command()
@_common
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Save the plan (JSON) to FILE for `intcfg apply FILE`.")
@click.option("--format", "fmt", type=click.Choice(PLAN_FORMATS), default="text", show_default=True, help="Output format (json: the format --out saves).")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none.")
@click.option("--no-secrets", is_flag=True, help="Resolve no secret: compare secrets by reference only (pull requests from forks).")
@click.option("-v", "--verbose", is_flag=True, help="List unchanged objects too.")
def plan(
    districts: tuple[str, ...], shard: str | None, live: str | None, repo: Path | None,
    out: Path | None, fmt: str, detailed_exitcode: bool, no_secrets: bool, verbose: bool,
) -> None:
    """Show what would change in the live systems.

    A three-way diff of the repository (desired), the live systems and the last
    state intcfg applied (the audit branch): each entry names the object, the action
    and why — changed in git, changed in the live system outside git (drift), or
    both. Secrets are compared by keyed fingerprint and never shown. Read-only.

    Exit status: 0 planned (with --detailed-exitcode: no changes), 1 failed,
    2 usage error or, with --detailed-exitcode, there are changes.

    \b
    Examples:
      intcfg plan
      intcfg plan --district riverside-usd --format markdown
      intcfg plan --out plan.json && intcfg apply plan.json
    """
    from .engine import plan_repository
    from .render.plan import RENDERERS

    ctx = plan_repository(repo, districts, shard, live, resolve_secrets=not no_secrets)
    if out is not None:
        out.write_text(ctx.plan.to_json(), encoding="utf-8")
    text = RENDERERS[fmt](ctx.plan, colour=_colour() and fmt == "text", verbose=verbose)
    if fmt != "json" or out is None:
        click.echo(text, nl=False)
    if out is not None:
        click.echo(f"Saved the plan to {out}; apply it with: intcfg apply {out}", err=True)
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
    outcome = apply_repository(repo, request, _confirm(auto_approve), click.echo)
    if outcome.failed:
        sys.exit(1)


def _confirm(auto_approve: bool) -> Any:
    def confirm(plan_text: str) -> bool:
        click.echo(plan_text, nl=False)
        if auto_approve:
            return True
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
    from .render.plan import RENDERERS

    ctx = drift_repository(repo, districts, shard, live)
    _output(RENDERERS[fmt](ctx.plan, colour=_colour() and out is None and fmt == "text"), out)
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
    outcome = reconcile_repository(repo, request, _confirm(auto_approve), click.echo, test_first=not skip_test)
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
    from .render.plan import RENDERERS

    saved = from_json(plan_file.read_text(encoding="utf-8"), str(plan_file))
    click.echo(RENDERERS[fmt](saved, colour=_colour() and fmt == "text"), nl=False)


def register(group: click.Group) -> None:
    for command in (plan, apply, drift, reconcile, show):
        group.add_command(command)
