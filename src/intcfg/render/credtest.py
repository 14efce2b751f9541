"""`intcfg test` results as text (one line per credential, details below a failure) and
as JSON (a versioned shape for tools)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..credtest import LiveCheck, Report, Result

JSON_VERSION = 1
KIND_WORDS = {
    "ETranscriptVendor": "eTranscript vendor",
    "StateAssessmentIntegration": "ETS integration",
    "SyncConnection": "sync connection",
}
_COLOURS = {"ok": "\033[32m", "FAILED": "\033[31m", "warning": "\033[33m", "reset": "\033[0m"}


def scope(r: Result) -> str:
    a = r.address
    where = (
        f" ({a.site})"
        if a.site
        else (" (All Sites)" if a.kind == "StateAssessmentIntegration" else "")
    )
    return f"{a.district}: {KIND_WORDS[a.kind]} {a.name!r}{where}"


def _mark(word: str, colour: bool) -> str:
    padded = f"{word:<8}"
    return f"{_COLOURS[word]}{padded}{_COLOURS['reset']}" if colour else padded


def _result_lines(r: Result, colour: bool) -> list[str]:
    code = f"{r.code} " if r.code else ""
    lines = [f"{_mark('ok' if r.ok else 'FAILED', colour)}{scope(r)}: {code}{r.message}"]
    if not r.ok:
        lines += [f"        {p.name}: {p.message}" for p in r.parts if not p.ok]
        lines.append(f"        at {r.location}")
    lines += [f"{_mark('warning', colour)}{scope(r)}: {w}" for w in r.warnings]
    return lines


def _live_lines(c: LiveCheck, colour: bool) -> list[str]:
    return [
        f"{_mark('ok' if c.ok else 'FAILED', colour)}live {c.system} admin API ({c.url}): "
        f"{c.message}"
    ]


def summary(report: Report) -> str:
    n = len(report.results)
    failed = sum(1 for r in report.results if not r.ok)
    warnings = sum(len(r.warnings) for r in report.results)
    live_failed = sum(1 for c in report.live if not c.ok)
    parts = [f"{n} credential{'' if n == 1 else 's'} tested: {n - failed} valid, {failed} failed"]
    if warnings:
        parts.append(f"{warnings} expiring soon")
    if live_failed:
        parts.append(f"{live_failed} live system{'' if live_failed == 1 else 's'} failed")
    return "; ".join(parts)


def text(report: Report, colour: bool = False, quiet: bool = False) -> str:
    """One line per credential and live system, the summary last; ``quiet``: only the
    failures and warnings, without the summary."""
    lines: list[str] = []
    for r in sorted(report.results, key=lambda r: r.address.sort_key()):
        shown = _result_lines(r, colour)
        lines += shown[1:] if quiet and r.ok else shown
    for c in report.live:
        lines += [] if quiet and c.ok else _live_lines(c, colour)
    if not quiet:
        lines.append(summary(report))
    return "".join(line + "\n" for line in lines)


def _result_json(r: Result) -> dict[str, Any]:
    a = r.address
    return {
        "address": str(a),
        "district": a.district,
        "kind": a.kind,
        "name": a.name,
        "site": a.site,
        "ok": r.ok,
        "message": r.message,
        "code": r.code,
        "parts": [{"name": p.name, "ok": p.ok, "message": p.message} for p in r.parts],
        "warnings": list(r.warnings),
        "location": r.location,
    }


def as_json(report: Report, colour: bool = False, quiet: bool = False) -> str:
    data = {
        "version": JSON_VERSION,
        "ok": report.ok,
        "results": [
            _result_json(r) for r in sorted(report.results, key=lambda r: r.address.sort_key())
        ],
        "live": [
            {"system": c.system, "url": c.url, "ok": c.ok, "message": c.message}
            for c in report.live
        ],
        "summary": summary(report),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


RENDERERS: dict[str, Callable[..., str]] = {"text": text, "json": as_json}
