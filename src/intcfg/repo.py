"""The config repository: its root (where intcfg.yaml is), its settings and its files."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from . import defaults
from .errors import ConfigError


class RepoSettings(NamedTuple):
    """The parts of intcfg.yaml the offline commands need, read without pydantic."""

    include: tuple[str, ...] = defaults.INCLUDE
    exclude: tuple[str, ...] = ()
    max_file_bytes: int = defaults.MAX_FILE_BYTES
    warn_days: int = defaults.WARN_DAYS
    max_days: int = defaults.MAX_DAYS
    district_policies: dict[str, tuple[int, int]] = {}  # noqa: RUF012 - never mutated
    raw: dict[str, Any] = {}  # noqa: RUF012

    @classmethod
    def from_data(cls, data: Any) -> RepoSettings:
        if not isinstance(data, dict):
            return cls()
        policies = _dig(data, "policies", "credentialAge")
        default = _dig(policies, "default")
        districts = _dig(policies, "districts")
        return cls(
            include=_patterns(data.get("include"), defaults.INCLUDE),
            exclude=_patterns(data.get("exclude"), ()),
            max_file_bytes=_int(_dig(data, "limits").get("maxFileBytes"), defaults.MAX_FILE_BYTES),
            warn_days=_int(default.get("warnDays"), defaults.WARN_DAYS),
            max_days=_int(default.get("maxDays"), defaults.MAX_DAYS),
            district_policies={
                name: (_int(p.get("warnDays"), defaults.WARN_DAYS), _int(p.get("maxDays"), defaults.MAX_DAYS))
                for name, p in districts.items()
                if isinstance(p, dict)
            },
            raw=data,
        )

    def rotation_policy(self, district: str) -> tuple[int, int]:
        return self.district_policies.get(district, (self.warn_days, self.max_days))

    @property
    def audit_branch(self) -> str:
        return str(_dig(self.raw, "audit").get("branch") or defaults.AUDIT_BRANCH)

    @property
    def live_url(self) -> str:
        return str(_dig(self.raw, "live").get("url") or defaults.LIVE_URL)

    @property
    def live_token(self) -> dict[str, str] | None:
        token = _dig(self.raw, "live").get("token")
        return token if isinstance(token, dict) else None

    @property
    def safety(self) -> dict[str, Any]:
        return _dig(self.raw, "safety")


def _dig(data: Any, *keys: str) -> dict[str, Any]:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def _patterns(value: Any, fallback: tuple[str, ...]) -> tuple[str, ...]:
    # Commands that read the settings without validating them (fmt) must not trip over
    # `include: 5`; validate reports it.
    if isinstance(value, list) and value and all(isinstance(p, str) for p in value):
        return tuple(value)
    return fallback


def _int(value: Any, fallback: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else fallback


def find_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding intcfg.yaml."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / defaults.SETTINGS_FILE).is_file():
            return candidate
    return None


@cache
def _glob_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def matches(relative: str, patterns: tuple[str, ...]) -> bool:
    return any(_glob_regex(p).match(relative) for p in patterns)


def discover(root: Path, settings: RepoSettings) -> list[Path]:
    """Config files under ``root``: included, not excluded, not hidden, not intcfg.yaml."""
    return list(walk(root, settings))


def walk(root: Path, settings: RepoSettings) -> Iterator[Path]:
    """``discover``'s files one at a time, in its order (the read-ahead child guesses
    districts from the first files while the walk goes on)."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
            if rel == defaults.SETTINGS_FILE:
                continue
            if matches(rel, settings.include) and not matches(rel, settings.exclude):
                yield Path(dirpath) / name


def expand(paths: list[Path], settings: RepoSettings, root: Path | None) -> list[Path]:
    """Files named by the user: files as given, directories searched like the repository."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir() and root is not None:
            # include/exclude are relative to the repository root, not to the folder named.
            inside = path.resolve()
            out.extend(f for f in discover(root, settings) if inside == f.parent or inside in f.parents)
        elif path.is_dir():
            out.extend(discover(path, settings))
        elif path.exists():
            out.append(path)
        else:
            raise ConfigError(f"{path}: no such file or directory")
    return out
