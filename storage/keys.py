"""The deployment's secret key, for keyed hashes of personal identifiers.

A 12-digit CCCD has a known structure (province, sex and century, birth year, six random digits), so a plain
SHA-256 of it is reversed by trying about a million candidates: under a second. Identifiers we must look up
by equality (``person_key`` of the ID number) are therefore an HMAC-SHA256 under a secret key that is not in
the database: a copy of the database alone does not reveal them.

Where the key comes from, first found:

1. ``DVCBOT_SECRET_KEY``: at least 32 characters (e.g. ``python -c "import secrets;print(secrets.token_hex(32))"``).
   Every process that shares a database must have the same key (webhook processes, notifier, CLI).
2. ``DVCBOT_KEY_FILE``: a file holding it.
3. ``<var>/secret.key`` (``var`` is ``dvcbot --var``, default ``./var``): generated on first use with 32 random
   bytes, mode ``0600`` in a ``0700`` folder, so ``dvcbot chat`` works with no setup.

Purposes get their own sub-key (``subkey("person")``), so one key never serves two uses.

Rotation: the person key is derived from the ID number, which the allowance register keeps; changing the key
needs the stored keys recomputed (the migration ``0006_keyed_person_key`` shows how). See docs/security.md.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from pathlib import Path

ENV_KEY = "DVCBOT_SECRET_KEY"
ENV_KEY_FILE = "DVCBOT_KEY_FILE"
KEY_FILE_NAME = "secret.key"
MIN_KEY = 32

_lock = threading.Lock()
_var_dir: Path | None = None
_cached: tuple[tuple[str | None, str | None, str], bytes] | None = None


class KeyProblem(RuntimeError):
    """The configured key is unusable (too short, unreadable)."""


def configure(var_dir: str | Path | None) -> None:
    """Where the generated key file lives when no key is given in the environment (``dvcbot --var``)."""
    global _var_dir
    _var_dir = Path(var_dir) if var_dir is not None else None


def location() -> tuple[str | None, Path | None, str | None]:
    """What :func:`key_file` is made from, read without building a path: a cache of something derived from
    the key file compares this (it is on every step's path)."""
    return os.environ.get(ENV_KEY_FILE), _var_dir, os.environ.get("DVCBOT_VAR")


def key_file() -> Path:
    if os.environ.get(ENV_KEY_FILE):
        return Path(os.environ[ENV_KEY_FILE]).expanduser()
    return (_var_dir or Path(os.environ.get("DVCBOT_VAR") or "var")) / KEY_FILE_NAME


def _read_or_create(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(value + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return value


def master_key() -> bytes:
    global _cached
    env = os.environ.get(ENV_KEY)
    source = (env, os.environ.get(ENV_KEY_FILE), str(key_file()))
    with _lock:
        if _cached is not None and _cached[0] == source:
            return _cached[1]
        if env:
            text = env.strip()
        else:
            try:
                text = _read_or_create(key_file())
            except OSError as exc:
                raise KeyProblem(f"cannot read or create the key file {key_file()}: {type(exc).__name__}") from None
        if len(text) < MIN_KEY:
            raise KeyProblem(f"the secret key must have at least {MIN_KEY} characters")
        key = hashlib.sha256(b"dvcbot-master:" + text.encode("utf-8")).digest()
        _cached = (source, key)
        return key


def subkey(purpose: str) -> bytes:
    return hmac.new(master_key(), b"dvcbot-subkey:" + purpose.encode("ascii"), hashlib.sha256).digest()


def keyed_hash(purpose: str, text: str) -> str:
    """HMAC-SHA256 of ``text`` under the purpose's sub-key, as 64 hex digits."""
    return hmac.new(subkey(purpose), text.encode("utf-8"), hashlib.sha256).hexdigest()
