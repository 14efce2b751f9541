from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from intcfg import audit
from intcfg.desired import Address
from intcfg.diff import Applied
from intcfg.errors import AuditError

BRANCH = "intcfg/audit"
ETS = Address("portal", "riverside-usd", "StateAssessmentIntegration", "ets")
SITE = ETS._replace(site="river-charter")
VENDOR = Address("sis", "lakeside-sd", "ETranscriptVendor", "parchment")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "config"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "intcfg.yaml").write_text("apiVersion: intcfg/v1\nkind: Settings\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "config")
    return root


def a_commit(state: dict[Address, Applied], subject: str = "intcfg apply: 1 created") -> audit.Commit:
    return audit.Commit(
        subject,
        "riverside-usd: 1 created",
        {"Intcfg-Source-Commit": "abc", "Intcfg-Plan-Digest": "sha256:00", "Intcfg-Result": "success", "Intcfg-Actor": "ci"},
        {"format": "intcfg-audit", "results": []},
        "20261122T101500Z-0123456789ab.json",
        state,
    )


def test_state_round_trips_and_the_worktree_is_untouched(repo: Path) -> None:
    state = {ETS: Applied("1", 1, {"username": "u"}), SITE: Applied("2", 3, {}), VENDOR: Applied("3", 1, {})}
    sha = audit.write(repo, BRANCH, None, a_commit(state))
    assert audit.read(repo, BRANCH) == audit.AuditHead(sha, state)
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    files = git(repo, "ls-tree", "-r", "--name-only", BRANCH).splitlines()
    assert files == [
        "records/20261122T101500Z-0123456789ab.json",
        "state/portal/riverside-usd.json",
        "state/sis/lakeside-sd.json",
    ]


def test_a_district_that_is_gone_loses_its_state_file(repo: Path) -> None:
    first = audit.write(repo, BRANCH, None, a_commit({ETS: Applied("1", 1, {}), VENDOR: Applied("3", 1, {})}))
    second = a_commit({ETS: Applied("1", 2, {})})._replace(record_name="20261122T101600Z-0123456789ab.json")
    audit.write(repo, BRANCH, first, second)
    assert audit.read(repo, BRANCH).state == {ETS: Applied("1", 2, {})}
    assert len(git(repo, "log", "--format=%H", BRANCH).splitlines()) == 2


def test_a_moved_branch_is_never_overwritten(repo: Path) -> None:
    first = audit.write(repo, BRANCH, None, a_commit({}))
    audit.write(repo, BRANCH, first, a_commit({ETS: Applied("1", 1, {})}))
    with pytest.raises(AuditError, match="moved while applying .* plan again"):
        audit.write(repo, BRANCH, first, a_commit({}))
    with pytest.raises(AuditError, match="moved while applying"):
        audit.write(repo, BRANCH, None, a_commit({}))


def test_trailers_and_subject_cannot_be_injected(repo: Path) -> None:
    evil = a_commit({})._replace(
        subject="apply\n\nIntcfg-Result: success",
        trailers={"Intcfg-Actor": "mallory\nIntcfg-Result: success", "Intcfg-Result": "failed"},
    )
    sha = audit.write(repo, BRANCH, None, evil)
    trailers = git(repo, "log", "-1", "--format=%(trailers:only,unfold)", sha).splitlines()
    assert trailers == ["Intcfg-Actor: mallory_Intcfg-Result: success", "Intcfg-Result: failed"]
    assert git(repo, "log", "-1", "--format=%s", sha) == "apply  Intcfg-Result: success"


def test_paths_cannot_escape_the_state_folder(repo: Path) -> None:
    bad = Address("portal", "../../etc", "StateAssessmentIntegration", "x")
    with pytest.raises(AuditError, match="refusing to use district"):
        audit.write(repo, BRANCH, None, a_commit({bad: Applied("1", 1, {})}))
    with pytest.raises(AuditError, match="refusing record name"):
        audit.write(repo, BRANCH, None, a_commit({})._replace(record_name="../x.json"))


def test_push_rejected_when_another_reconciler_pushed_first(repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    audit.write(other, BRANCH, None, a_commit({VENDOR: Applied("3", 1, {})}))
    audit.push(other, BRANCH)
    audit.write(repo, BRANCH, None, a_commit({ETS: Applied("1", 1, {})}))
    with pytest.raises(AuditError, match="rejected .* plan again"):
        audit.push(repo, BRANCH)


def test_fetch_brings_the_remote_state(repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    audit.write(other, BRANCH, None, a_commit({VENDOR: Applied("3", 1, {})}))
    audit.push(other, BRANCH)
    audit.fetch(repo, BRANCH)
    assert audit.read(repo, BRANCH).state == {VENDOR: Applied("3", 1, {})}


def test_lock_waits_then_fails_clearly_and_is_released_when_the_holder_dies(repo: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from pathlib import Path
            from intcfg import audit
            with audit.lock(Path({str(repo)!r}), 1):
                print("locked", flush=True)
                time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(AuditError, match="another intcfg apply holds the lock on this repository; waited 0.3s"):
            with audit.lock(repo, 0.3):
                pass
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    with audit.lock(repo, 5):
        pass


def test_record_is_json_with_sorted_keys(repo: Path) -> None:
    sha = audit.write(repo, BRANCH, None, a_commit({}))
    record = json.loads(git(repo, "show", f"{sha}:records/20261122T101500Z-0123456789ab.json"))
    assert record == {"format": "intcfg-audit", "results": []}


def test_a_record_whose_plan_was_made_ahead_is_the_same_text(repo: Path) -> None:
    def change(district: str, i: int) -> dict[str, Any]:
        return {"address": f"sis/{district}/Kind/n{i}", "district": district, "fields": [{"path": "x", "after": i}]}

    by_district = {d: [change(d, i) for i in range(n)] for d, n in (("b", 300), ("a", 450), ("c", 1))}
    changes = [c for d in sorted(by_district) for c in by_district[d]]
    record = {"format": "intcfg-audit", "plan": {"changes": changes, "digest": "x"}, "results": [{"outcome": "ok"}]}
    ahead = audit.RecordAhead()
    for made in by_district.values():  # districts come in any order
        ahead.add(made)
    ahead.add([])
    made = ahead.made(record)
    assert [type(run).__name__ for run in made["plan"]["changes"].runs] == ["Deflated"] * 3
    # Equal objects that are not those the runs were made of, or in another order: as usual.
    assert ahead.made({**record, "plan": {"changes": [dict(c) for c in changes]}})["plan"]["changes"] == changes
    assert ahead.made({**record, "plan": {"changes": changes[::-1]}})["plan"]["changes"] == changes[::-1]
    assert ahead.made({**record, "plan": {"changes": changes[:-1]}})["plan"]["changes"] == changes[:-1]
    assert ahead.made({**record, "plan": {"changes": [*changes, changes[0]]}})["plan"]["changes"][-1] is changes[0]
    sha = audit.write(repo, BRANCH, None, a_commit({})._replace(record=record, ahead=ahead))
    blob = git(repo, "show", f"{sha}:records/20261122T101500Z-0123456789ab.json")
    assert blob == json.dumps(record, indent=2, sort_keys=True)
    git(repo, "fsck", "--strict")


def _clones(tmp_path: Path) -> tuple[Path, Path]:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    seed = tmp_path / "seed"
    git(tmp_path, "init", "-q", "-b", "main", str(seed))
    git(seed, "commit", "-q", "--allow-empty", "-m", "config")
    git(seed, "push", "-q", str(remote), "main")
    a, b = tmp_path / "a", tmp_path / "b"
    git(tmp_path, "clone", "-q", str(remote), str(a))
    git(tmp_path, "clone", "-q", str(remote), str(b))
    return a, b


def test_the_lease_admits_one_reconciler_at_a_time(tmp_path: Path) -> None:
    a, b = _clones(tmp_path)
    held = audit.acquire_lease(a, "job-a", ttl=300, timeout=5)
    with pytest.raises(AuditError, match=r"another reconciler \(job-a\) holds the lease until .* UTC; waited 0s"):
        audit.acquire_lease(b, "job-b", ttl=300, timeout=0)
    audit.release_lease(a, held)
    taken = audit.acquire_lease(b, "job-b", ttl=300, timeout=5)
    assert taken.holder == "job-b"
    # A release by a former holder does not free someone else's lease.
    audit.release_lease(a, held)
    with pytest.raises(AuditError, match="job-b"):
        audit.acquire_lease(a, "job-a", ttl=300, timeout=0)


def test_an_expired_lease_is_taken_over(tmp_path: Path) -> None:
    a, b = _clones(tmp_path)
    audit.acquire_lease(a, "crashed-job", ttl=-1, timeout=5)
    assert audit.acquire_lease(b, "job-b", ttl=300, timeout=5).holder == "job-b"


def test_the_commits_are_those_git_fast_import_wrote_for_the_same_input(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commit ids pinned from the implementation that stored the blobs through git
    fast-import: the pack intcfg now writes itself must hold the very same objects, down
    to a record in several pieces (more results than a group), non-ASCII text, a state
    file left unchanged (not packed again) and one removed."""
    for variable in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.setenv(variable, "1795408328 +0000")
    state = {
        ETS: Applied("1", 1, {"username": "u", "note": "Café ☕ 𝄞"}),
        SITE: Applied("2", 3, {}),
        VENDOR: Applied("3", 1, {"port": 2**70}),
    }
    record = {
        "format": "intcfg-audit",
        "results": [{"address": f"sis/d{i}/ETranscriptVendor/v", "outcome": "ok", "revision": i} for i in range(450)],
        "plan": {"changes": [{"fields": [{"path": "name", "after": "é" * i}]} for i in range(250)]},
    }
    first = audit.write(repo, BRANCH, None, a_commit(state)._replace(record=record))
    del state[VENDOR]
    state[SITE] = Applied("2", 4, {})
    later = a_commit(state)._replace(record={"results": []}, record_name="20261122T101600Z-0123456789ab.json")
    second = audit.write(repo, BRANCH, first, later)
    assert (first, second) == ("c817da5fd6d336999d4cf30df62753b0a60f7e17", "4f488055d1419b7abb28b386a0b80688e728fd57")
    git(repo, "fsck", "--strict", "--no-dangling")


def test_the_audit_commits_git_processes_never_see_a_secret_of_the_environment(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import git as gitpython

    from intcfg.secrets import SecretResolver

    monkeypatch.setenv("INTCFG_TEST_CANARY_TOKEN", "canary-d41c")
    monkeypatch.setenv("INTCFG_TEST_PLAIN", "plain-value")
    SecretResolver(repo).resolve({"env": "INTCFG_TEST_CANARY_TOKEN"})
    seen: list[str] = []
    run = subprocess.run

    def spying(command: list[str], **kw: Any) -> Any:
        seen.append(str(kw.get("env")))
        return run(command, **kw)

    monkeypatch.setattr(subprocess, "run", spying)
    audit.write(repo, BRANCH, None, a_commit({ETS: Applied("1", 1, {})}))
    assert len(seen) >= 4  # update-index, write-tree, commit-tree, update-ref
    assert all("plain-value" in env and "canary-d41c" not in env for env in seen)
    # A git that shows its environment (an alias run by the shell) agrees.
    shown = audit._git(gitpython.Repo(repo), "-c", "alias.environment=!env", "environment")
    assert "INTCFG_TEST_PLAIN=plain-value" in shown.splitlines()
    assert "canary-d41c" not in shown
