"""Sharded reconcile: 200 districts in 4 shards give exactly the unsharded result, and the
shards' applies, run at once on one repository, take turns without colliding."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

from conftest import INTCFG, cli_env

from intcfg.engine import load_repository
from intcfg.shards import in_shard
from intcfg.providers.connect import open_providers

DISTRICTS = [f"district-{i:03d}" for i in range(200)]
SECRETS = {"ETR_SECRET": "canary-etr-secret-5b1e", "ETR_PASSWORD": "canary-etr-password-5b1e"}


def write_repo(root: Path) -> None:
    (root / "districts").mkdir(parents=True)
    (root / "intcfg.yaml").write_text("apiVersion: intcfg/v1\nkind: Settings\nlive:\n  url: sim://\n")
    for d in DISTRICTS:
        (root / "districts" / f"{d}.yaml").write_text(f"""\
apiVersion: intcfg/v1
kind: District
metadata: {{name: {d}}}
spec:
  name: {d.title()}
  timezone: America/Chicago
  sites: [{{id: {d}-high, name: High School}}]
---
apiVersion: intcfg/v1
kind: ETranscriptVendor
metadata: {{name: parchment, district: {d}}}
spec:
  displayName: Parchment
  authServer: https://auth.example.org
  authPath: /oauth/token
  uploadServer: https://upload.example.org
  uploadPort: 443
  uploadPath: /transcripts
  consumerKey: {d}-key
  consumerSecret: {{env: ETR_SECRET}}
  userName: registrar@{d}.example.org
  password: {{env: ETR_PASSWORD}}
""")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "config"]):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args], cwd=root, check=True)


def run(root: Path, *args: str) -> subprocess.Popen[str]:
    env = cli_env(**SECRETS, INTCFG_FINGERPRINT_KEY="s" * 32)
    return subprocess.Popen([INTCFG, *args], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def live_state(root: Path) -> list[tuple[str, str, str]]:
    async def read() -> list[tuple[str, str, str]]:
        async with open_providers(load_repository(root)) as providers:
            out = []
            for d in DISTRICTS:
                for o in await providers["sis"].list(d, "ETranscriptVendor"):
                    out.append((o.district, o.name, json.dumps(o.spec, sort_keys=True)))
            return sorted(out)

    return asyncio.run(read())


def test_four_shards_equal_one_run(tmp_path: Path) -> None:
    whole, sharded = tmp_path / "whole", tmp_path / "sharded"
    write_repo(whole)
    write_repo(sharded)
    one = run(whole, "apply", "--auto-approve", "--force")
    shards = [run(sharded, "apply", "--auto-approve", "--force", "--shard", f"{k}/4", "--lock-timeout", "300") for k in (1, 2, 3, 4)]
    for proc in (one, *shards):
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, out + err
    expected = live_state(whole)
    assert len(expected) == 200
    assert live_state(sharded) == expected
    counts = subprocess.run(["git", "log", "--format=%s", "intcfg/audit"], cwd=sharded, capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(counts) == 4
    created = sorted(int(line.split(": ")[1].split(" created")[0]) for line in counts)
    assert sum(created) == 200
    assert created == sorted(sum(1 for d in DISTRICTS if in_shard(d, (k, 4))) for k in (1, 2, 3, 4))
