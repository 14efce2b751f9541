"""Connecting to the live systems named by a live URL.

- ``http(s)://HOST[/PREFIX]``: a running admin API (``intcfg sim serve`` or a real one);
  the admin token comes from ``live.token`` in intcfg.yaml (default {env: INTCFG_ADMIN_TOKEN}).
- ``sim://`` (``.intcfg/sim.sqlite3`` under the repository) or ``sim://PATH``: the
  simulator in process through ``httpx.ASGITransport``, no port needed. Its admin token
  is the configured one when set, else the simulator's documented development token.
  It learns the repository's districts and schools the first time (a real live system
  knows them already).

``--live URL`` on a command overrides intcfg.yaml.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from .. import defaults
from ..errors import ConfigError, SecretError
from ..secrets import Secret, SecretResolver
from . import http
from .admin import AdminProvider
from .registry import PROVIDERS

SIM_SCHEME = "sim://"
SIM_BASE = "http://intcfg-sim.invalid"
DEFAULT_SIM_DB = Path(".intcfg") / "sim.sqlite3"
DEFAULT_TOKEN_REF = {"env": "INTCFG_ADMIN_TOKEN"}
CONNECTIONS = 64  # requests in flight to the live systems at most: apply's largest --parallelism


def sim_db(url: str, root: Path) -> str:
    """The SQLite file of a sim:// URL (relative paths are relative to the repository)."""
    rest = url[len(SIM_SCHEME) :]
    if rest == ":memory:":
        return rest
    path = Path(rest) if rest else DEFAULT_SIM_DB
    return str(path if path.is_absolute() else root / path)


def _token_place(root: Path) -> str:
    from ..loader import load_file

    loaded = load_file(str(root / defaults.SETTINGS_FILE))
    if not loaded.documents:
        return defaults.SETTINGS_FILE
    location = loaded.documents[0].locate(("live", "token"))
    return f"{defaults.SETTINGS_FILE}:{location.line}:{location.column}"


def admin_token(repository: Any, required: bool) -> Secret | None:
    """The admin token, resolved; None when not required and not available."""
    ref = repository.settings.live_token or DEFAULT_TOKEN_REF
    try:
        return SecretResolver(repository.root).resolve(ref, _token_place(repository.root))
    except SecretError:
        if required:
            raise
        return None


@contextlib.asynccontextmanager
async def open_providers(
    repository: Any, live: str | None = None, *, in_flight: int = CONNECTIONS, **client_options: Any
) -> AsyncIterator[dict[str, AdminProvider]]:
    """The three providers for ``live`` (default: the repository's live URL), sending at
    most ``in_flight`` requests at once, the three together, over http(s).

    They share one pool of that many connections, and the pool is what holds a request
    back: one that waits for a connection is built already (its client, retries and
    transport have had their say) and goes out the moment another's answer has arrived,
    not after that answer is parsed and the next request built. A caller that bounds its
    own jobs keeps more of them under way than this (reads.JOBS_UNDER_WAY), so that one
    always waits when a connection frees: at 8 in flight the reads of 10,000 objects
    kept 97% of their connections busy instead of 95%, and ended 5% sooner."""
    url = live or repository.settings.live_url
    if url.startswith(SIM_SCHEME):
        async with _simulated(repository, url, **client_options) as providers:
            yield providers
        return
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"live URL {url!r} is neither sim://[PATH] nor http(s)://HOST: fix live.url or --live"
        )
    token = admin_token(repository, required=True)
    network = _network(url, in_flight)
    clients = {
        system: http.build_client(url.rstrip("/") + "/", token=token, transport=network, cookies=False, **client_options)
        for system in PROVIDERS
    }
    try:
        yield {system: PROVIDERS[system](clients[system]) for system in PROVIDERS}
    finally:
        for client in clients.values():
            await client.aclose()  # each closes the shared pool; the first does it


def _network(url: str, connections: int) -> httpx.AsyncBaseTransport:
    """aiohttp under httpx (providers/aio.py says why), with at most ``connections``."""
    from .aio import AioTransport

    return AioTransport(verify=not http.is_loopback(httpx.URL(url).host), connections=max(1, connections))


@contextlib.asynccontextmanager
async def _simulated(
    repository: Any, url: str, **client_options: Any
) -> AsyncIterator[dict[str, AdminProvider]]:
    from ..sim import DEV_TOKEN
    from ..sim.app import create_app

    token = admin_token(repository, required=False) or Secret(DEV_TOKEN)
    app = create_app(sim_db(url, repository.root), admin_token=token.reveal())
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    clients = {
        system: http.build_client(SIM_BASE, token=token, transport=transport, cookies=False, **client_options)
        for system in PROVIDERS
    }
    try:
        await _teach_districts(clients["enroll"], repository, token)
        yield {system: PROVIDERS[system](clients[system]) for system in PROVIDERS}
    finally:
        for client in clients.values():
            await client.aclose()
        app.state.store.close()


async def _teach_districts(client: httpx.AsyncClient, repository: Any, token: Secret) -> None:
    from ..sim.fromconfig import seed_from_config

    status = http.raise_for_status(
        await http.send(client, "GET", "/enroll/admin/v1/status", system="sim"), "sim"
    )
    known = set(status.json().get("districts", []))
    seed = seed_from_config(d.data for d in repository.documents)
    missing = [d for d in seed["districts"] if d["id"] not in known]
    if missing:
        response = await http.send(
            client, "POST", "/_sim/seed", system="sim", json={"districts": missing}, retry=True
        )
        http.raise_for_status(response, "sim")
