"""`intcfg secrets-scan` (the intcfg-secrets pre-commit hook): every shape it knows, the
allowlist comment, masking, positions, exit codes, and the example repository passing."""

from __future__ import annotations

import base64
import json
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLE, INTCFG, REPO_ROOT, cli_env

from intcfg.secretscan import entropy, is_secret_key, mask, scan_text

HEX32 = "9f86d081884c7d659a2feaa0c55ad015"  # an Aeries-style certificate: 32 hex digits
TOKEN = "Zq8" + "xK2vN7pL4mR9tB3wY6cH1jF5"  # 27 random-looking characters


def hits(text: str) -> list[tuple[int, int, str, str]]:
    return [(h.line, h.column, h.rule, h.masked) for h in scan_text("f.yaml", text)]


def scan(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [INTCFG, "secrets-scan", *args], cwd=cwd, env=cli_env(), capture_output=True, text=True, timeout=60
    )


# -- values under secret-named keys ------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["password", "consumerSecret", "clientSecret", "secretKey", "token", "certificate", "API_TOKEN",
     "aws_secret_access_key", "db-passwd", "signingKey", "privateKey", "apiKey", "refresh_token", "cert"],
)
def test_a_plain_value_under_a_secret_named_key_is_found(key: str) -> None:
    assert hits(f"spec:\n  {key}: hunter2-hunter2\n") == [(2, len(key) + 5, "INTCFG-S001", "hu… 15 chars")]


@pytest.mark.parametrize(
    "value",
    ["{env: ETS_SECRET_KEY}", "{file: /run/secrets/ets}", "${{ secrets.ETS_SECRET_KEY }}", "$ETS_SECRET_KEY",
     "${ETS_SECRET_KEY}", "'{{ ets_secret_key }}'", "", "null", "~", "false", "''"],
)
def test_references_and_empty_values_are_not_secrets(value: str) -> None:
    assert hits(f"spec:\n  secretKey: {value}\n") == []


def test_a_block_style_reference_is_not_a_secret() -> None:
    assert hits("spec:\n  password:\n    env: PARCHMENT_PASSWORD\n") == []


@pytest.mark.parametrize("key", ["consumerKey", "clientId", "consumerId", "publicKey", "key", "secretKeyRef", "authPath",
                                 "credentialsRotated", "tokenUrl", "secretName"])
def test_identifiers_and_names_that_only_mention_a_secret_are_not_secret_keys(key: str) -> None:
    assert not is_secret_key(key)
    assert hits(f"{key}: riverside-usd-parchment\n") == []


def test_a_number_under_a_secret_key_is_a_plaintext_secret() -> None:
    assert hits("password: 12345678\n") == [(1, 11, "INTCFG-S001", "12… 8 chars")]


def test_braces_around_a_pasted_value_are_caught_at_the_value() -> None:
    # `{hunter2}` is YAML for {hunter2: null}: the key of that map is the secret.
    assert hits("password: {CANARY-etx-flow-password-61a2f4}\n") == [(1, 12, "INTCFG-S001", "CA… 31 chars")]


def test_the_items_of_a_list_under_a_secret_key_are_plaintext() -> None:
    assert hits("tokens:\n  - aaaaaaaa-first\n  - {env: SECOND}\n") == [(2, 5, "INTCFG-S001", "aa… 14 chars")]


def test_a_kubernetes_secret_volume_is_no_plaintext_secret() -> None:
    text = "volumes:\n  - name: git\n    secret:\n      secretName: intcfg-git\n      defaultMode: 0440\n"
    assert hits(text) == []


# -- known shapes, in any field ----------------------------------------------------------------


def _jwt() -> str:
    part = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': 'registrar'})}.{secrets.token_urlsafe(32)}"


