"""`intcfg test` (credential tests) and `intcfg sim serve` (the simulator as a server).

Registered on the `intcfg` group (see cli.COMMAND_MODULES); heavy imports happen inside
the commands.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import cli_options as options

ADMIN_TOKEN_ENV = "INTCFG_ADMIN_TOKEN"


@click.command("test")
@options.DISTRICTS
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--live", metavar="URL", help="The live systems' URL (default: live.url in intcfg.yaml)."
)
@options.REPO
def test_command(districts: tuple[str, ...], fmt: str, live: str | None, repo: Path | None) -> None:
    """Test every credential with its vendor's real protocol.

    eTranscript vendors (OAuth, upload server), ETS integrations for All Sites and for
    each site with its own credentials (ETS001/ETS002), SIS sync connections (which
    part failed: token, certificate, OneRoster), and the live systems' admin token.
    Validates first and refuses an invalid repository. Secrets are resolved from their
    references and never shown.

    Exit status: 0 all valid (expiring-soon warnings allowed), 1 any failed.

    \b
    Examples:
      intcfg test
      intcfg test --district riverside-usd --format json
      intcfg test --live http://127.0.0.1:8787
    """
    from . import output
    from .credtest import execute
    from .render.credtest import RENDERERS

    report = execute(repo, districts, live)
    quiet = output.current().quiet
    if fmt == "text" and output.colour():
        from .render.tty import credtest

        click.echo(credtest(report, quiet=quiet, width=output.width()), nl=False, color=True)
    else:
        click.echo(RENDERERS[fmt](report, quiet=quiet), nl=False)
    sys.exit(0 if report.ok else 1)


@click.group("sim")
def sim_group() -> None:
    """Simulate the live systems and the vendors' endpoints.

    The admin APIs of the SIS, the parent/student portal and the enrollment
    system (openapi/*.yaml), and the vendors' credential endpoints (eTranscript,
    ETS, PowerSchool, Aeries, OneRoster, Skyward), for laptops, demos and tests.
    `sim://` as live.url runs the same simulator inside each command instead.

    \b
    Examples:
      INTCFG_ADMIN_TOKEN=dev-token intcfg sim serve
      intcfg sim serve --port 0 --error-rate 0.1 --seed 7
    """


@sim_group.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (loopback unless --allow-remote).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8787,
    show_default=True,
    help="0 picks a free port.",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default=str(Path(".intcfg") / "sim.sqlite3"),
    show_default=True,
    help="SQLite file holding the state (:memory: for none); it survives restarts.",
)
@click.option(
    "--latency-ms",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Answer each request no sooner than this after it arrived (the simulator's own work included).",
)
@click.option(
    "--error-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of requests answered 500/502/503.",
)
@click.option(
    "--rate-limit-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share answered 429 with Retry-After.",
)
@click.option(
    "--timeout-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share held until the client times out.",
)
@click.option(
    "--timeout-seconds",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="How long a timeout fault holds.",
)
@click.option(
    "--retry-after",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Retry-After seconds of a 429.",
)
@click.option(
    "--seed", type=int, default=None, help="Seed of the fault sequence (reproducible runs)."
)
@click.option(
    "--admin-token-env",
    default=ADMIN_TOKEN_ENV,
    show_default=True,
    metavar="NAME",
    help="Environment variable holding the admin token clients must send.",
)
@click.option(
    "--allow-remote", is_flag=True, help="Allow a non-loopback --host (the simulator has no TLS)."
)
def serve_command(
    host: str,
    port: int,
    db: str,
    latency_ms: int,
    error_rate: float,
    rate_limit_rate: float,
    timeout_rate: float,
    timeout_seconds: float,
    retry_after: int,
    seed: int | None,
    admin_token_env: str,
    allow_remote: bool,
) -> None:
    """Serve the simulator over HTTP until interrupted.

    A starlette application under uvicorn, on loopback. Admin API under /sis, /portal,
    /enroll (admin/v1, bearer token); vendor endpoints under /vendors/VENDOR/INSTANCE;
    control under /_sim (state, stats, reset, faults, seed, run-schedules). Prints the
    URL once it listens. The admin token clients must send is read from
    INTCFG_ADMIN_TOKEN (or the variable --admin-token-env names).

    \b
    Examples:
      intcfg sim serve
      intcfg sim serve --port 0 --db :memory:
      intcfg sim serve --latency-ms 20 --error-rate 0.1 --rate-limit-rate 0.05 --seed 7
    """
    from .errors import ConfigError
    from .providers.http import is_loopback
    from .sim.app import create_app
    from .sim.faults import Faults
    from .sim.server import bind, serve

    if not is_loopback(host) and not allow_remote:
        raise click.UsageError(
            f"refusing to listen on {host!r}: the simulator is for loopback use; "
            "pass --allow-remote to listen on another address"
        )
    token = os.environ.get(admin_token_env)
    if not token:
        raise ConfigError(
            f"environment variable {admin_token_env!r} is not set: set it to the admin token "
            "clients "
            "will send (or name another variable with --admin-token-env)"
        )
    try:
        faults = Faults(
            latency_ms,
            error_rate,
            rate_limit_rate,
            timeout_rate,
            timeout_seconds,
            retry_after,
            seed,
        )
        faults.validate()
    except ValueError as e:
        raise click.UsageError(str(e)) from e
    try:
        sock = bind(host, port)
    except OSError as e:
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e
    app = create_app(db, admin_token=token, faults=faults)
    try:
        serve(
            app,
            sock,
            lambda url: click.echo(
                f"intcfg simulator listening on {url} (state: {db}; admin token from "
                f"${admin_token_env})"
            ),
        )
    finally:
        app.state.store.close()


def register(group: click.Group) -> None:
    """Add this module's commands to ``group``."""
    group.add_command(test_command)
    group.add_command(sim_group)
