"""The apply journal: what a run is about to change in the live systems, written before
its first write and removed once its audit commit is made (and, with ``--push``, pushed).

A run that dies in between (killed, out of memory, the machine stopped), that cannot write
its audit commit (a full disk) or whose audit push the remote refuses leaves its entry
behind, and the next apply on this clone records it in its audit commit as
``interrupted``. Without it a write of a dead run that a later change undid before any
run looked (created by one interrupted run, deleted by the next) would be in no record.
What each interrupted change came to is what the live systems show: the next commit
records it as recovered or applies it again.

The file lives in the git directory, beside the lock: never committed, never pushed. A
CI job that dies with its clone takes its entry with it. Plain data, no secrets (the
plan's changes by address and action).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from .errors import AuditError
from .jsonout import pretty_bytes

FORMAT = "intcfg-journal"
VERSION = 1
NAME = "intcfg-journal.json"


def path(git_dir: Path) -> Path:
    return git_dir / NAME


def entry(run: str, plan: Any, actor: str, now: dt.datetime) -> dict[str, Any]:
    """A run's entry: who, when, from which commit, and each change it is about to send."""
    return {
        "run": run,
        "at": now.isoformat(),
        "actor": actor,
        "sourceCommit": plan.inputs.source_commit,
        "planDigest": plan.digest(),
        "changes": [{"address": str(c.address), "action": c.action} for c in plan.changes if c.is_change],
    }


def read(git_dir: Path) -> list[dict[str, Any]]:
    """The entries left by runs that never cleared them, oldest first."""
    where = path(git_dir)
    try:
        text = where.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    try:
        body = json.loads(text)
        runs = body["runs"]
        if body.get("format") != FORMAT or body.get("version") != VERSION or not isinstance(runs, list):
            raise ValueError("not an intcfg journal")
        if not all(isinstance(r, dict) and isinstance(r.get("run"), str) for r in runs):
            raise ValueError("a run without an id")
    except (ValueError, KeyError, TypeError) as e:
        raise AuditError(
            f"{where} is unreadable ({e}); it lists what an interrupted apply was changing: "
            "read it, then remove it"
        ) from e
    return runs


def write(git_dir: Path, runs: list[dict[str, Any]]) -> None:
    """Replace the journal atomically and durably: a crash leaves the old one or the new one."""
    where = path(git_dir)
    tmp = where.with_name(NAME + ".tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(pretty_bytes({"format": FORMAT, "version": VERSION, "runs": runs}, sort_keys=True) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, where)
    except OSError as e:  # a full disk or a quota: no live system has been written yet
        tmp.unlink(missing_ok=True)
        raise AuditError(
            f"could not write the apply journal {where} ({e.strerror or type(e).__name__}); "
            "nothing was changed in the live systems: fix that, then apply again"
        ) from e


def clear(git_dir: Path) -> None:
    path(git_dir).unlink(missing_ok=True)
