"""The SIS's eTranscript electronic release configuration."""

from __future__ import annotations

from .admin import AdminProvider


class SisProvider(AdminProvider):
    system = "sis"
    kinds = ("ETranscriptVendor",)
