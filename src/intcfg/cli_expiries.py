"""`intcfg expiries`: when each ETS credential must be rotated (offline)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from . import cli_options as options


def _load(repo: Path | None) -> Any:
    from .engine import load_repository
    from .expiries import EXPIRED_RULE

    return load_repository(repo, tolerate=frozenset({EXPIRED_RULE}))


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise click.FileError(str(path), hint=e.strerror or str(e)) from e


def _check_districts(districts: tuple[str, ...], known: dict[str, Any]) -> None:
    unknown = [d for d in districts if d not in known]
    if unknown:
        raise click.BadParameter(
            f"{', '.join(map(repr, unknown))} (districts: {', '.join(sorted(known))})",
            param_hint="--district",
        )


@click.command()
@click.option(
    "--within",
    type=click.IntRange(min=0),
    metavar="DAYS",
    help="Only credentials due within DAYS days (expired ones included).",
)
@click.option(
    "--ics",
    "ics",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Also write the credentials listed as an iCalendar file: an all-day event with "
    "an alarm on each warn date and on each due date.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@options.DISTRICTS
@options.REPO
def expiries(
    within: int | None, ics: Path | None, fmt: str, districts: tuple[str, ...], repo: Path | None
) -> None:
    """List ETS credentials by the date they must be rotated.

    Every district's StateAssessmentIntegration (All Sites) and every site
    override with its own credentialsRotated, with the rotation policy
    (warnDays/maxDays: the resource's rotationPolicy, else intcfg.yaml's policy
    for the district, else its default, else 80/90), the warn date, the due date
    (rotated + maxDays) and the days left. Sorted by due date. Offline: never
    resolves a secret. INTCFG_TODAY=YYYY-MM-DD fixes today.

    \b
    Exit status:
      0  no credential listed is expired or within its warning window
      1  a credential listed is expired or within its warning window (a nightly
         CI job fails early), or the configuration is invalid
      2  usage error

    \b
    Examples:
      intcfg expiries --within 14
      intcfg expiries --ics ets-credentials.ics
    """
    from . import __version__, output
    from .expiries import collect, desired_credentials, failing, select
    from .render.expiries import RENDERERS, calendar
    from .validate.rules import today

    repository = _load(repo)
    state = desired_credentials(repository.documents)
    _check_districts(districts, state.districts)
    now = today()
    listed = select(collect(state, repository.settings, now), districts, within)
    quiet = output.current().quiet
    if fmt == "text" and output.colour():
        from .render.tty import expiries as tty_expiries

        click.echo(tty_expiries(listed, now, within, quiet=quiet, width=output.width()), nl=False, color=True)
    else:
        click.echo(RENDERERS[fmt](listed, now, within, quiet=quiet), nl=False)
    if ics is not None:
        stamp = _midnight_utc(now)
        _write_atomically(ics, calendar(listed, stamp, __version__))
        output.note(f"Wrote {2 * len(listed)} events to {ics}", "expiries.ics", events=2 * len(listed), path=str(ics))
    if failing(listed):
        sys.exit(1)


def _midnight_utc(day: Any) -> Any:
    import datetime as dt

    # DTSTAMP: the same for every run on one day, so the file only changes with the data.
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


def register(group: click.Group) -> None:
    group.add_command(expiries)
