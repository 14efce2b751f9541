"""The portal's ETS score-letter integration: district-wide (site None) and per site."""

from __future__ import annotations

from typing import Any

from . import http
from .admin import AdminProvider, quote_part


class PortalProvider(AdminProvider):
    system = "portal"
    kinds = ("StateAssessmentIntegration",)

    async def integration_log(self, district: str) -> list[dict[str, Any]]:
        """Configured Integrations: each add, update and removal, oldest first."""
        url = f"{self.base()}/districts/{quote_part(district)}/integration-log"
        return await http.paginate(self.client, url, system=self.system, params={"limit": "500"})
