"""Secret references, the Secret type, fingerprints and the scrubber."""

from __future__ import annotations

import copy
import json
import logging
import os
import pickle
from pathlib import Path

import pytest

from intcfg.errors import SecretError
from intcfg.secrets import (
    Secret,
    SecretResolver,
    fingerprint,
    fingerprint_key,
    scrub,
    secret_paths,
)

CANARY = "canary-s3cr3t-7f1e2d"


def test_secret_never_shows_its_value(caplog: pytest.LogCaptureFixture) -> None:
    s = Secret(CANARY, "env X")
    old_style = "%s" % s  # noqa: UP031 - the old formatting must hide it too
    shown = [repr(s), str(s), f"{s}", f"{s!r}", old_style, f"{s}", repr([s]), repr({"k": s})]
    logging.getLogger("t").warning("value %s %r", s, s)
    for text in [*shown, caplog.text]:
        assert CANARY not in text
    assert str(s) == "***"
    assert repr(s) == "Secret(***, env X)"
    assert s.reveal() == CANARY


def test_secret_refuses_json_and_pickle_and_mutation() -> None:
    s = Secret(CANARY)
    with pytest.raises(TypeError) as e:
        json.dumps({"k": s})
    assert CANARY not in str(e.value)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(s, protocol=protocol)
    with pytest.raises(AttributeError):
        s._value = "x"  # type: ignore[misc]
    assert copy.deepcopy({"s": s})["s"] is s


def test_secret_equality_is_by_value() -> None:
    assert Secret("equal-value-1") == Secret("equal-value-1")
    assert Secret("equal-value-1") != Secret("other-value-2")


def test_env_reference(tmp_path: Path) -> None:
    resolver = SecretResolver(tmp_path, env={"TOKEN": CANARY})
    assert resolver.resolve({"env": "TOKEN"}).reveal() == CANARY


def test_missing_env_names_variable_and_place(tmp_path: Path) -> None:
    resolver = SecretResolver(tmp_path, env={})
    with pytest.raises(SecretError) as e:
        resolver.resolve({"env": "RIVERSIDE_ETS_SECRET_KEY"}, "districts/r/ets.yaml:12:14")
    assert str(e.value) == (
        "districts/r/ets.yaml:12:14: environment variable 'RIVERSIDE_ETS_SECRET_KEY' is not set; "
        "export it with the secret's value before running intcfg"
    )


def test_empty_env_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="'E' is empty"):
        SecretResolver(tmp_path, env={"E": ""}).resolve({"env": "E"})


def test_bad_reference_shape(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match=r"is \{env: NAME\} or \{file: PATH\}"):
        SecretResolver(tmp_path, env={}).resolve({"env": "A", "file": "b"}, "f.yaml:1:1")


def _repo_and_outside(tmp_path: Path) -> tuple[Path, Path]:
    repo = tmp_path / "repo"
    outside = tmp_path / "vault"
    repo.mkdir()
    outside.mkdir()
    return repo, outside


def test_file_reference_strips_one_newline(tmp_path: Path) -> None:
    repo, outside = _repo_and_outside(tmp_path)
    (outside / "s.txt").write_text(CANARY + "\n")
    resolver = SecretResolver(repo, env={})
    assert resolver.resolve({"file": str(outside / "s.txt")}).reveal() == CANARY
    # relative to the repository root
    assert resolver.resolve({"file": "../vault/s.txt"}).reveal() == CANARY


def test_file_inside_repo_is_refused(tmp_path: Path) -> None:
    repo, _ = _repo_and_outside(tmp_path)
    (repo / "s.txt").write_text(CANARY)
    with pytest.raises(SecretError) as e:
        SecretResolver(repo, env={}).resolve({"file": "s.txt"}, "a.yaml:3:5")
    assert str(e.value) == (
        "a.yaml:3:5: secret file 's.txt' is inside the config repository; keep secrets outside "
        "it (they would end up in git)"
    )


def test_symlink_into_repo_is_refused(tmp_path: Path) -> None:
    repo, outside = _repo_and_outside(tmp_path)
    (repo / "s.txt").write_text(CANARY)
    (outside / "link").symlink_to(repo / "s.txt")
    with pytest.raises(SecretError, match="inside the config repository"):
        SecretResolver(repo, env={}).resolve({"file": str(outside / "link")})


