"""The example repository's CI files and the commands they run (helpers for these tests)."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import Any

import yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "config-repo-example"
WORKFLOWS = EXAMPLE / ".github" / "workflows"
GITHUB_FILES = ("pull-request.yml", "reconcile.yml", "drift.yml")
GITLAB = EXAMPLE / ".gitlab-ci.yml"
K8S_JOB = EXAMPLE / "deploy" / "k8s-indexed-job.yaml"
BIN = Path(sys.executable).parent
# Shell operators that end one command and start the next.
SEPARATORS = {";", "&&", "||", "|", ">", ">>", "<", "2>", "then", "do", "if", "exec"}


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def workflow(name: str) -> dict[str, Any]:
    data = load(WORKFLOWS / name)
    # YAML 1.1 reads the key `on` as a boolean.
    data["on"] = data.pop(True)
    return data  # type: ignore[no-any-return]


def steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in data["jobs"].values() for step in job["steps"]]


def github_shell(name: str) -> list[str]:
    return [step["run"] for step in steps(workflow(name)) if "run" in step]


def github_scripts(name: str) -> list[str]:
    return [
        step["with"]["script"] for step in steps(workflow(name)) if "script" in step.get("with", {})
    ]


def gitlab_shell() -> list[str]:
    data = load(GITLAB)
    out = list(data.get("default", {}).get("before_script", []))
    for job in data.values():
        if isinstance(job, dict) and "script" in job:
            out.extend(job["script"])
    return out


def heredocs(shell: str, tag: str = "PY") -> list[str]:
    """The bodies of ``<<'TAG'`` here-documents in a shell script."""
    return re.findall(rf"<<'{tag}'\n(.*?)\n{tag}\n", shell, flags=re.S)


def k8s_job() -> dict[str, Any]:
    return load(K8S_JOB)  # type: ignore[no-any-return]


def k8s_shell() -> list[str]:
    """The shell scripts the Job's containers run (`sh -c SCRIPT`)."""
    containers = k8s_job()["spec"]["template"]["spec"]["containers"]
    return [c["args"][0] for c in containers if c.get("command", [])[-1:] == ["-c"]]


def _words(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    return list(lexer)


def intcfg_calls(shell: str) -> list[list[str]]:
    """Each `intcfg ...` command in a shell script: its words up to the next operator."""
    calls = []
    for line in shell.splitlines():
        if "intcfg " not in line or line.lstrip().startswith("#"):
            continue
        # Arithmetic and CI expressions stand for one value; a sample one is enough here.
        line = re.sub(r"\$\(\(.*?\)\)|\$\{\{.*?\}\}", "1", line)
        words = _words(line)
        for i, word in enumerate(words):
            if word == "intcfg" and (i == 0 or words[i - 1] in SEPARATORS):
                call = []
                for w in words[i + 1 :]:
                    if w in SEPARATORS:
                        break
                    call.append(w)
                calls.append(call)
    return calls
