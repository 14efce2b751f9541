"""Options several commands share, spelt once."""

from __future__ import annotations

from pathlib import Path

import click

REPO = click.option(
    "-C",
    "--repo",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The config repository (default: the one containing the current directory).",
)
DISTRICTS = click.option(
    "--district", "districts", multiple=True, metavar="ID", help="Only this district (repeatable)."
)
