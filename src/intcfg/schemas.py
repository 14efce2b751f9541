"""Find the published JSON Schemas (the files `intcfg schema` writes).

An installed wheel carries them as package data (``intcfg/schemas``); a source
checkout or editable install reads the repository's ``schemas/`` directly.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

KIND_FILES = {
    "District": "district.json",
    "ETranscriptVendor": "etranscript-vendor.json",
    "StateAssessmentIntegration": "state-assessment-integration.json",
    "SiteOverride": "site-override.json",
    "SyncConnection": "sync-connection.json",
    "FieldMapping": "field-mapping.json",
    "Schedule": "schedule.json",
}
KINDS = tuple(KIND_FILES)


def schema_dir() -> Path:
    here = Path(__file__).resolve().parent
    packaged = here / "schemas"
    return packaged if packaged.is_dir() else here.parents[1] / "schemas"


@cache
def load(file_name: str) -> dict[str, Any]:
    with open(schema_dir() / file_name, encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]
