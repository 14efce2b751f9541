"""Helpers of the mapping tests: livekit (tests/live) made importable from this folder."""

from __future__ import annotations

import sys
from pathlib import Path

_LIVE = str(Path(__file__).resolve().parents[1] / "live")
if _LIVE not in sys.path:
    sys.path.append(_LIVE)

from livekit import (  # noqa: E402
    ADMIN_TOKEN,
    EXAMPLE,
    LiveRepo,
    Sim,
    applied_repo,
    assert_no_canary,
    git,
    intcfg,
    live_repo,
    shared_sim_fixture,
    sim_fixture,
    start_sim,
    stop_sim,
)


__all__ = [
    "applied_repo",
    "git",
    "ADMIN_TOKEN",
    "EXAMPLE",
    "LiveRepo",
    "Sim",
    "assert_no_canary",
    "intcfg",
    "live_repo",
    "shared_sim_fixture",
    "sim_fixture",
    "start_sim",
    "stop_sim",
]
