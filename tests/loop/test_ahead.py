"""An apply makes part of its writes and of its audit record while the reads go on (each
district as it is compared): where each spec's secrets are, the plan's digest, the text of
the record's plan changes. What it sends and records is what it would make after the
reads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from loopkit import (  # noqa: F401 - server_fixture, rig_fixture: fixtures
    AUDIT,
    Rig,
    assert_live_matches,
    audit_log,
    canaries,
    git,
    rig_fixture,
    run_in_process,
    server_fixture,
)

from intcfg import apply, audit, journal, plan
from intcfg.jsonout import Made


def test_an_apply_sends_and_records_what_it_made_while_reading(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Any] = []
    walked: list[Any] = []
    record_made, paths = audit.RecordAhead.made, apply.secret_paths

    def spying(self: audit.RecordAhead, record: dict[str, Any]) -> dict[str, Any]:
        made.append(record_made(self, record)["plan"]["changes"])
        return record_made(self, record)

    monkeypatch.setattr(audit.RecordAhead, "made", spying)
    digests: list[str | None] = []
    hashed = plan._Hashed.digest
    monkeypatch.setattr(plan._Hashed, "digest", lambda self, *a: digests.append(hashed(self, *a)) or digests[-1])
    monkeypatch.setattr(apply, "secret_paths", lambda spec: walked.append(spec) or paths(spec))
    walked_before_writes: list[int] = []
    write_journal = journal.write
    monkeypatch.setattr(journal, "write", lambda *a: walked_before_writes.append(len(walked)) or write_journal(*a))
    before = run_in_process(rig.repo, "plan", "--format", "json", "--live", rig.sim.url)
    result = run_in_process(rig.repo, "apply", "--auto-approve", "--live", rig.sim.url)
    assert result.code == 0, result.out + result.err

    [commit] = audit_log(rig.repo)
    [changes] = made
    assert digests[-1] == commit.record["plan"]["digest"]  # hashed district by district as they were compared
    assert isinstance(changes, Made) and len(changes.runs) == len({c["district"] for c in commit.record["plan"]["changes"]})
    planned = json.loads(before.out)
    assert commit.record["plan"] == {**planned, "inputs": {**planned["inputs"], "state": "none"}}
    name = git(rig.repo.root, "ls-tree", "--name-only", AUDIT, "records/").strip()
    text = git(rig.repo.root, "show", f"{AUDIT}:{name}")
    assert text == json.dumps(commit.record, indent=2, sort_keys=True) + "\n"
    for value in canaries(rig.repo.root).values():
        assert value not in text
    # Each spec written was walked for its secrets once (as its district was compared), and
    # the live systems hold every spec with its secrets set.
    writes = sum(1 for r in commit.record["results"] if r["action"] in ("create", "update"))
    assert walked_before_writes[0] == len(walked) == writes and all(r["outcome"] == "ok" for r in commit.record["results"])
    assert_live_matches(rig.repo, rig.sim.objects(), set())
