"""Findings are data: validation collects them for every file and every problem.

NamedTuples rather than dataclasses: this module is on the pre-commit hook's start-up
path, where creating dataclasses costs about 10 ms.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from .location import Location

Severity = Literal["error", "warning"]


class Finding(NamedTuple):
    location: Location
    rule: str
    message: str
    severity: Severity = "error"
    json_path: str = "$"
    related: tuple[Location, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class Report(NamedTuple):
    findings: tuple[Finding, ...]
    files: int
    documents: int
    file_names: tuple[str, ...] = ()

    def errors(self) -> int:
        return sum(1 for f in self.findings if f.is_error)

    def warnings(self) -> int:
        return len(self.findings) - self.errors()

    def ok(self, strict: bool = False) -> bool:
        return not self.findings if strict else self.errors() == 0
