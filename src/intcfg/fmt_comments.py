"""Comments for `intcfg fmt`: found in the source, given to entries, put back in the output.

ruamel.yaml keeps a comment with the entry *before* it, so reordering keys would carry
comments to the wrong place. Here a comment belongs to an entry (a mapping key or a
sequence item, named by its path): a full-line comment to the entry below it, an
end-of-line comment to the last entry started before it on that line. Comments after a
document's last entry stay at the document's end. Blank lines travel like full-line
comments, so a blank line that separates two groups of keys keeps separating them.

Source positions come from PyYAML's C scanner and composer: a ``#`` is a comment when no
token covers it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from typing import NamedTuple

import yaml

Parts = tuple[str | int, ...]
BLANK = ""  # a blank line among the comments
_BLOCK_HEADER = re.compile(r"[|>][0-9+-]*[ \t]+(#[^\n]*)")
# Tokens whose node ruamel keeps in a way the fast path does not rebuild.
_EXOTIC = (yaml.TagToken, yaml.AnchorToken, yaml.AliasToken, yaml.DirectiveToken)


class Note(NamedTuple):
    pos: int  # index of the '#', or of the blank line
    text: str  # the comment, or BLANK
    eol: bool


class Scan(NamedTuple):
    notes: list[Note]
    bounds: list[int]  # where each `---` and `...` starts
    exotic: bool  # tags, anchors, aliases, directives or folded (>) scalars


def scan(text: str) -> Scan:
    """Comments and blank lines outside scalars, in order."""
    notes: list[Note] = []
    bounds: list[int] = []
    exotic = False
    cursor = 0
    for token in yaml.scan(text, Loader=yaml.CSafeLoader):
        start, end = token.start_mark.index, token.end_mark.index
        if start > cursor:
            notes.extend(_gap_notes(text, cursor, start))
        if isinstance(token, (yaml.DocumentStartToken, yaml.DocumentEndToken)):
            bounds.append(start)
        elif isinstance(token, yaml.ScalarToken) and token.style in ("|", ">"):
            exotic = exotic or token.style == ">"
            header = _BLOCK_HEADER.match(text, start)
            if header:
                notes.append(Note(header.start(1), header.group(1).rstrip(), True))
        exotic = exotic or isinstance(token, _EXOTIC)
        cursor = max(cursor, end)
    notes.extend(_gap_notes(text, cursor, len(text)))
    return Scan(notes, bounds, exotic)


def comments(text: str) -> list[str]:
    """Every comment of ``text``, sorted: what formatting must keep."""
    return sorted(note.text for note in scan(text).notes if note.text)


def _gap_notes(text: str, start: int, end: int) -> Iterator[Note]:
    pos = start
    while pos < end:
        newline = text.find("\n", pos, end)
        stop = end if newline < 0 else newline
        line_start = text.rfind("\n", 0, pos) + 1
        mark = text.find("#", pos, stop)
        if mark >= 0:
            yield Note(mark, text[mark:stop].rstrip(), bool(text[line_start:mark].strip()))
        elif newline >= 0 and pos == line_start >= start and not text[pos:stop].strip():
            yield Note(pos, BLANK, False)
        if newline < 0:
            return
        pos = newline + 1


class Entry(NamedTuple):
    pos: int  # where the key (or the sequence item) starts
    line: int
    path: Parts
    node: yaml.Node  # the value
    first: bool  # first in its collection
    alias: bool  # the value is a node met before (an alias)


def entries(root: yaml.Node) -> list[Entry]:
    """Every key and item of a document in source order, the root first."""
    out: list[Entry] = []
    seen: set[int] = set()

    def walk(node: yaml.Node, path: Parts, at: yaml.Mark, first: bool) -> None:
        alias = id(node) in seen
        out.append(Entry(at.index, at.line, path, node, first, alias))
        seen.add(id(node))
        if alias:
            return
        if isinstance(node, yaml.MappingNode):
            for i, (key, value) in enumerate(node.value):
                walk(value, (*path, key.value), key.start_mark, i == 0)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i), item.start_mark, i == 0)

    walk(root, (), root.start_mark, True)
    return out


class Slot(NamedTuple):
    leading: list[str]
    eol: list[str]


class DocNotes(NamedTuple):
    slots: dict[Parts, Slot]
    trailer: list[str]


def attach(notes: list[Note], docs: list[list[Entry]], bounds: list[int]) -> list[DocNotes]:
    """Give each comment and blank line to its entry, or to its document's end."""
    flat = [(entry.pos, d, entry) for d, doc in enumerate(docs) for entry in doc]
    starts = [pos for pos, _, _ in flat]
    out = [DocNotes({}, []) for _ in docs]

    def region(pos: int) -> int:
        return bisect.bisect_right(bounds, pos)

    def slot(at: tuple[int, int, Entry]) -> Slot:
        return out[at[1]].slots.setdefault(at[2].path, Slot([], []))

    for note in notes:
        i = bisect.bisect_right(starts, note.pos)
        prev = flat[i - 1] if i else None
        after = flat[i] if i < len(flat) else None
        same_prev = prev is not None and region(prev[0]) == region(note.pos)
        if note.eol and prev is not None and same_prev:
            slot(prev).eol.append(note.text)
        elif after is not None and (region(after[0]) == region(note.pos) or not same_prev):
            slot(after).leading.append(note.text)
        elif prev is not None:
            out[prev[1]].trailer.append(note.text)
    return out


def _tidy(lines: list[str], first: bool, trailer: bool = False) -> list[str]:
    out: list[str] = []
    for line in lines:
        if line == BLANK and ((not out and first) or (out and out[-1] == BLANK)):
            continue
        out.append(line)
    while trailer and out and out[-1] == BLANK:
        out.pop()
    return out


def _eol_line(entry: Entry) -> int:
    node = entry.node
    if entry.alias or (isinstance(node, yaml.CollectionNode) and not node.flow_style):
        return entry.line
    if isinstance(node, yaml.ScalarNode) and (node.style in ("|", ">") or node.value == ""):
        return int(node.start_mark.line) if node.style else entry.line
    return int(node.end_mark.line)


def place(doc_text: str, notes: DocNotes) -> str:
    """Put a document's comments into its formatted text, indented like their entries."""
    root = yaml.compose(doc_text, Loader=yaml.CSafeLoader)
    found = {e.path: e for e in entries(root)} if root is not None else {}
    before: dict[int, list[str]] = {}
    after: dict[int, str] = {}
    for path, slot in notes.slots.items():
        while path not in found:  # inside an alias that moved: keep them with the parent
            path = path[:-1]
        entry = found[path]
        before.setdefault(entry.line, []).extend(_tidy(slot.leading, entry.first))
        for comment in slot.eol:
            at = _eol_line(entry)
            if at in after:
                before.setdefault(at, []).append(comment)
            else:
                after[at] = comment
    out: list[str] = []
    for i, line in enumerate(doc_text.split("\n")[:-1]):
        indent = line[: len(line) - len(line.lstrip(" "))]
        out.extend(indent + comment if comment else "" for comment in before.get(i, ()))
        out.append(f"{line}  {after[i]}" if i in after else line)
    out.extend(_tidy(notes.trailer, False, trailer=True))
    return "\n".join(out) + "\n"
