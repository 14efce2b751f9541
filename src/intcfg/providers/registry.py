"""The providers by live system (see base.Provider)."""

from __future__ import annotations

from .admin import AdminProvider
from .enroll import EnrollProvider
from .portal import PortalProvider
from .sis import SisProvider

PROVIDERS: dict[str, type[AdminProvider]] = {
    "sis": SisProvider,
    "portal": PortalProvider,
    "enroll": EnrollProvider,
}
