"""Secret values: resolving references, holding values, fingerprints, scrubbing.

A secret field in the config holds a reference, ``{env: NAME}`` or ``{file: PATH}``
(``models.base.SecretRef``). It is resolved only when a command needs the value (testing
a credential, writing to a live system) into a ``Secret``, whose repr, str, format, JSON
and pickle never show the value; ``.reveal()`` is the one way to get it, called only at
the HTTP boundary.

Every resolved value is remembered by the process-wide scrubber, so ``scrub(text)``
removes it (and its URL-encoded and JSON-escaped forms) from any text: exception
messages, and error bodies echoed by live systems.

Fingerprints are keyed (HMAC-SHA256), so a fingerprint saved in a plan or in git cannot
be brute-forced offline without the key, which lives outside git: INTCFG_FINGERPRINT_KEY,
or a random per-repository key in ``.intcfg/fingerprint.key`` (ignored by git).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets as _random
import stat
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

from .errors import SecretError

MASK = "***"
# Where a reference is, for errors: the text, or a function that finds it (a file and
# line cost a parse: callers on a hot path pass the function, called only for an error).
Where = str | Callable[[], str]
FINGERPRINT_KEY_ENV = "INTCFG_FINGERPRINT_KEY"
FINGERPRINT_KEY_FILE = Path(".intcfg") / "fingerprint.key"
# Directories a {file: PATH} secret may resolve into (os.pathsep-separated). Without it,
# the secret must stay in the directory its reference names: no symlink out of it.
SECRET_DIRS_ENV = "INTCFG_SECRET_DIRS"
MAX_SECRET_FILE_BYTES = 65_536
MIN_FINGERPRINT_KEY_BYTES = 16
# Shorter values are no secrets worth the name, and replacing them would garble every
# message (a token "ok" would mask each "ok").
MIN_SCRUB_LENGTH = 6


class Secret:
    """A secret value that does not show itself. ``reveal()`` returns it."""

    __slots__ = ("_value", "source")
    _value: str
    source: str

    def __init__(self, value: str, source: str = "") -> None:
        if not isinstance(value, str):
            raise TypeError("a Secret holds a str")
        object.__setattr__(self, "_value", value)
        object.__setattr__(self, "source", source)
        _SCRUBBER.add(value)

    def reveal(self) -> str:
        return self._value

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __repr__(self) -> str:
        return f"Secret({MASK}{', ' + self.source if self.source else ''})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: object) -> Secret:
        return self

    def __bool__(self) -> bool:
        return bool(self._value)


# -- scrubbing --------------------------------------------------------------------------


class Scrubber:
    """Replaces every registered value (and its encoded forms) in text with ***."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._forms: set[str] = set()
        # Sorted when next needed: sorting on every add made registering a state's
        # thousands of secrets quadratic (11 s for 5,700).
        self._ordered: tuple[str, ...] | None = ()

    def add(self, value: str) -> None:
        if len(value) < MIN_SCRUB_LENGTH or value in self._values:
            return
        forms = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)}
        # JSON as Python writes it and as HTTP clients send it (non-ASCII kept), and base64:
        # live systems echo request bodies and headers back in their error messages.
        forms.add(json.dumps(value)[1:-1])
        forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
        forms.add(base64.b64encode(value.encode("utf-8")).decode("ascii"))
        with self._lock:
            self._values.add(value)
            self._forms |= {f for f in forms if f}
            self._ordered = None

    def scrub(self, text: str) -> str:
        ordered = self._ordered
        if ordered is None:
            with self._lock:
                # Longest first, so a value that contains another is replaced whole.
                ordered = self._ordered = tuple(sorted(self._forms, key=len, reverse=True))
        for value in ordered:
            if value in text:
                text = text.replace(value, MASK)
        return text


_SCRUBBER = Scrubber()


def scrub(text: str) -> str:
    """``text`` without any secret value this process has resolved."""
    return _SCRUBBER.scrub(text)


def register(value: str) -> None:
    """Make ``scrub`` remove ``value`` too (for secrets that never become a ``Secret``)."""
    _SCRUBBER.add(value)


# The names of the environment variables resolved as secrets by this process.
_ENV_SECRETS: set[str] = set()


def child_environment() -> dict[str, str]:
    """The environment for intcfg's own child processes (git): this process's, without the
    variables it resolved as secrets. They need none of them, a process's environment is
    readable by its user, and it is copied at every start: at state scale thousands of
    secrets made each git process five times as slow to start."""
    return {name: value for name, value in os.environ.items() if name not in _ENV_SECRETS}


# -- fingerprints -----------------------------------------------------------------------


def fingerprint(secret: Secret | str, key: bytes) -> str:
    """``hmac-sha256:<hex>`` of the value under ``key``; equal values, equal fingerprints."""
    value = secret.reveal() if isinstance(secret, Secret) else secret
    digest = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"hmac-sha256:{digest}"


def fingerprint_key(repo_root: Path, env: Mapping[str, str] | None = None) -> bytes:
    """The fingerprint key: INTCFG_FINGERPRINT_KEY, else the repository's key file (created)."""
    env = os.environ if env is None else env
    configured = env.get(FINGERPRINT_KEY_ENV)
    if configured is not None:
        if len(configured.encode()) < MIN_FINGERPRINT_KEY_BYTES:
            raise SecretError(
                f"{FINGERPRINT_KEY_ENV} is too short: use at least {MIN_FINGERPRINT_KEY_BYTES} "
                "random bytes, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`"
            )
        return configured.encode()
    return _key_file(repo_root / FINGERPRINT_KEY_FILE)


