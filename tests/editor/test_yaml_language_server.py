"""Editors: the real yaml-language-server, driven over LSP like an editor, reads the
example files' modelines and the checked-in schemas: it completes a kind's spec fields
and marks schema errors on the right line."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsp_client import LspClient, Message

from conftest import EXAMPLE, REPO_ROOT

pytestmark = pytest.mark.slow

# Installed once and reused: npm's own cache makes a reinstall cheap, this skips it.
CACHE = REPO_ROOT / ".venv" / "node"
PACKAGE = CACHE / "node_modules" / "yaml-language-server"
SERVER = PACKAGE / "bin" / "yaml-language-server"
INSTALL_TIMEOUT = 300
TIMEOUT = 30
SETTINGS = {
    "validate": True,
    "completion": True,
    "hover": True,
    "format": {"enable": False},
    # Offline: no schema catalogue from the network; the modelines name the schemas.
    "schemaStore": {"enable": False},
    "schemas": {(REPO_ROOT / "schemas" / "settings.json").as_uri(): ["intcfg.yaml"]},
    "yamlVersion": "1.2",
}


def _installed() -> bool:
    try:
        version = json.loads((PACKAGE / "package.json").read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        return False
    return SERVER.is_file() and version.startswith("1.")


@contextlib.contextmanager
def _install_lock() -> Iterator[None]:
    # pytest-xdist workers may all get here at once; one installs, the others wait.
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".install.lock", "w") as lock:
        deadline = time.monotonic() + INSTALL_TIMEOUT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"waited {INSTALL_TIMEOUT} s for another install of yaml-language-server"
                    )
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def server_command() -> list[str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run yaml-language-server (not installed)")
    with _install_lock():
        if not _installed():
            proc = subprocess.run(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(CACHE),
                    "yaml-language-server@1",
                    "--no-audit",
                    "--no-fund",
                ],
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
            )
            if proc.returncode != 0:
                pytest.skip(
                    f"npm could not install yaml-language-server@1: {proc.stderr.strip()[-500:]}"
                )
    assert _installed()
    return [node, str(SERVER), "--stdio"]


def _answer(message: Message) -> Any:
    if message["method"] == "workspace/configuration":
        return [
            SETTINGS if item.get("section") == "yaml" else None
            for item in message["params"]["items"]
        ]
    return None


@pytest.fixture(scope="module")
def lsp(server_command: list[str]) -> Iterator[LspClient]:
    client = LspClient(server_command, _answer, cwd=str(EXAMPLE))
    try:
        client.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": EXAMPLE.as_uri(),
                "capabilities": {
                    "workspace": {
                        "configuration": True,
                        "didChangeConfiguration": {"dynamicRegistration": False},
                    },
                    "textDocument": {
                        "completion": {"completionItem": {"snippetSupport": False}},
                        "publishDiagnostics": {"relatedInformation": False},
                    },
                },
                "initializationOptions": {},
            },
            timeout=TIMEOUT,
        )
        client.notify("initialized", {})
        client.notify("workspace/didChangeConfiguration", {"settings": {"yaml": SETTINGS}})
        yield client
    finally:
        client.close()


def open_document(lsp: LspClient, beside: Path, name: str, text: str) -> str:
    """Open ``text`` as an unsaved file next to ``beside``: its modeline resolves from there."""
    uri = (beside.parent / f"{name}.yaml").as_uri()
    lsp.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}},
    )
    return uri


def diagnostics(lsp: LspClient, uri: str, want: Any = None) -> list[dict[str, Any]]:
    """The diagnostics published for ``uri`` (the first list ``want`` accepts, if given)."""

    def accept(m: Message) -> bool:
        if m.get("method") != "textDocument/publishDiagnostics" or m["params"]["uri"] != uri:
            return False
        return want is None or bool(want(m["params"]["diagnostics"]))

    return lsp.wait_for(accept, TIMEOUT)["params"]["diagnostics"]  # type: ignore[no-any-return]


def labels(result: Any) -> set[str]:
    items = result["items"] if isinstance(result, dict) else result or []
    return {item["label"] for item in items}


def line_of(text: str, fragment: str) -> int:
    (index,) = [i for i, line in enumerate(text.splitlines()) if fragment in line]
    return index


ETS_KIND_SCHEMA = (
    EXAMPLE / "districts" / "hillcrest-isd" / "ets.yaml"
)  # $schema=.../state-assessment-integration.json
ETS_ANY_SCHEMA = EXAMPLE / "districts" / "riverside-usd" / "ets.yaml"  # $schema=.../any.json
ETRANSCRIPT = EXAMPLE / "districts" / "riverside-usd" / "etranscript.yaml"


def _spec_emptied(path: Path) -> str:
    text = path.read_text(encoding="utf-8").split("\n---", 1)[0]
    return text.split("\nspec:", 1)[0] + "\nspec:\n  \n"


@pytest.mark.parametrize(
    "path", [ETS_KIND_SCHEMA, ETS_ANY_SCHEMA], ids=["kind-schema", "any-schema"]
)
def test_completion_inside_spec_offers_the_kinds_fields(lsp: LspClient, path: Path) -> None:
    text = _spec_emptied(path)
    assert text.startswith("# yaml-language-server: $schema=../../../schemas/")
    uri = open_document(lsp, path, f"completion-{path.parent.name}", text)
    line = len(text.splitlines()) - 1
    result = lsp.request(
        "textDocument/completion",
        {"textDocument": {"uri": uri}, "position": {"line": line, "character": 2}},
        timeout=TIMEOUT,
    )
    assert {"apiUrl", "username", "secretKey", "credentialsRotated", "rotationPolicy"} <= labels(
        result
    )
    # Only spec fields: nothing from the envelope.
    assert not {"apiVersion", "kind", "metadata"} & labels(result)


def test_the_example_file_has_no_diagnostics(lsp: LspClient) -> None:
    text = ETRANSCRIPT.read_text(encoding="utf-8")
    uri = open_document(lsp, ETRANSCRIPT, "valid-copy", text)
    assert diagnostics(lsp, uri) == []


@pytest.mark.parametrize(
    ("path", "old", "new", "message"),
    [
        (ETRANSCRIPT, "  userName:", "  usrName:", "Property usrName is not allowed."),
        (
            ETRANSCRIPT,
            "  uploadPort: 443",
            "  uploadPort: 70000",
            "Value is above the maximum of 65535.",
        ),
        (
            ETS_ANY_SCHEMA,
            "  username: riverside",
            "  usrname: riverside",
            "Property usrname is not allowed.",
        ),
    ],
    ids=["misspelled-field", "port-70000", "misspelled-field-any-schema"],
)
def test_a_schema_error_is_marked_on_its_line(
    lsp: LspClient, path: Path, old: str, new: str, message: str
) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    uri = open_document(lsp, path, f"invalid-{new.split(':')[0].strip()}", text)
    found = diagnostics(lsp, uri, want=lambda ds: ds)
    # A misspelled required field is also reported missing, at its parent.
    assert (line_of(text, new), message) in [
        (d["range"]["start"]["line"], d["message"]) for d in found
    ]
