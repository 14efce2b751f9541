"""The pack intcfg writes without git: git reads it, and finds in it the ids it gives."""

from __future__ import annotations

import os
import subprocess
import zlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_git_reads_a_blob_with_runs_deflated_ahead_at_the_start_middle_and_end(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    noise = os.urandom(100_000)
    text = b'{\n  "plan": ' + b"[1, 2, 3],\n" * 5_000
    cases = [
        [gitpack.deflated([text]), b"tail"],
        [b"head", gitpack.deflated([text[:7], text[7:]]), b"middle" * 9_000, gitpack.deflated([noise]), b"end"],
        [b"head", gitpack.deflated([]), gitpack.deflated([text]), gitpack.deflated([noise])],
    ]
    entries = [gitpack.streamed(pieces) for pieces in cases]
    gitpack.write(tmp_path / ".git/objects/pack", entries)
    [index] = (tmp_path / ".git/objects/pack").glob("*.idx")
    git(tmp_path, "verify-pack", str(index))
    for pieces, entry in zip(cases, entries, strict=True):
        content = b"".join(p if isinstance(p, bytes) else _content_of(p) for p in pieces)
        assert git(tmp_path, "cat-file", "blob", entry.oid.hex()) == content
        assert entry.oid == gitpack.blob_id(content)
    git(tmp_path, "fsck", "--strict")


def _content_of(run: gitpack.Deflated) -> bytes:
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    content = inflate.decompress(run.data)
    assert len(content) == run.size and not inflate.eof  # no final block: more may follow
    return content


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.lists(st.binary(max_size=500), max_size=4)), max_size=6))
def test_a_streamed_blob_is_its_pieces_whatever_runs_were_deflated_ahead(parts: list[tuple[bool, list[bytes]]]) -> None:
    pieces: list[bytes | gitpack.Deflated] = []
    for ahead, group in parts:
        pieces += [gitpack.deflated(group)] if ahead else group
    content = b"".join(b"".join(group) for _, group in parts)
    entry = gitpack.streamed(pieces)
    header = gitpack._header(len(content))
    assert entry.data.startswith(header)
    assert zlib.decompress(entry.data[len(header) :]) == content  # zlib checks the Adler-32 too
    assert entry.oid == gitpack.blob_id(content)
