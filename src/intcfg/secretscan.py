"""Find plaintext credentials in the YAML files of a config repository (a pre-commit hook).

Secrets belong in references (``{env: NAME}``, ``{file: PATH}``); this scanner catches the
ones pasted anywhere else, in any field of any YAML file (config, CI workflows,
manifests):

- any value under a key named like a secret (``password``, ``clientSecret``,
  ``secretKey``, ``token``, ``certificate``, ...) that is not a reference;
- known token shapes: private key blocks, JWTs, AWS access key ids, ``Bearer``
  tokens, credentials in a URL, hex keys of 32 digits or more (an Aeries certificate);
- long random-looking strings (20 characters or more, letters and digits mixed, high
  entropy).

A line that ends with ``# intcfg: allow-secret`` is not reported. A hit names the file,
line and column and shows the value only masked: its first two characters and its
length. Offline and light: PyYAML's event parser and the standard library only, so the
hook starts fast; the event parser neither builds nor expands anything, so aliases and
deep nesting cost nothing here.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - the PyPI wheels ship libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

ALLOW_COMMENT = "# intcfg: allow-secret"
MAX_BYTES = 10 * 1_048_576
YAML_SUFFIXES = (".yaml", ".yml")
SKIP_DIRS = frozenset({".git", ".intcfg", ".venv", "node_modules", "__pycache__"})

_ALLOW = re.compile(r"(^|\s)#\s*intcfg:\s*allow-secret\b")
# Words of a key name: clientSecret -> client, secret; AWS_SECRET_ACCESS_KEY -> aws, ...
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_SECRET_WORDS = frozenset(
    {"secret", "secrets", "password", "passwords", "passwd", "passphrase", "pwd", "token", "tokens",
     "certificate", "certificates", "cert", "certs", "credential", "credentials", "apikey", "privatekey",
     "secretkey", "accesskey"}
)
# Before "key", these words name an identifier, not a secret (consumerKey is OAuth's
# public client id; a bare "key" is a map key or a Kubernetes secretKeyRef field).
_PUBLIC_KEY_WORDS = frozenset({"consumer", "public", "primary", "foreign", "partition", "sort", "host", "ref"})
_REFERENCE_KEYS = frozenset({"env", "file"})
_REFERENCE_TEXT = re.compile(r"^(\$\{\{.*\}\}|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\{\{.*\}\})$", re.S)
_NULL_OR_BOOL = frozenset({"", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE"})


class Hit(NamedTuple):
    file: str
    line: int
    column: int
    rule: str
    what: str
    masked: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.rule} {self.what} ({self.masked})"


class Shape(NamedTuple):
    rule: str
    what: str
    pattern: re.Pattern[str]


SHAPES = (
    Shape("INTCFG-S002", "a private key block", re.compile(r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----")),
    Shape("INTCFG-S003", "a JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{8,}")),
    Shape("INTCFG-S004", "an AWS access key id", re.compile(r"\b(AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b")),
    Shape("INTCFG-S005", "a bearer token", re.compile(r"\b(Bearer|Basic)\s+([A-Za-z0-9._~+/-]{8,}=*)")),
    Shape("INTCFG-S006", "credentials in a URL", re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/:@]+:([^\s/@$]{3,})@")),
)
_HEX = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PINNED_HEX = re.compile(r"(@|sha1:|sha256:|sha512:)([0-9a-fA-F]{32,})(?![0-9A-Za-z])")
_WORD = re.compile(r"[A-Za-z0-9+/=_-]{20,}")


def mask(value: str) -> str:
    """The first two characters and the length; nothing more of a short value."""
    shown = value[:2] if len(value) >= 8 else ""
    return f"{shown}… {len(value)} chars"


def is_secret_key(key: str) -> bool:
    """Whether a mapping key names a secret (clientSecret, password, API_TOKEN, secretKey)."""
    words = [w.lower() for w in _WORDS.findall(key)]
    if not words:
        return False
    last = words[-1]
    if last in _SECRET_WORDS:
        return True
    if last == "key" and len(words) > 1:
        return words[-2] not in _PUBLIC_KEY_WORDS and not words[-2].isdigit()
    return False


def is_reference(value: str) -> bool:
    """A CI or template variable (``${{ secrets.X }}``, ``$X``, ``${X}``, ``{{ x }}``)."""
    return bool(_REFERENCE_TEXT.match(value.strip()))


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts: dict[str, int] = {}
    for char in text:
        counts[char] = counts.get(char, 0) + 1
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _class(char: str) -> int:
    return 0 if char.islower() else 1 if char.isupper() else 2 if char.isdigit() else 3


def _random_word(word: str) -> bool:
    """Letters and digits mixed the way random text mixes them, at high entropy.

    Identifiers (k8s/intcfg-reconcile, lakeside-2026-import, /nextgen/v1/upload) change
    between lower case, upper case and digits a few times; random text at about every
    other character (base62: 62%, hex: 47%).
    """
    chars = [c for c in word if c.isalnum()]
    if len(chars) < 20 or not any(c.isdigit() for c in chars) or not any(c.isalpha() for c in chars):
        return False
    switches = sum(1 for a, b in zip(chars, chars[1:]) if _class(a) != _class(b))
    return switches / (len(chars) - 1) >= 0.3 and entropy(word) >= 3.5


def find_shape(value: str) -> tuple[str, str, str, int] | None:
    """(rule, what, matched token, offset) of the first credential-like part of ``value``."""
    for shape in SHAPES:
        match = shape.pattern.search(value)
        if match:
            group = match.lastindex if shape.rule in ("INTCFG-S005", "INTCFG-S006") else 0
            token = match.group(group or 0)
            if shape.rule == "INTCFG-S005" and (token.startswith("$") or is_reference(token)):
                continue
            return shape.rule, shape.what, token, match.start(group or 0)
    # UUIDs (client ids) and pinned digests (action@sha, image@sha256:...) are identifiers.
    plain = _PINNED_HEX.sub(lambda m: m.group(1) + " " * len(m.group(2)), _UUID.sub(lambda m: " " * len(m.group()), value))
    for match in _HEX.finditer(plain):
        token = match.group()
        if any(c.isdigit() for c in token) and any(c.isalpha() for c in token):
            return "INTCFG-S007", "a hex key (32+ hex digits, like an Aeries certificate)", token, match.start()
    for match in _WORD.finditer(plain):
        if _random_word(match.group()):
            return "INTCFG-S008", "a high-entropy string", match.group(), match.start()
    return None


# -- scanning one text -------------------------------------------------------------------


class _Frame:
    __slots__ = ("is_map", "secret", "expecting_key", "key", "pending")

    def __init__(self, is_map: bool, secret: bool, key: str | None) -> None:
        self.is_map = is_map
        self.secret = secret  # the value of a secret-named key: only a reference may be here
        self.expecting_key = True
        self.key = key  # map: the current entry's key; sequence: the key holding it
        self.pending: yaml.ScalarEvent | None = None  # a key of a secret's map, until its value


class _Scanner:
    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.lines = text.split("\n")
        self.hits: list[Hit] = []

    def allowed(self, *lines: int) -> bool:
        return any(0 < n <= len(self.lines) and _ALLOW.search(self.lines[n - 1]) for n in lines)

    def report(self, mark: yaml.Mark, end: yaml.Mark, rule: str, what: str, token: str, offset: int, value: str) -> None:
        line, column = self._place(mark, end, token, offset, value)
        if not self.allowed(line, mark.line + 1):
            self.hits.append(Hit(self.file, line, column, rule, what, mask(token)))

    def _place(self, mark: yaml.Mark, end: yaml.Mark, token: str, offset: int, value: str) -> tuple[int, int]:
        """The token's own line and column when it can be found in the source, else the value's."""
        probe = token[:40]
        first = mark.line + value[:offset].count("\n")
        for n in range(min(first, end.line), min(end.line, len(self.lines) - 1) + 1):
            column = self.lines[n].find(probe, mark.column if n == mark.line else 0)
            if column >= 0:
                return n + 1, column + 1
        return mark.line + 1, mark.column + 1

    def scalar(self, event: yaml.ScalarEvent, key: str | None, secret: bool) -> None:
        value = event.value
        plain = event.implicit[0] and event.style in (None, "")
        if secret and not (plain and value in _NULL_OR_BOOL) and value.strip() and not is_reference(value):
            what = f"a plaintext value under {key!r}; use a reference, {{env: NAME}} or {{file: PATH}}"
            self.report(event.start_mark, event.end_mark, "INTCFG-S001", what, value, 0, value)
            return
        found = find_shape(value)
        if found is not None:
            rule, what, token, offset = found
            self.report(event.start_mark, event.end_mark, rule, what, token, offset, value)

    def events(self, events: Iterable[yaml.Event]) -> None:
        stack: list[_Frame] = []
        for event in events:
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                secret, key = self._context(stack, event)
                stack.append(_Frame(isinstance(event, yaml.MappingStartEvent), secret, key))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
                self._advance(stack)
            elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
                if isinstance(event, yaml.ScalarEvent):
                    self._scalar_in(stack, event)
                else:
                    self._advance(stack)

    def _context(self, stack: list[_Frame], event: yaml.Event) -> tuple[bool, str | None]:
        """Whether a new collection is a secret key's value, and the key that holds it."""
        if not stack:
            return False, None
        top = stack[-1]
        if top.is_map and top.expecting_key:  # a complex key: nothing secret about it
            return False, None
        if top.is_map:
            return (top.key is not None and is_secret_key(top.key)), top.key
        return top.secret, top.key

    def _scalar_in(self, stack: list[_Frame], event: yaml.ScalarEvent) -> None:
        top = stack[-1] if stack else None
        if top is not None and top.is_map and top.expecting_key:
            if top.secret and event.value not in _REFERENCE_KEYS:
                top.pending = event
            elif not top.secret:
                self.scalar(event, None, False)  # a key is checked for its shape only
            top.key = event.value
            top.expecting_key = False
            return
        if top is None:
            self.scalar(event, None, False)
        elif top.is_map:
            self._unreferenced_key(top, event)
            self.scalar(event, top.key, top.key is not None and is_secret_key(top.key) and not top.secret)
        else:
            self.scalar(event, top.key, top.secret)
        self._advance(stack)

    def _unreferenced_key(self, top: _Frame, value: yaml.ScalarEvent) -> None:
        # `password: {hunter2}` is {hunter2: null}: in a secret's map, a key without a
        # value is the pasted secret.
        key, top.pending = top.pending, None
        if key is not None and value.implicit[0] and value.value in ("", "~", "null"):
            what = "a plaintext value in a secret field; use a reference, {env: NAME} or {file: PATH}"
            self.report(key.start_mark, key.end_mark, "INTCFG-S001", what, key.value, 0, key.value)

    @staticmethod
    def _advance(stack: list[_Frame]) -> None:
        if stack and stack[-1].is_map:
            top = stack[-1]
            top.pending = None
            if top.expecting_key:  # a complex (collection or alias) key ended
                top.key = None
            top.expecting_key = not top.expecting_key

    def lines_only(self) -> None:
        """A text that is not YAML: each ``key: value`` line and each value by its shape."""
        entry = re.compile(r"""^\s*(?:-\s+)?["']?([A-Za-z0-9_.-]+)["']?\s*:\s+(.*?)\s*$""")
        for n, line in enumerate(self.lines):
            if _ALLOW.search(line):
                continue
            code = re.sub(r"\s+#.*$", "", line)
            match = entry.match(code)
            value = match.group(2).strip("'\"") if match else ""
            if match and is_secret_key(match.group(1)) and value and value not in _NULL_OR_BOOL \
                    and not is_reference(value) and not value.startswith("{"):
                column = code.find(match.group(2)) + 1
                what = f"a plaintext value under {match.group(1)!r}; use a reference, {{env: NAME}} or {{file: PATH}}"
                self.hits.append(Hit(self.file, n + 1, column, "INTCFG-S001", what, mask(value)))
                continue
            found = find_shape(code)
            if found is not None:
                rule, what, token, offset = found
                self.hits.append(Hit(self.file, n + 1, offset + 1, rule, what, mask(token)))


