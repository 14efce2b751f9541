"""Fixtures shared by the whole suite. Area-specific fixtures live in each folder's conftest."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = REPO_ROOT / "config-repo-example"
# The example repository's credential dates are fixed; so is the suite's clock.
TODAY = "2026-11-22"
INTCFG = str(Path(sys.executable).with_name("intcfg"))


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTCFG_TODAY", TODAY)
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    """A private copy of config-repo-example (tests may change it)."""
    dest = tmp_path / "repo"
    shutil.copytree(EXAMPLE, dest)
    return dest


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a subprocess run of the CLI."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(INTCFG_TODAY=TODAY, **extra)
    return env


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with a test marked slow run first, each kept whole (for its module-scoped
    fixtures): xdist's work stealing then shares out short tests at the end, instead of one
    worker waiting while the other runs a long test it reached last."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)  # stable: the order within each group
