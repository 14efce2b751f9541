"""The resource models: one pydantic model per kind (imports pydantic; not on the hot path)."""

from __future__ import annotations

from pydantic import BaseModel

from .assessment import SiteOverride, StateAssessmentIntegration
from .district import District
from .etranscript import ETranscriptVendor
from .mapping import FieldMapping
from .schedule import Schedule
from .settings import Settings
from .sync import SyncConnection

KIND_MODELS: dict[str, type[BaseModel]] = {
    "District": District,
    "ETranscriptVendor": ETranscriptVendor,
    "StateAssessmentIntegration": StateAssessmentIntegration,
    "SiteOverride": SiteOverride,
    "SyncConnection": SyncConnection,
    "FieldMapping": FieldMapping,
    "Schedule": Schedule,
}

__all__ = ["KIND_MODELS", "Settings"]