def _key_file(path: Path) -> bytes:
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return _read_key(path)
    except OSError as e:
        raise SecretError(f"cannot create the fingerprint key {path}: {e.strerror}") from e
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(_random.token_hex(32) + "\n")
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as e:
        raise SecretError(f"cannot read the fingerprint key {path}: {e}") from e
    if len(key) < MIN_FINGERPRINT_KEY_BYTES:
        raise SecretError(f"the fingerprint key {path} is too short; delete it to make a new one")
    return key.encode()


# -- resolving references ---------------------------------------------------------------


class SecretResolver:
    """Resolves secret references of one config repository, each value once.

    ``where`` names the reference's place in the config (``file:line:col``) for errors.
    """

    def __init__(
        self,
        repo_root: Path,
        env: Mapping[str, str] | None = None,
        allowed_dirs: list[Path] | None = None,
    ) -> None:
        self.repo_root = repo_root.resolve()
        self.env = os.environ if env is None else env
        self.allowed_dirs = allowed_dirs if allowed_dirs is not None else _dirs_from_env(self.env)
        self._cache: dict[tuple[str, str], Secret] = {}

    def resolve(self, ref: Any, where: Where = "") -> Secret:
        """The secret ``ref`` names; ``where`` (or a function that tells it, for callers
        that would find it at some cost) says where it was referenced, for errors."""
        kind, target = _parse_ref(ref, where)
        cached = self._cache.get((kind, target))
        if cached is None:
            cached = self._env(target, where) if kind == "env" else self._file(target, where)
            self._cache[(kind, target)] = cached
        return cached

    def _env(self, name: str, where: Where) -> Secret:
        value = self.env.get(name)
        if value is None:
            raise SecretError(
                f"{_at(where)}environment variable {name!r} is not set; export it with the "
                "secret's value before running intcfg"
            )
        if not value:
            raise SecretError(f"{_at(where)}environment variable {name!r} is empty")
        _ENV_SECRETS.add(name)
        return Secret(value, f"env {name}")

    def _file(self, target: str, where: Where) -> Secret:
        path = self._checked_path(target, where)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as e:
            raise SecretError(
                f"{_at(where)}cannot read secret file {target!r}: {e.strerror}"
            ) from e
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise SecretError(f"{_at(where)}secret file {target!r} is not a regular file")
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(MAX_SECRET_FILE_BYTES + 1)
        if len(data) > MAX_SECRET_FILE_BYTES:
            raise SecretError(
                f"{_at(where)}secret file {target!r} is larger than {MAX_SECRET_FILE_BYTES} bytes"
            )
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise SecretError(f"{_at(where)}secret file {target!r} is not UTF-8 text") from e
        value = value[:-1] if value.endswith("\n") else value
        value = value[:-1] if value.endswith("\r") else value
        if not value:
            raise SecretError(f"{_at(where)}secret file {target!r} is empty")
        return Secret(value, f"file {target}")

    def _checked_path(self, target: str, where: Where) -> Path:
        literal = Path(os.path.expanduser(target))
        if not literal.is_absolute():
            literal = self.repo_root / literal
        literal = Path(os.path.normpath(literal))
        real = Path(os.path.realpath(literal))
        if _inside(literal, self.repo_root) or _inside(real, self.repo_root):
            raise SecretError(
                f"{_at(where)}secret file {target!r} is inside the config repository; keep "
                "secrets outside it (they would end up in git)"
            )
        allowed = self.allowed_dirs or [literal.parent]
        if not any(_inside(real, Path(os.path.realpath(d))) for d in allowed):
            shown = ", ".join(str(d) for d in allowed)
            raise SecretError(
                f"{_at(where)}secret file {target!r} resolves outside the allowed directories "
                f"({shown}); a symlink may not lead out of them (set {SECRET_DIRS_ENV} to allow "
                "more)"
            )
        return real


def _parse_ref(ref: Any, where: Where) -> tuple[str, str]:
    if hasattr(ref, "model_dump"):
        ref = ref.model_dump(exclude_none=True)
    if isinstance(ref, dict):
        present = {k: v for k, v in ref.items() if v is not None}
        if len(present) == 1:
            ((kind, target),) = present.items()
            if kind in ("env", "file") and isinstance(target, str) and target:
                return kind, target
    raise SecretError(f"{_at(where)}a secret reference is {{env: NAME}} or {{file: PATH}}")


def _at(where: Where) -> str:
    text = where() if callable(where) else where
    return f"{text}: " if text else ""


def _inside(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def _dirs_from_env(env: Mapping[str, str]) -> list[Path]:
    raw = env.get(SECRET_DIRS_ENV, "")
    return [Path(p) for p in raw.split(os.pathsep) if p]


# -- where secrets live in a spec -------------------------------------------------------


@cache
def secret_paths(kind: str) -> tuple[tuple[str, ...], ...]:
    """Paths (camelCase, as in the config) of the secret fields in ``kind``'s spec."""
    from .models import KIND_MODELS

    model = KIND_MODELS.get(kind)
    if model is None:
        return ()
    spec = model.model_fields["spec"].annotation
    return tuple(_walk_secret_fields(spec, ()))


def _walk_secret_fields(model: Any, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
    import typing

    from pydantic import BaseModel

    from .models.base import SecretRef

    out: list[tuple[str, ...]] = []
    for name, field in model.model_fields.items():
        path = (*prefix, field.alias or name)
        for arg in (field.annotation, *typing.get_args(field.annotation)):
            if arg is SecretRef:
                out.append(path)
            elif isinstance(arg, type) and issubclass(arg, BaseModel):
                out.extend(_walk_secret_fields(arg, path))
    return out
