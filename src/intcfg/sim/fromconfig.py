"""A simulator seed for a config repository: its districts, their sites as schools, and
sample students with the ids its mappings preview. Used for the embedded ``sim://``
(the live systems of a laptop demo know the districts of its config) and by tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def seed_from_config(documents: Iterable[Any]) -> dict[str, Any]:
    """The ``POST /_sim/seed`` body for the District and FieldMapping documents' data."""
    datas = [d for d in documents if isinstance(d, dict)]
    samples: dict[str, list[str]] = {}
    for data in datas:
        if data.get("kind") == "FieldMapping":
            ids = data.get("spec", {}).get("sampleStudents") or []
            samples.setdefault(data["metadata"]["district"], []).extend(str(i) for i in ids)
    districts = []
    for data in datas:
        if data.get("kind") != "District":
            continue
        spec, name = data["spec"], data["metadata"]["name"]
        districts.append(
            {
                "id": name,
                "name": spec.get("name", name),
                "timezone": spec.get("timezone", "UTC"),
                "schoolYearStart": spec.get("schoolYearStart", "07-01"),
                "importsEnabled": True,
                "schools": [
                    {
                        "id": s["id"],
                        "name": s.get("name", s["id"]),
                        "sisSchoolNumber": s.get("sisSchoolNumber") or "",
                        "stateSchoolCode": s.get("stateSchoolCode") or "",
                        "hasYearsAndTerms": True,
                    }
                    for s in spec.get("sites", [])
                ],
                "students": {"ids": list(dict.fromkeys(samples.get(name, [])))},
            }
        )
    return {"districts": districts}
