"""Site overrides: a site's effective spec is the base spec merged with the override's
patch, with RFC 7386 JSON Merge Patch semantics (null deletes, mappings merge, anything
else replaces). Pure functions; no I/O."""

from __future__ import annotations

from typing import Any

Path = tuple[str | int, ...]


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 section 2: MergePatch(Target, Patch)."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def set_by_patch(patch: Any, path: Path) -> bool:
    """Whether the value at ``path`` of a merged document came from ``patch``."""
    node = patch
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
        if not isinstance(node, dict):
            return True  # a patch value that is not a mapping replaces the whole subtree
    return True