@pytest.mark.parametrize(
    "text, rule, line, column",
    [
        ("note: |\n  -----BEGIN RSA PRIVATE KEY-----\n  MIIEowIBAAKCAQEA\n  -----END RSA PRIVATE KEY-----\n",
         "INTCFG-S002", 2, 3),
        ("pem: \"-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjE=\"\n", "INTCFG-S002", 1, 7),
        (f"description: sample {_jwt()}\n", "INTCFG-S003", 1, 21),
        ("env:\n  - name: AWS_ID\n    value: AKIAIOSFODNN7EXAMPLE\n", "INTCFG-S004", 3, 12),
        (f"run: curl -H 'Authorization: Bearer {TOKEN}' https://x\n", "INTCFG-S005", 1, 37),
        (f"url: https://registrar:{TOKEN}@git.example.org/repo.git\n", "INTCFG-S006", 1, 24),
        (f"aeries:\n  note: {HEX32}\n", "INTCFG-S007", 2, 9),
        (f"anything: {TOKEN}\n", "INTCFG-S008", 1, 11),
        (f"- [a, b, {{nested: [{TOKEN}]}}]\n", "INTCFG-S008", 1, 20),
    ],
)
def test_every_shape_is_found_with_its_position(text: str, rule: str, line: int, column: int) -> None:
    found = hits(text)
    assert [(f[0], f[1], f[2]) for f in found] == [(line, column, rule)]


@pytest.mark.parametrize(
    "value",
    [
        "3f1c9a52-7d2e-4b8a-9e41-0c5d6a7b8e90",  # a UUID: PowerSchool client ids look like this
        "k8s/intcfg-reconcile",
        "/api/v4/sendlib/rest/sendlibraryservice/pesc/highschool/1.3.0/transcripts",
        "actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11",  # a pinned action
        "registry.example.org/intcfg@sha256:" + "ab12" * 16,
        "lakeside-sd-2026-import-student-nightly",
        "automountServiceAccountToken",
        "Bearer ${{ secrets.INTCFG_ADMIN_TOKEN }}",
        "Bearer $TOKEN",
        "https://USER:$PASSWORD@git.example.org",
        "0" * 40,
    ],
)
def test_identifiers_paths_pins_and_placeholders_are_not_secrets(value: str) -> None:
    assert hits(f"value: {value}\n") == []


def test_random_text_is_high_entropy_and_identifiers_are_not() -> None:
    assert entropy(secrets.token_hex(16)) > 3.0
    assert entropy("aaaaaaaaaaaaaaaaaaaa") == 0.0
    for _ in range(20):
        assert hits(f"x: {secrets.token_urlsafe(24)}A1\n")[0][2] == "INTCFG-S008"


# -- the allowlist, masking, files that are not YAML ---------------------------------------------------


def test_the_allow_comment_accepts_its_line_only() -> None:
    text = f"a: {TOKEN}  # intcfg: allow-secret\nb: {TOKEN}\npassword: example-only # intcfg: allow-secret\n"
    assert hits(text) == [(2, 4, "INTCFG-S008", "Zq… 27 chars")]


def test_the_allow_comment_on_a_block_scalars_key_line_covers_it() -> None:
    text = "key: |  # intcfg: allow-secret\n  -----BEGIN PRIVATE KEY-----\n  MIIEvQ\n"
    assert hits(text) == []


def test_a_hash_inside_a_quoted_value_does_not_allow_another_line() -> None:
    assert hits(f"a: '# intcfg: allow-secret'\nb: {TOKEN}\n") == [(2, 4, "INTCFG-S008", "Zq… 27 chars")]


def test_masks_show_two_characters_and_the_length_and_nothing_of_short_values() -> None:
    assert mask("abcdefgh12") == "ab… 10 chars"
    assert mask("short") == "… 5 chars"


def test_a_file_that_is_not_yaml_is_still_scanned_line_by_line() -> None:
    text = f"spec:\n  password: hunter2-hunter2\n  broken: [\n  other: {TOKEN}\n"
    assert hits(text) == [(2, 13, "INTCFG-S001", "hu… 15 chars"), (4, 10, "INTCFG-S008", "Zq… 27 chars")]


def test_aliases_and_deep_nesting_cost_nothing() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8)
    )
    assert hits(bomb) == []
    assert hits("[" * 5_000 + "]" * 5_000 + "\n") == []


# -- the command -----------------------------------------------------------------------------


def test_the_example_repository_passes() -> None:
    done = scan(cwd=EXAMPLE)
    assert (done.returncode, done.stdout, done.stderr) == (0, "No plaintext credentials in 19 files.\n", "")


