"""The engine's façade: what the CLI calls. Each function returns values; none prints."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from . import defaults
from .desired import DesiredState, build
from .errors import ConfigError
from .findings import Report
from .loader import Document, load_file, load_text
from .repo import RepoSettings, discover, find_root
from .validate import validate


class InvalidConfig(ConfigError):
    """The repository does not validate; ``report`` has the findings."""

    def __init__(self, report: Report) -> None:
        n = report.errors()
        super().__init__(
            f"the configuration is invalid ({n} error{'' if n == 1 else 's'}); "
            "run `intcfg validate` for details"
        )
        self.report = report


class Repository(NamedTuple):
    root: Path
    settings: RepoSettings
    documents: list[Document]
    report: Report

    def desired(self) -> DesiredState:
        return build([d for d in self.documents if d.data.get("kind") in _RESOURCE_KINDS])


_RESOURCE_KINDS = {
    "District",
    "ETranscriptVendor",
    "StateAssessmentIntegration",
    "SiteOverride",
    "SyncConnection",
    "FieldMapping",
    "Schedule",
}


def load_repository(start: Path | None = None, tolerate: frozenset[str] = frozenset()) -> Repository:
    """The valid repository containing ``start``; raises InvalidConfig when it does not validate.

    Errors of the rules in ``tolerate`` do not count (``intcfg expiries`` must list
    expired credentials, which validate reports as errors).
    """
    start = (start or Path.cwd()).resolve()
    root = find_root(start)
    if root is None:
        raise ConfigError(f"no {defaults.SETTINGS_FILE} in {start} or above: run intcfg inside a config repository")
    report = validate(None, cwd=root) if start == root else validate([root])
    if any(f.is_error and f.rule not in tolerate for f in report.findings):
        raise InvalidConfig(report)
    settings_doc = load_file(str(root / defaults.SETTINGS_FILE))
    settings = RepoSettings.from_data(settings_doc.documents[0].data if settings_doc.documents else None)
    documents: list[Document] = []
    for path in discover(root, settings):
        # validate() has read these files already (size, encoding, syntax); here they are
        # named relative to the root, so provenance reads the same from any directory.
        text = path.read_text(encoding="utf-8-sig")
        documents.extend(load_text(path.relative_to(root).as_posix(), text).documents)
    return Repository(root, settings, documents, report)
