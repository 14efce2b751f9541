"""Validate a config repository offline: load, schema, semantic rules -> Report.

Imports only PyYAML, jsonschema-rs and the standard library: this is what the
pre-commit hook runs on every commit.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import defaults
from ..errors import ConfigError
from ..findings import Finding, Report
from ..loader import Document, load_file
from ..repo import RepoSettings, discover, expand, find_root
from . import rules, schema


def _display(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _settings(root: Path | None) -> tuple[RepoSettings, list[Finding], Path | None]:
    if root is None:
        return RepoSettings(), [], None
    file = root / defaults.SETTINGS_FILE
    loaded = load_file(_display(file))
    findings = list(loaded.findings)
    data = loaded.documents[0].data if loaded.documents else None
    for doc in loaded.documents[:1]:
        findings.extend(schema.check_settings(doc))
    if len(loaded.documents) > 1:
        findings.append(
            Finding(loaded.documents[1].locate(()), "INTCFG-E222", "intcfg.yaml holds one document")
        )
    ok = not any(f.is_error for f in findings)
    return (RepoSettings.from_data(data) if ok else RepoSettings()), findings, file


def validate(paths: list[Path] | None = None, cwd: Path | None = None) -> Report:
    """Validate the repository around ``cwd`` (or the paths given), reporting every problem.

    With ``paths``, the whole repository still provides the context for references, but
    only findings in those files are reported.
    """
    start = paths[0] if paths else (cwd or Path.cwd())
    root = find_root(start if start.is_dir() else start.parent)
    settings, settings_findings, settings_file = _settings(root)
    findings: list[Finding] = []
    if paths:
        wanted = {p.resolve() for p in expand(paths, settings, root)}
        files = sorted(wanted | set(p.resolve() for p in discover(root, settings))) if root else sorted(wanted)
    else:
        if root is None:
            raise ConfigError(
                f"no {defaults.SETTINGS_FILE} in {start.resolve()} or above: run intcfg in a "
                "config repository, or name the files to validate"
            )
        files = discover(root, settings)
        wanted = None
    shown: set[str] = set()
    names = tuple(_display(f) for f in files)
    docs: list[Document] = []
    valid: list[Document] = []
    for name in names:
        loaded = load_file(name, settings.max_file_bytes)
        findings.extend(loaded.findings)
        for doc in loaded.documents:
            docs.append(doc)
            problems = schema.check_document(doc)
            findings.extend(problems)
            if not problems:
                valid.append(doc)
    findings.extend(rules.run(settings, valid, docs))
    if wanted is not None:
        shown = {_display(p) for p in wanted}
        findings = [f for f in findings if f.location.file in shown]
    findings.extend(settings_findings)
    shown_names = names if wanted is None else tuple(n for n in names if n in shown)
    return Report(tuple(sorted(set(findings))), len(shown_names), len(docs), shown_names)