def scan_text(file: str, text: str) -> list[Hit]:
    """Every plaintext credential in ``text``, in order; never raises for bad input."""
    scanner = _Scanner(file, text)
    try:
        events = list(yaml.parse(text, Loader=_Loader))
    except yaml.YAMLError:
        scanner.lines_only()
        return scanner.hits
    scanner.events(events)
    return sorted(set(scanner.hits), key=lambda h: (h.line, h.column, h.rule))


# -- files -------------------------------------------------------------------------------


class Problem(NamedTuple):
    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


def scan_file(path: Path, name: str) -> tuple[list[Hit], Problem | None]:
    """The hits in one file, or why it could not be scanned."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as e:
        return [], Problem(name, f"cannot read the file: {e.strerror}")
    if len(raw) > MAX_BYTES:
        return [], Problem(name, f"not scanned: larger than {MAX_BYTES // 1_048_576} MiB")
    text = raw.decode("utf-8-sig", errors="replace")
    return scan_text(name, text), None


def yaml_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The YAML files named, and those below the directories named (symlinks not followed)."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                for name in sorted(files):
                    if name.endswith(YAML_SUFFIXES):
                        yield Path(folder) / name
        else:
            yield path


class Result(NamedTuple):
    hits: list[Hit]
    problems: list[Problem]
    files: int

    @property
    def ok(self) -> bool:
        return not self.hits and not self.problems


def scan(paths: list[Path]) -> Result:
    """Scan the files named (directories: their YAML files)."""
    hits: list[Hit] = []
    problems: list[Problem] = []
    count = 0
    for path in yaml_files(paths):
        count += 1
        found, problem = scan_file(path, _display(path))
        hits.extend(found)
        if problem is not None:
            problems.append(problem)
    return Result(hits, problems, count)


def _display(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel
