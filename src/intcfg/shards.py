"""Shards: ``--shard K/N`` splits a state's districts among N reconcilers, each whole
district always to the same one."""

from __future__ import annotations

import hashlib

from .errors import ConfigError


def parse_shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError as e:
        raise ConfigError(f"--shard {text!r}: expected K/N, e.g. 1/4") from e
    if not 1 <= k <= n:
        raise ConfigError(f"--shard {text!r}: K must be between 1 and N")
    return k, n


def in_shard(district: str, shard: tuple[int, int]) -> bool:
    """Stable assignment of whole districts to shards (independent of order and count)."""
    k, n = shard
    return int.from_bytes(hashlib.sha256(district.encode()).digest()[:8], "big") % n == k - 1
