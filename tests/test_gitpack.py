"""The pack intcfg writes without git: git reads it, and finds in it the ids it gives."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from intcfg import gitpack

# Sizes around the entry header's byte boundaries (4 bits, then 7 more a byte) and past
# the 2 KiB from which hashlib hashes without holding Python's lock.
CONTENTS = [b"", b"x", b"a" * 15, b"b" * 16, b"c" * 2047, b"d" * 2048, os.urandom(70_000), "é\n".encode()]


def git(root: Path, *args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["git", *args], cwd=root, input=data, check=True, capture_output=True).stdout


def test_git_reads_the_blobs_of_a_pack_and_gives_them_the_same_ids(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    streamed = gitpack.streamed(CONTENTS[-2][i : i + 1000] for i in range(0, 70_000, 1000))
    entries = [gitpack.whole(c) for c in CONTENTS[:-2]] + [streamed, gitpack.whole(CONTENTS[-1])]
    gitpack.write(tmp_path / ".git/objects/pack", entries)
    [index] = (tmp_path / ".git/objects/pack").glob("*.idx")
    git(tmp_path, "verify-pack", str(index))
    for content, entry in zip(CONTENTS, entries, strict=True):
        assert git(tmp_path, "hash-object", "--stdin", data=content).decode().strip() == entry.oid.hex()
        assert git(tmp_path, "cat-file", "blob", entry.oid.hex()) == content
    git(tmp_path, "fsck", "--strict")
