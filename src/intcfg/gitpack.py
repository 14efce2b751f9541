"""Blobs written by intcfg itself into one git pack (format version 2, with its index).

The audit commit of a 10,000-object apply stores 2,000 state files and a 36 MB record.
Through ``git fast-import`` that took about a second, most of it git's single thread
hashing (with its collision-detecting SHA-1) and deflating text that first crossed a
pipe. Here the hashing (hashlib's SHA-1) and the deflating (zlib at level 1, as git's
``pack.compression=1``) release Python's lock, so two threads share the cores. A pack
holds whole blobs only, no deltas; a later ``git gc`` repacks as usual. The format:
git's Documentation/gitformat-pack.txt.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import os
import struct
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

LEVEL = 1  # zlib's fastest level: the record's JSON deflates to a tenth all the same
_BLOB = 3  # the object type of a blob, in a pack entry's header
_LARGEST = 0x80000000  # offsets up to here fit an index's 4-byte (31-bit) offsets
_STEP = 1 << 16  # deflated bytes inflated at a time to hash a streamed blob
_ZLIB_HEADER = b"\x78\x01"  # a zlib stream's header: deflate, 32 KB window, fastest level


class Entry(NamedTuple):
    oid: bytes  # the object's id: the SHA-1 of its header and content
    data: bytes  # the pack entry: type and size, then the deflated content


def blob_id(content: bytes) -> bytes:
    """The id git gives a blob of ``content``."""
    oid = hashlib.sha1(b"blob %d\0" % len(content))
    oid.update(content)
    return oid.digest()


def whole(content: bytes, oid: bytes | None = None) -> Entry:
    """The pack entry of a blob held whole (``oid``: its id, when already known)."""
    return Entry(oid or blob_id(content), _header(len(content)) + zlib.compress(content, LEVEL))


class Deflated(NamedTuple):
    """A run of a blob's content deflated on its own, ahead of the rest of the blob (an
    audit record's plan changes, deflated district by district while the reads go on)."""

    data: bytes  # raw deflate that ends on a byte boundary, with no final block
    size: int  # the length of the content


def deflated(pieces: Iterable[bytes]) -> Deflated:
    """``pieces`` deflated as a run to put into a ``streamed`` blob."""
    deflate = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    out = []
    size = 0
    for piece in pieces:
        size += len(piece)
        out.append(deflate.compress(piece))
    out.append(deflate.flush(zlib.Z_SYNC_FLUSH))
    return Deflated(b"".join(out), size)


def streamed(pieces: Iterable[bytes | Deflated]) -> Entry:
    """The pack entry of a blob made piece by piece, deflated as the pieces come (or
    ahead: a ``Deflated`` run goes in as it is). Its id hashes a header that holds its
    size, known only at the end, so the content is hashed by inflating it again (faster
    than making it twice, and without holding it whole: a record is tens of megabytes,
    deflated a tenth of that); so is the zlib stream's checksum (Adler-32), whose runs
    were deflated apart."""
    deflate = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated = [_ZLIB_HEADER]
    size = 0
    for piece in pieces:
        if isinstance(piece, Deflated):
            # A full flush ends on a byte boundary, and what follows refers to nothing
            # before it: the run can go in between.
            deflated += [deflate.flush(zlib.Z_FULL_FLUSH), piece.data]
            size += piece.size
        else:
            size += len(piece)
            deflated.append(deflate.compress(piece))
    deflated.append(deflate.flush())
    data = b"".join(deflated)
    oid = hashlib.sha1(b"blob %d\0" % size)
    adler = 1
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    for start in range(len(_ZLIB_HEADER), len(data), _STEP):
        content = inflate.decompress(data[start : start + _STEP])
        oid.update(content)
        adler = zlib.adler32(content, adler)
    content = inflate.flush()
    oid.update(content)
    adler = zlib.adler32(content, adler)
    return Entry(oid.digest(), _header(size) + data + struct.pack(">I", adler))


def _header(size: int) -> bytes:
    """A blob's entry header: its type and the size's low 4 bits, then the rest of the
    size 7 bits a byte, low bits first (a byte's high bit: another follows)."""
    out = bytearray()
    byte = _BLOB << 4 | size & 0x0F
    size >>= 4
    while size:
        out.append(byte | 0x80)
        byte = size & 0x7F
        size >>= 7
    out.append(byte)
    return bytes(out)


def write(folder: Path, entries: Sequence[Entry]) -> None:
    """Write ``entries`` (distinct objects) as a pack and its index into ``folder``. The
    index is written last and both are flushed to the disk, as git does with the packs it
    writes (``core.fsync``'s default): a reader finds a pack through its index."""
    folder.mkdir(exist_ok=True)
    header = b"PACK" + struct.pack(">II", 2, len(entries))
    checksum = hashlib.sha1(header)
    offsets = []
    offset = len(header)
    for entry in entries:
        offsets.append(offset)
        offset += len(entry.data)
        checksum.update(entry.data)
    if offset >= _LARGEST:
        # An index then needs a table of 8-byte offsets; an audit commit is far from it.
        raise OSError(errno.EFBIG, f"a pack of {offset} bytes is more than this writer takes")
    trailer = checksum.digest()
    name = f"pack-{trailer.hex()}"
    _write_synced(folder / f"{name}.pack", [header, *(e.data for e in entries), trailer])
    _write_synced(folder / f"{name}.idx", [_index(entries, offsets, trailer)])


def _index(entries: Sequence[Entry], offsets: Sequence[int], trailer: bytes) -> bytes:
    """The version 2 index: a fan-out table (how many ids start with each byte or a lower
    one), the ids sorted, each entry's CRC-32 and offset in that order, the pack's
    checksum and the index's own."""
    order = sorted(range(len(entries)), key=lambda i: entries[i].oid)
    counts = [0] * 256
    for entry in entries:
        counts[entry.oid[0]] += 1
    n = len(order)
    body = b"".join(
        [
            b"\377tOc" + struct.pack(">I", 2),
            struct.pack(">256I", *itertools.accumulate(counts)),
            *(entries[i].oid for i in order),
            struct.pack(f">{n}I", *(zlib.crc32(entries[i].data) for i in order)),
            struct.pack(f">{n}I", *(offsets[i] for i in order)),
            trailer,
        ]
    )
    return body + hashlib.sha1(body).digest()


def _write_synced(path: Path, parts: Iterable[bytes]) -> None:
    """A new file of ``parts``, on the disk when this returns."""
    with open(path, "xb") as fh:
        fh.writelines(parts)
        fh.flush()
        os.fsync(fh.fileno())
