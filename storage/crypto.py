"""Encryption at rest of the most sensitive columns, transparent to the code that reads and writes them.

Answers hold ID numbers, health and disability data, causes of death, ethnicity; the allowance register holds ID
and bank account numbers. Those columns are encrypted by SQLAlchemy column types (and by the lean chat store,
storage/chatstore/, with the same functions), so repositories and callers see plain values:

* :class:`EncryptedJSON` — a JSON column (``dossiers.answers``, ``drafts.answers``) whose stored JSON value is one
  string, ``"enc:4:<token>"``; the schema does not change, only what is in it;
* :class:`EncryptedString` — a string column (ID and account numbers), stored as ``enc:3:<token>``.

What is written: AES-256-GCM (``cryptography``'s AEAD), a random 96-bit nonce per value, the prefix as associated
data (a token cannot be passed off under another prefix); the token is the URL-safe base64 of nonce and
ciphertext. ``enc:3:`` is the UTF-8 text encrypted; ``enc:4:`` is the text compressed with zlib, then encrypted,
chosen when that is shorter (a draft's answers: about half the bytes). The AES key of each data key is derived
from it with HKDF-SHA256. A draft is encrypted on nearly every chat step, and Fernet took four times the CPU.

Still read, and rewritten by :func:`reencrypt_rows`: ``enc:1:`` and ``enc:2:``, the same two layouts under Fernet
(AES-128-CBC + HMAC-SHA256), as written before 05/12/2026. A value that is not ``enc:``-prefixed is read as it is
(rows written before migration 0008, which encrypts them).
Equality look-ups never touch these columns: they use keyed hashes (``person_key``, storage/keys.py).

Keys (Fernet-format keys, 32 url-safe base64 bytes each), first found:

1. ``DVCBOT_DATA_KEYS``: comma-separated, the first encrypts, all decrypt;
2. ``DVCBOT_DATA_KEY_FILE``: one key per line, same order;
3. ``<var>/data.keys``: generated on first use (one key, mode ``0600``), so ``dvcbot chat`` needs no setup.

Rotation (docs/security.md): put a new key first and keep the old ones after it (``dvcbot db rotate-key`` does it
for the key file), re-encrypt every row with the new key (:func:`reencrypt_all`, run by the same command), then
remove the old keys. A value in an older layout counts as stale too, so the same command rewrites it.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import JSON, String, Text
from sqlalchemy.types import TypeDecorator

from . import keys

ENV_KEYS = "DVCBOT_DATA_KEYS"
ENV_KEY_FILE = "DVCBOT_DATA_KEY_FILE"
KEY_FILE_NAME = "data.keys"
PREFIX = "enc:1:"       # Fernet, the text (read only)
PREFIX_ZLIB = "enc:2:"  # Fernet, the text compressed (read only)
PREFIX_GCM = "enc:3:"   # AES-256-GCM, the text
PREFIX_GCM_ZLIB = "enc:4:"  # AES-256-GCM, the text compressed
_PREFIXES = (PREFIX, PREFIX_ZLIB, PREFIX_GCM, PREFIX_GCM_ZLIB)
_GCM = (PREFIX_GCM, PREFIX_GCM_ZLIB)
_NONCE = 12
_HKDF_INFO = b"dvcbot data at rest: AES-256-GCM (enc:3, enc:4)"


@dataclass(frozen=True)
class _Keys:
    fernet: MultiFernet         # the Fernet layouts' keys (reading enc:1/enc:2; tests write them)
    aead: tuple[AESGCM, ...]    # the AES-GCM key derived from each data key, in the same order


_lock = threading.Lock()
_cached: tuple[tuple[Any, ...], _Keys] | None = None


class DataKeyProblem(RuntimeError):
    """No usable data key, or a value that none of the keys decrypts."""


def key_file() -> Path:
    if os.environ.get(ENV_KEY_FILE):
        return Path(os.environ[ENV_KEY_FILE]).expanduser()
    return keys.key_file().parent / KEY_FILE_NAME


def _read_keys(path: Path, create: bool = True) -> list[str]:
    try:
        return [line.strip() for line in path.read_text(encoding="ascii").splitlines() if line.strip()]
    except FileNotFoundError:
        if not create:
            return []
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    value = Fernet.generate_key().decode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_keys(path, create=False)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(value + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return [value]


def data_keys() -> list[str]:
    env = os.environ.get(ENV_KEYS)
    if env:
        return [k.strip() for k in env.split(",") if k.strip()]
    return _read_keys(key_file())


def _derive(key: str) -> AESGCM:
    raw = base64.urlsafe_b64decode(key.encode("ascii"))
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(raw))


def _keys() -> _Keys:
    global _cached
    # where the keys come from, compared without building the key file's path (every step encrypts)
    source = (os.environ.get(ENV_KEYS), os.environ.get(ENV_KEY_FILE), keys.location())
    cached = _cached
    if cached is not None and cached[0] == source:
        return cached[1]
    try:
        values = data_keys()
        fernets = [Fernet(k.encode("ascii")) for k in values]
        aeads = tuple(_derive(k) for k in values)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise DataKeyProblem(f"a data key is not a Fernet key: {type(exc).__name__}") from None
    except OSError as exc:
        raise DataKeyProblem(f"cannot read or create the data key file {key_file()}: {type(exc).__name__}") from None
    if not fernets:
        raise DataKeyProblem("no data key")
    found = _Keys(MultiFernet(fernets), aeads)
    with _lock:
        _cached = (source, found)
    return found


def cipher() -> MultiFernet:
    """The data keys as Fernet keys (the layouts enc:1 and enc:2)."""
    return _keys().fernet


def forget_cached_keys() -> None:
    global _cached
    with _lock:
        _cached = None


def is_encrypted(value: Any) -> bool:
    """Whether a stored value is one of ours, encrypted (``enc:1:`` to ``enc:4:``)."""
    return isinstance(value, str) and value.startswith(_PREFIXES)


def _deflate(data: bytes) -> bytes:
    """zlib at level 6 with a 4 KiB window and a small state (``wbits`` 12, ``memLevel`` 4): a value is a few
    KiB at most, so the output is the same size, and setting up zlib's default 256 KiB of state took two
    thirds of the time (a draft's answers: 41 µs before, 14 µs so). ``zlib.decompress`` reads either."""
    z = zlib.compressobj(6, zlib.DEFLATED, 12, 4)
    return z.compress(data) + z.flush()


def encrypt_text(text: str) -> str:
    data = text.encode("utf-8")
    packed = _deflate(data)
    prefix, body = (PREFIX_GCM_ZLIB, packed) if len(packed) < len(data) else (PREFIX_GCM, data)
    nonce = os.urandom(_NONCE)
    sealed = _keys().aead[0].encrypt(nonce, body, prefix.encode("ascii"))
    return prefix + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def _open_gcm(value: str, aeads: tuple[AESGCM, ...]) -> bytes:
    prefix = value[:len(PREFIX_GCM)]
    try:
        raw = base64.urlsafe_b64decode(value[len(prefix):].encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise DataKeyProblem("a stored value is not a token") from None
    for aead in aeads:
        try:
            return aead.decrypt(raw[:_NONCE], raw[_NONCE:], prefix.encode("ascii"))
        except (InvalidTag, ValueError):
            continue
    raise DataKeyProblem("a stored value cannot be decrypted with the configured data keys")


def decrypt_text(value: str) -> str:
    if not is_encrypted(value):
        return value  # written before encryption (migration 0008 encrypts such rows)
    if value.startswith(_GCM):
        data = _open_gcm(value, _keys().aead)
        return (zlib.decompress(data) if value.startswith(PREFIX_GCM_ZLIB) else data).decode("utf-8")
    try:
        data = cipher().decrypt(value[len(PREFIX):].encode("ascii"))
    except InvalidToken:
        raise DataKeyProblem("a stored value cannot be decrypted with the configured data keys") from None
    return (zlib.decompress(data) if value.startswith(PREFIX_ZLIB) else data).decode("utf-8")


def is_current(value: Any) -> bool:
    """Whether a stored value is encrypted with the first (current) key, in the current layout (AES-GCM)."""
    if not is_encrypted(value) or not value.startswith(_GCM):
        return False
    try:
        _open_gcm(value, _keys().aead[:1])
        return True
    except DataKeyProblem:
        return False


class EncryptedJSON(TypeDecorator):
    """A JSON value stored as one encrypted JSON string (same column type, so no schema change)."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect) -> Any:
        if value is None:
            return None
        return encrypt_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def process_result_value(self, value: Any, dialect) -> Any:
        if is_encrypted(value):
            return json.loads(decrypt_text(value))
        return value


class EncryptedString(TypeDecorator):
    """A string stored encrypted (``enc:3:…``, about 60 characters for a short value; columns are 400)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect) -> Any:
        if value is None:
            return None
        return encrypt_text(str(value))

    def process_result_value(self, value: Any, dialect) -> Any:
        if isinstance(value, str):
            return decrypt_text(value)
        return value


# Which columns are encrypted: (table, primary key, column, kind). Migration 0008 and reencrypt_all use it.
ENCRYPTED_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("dossiers", "id", "answers", "json"),
    ("drafts", "id", "answers", "json"),
    ("allowance_beneficiaries", "id", "id_number", "text"),
    ("allowance_beneficiaries", "id", "rep_id_number", "text"),
    ("allowance_beneficiaries", "id", "account_number", "text"),
    ("allowance_changes", "id", "new_account_number", "text"),
)


