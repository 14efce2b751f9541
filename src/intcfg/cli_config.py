"""`intcfg render` and `intcfg demo`: commands over the validated configuration."""

from __future__ import annotations

from pathlib import Path

import click

from . import cli_options as options


@click.command()
@options.DISTRICTS
@click.option("--site", metavar="ID", help="What applies to this site: its overrides, connections, mappings.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
    help="Output format; YAML carries each value's file:line:col as a comment.",
)
@options.REPO
def render(districts: tuple[str, ...], site: str | None, fmt: str, repo: Path | None) -> None:
    """Show the effective configuration after site overrides.

    Every live object intcfg manages, addressed system/district/kind/name[/site],
    with its full spec: a site's ETS configuration is the district's merged with
    the site's override. Secrets appear as their references, never as values. In
    YAML each value carries a comment naming the file and line that set it.

    \b
    Examples:
      intcfg render --district riverside-usd
      intcfg render --district riverside-usd --site river-charter --format json
    """
    from .engine import load_repository
    from .render.config import RENDERERS, select

    repository = load_repository(repo)
    state = repository.desired()
    unknown = [d for d in districts if d not in state.districts]
    if unknown:
        raise click.BadParameter(
            f"{', '.join(map(repr, unknown))} (districts: {', '.join(sorted(state.districts))})",
            param_hint="--district",
        )
    click.echo(RENDERERS[fmt](state, select(state, districts, site)), nl=False)


@click.command()
def demo() -> None:
    """Run the whole loop on the example repository.

    Copies config-repo-example into a temporary git repository, starts the
    simulator of the live systems (`intcfg sim serve` on a free loopback port)
    and runs the real commands there, showing each command and its output:
    validate, test, render, plan, apply, a change made by hand, drift,
    reconcile and the audit log. Nothing outside the temporary directory is
    touched.

    Exit status: 0 every step behaved as shown, 1 a step did not.

    \b
    Examples:
      intcfg demo
    """
    from .demo import run

    code = run(lambda text: click.echo(text, nl=False))
    if code:
        raise SystemExit(code)


def register(group: click.Group) -> None:
    group.add_command(render)
    group.add_command(demo)
