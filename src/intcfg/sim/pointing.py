"""Point a copy of a config repository at a running simulator.

Vendor URLs become the simulator's vendor endpoints (/vendors/VENDOR/INSTANCE), live.url
the simulator's admin API, and every secret reference gets a value from ``secret_for``;
the returned seed (``POST /_sim/seed``) gives the simulator the districts, schools,
sample students and the same credentials. Used by `intcfg demo` and the end-to-end tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..loader import load_file
from ..overlay import merge_patch
from .fromconfig import seed_from_config

SecretFor = Callable[[str], str]  # environment variable name -> the value to use


def point_repository(root: Path, live_url: str, secret_for: SecretFor, expired: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Rewrite ``root`` (a copy) in place for ``live_url``; returns the simulator's seed.

    Credentials whose variable is in ``expired`` are seeded as expired.
    """
    _replace_line(root / "intcfg.yaml", r"^(\s*url:\s*)sim://\s*$", live_url)
    datas: list[dict[str, Any]] = []
    credentials: list[dict[str, Any]] = []
    for path in sorted((root / "districts").rglob("*.yaml")):
        loaded = load_file(str(path))
        edits: dict[int, tuple[str, str]] = {}
        for doc in loaded.documents:
            datas.append(doc.data)
            for key_path, value in _urls(doc.data, live_url).items():
                edits[doc.locate(key_path).line] = (key_path[-1], value)
        _edit(path, edits)
    for data in _effective(_reload(root)):
        credentials.extend(_credentials(data, secret_for, expired))
    seed = seed_from_config(datas)
    seed["credentials"] = credentials
    return seed


def _instance(data: dict[str, Any]) -> str:
    return f"{data['metadata']['district']}-{data['metadata']['name']}"


def _urls(data: dict[str, Any], live: str) -> dict[tuple[str, ...], Any]:
    kind, spec = data.get("kind"), data.get("spec", {})
    bare = re.sub(r":\d+$", "", live)
    if kind == "ETranscriptVendor":
        inst = _instance(data)
        return {
            ("spec", "authServer"): f"{live}/vendors/etranscript/{inst}",
            ("spec", "uploadServer"): f"{bare}/vendors/etranscript/{inst}",
            ("spec", "uploadPort"): live.rsplit(":", 1)[1],
        }
    if kind == "StateAssessmentIntegration":
        return {("spec", "apiUrl"): f"{live}/vendors/ets/caaspp/api/v1/token"}
    if kind != "SyncConnection":
        return {}
    vendor, inst = spec["vendor"], _instance(data)
    if vendor == "powerschool":
        return {("spec", "powerschool", "serverUrl"): f"{live}/vendors/powerschool/{inst}"}
    if vendor == "aeries":
        return {
            ("spec", "aeries", "apiUrl"): f"{live}/vendors/aeries/{inst}",
            ("spec", "aeries", "oneRoster", "url"): f"{live}/vendors/oneroster/{inst}",
        }
    return {("spec", "skyward", "apiUrl"): f"{live}/vendors/skyward/{inst}"}


def _edit(path: Path, edits: dict[int, tuple[str, str]]) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    for line, (key, value) in edits.items():
        lines[line - 1] = re.sub(rf"^(\s*{key}:\s*)\S+", rf"\g<1>{value}", lines[line - 1])
    path.write_text("\n".join(lines), encoding="utf-8")


def _replace_line(path: Path, pattern: str, value: str) -> None:
    text = re.sub(
        pattern, lambda m: m.group(1) + value, path.read_text(encoding="utf-8"), count=1, flags=re.M
    )
    path.write_text(text, encoding="utf-8")


def _reload(root: Path) -> list[dict[str, Any]]:
    return [
        d.data
        for p in sorted((root / "districts").rglob("*.yaml"))
        for d in load_file(str(p)).documents
    ]


def _effective(datas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The documents, plus each ETS site override as its merged configuration."""
    bases = {
        (d["kind"], d["metadata"].get("district"), d["metadata"]["name"]): d
        for d in datas
        if d.get("kind") != "SiteOverride"
    }
    out = [d for d in datas if d.get("kind") != "SiteOverride"]
    for d in datas:
        if d.get("kind") == "SiteOverride":
            target = d["spec"]["target"]
            base = bases[(target["kind"], d["metadata"]["district"], target["name"])]
            out.append({**base, "spec": merge_patch(base["spec"], d["spec"]["patch"])})
    return out


def _credentials(data: dict[str, Any], secret_for: SecretFor, expired: frozenset[str]) -> list[dict[str, Any]]:
    kind, spec = data.get("kind"), data.get("spec", {})
    district = data.get("metadata", {}).get("district")

    def cred(
        vendor: str, instance: str, ref: dict[str, str], client_id: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        out = {
            "vendor": vendor,
            "instance": instance,
            "secret": secret_for(ref["env"]),
            "district": district,
            "expired": ref["env"] in expired,
            **extra,
        }
        return {**out, "clientId": client_id} if client_id else out

    if kind == "ETranscriptVendor":
        return [
            cred(
                "etranscript",
                _instance(data),
                spec["consumerSecret"],
                spec["consumerKey"],
                username=spec["userName"],
                password=secret_for(spec["password"]["env"]),
                authPath=spec["authPath"],
            )
        ]
    if kind == "StateAssessmentIntegration":
        return [cred("ets", "caaspp", spec["secretKey"], spec["username"])]
    if kind != "SyncConnection":
        return []
    vendor, inst = spec["vendor"], _instance(data)
    block = spec[vendor]
    if vendor == "powerschool":
        return [cred("powerschool", inst, block["clientSecret"], block["clientId"])]
    if vendor == "aeries":
        ros = block["oneRoster"]
        return [
            cred("aeries", inst, block["certificate"]),
            cred("oneroster", inst, ros["consumerSecret"], ros["consumerId"]),
        ]
    return [
        cred(
            "skyward",
            inst,
            block["consumerSecret"],
            block["consumerKey"],
            entityIds=[block.get("entityId", 1)],
        )
    ]