def test_symlink_out_of_its_directory_is_refused(tmp_path: Path) -> None:
    repo, outside = _repo_and_outside(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "s.txt").write_text(CANARY)
    (outside / "link").symlink_to(elsewhere / "s.txt")
    with pytest.raises(SecretError, match="resolves outside the allowed directories") as e:
        SecretResolver(repo, env={}).resolve({"file": str(outside / "link")})
    assert CANARY not in str(e.value)
    # allowed when both directories are named
    allowed = os.pathsep.join([str(outside), str(elsewhere)])
    resolver = SecretResolver(repo, env={"INTCFG_SECRET_DIRS": allowed})
    assert resolver.resolve({"file": str(outside / "link")}).reveal() == CANARY


def test_file_outside_allowed_dirs_is_refused(tmp_path: Path) -> None:
    repo, outside = _repo_and_outside(tmp_path)
    (outside / "s.txt").write_text(CANARY)
    resolver = SecretResolver(repo, env={"INTCFG_SECRET_DIRS": str(tmp_path / "other")})
    with pytest.raises(SecretError, match="outside the allowed directories"):
        resolver.resolve({"file": str(outside / "s.txt")})


def test_missing_and_empty_and_binary_files(tmp_path: Path) -> None:
    repo, outside = _repo_and_outside(tmp_path)
    resolver = SecretResolver(repo, env={})
    with pytest.raises(SecretError, match="cannot read secret file .*No such file"):
        resolver.resolve({"file": str(outside / "nope")})
    (outside / "empty").write_text("\n")
    with pytest.raises(SecretError, match="is empty"):
        resolver.resolve({"file": str(outside / "empty")})
    (outside / "bin").write_bytes(b"\xff\xfe")
    with pytest.raises(SecretError, match="not UTF-8"):
        resolver.resolve({"file": str(outside / "bin")})
    with pytest.raises(SecretError, match="not a regular file"):
        resolver.resolve({"file": str(outside)})


def test_fingerprint_is_keyed() -> None:
    a = fingerprint(Secret(CANARY), b"k" * 32)
    assert a.startswith("hmac-sha256:") and len(a) == len("hmac-sha256:") + 64
    assert a == fingerprint(CANARY, b"k" * 32)
    assert a != fingerprint(CANARY, b"j" * 32)
    assert CANARY not in a


def test_fingerprint_key_from_env_or_repo_file(tmp_path: Path) -> None:
    assert fingerprint_key(tmp_path, {"INTCFG_FINGERPRINT_KEY": "x" * 20}) == b"x" * 20
    with pytest.raises(SecretError, match="too short"):
        fingerprint_key(tmp_path, {"INTCFG_FINGERPRINT_KEY": "short"})
    key = fingerprint_key(tmp_path, {})
    assert key == fingerprint_key(tmp_path, {})
    path = tmp_path / ".intcfg" / "fingerprint.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(key) == 64


def test_scrub_removes_values_and_encoded_forms() -> None:
    value = 'c@n/ary "q" ' + CANARY
    Secret(value)
    text = f'body: {value} url: ?x=c%40n%2Fary+%22q%22+{CANARY} json: "c@n/ary \\"q\\" {CANARY}"'
    out = scrub(text)
    assert CANARY not in out
    assert out.count("***") == 3


def test_values_too_short_to_be_secrets_are_not_scrubbed() -> None:
    Secret("okay1")
    assert scrub("okay1 then okay") == "okay1 then okay"


def test_secret_paths_follow_the_models() -> None:
    assert secret_paths("ETranscriptVendor") == (("consumerSecret",), ("password",))
    assert secret_paths("StateAssessmentIntegration") == (("secretKey",),)
    assert secret_paths("SyncConnection") == (
        ("powerschool", "clientSecret"),
        ("aeries", "certificate"),
        ("aeries", "oneRoster", "consumerSecret"),
        ("skyward", "consumerSecret"),
    )
    assert secret_paths("Schedule") == ()
