"""Validation reports in every format the CLI offers.

    text    for people (colour on a terminal, unless NO_COLOR)
    json    for tools; a versioned, documented shape (see README)
    github  workflow commands: inline annotations on a pull request
    sarif   SARIF 2.1.0 for code scanning
    junit   JUnit XML for CI test reports
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from typing import Any

from ..findings import Finding, Report
from ..ruleset import RULES

JSON_VERSION = 1
TOOL_URI = "https://intcfg.dev"

_COLOURS = {"error": "\033[31m", "warning": "\033[33m", "bold": "\033[1m", "dim": "\033[2m", "reset": "\033[0m"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(report: Report) -> str:
    counts = f"{_plural(report.errors(), 'error')}, {_plural(report.warnings(), 'warning')}"
    scope = f"{_plural(report.files, 'file')} ({_plural(report.documents, 'document')})"
    return f"{counts} in {scope}"


def text(report: Report, colour: bool = False, version: str = "") -> str:
    c = _COLOURS if colour else dict.fromkeys(_COLOURS, "")
    lines = [
        f"{c['bold']}{f.location}{c['reset']}: {c[f.severity]}{f.severity}{c['reset']} "
        f"{c['dim']}{f.rule}{c['reset']} {f.message}"
        for f in report.findings
    ]
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def _finding_json(f: Finding) -> dict[str, Any]:
    loc = f.location
    return {
        "file": loc.file,
        "line": loc.line,
        "column": loc.column,
        "endLine": loc.end_line,
        "endColumn": loc.end_column,
        "rule": f.rule,
        "severity": f.severity,
        "message": f.message,
        "jsonPath": f.json_path,
        "related": [{"file": r.file, "line": r.line, "column": r.column} for r in f.related],
    }


def as_json(report: Report, colour: bool = False, version: str = "") -> str:
    body = {
        "version": JSON_VERSION,
        "ok": report.ok(),
        "files": report.files,
        "documents": report.documents,
        "errors": report.errors(),
        "warnings": report.warnings(),
        "findings": [_finding_json(f) for f in report.findings],
    }
    return json.dumps(body, indent=2) + "\n"


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def github(report: Report, colour: bool = False, version: str = "") -> str:
    lines = []
    for f in report.findings:
        loc = f.location
        props = [f"file={_escape_property(loc.file)}", f"line={loc.line}", f"col={loc.column}"]
        if loc.end_line is not None and loc.end_column is not None:
            props += [f"endLine={loc.end_line}", f"endColumn={loc.end_column}"]
        props.append(f"title={_escape_property(f.rule)}")
        lines.append(f"::{f.severity} {','.join(props)}::{_escape_data(f.message)}")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def _artifact(file: str) -> dict[str, str]:
    # SARIF wants URI references: a file named "a b%.yaml" is "a%20b%25.yaml". Paths
    # outside the working directory are shown absolute, so they get a file: URI.
    path = file.replace("\\", "/")
    if path.startswith("/"):
        return {"uri": "file://" + urllib.parse.quote(path)}
    return {"uri": urllib.parse.quote(path), "uriBaseId": "%SRCROOT%"}


def sarif(report: Report, colour: bool = False, version: str = "") -> str:
    rule_ids = list(RULES)
    rules = [
        {
            "id": r.id,
            "name": r.id.replace("-", ""),
            "shortDescription": {"text": r.title},
            "defaultConfiguration": {"level": r.severity},
            "helpUri": f"{TOOL_URI}/rules#{r.id.lower()}",
        }
        for r in RULES.values()
    ]
    results = []
    for f in report.findings:
        loc = f.location
        region: dict[str, int] = {"startLine": loc.line, "startColumn": loc.column}
        if loc.end_line is not None and loc.end_column is not None:
            region.update(endLine=loc.end_line, endColumn=loc.end_column)
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": rule_ids.index(f.rule),
                "level": f.severity,
                "message": {"text": f.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": _artifact(loc.file),
                            "region": region,
                        }
                    }
                ],
            }
        )
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "intcfg",
                        "version": version or "0",
                        "informationUri": TOOL_URI,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def junit(report: Report, colour: bool = False, version: str = "") -> str:
    from xml.etree import ElementTree as ET

    by_file: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_file.setdefault(f.location.file, []).append(f)
    suites = ET.Element("testsuites", name="intcfg validate")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="intcfg validate",
        tests=str(len(set(report.file_names) | set(by_file))),
        failures=str(sum(1 for fs in by_file.values() if any(f.is_error for f in fs))),
        errors="0",
    )
    for file in sorted(set(report.file_names) | set(by_file)):
        found = by_file.get(file, [])
        case = ET.SubElement(suite, "testcase", classname="intcfg.validate", name=file)
        errors = [f for f in found if f.is_error]
        if errors:
            failure = ET.SubElement(case, "failure", message=f"{_plural(len(errors), 'error')}", type=errors[0].rule)
            failure.text = "\n".join(f"{f.location}: {f.rule} {f.message}" for f in errors)
        warnings = [f for f in found if not f.is_error]
        if warnings:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(f"{f.location}: {f.rule} {f.message}" for f in warnings)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


RENDERERS: dict[str, Callable[..., str]] = {
    "text": text,
    "json": as_json,
    "github": github,
    "sarif": sarif,
    "junit": junit,
}
