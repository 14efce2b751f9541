"""The scripts inside the CI files, run for real: the sticky plan comment and the drift
issue (GitHub's github-script under node with an in-memory API; GitLab's Python against
a loopback HTTP server), and the drift step's exit-code handling."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from ci_files import GITLAB, github_scripts, gitlab_shell, heredocs, load, steps, workflow

MARKER = "<!-- intcfg-plan -->"

# Runs a github-script body the way actions/github-script does (an async function of
# github, context, core, require), with an in-memory issues API that records writes.
HARNESS = r"""
const fs = require('fs');
const [scriptFile, stateFile] = process.argv.slice(2);
const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
const calls = [];
const record = (name) => async (params) => { calls.push([name, params]); return { data: {} }; };
const github = {
  paginate: async (method, params) => (await method(params)).data,
  rest: { issues: {
    listComments: async () => ({ data: state.comments || [] }),
    listForRepo: async (p) => ({ data: (state.issues || []).filter((i) =>
      (!p.labels || i.labels.map((l) => l.name).includes(p.labels)) &&
      (!p.creator || i.user.login === p.creator) && i.state === p.state) }),
    createComment: record('createComment'),
    updateComment: record('updateComment'),
    create: record('create'),
    update: record('update'),
  } },
};
const context = {
  repo: { owner: 'district-office', repo: 'config' },
  payload: { pull_request: { number: 7, head: { sha: '0123456789abcdef0123' } } },
  serverUrl: 'https://github.example', runId: 42,
};
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction('require', 'github', 'context', 'core', fs.readFileSync(scriptFile, 'utf8'))(
  require, github, context, {},
).then(() => process.stdout.write(JSON.stringify(calls)), (e) => { console.error(e); process.exit(1); });
"""

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def run_github_script(
    tmp_path: Path, script: str, state: dict[str, Any], files: dict[str, str], **env: str
) -> list[Any]:
    (tmp_path / "harness.js").write_text(HARNESS, encoding="utf-8")
    (tmp_path / "script.js").write_text(script, encoding="utf-8")
    (tmp_path / "state.json").write_text(json.dumps(state), encoding="utf-8")
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    proc = subprocess.run(
        ["node", "harness.js", "script.js", "state.json"],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def comment(id_: int, body: str, kind: str = "Bot") -> dict[str, Any]:
    return {
        "id": id_,
        "body": body,
        "user": {"type": kind, "login": "github-actions[bot]" if kind == "Bot" else "someone"},
    }


@needs_node
def test_plan_comment_is_created_once_then_updated(tmp_path: Path) -> None:
    (script,) = github_scripts("pull-request.yml")
    plan = {"plan.md": "Plan: 1 to create, 0 to update, 0 to delete, 5 unchanged\n"}
    calls = run_github_script(tmp_path, script, {"comments": [comment(1, "LGTM", "User")]}, plan)
    assert [name for name, _ in calls] == ["createComment"]
    body = calls[0][1]["body"]
    assert body == f"{MARKER}\n### intcfg plan for 0123456789ab\n\n{plan['plan.md']}"
    assert calls[0][1]["issue_number"] == 7
    existing = [
        comment(1, "LGTM", "User"),
        comment(5, f"{MARKER}\nold plan"),
        comment(9, f"{MARKER} quoted by a person", "User"),
    ]
    calls = run_github_script(tmp_path, script, {"comments": existing}, plan)
    assert [(name, params.get("comment_id")) for name, params in calls] == [("updateComment", 5)]


@needs_node
def test_a_huge_plan_is_truncated_below_githubs_limit(tmp_path: Path) -> None:
    (script,) = github_scripts("pull-request.yml")
    calls = run_github_script(tmp_path, script, {"comments": []}, {"plan.md": "x" * 200_000})
    body = calls[0][1]["body"]
    assert len(body) < 65_536
    assert body.endswith("… truncated; the full plan is in the job summary.")


def issue(
    number: int,
    labels: list[str],
    login: str = "github-actions[bot]",
    title: str = "intcfg: drift detected",
) -> dict[str, Any]:
    return {
        "number": number,
        "title": title,
        "state": "open",
        "labels": [{"name": n} for n in labels],
        "user": {"login": login},
    }


@needs_node
@pytest.mark.parametrize(
    ("issues", "expected"),
    [
        ([], [("create", None)]),
        ([issue(3, ["intcfg-drift"], login="someone")], [("update", 3)]),
        # The label was dropped when the issue was opened: it is still the same issue.
        ([issue(4, [])], [("update", 4)]),
        ([issue(5, ["intcfg-drift"], title="something else")], [("create", None)]),
    ],
)
def test_drift_issue_is_opened_once_and_updated(
    tmp_path: Path, issues: list[Any], expected: list[Any]
) -> None:
    (script,) = github_scripts("drift.yml")
    calls = run_github_script(
        tmp_path, script, {"issues": issues}, {"drift.md": "## Drift\n~ portal/x\n"}, DRIFT="2"
    )
    assert [(name, params.get("issue_number")) for name, params in calls] == expected
    params = calls[0][1]
    assert params["body"].endswith("## Drift\n~ portal/x\n")
    assert "https://github.example/district-office/config/actions/runs/42" in params["body"]
    if expected[0][0] == "create":
        assert (params["title"], params["labels"]) == ("intcfg: drift detected", ["intcfg-drift"])


@needs_node
def test_drift_issue_is_closed_when_the_drift_is_gone(tmp_path: Path) -> None:
    (script,) = github_scripts("drift.yml")
    calls = run_github_script(
        tmp_path, script, {"issues": [issue(3, ["intcfg-drift"])]}, {}, DRIFT="0"
    )
    assert [(name, params["issue_number"]) for name, params in calls] == [
        ("createComment", 3),
        ("update", 3),
    ]
    assert calls[1][1]["state"] == "closed"
    assert run_github_script(tmp_path, script, {"issues": []}, {}, DRIFT="0") == []


# -- the drift step's exit codes ------------------------------------------------------------------


def stub_intcfg(directory: Path, exit_code: int) -> Path:
    """An `intcfg` that writes a report to --out (or stdout) and exits with ``exit_code``."""
    directory.mkdir(exist_ok=True)
    stub = directory / "intcfg"
    stub.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "args = sys.argv[1:]\n"
        "text = '## ' + args[0] + ' report\\n'\n"
        "if '--out' in args:\n"
        "    open(args[args.index('--out') + 1], 'w').write(text)\n"
        "else:\n"
        "    sys.stdout.write(text)\n"
        f"sys.exit({exit_code})\n",
        encoding="utf-8",
    )
    stub.chmod(0o755)
    return directory


@pytest.mark.parametrize(
    ("code", "step_fails", "output"),
    [(0, False, "exit=0"), (2, False, "exit=2"), (1, True, "exit=1")],
)
def test_github_drift_step_passes_drift_on_and_fails_on_errors(
    tmp_path: Path, code: int, step_fails: bool, output: str
) -> None:
    (step,) = [s for s in steps(workflow("drift.yml")) if s.get("id") == "drift"]
    bin_dir = stub_intcfg(tmp_path / "bin", code)
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
    }
    # GitHub runs `shell: bash` steps as `bash --noprofile --norc -eo pipefail {0}`.
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (proc.returncode != 0) == step_fails
    assert (tmp_path / "output").read_text() == output + "\n"
    summary = tmp_path / "summary"
    assert (summary.read_text() if summary.exists() else "") == (
        "## drift report\n" if code == 2 else ""
    )


# -- GitLab's API calls, against a loopback server ------------------------------------------------


class FakeGitLab:
    """The few GitLab API endpoints the pipeline calls: MR notes and issues, paginated."""

    def __init__(self) -> None:
        self.notes: list[dict[str, Any]] = []
        self.issues: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, str | None]] = []
        self.per_page_cap = 100


def _handler(gitlab: FakeGitLab) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _handle(self, method: str) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            data = json.loads(self.rfile.read(length)) if length else None
            gitlab.requests.append((method, url.path, self.headers.get("PRIVATE-TOKEN")))
            if self.headers.get("PRIVATE-TOKEN") != "glpat-test":
                return self._reply(401, {"message": "401 Unauthorized"})
            parts = url.path.split("/")
            if "notes" in parts:
                return self._collection(method, gitlab.notes, parts, query, data, "id")
            if "issues" in parts:
                return self._collection(method, gitlab.issues, parts, query, data, "iid")
            return self._reply(404, {"message": "404 Not found"})

        def _collection(
            self,
            method: str,
            items: list[dict[str, Any]],
            parts: list[str],
            query: dict[str, str],
            data: Any,
            key: str,
        ) -> None:
            if method == "GET":
                chosen = [i for i in items if query.get("labels") in (None, *i.get("labels", []))]
                per_page = min(int(query.get("per_page", 20)), gitlab.per_page_cap)
                page = int(query.get("page", 1))
                window = chosen[(page - 1) * per_page : page * per_page]
                more = page * per_page < len(chosen)
                return self._reply(200, window, {"X-Next-Page": str(page + 1) if more else ""})
            if method == "POST":
                item = {**data, key: len(items) + 1}
                if isinstance(item.get("labels"), str):
                    item["labels"] = item["labels"].split(",")
                items.append(item)
                return self._reply(201, item)
            target = next(i for i in items if str(i[key]) == parts[-1])
            target.update(data)
            return self._reply(200, target)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._handle("PUT")

    return Handler


@pytest.fixture
def gitlab() -> Iterator[tuple[FakeGitLab, str]]:
    fake = FakeGitLab()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}/api/v4"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def run_gitlab_job(
    job: str, tmp_path: Path, api: str, exit_code: int, token: str | None = "glpat-test"
) -> subprocess.CompletedProcess[str]:
    script = "\n".join(str(line) for line in load(GITLAB)[job]["script"])
    bin_dir = stub_intcfg(tmp_path / "bin", exit_code)
    (bin_dir / "git").write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    (bin_dir / "git").chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CI_API_V4_URL": api,
        "CI_PROJECT_ID": "12",
        "CI_MERGE_REQUEST_PROJECT_ID": "12",
        "CI_MERGE_REQUEST_IID": "3",
        "CI_COMMIT_SHORT_SHA": "0123abcd",
        "CI_JOB_URL": "https://gitlab.example/jobs/99",
    }
    if token is not None:
        env["INTCFG_GITLAB_TOKEN"] = token
    # GitLab's runner runs a job's script lines in one shell that stops at the first failure.
    return subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_gitlab_plan_note_is_created_once_then_updated(
    tmp_path: Path, gitlab: tuple[FakeGitLab, str]
) -> None:
    fake, api = gitlab
    fake.per_page_cap = 2  # the marker note is found on a later page too
    fake.notes += [
        {"id": 1, "body": "first"},
        {"id": 2, "body": "second"},
        {"id": 3, "body": "third"},
    ]
    for _ in range(2):
        proc = run_gitlab_job("plan", tmp_path, api, 0)
        assert proc.returncode == 0, proc.stderr
    plans = [n for n in fake.notes if n["body"].startswith(MARKER)]
    assert plans == [
        {"id": 4, "body": f"{MARKER}\n### intcfg plan for 0123abcd\n\n## plan report\n"}
    ]
    assert [m for m, path, _ in fake.requests] == ["GET", "GET", "POST", "GET", "GET", "PUT"]
    assert fake.requests[-1][1] == "/api/v4/projects/12/merge_requests/3/notes/4"


def test_gitlab_plan_without_a_token_posts_nothing_and_passes(
    tmp_path: Path, gitlab: tuple[FakeGitLab, str]
) -> None:
    fake, api = gitlab
    proc = run_gitlab_job("plan", tmp_path, api, 0, token=None)
    assert proc.returncode == 0, proc.stderr
    assert "INTCFG_GITLAB_TOKEN is not set" in proc.stdout
    assert fake.requests == []


def test_gitlab_drift_opens_then_updates_one_issue_and_fails(
    tmp_path: Path, gitlab: tuple[FakeGitLab, str]
) -> None:
    fake, api = gitlab
    fake.issues.append(
        {
            "iid": 1,
            "title": "intcfg: drift detected",
            "labels": ["other"],
            "description": "not ours",
        }
    )
    for _ in range(2):
        proc = run_gitlab_job("drift", tmp_path, api, 2)
        assert proc.returncode == 2, proc.stderr
    ours = [i for i in fake.issues if "intcfg-drift" in i["labels"]]
    assert len(ours) == 1
    assert ours[0]["title"] == "intcfg: drift detected"
    assert ours[0]["description"].endswith(
        "Last checked: https://gitlab.example/jobs/99\n\n## drift report\n"
    )


@pytest.mark.parametrize("code", [0, 1])
def test_gitlab_drift_without_drift_touches_no_issue(
    tmp_path: Path, gitlab: tuple[FakeGitLab, str], code: int
) -> None:
    fake, api = gitlab
    proc = run_gitlab_job("drift", tmp_path, api, code)
    assert proc.returncode == code
    assert fake.requests == []


def test_gitlab_scripts_are_here_documents_of_the_jobs() -> None:
    assert [len(heredocs(str(line))) for line in gitlab_shell() if "<<'PY'" in str(line)] == [1, 1]
