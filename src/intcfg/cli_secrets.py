"""`intcfg secrets-scan`: plaintext credentials in YAML files (the intcfg-secrets hook)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click


@click.command("secrets-scan")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def secrets_scan(paths: tuple[Path, ...]) -> None:
    """Find plaintext credentials in YAML files.

    Offline; never shows a value. Scans every field of every YAML file in PATHS
    (files, or directories: the YAML files below them; default: the config
    repository around the current directory, or the current directory): values
    under keys named like a secret that are not a reference ({env: NAME} or
    {file: PATH}), private key blocks, JWTs, AWS access keys, bearer tokens,
    credentials in URLs, hex keys (an Aeries certificate) and long high-entropy
    strings. Each hit names file:line:column and shows the value
    masked (its first two characters and its length). End a line with
    `# intcfg: allow-secret` to accept what is on it.

    Exit status: 0 none found, 1 found (or a file could not be read), 2 usage error.

    \b
    Examples:
      intcfg secrets-scan
      intcfg secrets-scan districts .github/workflows
    """
    from .repo import find_root
    from .secretscan import ALLOW_COMMENT, scan

    for path in paths:
        if not os.path.lexists(path):
            raise click.BadParameter(f"{str(path)!r} does not exist", param_hint="PATH")
    targets = list(paths) or [find_root(Path.cwd()) or Path.cwd()]
    result = scan(targets)
    for hit in result.hits:
        click.echo(str(hit))
    for problem in result.problems:
        click.echo(str(problem))
    if result.ok:
        click.echo(f"No plaintext credentials in {result.files} file{'' if result.files == 1 else 's'}.")
        return
    if result.hits:
        files = len({hit.file for hit in result.hits})
        click.echo(
            f"Found {len(result.hits)} plaintext credential{'' if len(result.hits) == 1 else 's'} in "
            f"{files} file{'' if files == 1 else 's'}: move each to a secret store and reference it "
            f"({{env: NAME}} or {{file: PATH}}), or end the line with '{ALLOW_COMMENT}' if it is no secret.",
            err=True,
        )
    sys.exit(1)


def register(group: click.Group) -> None:
    group.add_command(secrets_scan)
