"""When each ETS credential must be rotated: pure, offline, never resolves a secret.

ETS (TOMS) credentials expire after a number of days set by the rotation policy. A
district's StateAssessmentIntegration holds the credentials for All Sites; a site
override that sets its own credentialsRotated holds the separate credentials of that
site's LEA. Sites that inherit the district's credentials are not listed again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal, NamedTuple

from .desired import DesiredObject, DesiredState, build
from .loader import Document
from .location import Location
from .repo import RepoSettings
from .validate.rules import rotation_policy

KIND = "StateAssessmentIntegration"
# validate reports expired credentials as this error; expiries must still list them.
EXPIRED_RULE = "INTCFG-E211"
ALL_SITES = "All Sites"

Status = Literal["ok", "warning", "expired"]


class Expiry(NamedTuple):
    district: str
    site: str | None  # None: the district-wide credentials (All Sites)
    name: str  # the StateAssessmentIntegration's name
    address: str
    rotated: dt.date
    warn_days: int
    max_days: int
    warn_on: dt.date
    due: dt.date
    days_left: int
    status: Status
    source: Location  # where credentialsRotated is set
    # The secret key's reference ({env: NAME} or {file: PATH}), never its value.
    secret: dict[str, str]

    @property
    def scope(self) -> str:
        return f"{self.district} ({self.site or ALL_SITES})"


def status(today: dt.date, warn_on: dt.date, due: dt.date) -> Status:
    """Same thresholds as validate: expired from the due date on, warning from the warn date."""
    if today >= due:
        return "expired"
    return "warning" if today >= warn_on else "ok"


def _expiry(obj: DesiredObject, settings: RepoSettings, today: dt.date) -> Expiry:
    spec, address = obj.spec, obj.address
    warn_days, max_days = rotation_policy(settings, address.district, spec)
    rotated = dt.date.fromisoformat(spec["credentialsRotated"])
    warn_on = rotated + dt.timedelta(days=warn_days)
    due = rotated + dt.timedelta(days=max_days)
    return Expiry(
        address.district,
        address.site,
        address.name,
        str(address),
        rotated,
        warn_days,
        max_days,
        warn_on,
        due,
        (due - today).days,
        status(today, warn_on, due),
        obj.provenance["credentialsRotated"],
        dict(spec["secretKey"]),
    )


def _own_credentials(obj: DesiredObject, bases: dict[tuple[str, str], DesiredObject]) -> bool:
    if obj.address.site is None:
        return True
    base = bases.get((obj.address.district, obj.address.name))
    # A site's credentialsRotated set anywhere but the base resource came from its override.
    return (
        base is None
        or obj.provenance["credentialsRotated"] != base.provenance["credentialsRotated"]
    )


def _needed(doc: Document) -> bool:
    kind = doc.data.get("kind")
    if kind == "SiteOverride":
        return bool(doc.data["spec"]["target"]["kind"] == KIND)
    return kind in ("District", KIND)


def desired_credentials(documents: Iterable[Document]) -> DesiredState:
    """The desired state of the districts and their ETS integrations only: normalising
    every other resource of a large repository would cost most of the command's time."""
    return build([d for d in documents if _needed(d)])


def collect(state: DesiredState, settings: RepoSettings, today: dt.date) -> list[Expiry]:
    """Every credential with a rotation date, sorted by due date (then district, site)."""
    ets = [o for o in state.objects if o.address.kind == KIND]
    bases = {(o.address.district, o.address.name): o for o in ets if o.address.site is None}
    found = [_expiry(o, settings, today) for o in ets if _own_credentials(o, bases)]
    return sorted(
        found, key=lambda e: (e.due, e.district, e.site is not None, e.site or "", e.name)
    )


def select(
    expiries: Iterable[Expiry], districts: Iterable[str] = (), within: int | None = None
) -> list[Expiry]:
    """Only the districts named (all when none) and those due within ``within`` days."""
    chosen = set(districts)
    return [
        e
        for e in expiries
        if (not chosen or e.district in chosen) and (within is None or e.days_left <= within)
    ]


def failing(expiries: Iterable[Expiry]) -> bool:
    """Whether any credential is expired or inside its warning window (exit status 1)."""
    return any(e.status != "ok" for e in expiries)
