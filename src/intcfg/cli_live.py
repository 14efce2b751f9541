"""Commands registered on the `intcfg` group (see cli.COMMAND_MODULES)."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Add this module's commands to ``group``."""
