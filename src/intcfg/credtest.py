"""`intcfg test`: test every credential of the config with its vendor's real protocol.

The repository is validated first and an invalid one is refused (engine.InvalidConfig).
Then every secret the chosen credentials reference is resolved; a missing variable or
file is an error naming it and the file:line of the reference, before anything is sent.
The tests run concurrently: each eTranscript vendor, each ETS integration (All Sites and
each site of its own), each SIS sync connection, and the admin token of each live
system. ETS results carry the credential age warnings of the rotation policy.
Pure of click: returns a Report, renders nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NamedTuple

from .desired import Address, DesiredObject
from .errors import ConfigError, ProviderError, SecretError
from .log import phased
from .secrets import Secret, SecretResolver
from .vendors import aeries, etranscript, ets, oneroster, powerschool, skyward
from .vendors.base import ClientFactory, Part, VendorResult, default_factory

TESTED_KINDS = ("ETranscriptVendor", "StateAssessmentIntegration", "SyncConnection")
CONCURRENCY = 16


class Result(NamedTuple):
    address: Address
    ok: bool
    message: str
    code: str | None
    parts: tuple[Part, ...]
    location: str  # the resource (or site override) in the config, file:line:col
    warnings: tuple[str, ...] = ()


class LiveCheck(NamedTuple):
    system: str
    url: str
    ok: bool
    message: str


class Report(NamedTuple):
    results: tuple[Result, ...]
    live: tuple[LiveCheck, ...]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results) and all(c.ok for c in self.live)


Secrets = dict[str, Secret]  # dotted spec path -> value


@phased("test", "tested the credentials", lambda report: {
    "credentials": len(report.results), "failed": sum(1 for r in report.results if not r.ok)})
def execute(
    start: Path | None,
    districts: tuple[str, ...] = (),
    live: str | None = None,
    factory: ClientFactory = default_factory,
) -> Report:
    """Validate, resolve, test. Raises InvalidConfig, ConfigError or SecretError."""
    from .engine import load_repository

    repository = load_repository(start)
    state = repository.desired()
    objects = select(state.objects, districts, state.districts)
    resolved = resolve_all(repository.root, objects, _admin_token_problem(repository, live))
    return asyncio.run(_run(repository, objects, resolved, live, factory))


def _admin_token_problem(repository: Any, live: str | None) -> list[str]:
    """A running admin API needs its token: check it with the other secrets, up front."""
    from .providers.connect import admin_token

    if (live or repository.settings.live_url).startswith("sim://"):
        return []
    try:
        admin_token(repository, required=True)
    except SecretError as e:
        return [str(e)]
    return []


def select(
    objects: tuple[DesiredObject, ...], districts: tuple[str, ...], known: dict[str, Any]
) -> list[DesiredObject]:
    unknown = [d for d in districts if d not in known]
    if unknown:
        raise ConfigError(
            f"district {unknown[0]!r} is not defined (defined districts: "
            f"{', '.join(map(repr, sorted(known)))})"
        )
    return [
        o
        for o in objects
        if o.address.kind in TESTED_KINDS and (not districts or o.address.district in districts)
    ]


def _secret_refs(obj: DesiredObject) -> dict[str, dict[str, str]]:
    from .secrets import secret_paths

    out = {}
    for path in secret_paths(obj.address.kind):
        node: Any = obj.spec
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            out[".".join(path)] = node
    return out


def resolve_all(
    root: Path, objects: list[DesiredObject], problems: list[str] | None = None
) -> dict[Address, Secrets]:
    """Every secret the objects reference; SecretError listing every one that fails."""
    resolver = SecretResolver(root)
    out: dict[Address, Secrets] = {}
    problems = list(problems or [])
    for obj in objects:
        values: Secrets = {}
        for path, ref in _secret_refs(obj).items():
            try:
                values[path] = resolver.resolve(ref, lambda: obj.where(path))
            except SecretError as e:
                problems.append(str(e))
        out[obj.address] = values
    if problems:
        unique = list(dict.fromkeys(problems))
        raise SecretError(
            "\n".join(unique)
            if len(unique) == 1
            else "cannot resolve these secrets:\n  " + "\n  ".join(unique)
        )
    return out


async def _run(
    repository: Any,
    objects: list[DesiredObject],
    resolved: dict[Address, Secrets],
    live: str | None,
    factory: ClientFactory,
) -> Report:
    gate = asyncio.Semaphore(CONCURRENCY)
    warnings = _age_warnings(repository)

    async def one(obj: DesiredObject) -> Result:
        async with gate:
            outcome = await TESTS[obj.address.kind](obj.spec, resolved[obj.address], factory)
        return Result(
            obj.address,
            outcome.ok,
            outcome.message,
            outcome.code,
            outcome.parts,
            _location(obj),
            warnings.get(obj.address, ()),
        )

    districts = sorted({o.address.district for o in objects})
    results, checks = await asyncio.gather(
        asyncio.gather(*(one(o) for o in objects)), _live_checks(repository, live, districts)
    )
    return Report(tuple(results), tuple(checks))


def _location(obj: DesiredObject) -> str:
    """Where the credential is: its first secret reference (a site's own, for a site)."""
    paths = list(_secret_refs(obj)) or list(obj.provenance)
    where = obj.provenance.get(paths[0]) if paths else None
    return str(where) if where else str(obj.address)


# -- one test per kind ---------------------------------------------------------------------------


async def _etranscript(spec: dict[str, Any], s: Secrets, factory: ClientFactory) -> VendorResult:
    creds = etranscript.Credentials(
        spec["authServer"],
        spec["authPath"],
        spec["uploadServer"],
        spec["uploadPort"],
        spec["uploadPath"],
        spec["consumerKey"],
        s["consumerSecret"],
        spec["userName"],
        s["password"],
    )
    return await etranscript.check(creds, factory)


async def _ets(spec: dict[str, Any], s: Secrets, factory: ClientFactory) -> VendorResult:
    return await ets.check(
        ets.Credentials(spec["apiUrl"], spec["username"], s["secretKey"]), factory
    )


async def _connection(spec: dict[str, Any], s: Secrets, factory: ClientFactory) -> VendorResult:
    vendor = spec["vendor"]
    block = spec[vendor]
    if vendor == "powerschool":
        creds = powerschool.Credentials(
            block["serverUrl"], block["clientId"], s["powerschool.clientSecret"]
        )
        return await powerschool.check(creds, factory)
    if vendor == "aeries":
        ros = block["oneRoster"]
        one = oneroster.Credentials(
            ros["url"], ros["consumerId"], s["aeries.oneRoster.consumerSecret"]
        )
        return await aeries.check(
            aeries.Credentials(block["apiUrl"], s["aeries.certificate"], one), factory
        )
    creds_sky = skyward.Credentials(
        block["apiUrl"], block["consumerKey"], s["skyward.consumerSecret"], block.get("entityId", 1)
    )
    return await skyward.check(creds_sky, factory)


TESTS: dict[str, Callable[[dict[str, Any], Secrets, ClientFactory], Awaitable[VendorResult]]] = {
    "ETranscriptVendor": _etranscript,
    "StateAssessmentIntegration": _ets,
    "SyncConnection": _connection,
}


# -- credential age (the same policy validate and expiries apply) ----------------------------------


def _age_warnings(repository: Any) -> dict[Address, tuple[str, ...]]:
    from .expiries import collect
    from .validate.rules import today

    out: dict[Address, tuple[str, ...]] = {}
    now = today()
    for e in collect(repository.desired(), repository.settings, now):
        if e.status != "warning":
            continue
        address = Address("portal", e.district, "StateAssessmentIntegration", e.name, e.site)
        out[address] = (
            f"credentials rotated {e.rotated} expire on {e.due} ({e.days_left} days left, policy "
            f"{e.max_days} days): generate new ones in TOMS and update credentialsRotated",
        )
    return out


# -- the live systems' admin token -----------------------------------------------------------------


async def _live_checks(repository: Any, live: str | None, districts: list[str]) -> list[LiveCheck]:
    from .providers.connect import open_providers

    url = live or repository.settings.live_url
    try:
        async with open_providers(repository, live) as providers:
            return list(
                await asyncio.gather(*(_status(p, url, districts) for p in providers.values()))
            )
    except ProviderError as e:
        return [LiveCheck("live", url, False, str(e))]


async def _status(provider: Any, url: str, districts: list[str]) -> LiveCheck:
    try:
        status = await provider.status()
    except ProviderError as e:
        return LiveCheck(provider.system, url, False, str(e))
    unknown = [d for d in districts if d not in status.get("districts", [])]
    if unknown:
        return LiveCheck(
            provider.system,
            url,
            False,
            f"token accepted, but the system does not know district {unknown[0]!r}",
        )
    return LiveCheck(provider.system, url, True, "token accepted")
