"""The enrollment system's sync service: connections, mappings, schedules, and the seed's
operations (bulk school assignment, preview, send a test record, run a schedule)."""

from __future__ import annotations

from typing import Any

from . import http
from .admin import AdminProvider, quote_part
from .base import LiveObject, live_object


class EnrollProvider(AdminProvider):
    system = "enroll"
    kinds = ("SyncConnection", "FieldMapping", "Schedule")

    async def assign_schools(
        self, district: str, connection: str, schools: list[str]
    ) -> LiveObject:
        """Bulk Action > Set Sync Connection: the schools move to this connection."""
        url = f"{self.path(district, 'SyncConnection', connection)}/assign-schools"
        # Setting the same schools again changes nothing: safe to retry.
        response = await self._send("POST", url, json={"schools": schools}, retry=True)
        self._fail(response)
        return live_object(self.system, http.json_body(response, self.system))

    async def test_record(self, district: str, mapping: str, student_id: str) -> dict[str, Any]:
        """Send a Test Record: the record as it would be imported or exported."""
        url = f"{self.path(district, 'FieldMapping', mapping)}/test-record"
        response = await self._send("POST", url, json={"studentId": student_id})
        self._fail(response)
        return dict(http.json_body(response, self.system))

    async def preview(
        self, district: str, mapping: str, student_ids: list[str] | None = None
    ) -> dict[str, Any]:
        """The Mapped Value column for up to five sample students (default: the mapping's)."""
        url = f"{self.path(district, 'FieldMapping', mapping)}/preview"
        body = {"studentIds": student_ids} if student_ids is not None else {}
        response = await self._send("POST", url, json=body, retry=True)
        self._fail(response)
        return dict(http.json_body(response, self.system))

    async def field_codes(self, district: str, kind: str) -> list[dict[str, str]]:
        """One Field Codes set: [{code, description}]."""
        url = f"{self.base()}/districts/{quote_part(district)}/field-codes/{quote_part(kind)}"
        response = await self._send("GET", url)
        self._fail(response)
        codes = http.json_body(response, self.system).get("codes")
        return [dict(c) for c in codes] if isinstance(codes, list) else []

    async def run_schedule(self, district: str, schedule: str) -> LiveObject:
        response = await self._send("POST", f"{self.path(district, 'Schedule', schedule)}/run")
        self._fail(response)
        return live_object(self.system, http.json_body(response, self.system))