def reencrypt_rows(conn, *, only_stale: bool = True) -> int:
    """Encrypt with the current key every value of :data:`ENCRYPTED_COLUMNS` that is plain or under an older key
    (a synchronous connection, inside the caller's transaction). Returns how many values were rewritten."""
    import sqlalchemy as sa

    tables = set(sa.inspect(conn).get_table_names())
    n = 0
    for table, pk, col, kind in ENCRYPTED_COLUMNS:
        if table not in tables:
            continue
        t = sa.table(table, sa.column(pk), sa.column(col, JSON if kind == "json" else Text))
        for row_id, value in conn.execute(sa.select(t.c[pk], t.c[col])).all():
            if value is None or (only_stale and is_current(value)):
                continue
            if kind == "json":
                plain = json.loads(decrypt_text(value)) if is_encrypted(value) else value
                new = encrypt_text(json.dumps(plain, ensure_ascii=False, separators=(",", ":")))
            else:
                new = encrypt_text(decrypt_text(str(value)))
            conn.execute(sa.update(t).where(t.c[pk] == row_id).values({col: new}))
            n += 1
    return n


def add_data_key() -> str:
    """Put a new key first in the data key file (the old ones stay after it, to read what they encrypted)."""
    if os.environ.get(ENV_KEYS):
        raise DataKeyProblem(f"the keys come from ${ENV_KEYS}: put a new key first there")
    path = key_file()
    old = _read_keys(path)
    new = Fernet.generate_key().decode("ascii")
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write("\n".join([new, *old]) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    forget_cached_keys()
    return new
