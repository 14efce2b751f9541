"""Defaults shared by the settings model and the fast settings reader."""

from __future__ import annotations

INCLUDE = ("**/*.yaml", "**/*.yml")
MAX_FILE_BYTES = 1_048_576
AUDIT_BRANCH = "intcfg/audit"
LIVE_URL = "sim://"
# ETS requires new credentials every 90 days; warn ten days before.
WARN_DAYS = 80
MAX_DAYS = 90
SETTINGS_FILE = "intcfg.yaml"
# The Sync Service previews at most five sample students.
MAX_SAMPLE_STUDENTS = 5