def test_hits_name_file_line_column_and_never_the_value(example_repo: Path) -> None:
    canary = "canary-" + secrets.token_hex(12)
    target = example_repo / "districts/riverside-usd/etranscript.yaml"
    text = target.read_text(encoding="utf-8")
    reference = "{env: RIVERSIDE_PARCHMENT_PASSWORD}"
    assert reference in text
    target.write_text(text.replace(reference, canary), encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if reference in row)
    column = text.splitlines()[line - 1].index(reference) + 1
    done = scan(cwd=example_repo)
    assert done.returncode == 1
    assert done.stdout == (
        f"districts/riverside-usd/etranscript.yaml:{line}:{column}: INTCFG-S001 a plaintext value under 'password'; "
        "use a reference, {env: NAME} or {file: PATH} (ca… 31 chars)\n"
    )
    assert done.stderr == (
        "Found 1 plaintext credential in 1 file: move each to a secret store and reference it "
        "({env: NAME} or {file: PATH}), or end the line with '# intcfg: allow-secret' if it is no secret.\n"
    )
    assert canary[2:] not in done.stdout + done.stderr


def test_paths_are_files_or_folders_and_a_missing_one_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci/workflow.yml").write_text(f"env:\n  GITHUB_TOKEN: ghp_{TOKEN}\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text(f"password: {TOKEN}\n", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git/config.yaml").write_text(f"password: {TOKEN}\n", encoding="utf-8")
    folder = scan(".", cwd=tmp_path)
    assert folder.returncode == 1
    assert folder.stdout.splitlines()[0].startswith("ci/workflow.yml:2:17: INTCFG-S001 a plaintext value under 'GITHUB_TOKEN'")
    assert scan("notes.txt", cwd=tmp_path).returncode == 1  # a file named is scanned whatever its suffix
    missing = scan("nowhere.yaml", cwd=tmp_path)
    assert missing.returncode == 2 and "'nowhere.yaml' does not exist" in missing.stderr


def test_an_unreadable_file_fails_the_scan(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").mkdir()  # a directory named like a file is searched, not read
    (tmp_path / "b.yaml").symlink_to(tmp_path / "gone.yaml")
    done = scan("b.yaml", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == "b.yaml: cannot read the file: No such file or directory\n"


def test_the_hook_imports_neither_pydantic_nor_httpx() -> None:
    code = (
        "import sys\nfrom intcfg.main import main\ncode = main(['secrets-scan', sys.argv[1]])\n"
        "heavy = sorted(m for m in ('pydantic', 'httpx', 'git', 'ruamel', 'rich', 'jsonschema') if m in sys.modules)\n"
        "print(code, heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(EXAMPLE)], env=cli_env(), capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines()[-1] == "0 []"


def test_the_pre_commit_hook_is_declared() -> None:
    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    hook = hooks["intcfg-secrets"]
    assert (hook["entry"], hook["language"], hook["files"]) == ("intcfg secrets-scan", "python", r"\.(ya?ml)$")
    assert hook.get("pass_filenames", True) is True


@pytest.mark.slow
def test_the_hook_runs_under_pre_commit_and_fails_on_a_plaintext_credential(
    example_repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The real framework, with this repository at HEAD (the environment is shared with
    tests/test_precommit.py through PRE_COMMIT_HOME)."""
    import os

    base = tmp_path_factory.getbasetemp()
    home = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "pre-commit-home"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.strip()
    config = tmp_path_factory.mktemp("secrets-hook") / "pre-commit-config.yaml"
    config.write_text(f"repos:\n- repo: {REPO_ROOT}\n  rev: {head}\n  hooks:\n  - id: intcfg-secrets\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=example_repo, check=True)
    ci = example_repo / ".github/workflows/reconcile.yml"
    ci.write_text(ci.read_text(encoding="utf-8").replace("${{ secrets.INTCFG_ADMIN_TOKEN }}", TOKEN), encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=example_repo, check=True)
    pre_commit = str(Path(sys.executable).with_name("pre-commit"))
    done = subprocess.run([pre_commit, "run", "-c", str(config), "--all-files", "--color", "never"], cwd=example_repo,
                          env=cli_env(PRE_COMMIT_HOME=str(home)), capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(r"^intcfg secrets-scan\.+Failed$", done.stdout, re.M)
    assert re.search(r"^\.github/workflows/reconcile\.yml:\d+:\d+: INTCFG-S001 a plaintext value under "
                     r"'INTCFG_ADMIN_TOKEN'.*\(Zq… 27 chars\)$", done.stdout, re.M), done.stdout
    assert TOKEN[2:] not in done.stdout + done.stderr
