"""The attachment store: citizens' papers, form copies and slips, content-addressed by their sha256.

Files are named by their sha256, so storing the same photo twice stores one file and a dossier's record of ``sha256``
is enough to find and verify the bytes (every read checks the digest). :class:`AttachmentStore` is the interface;
two stores implement it, chosen by :func:`open_store` from ``DVCBOT_ATTACHMENTS``:

- :class:`LocalAttachmentStore` (the default, ``<var>/attachments``): a folder on the local disk (or a shared
  filesystem mounted at the same place on every host). Writes go to a temporary file first and are renamed into
  place; its folders are created ``0700`` and its files ``0600`` (an existing store is tightened when opened).
- :class:`S3AttachmentStore` (``s3://bucket/prefix``): an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, a
  cloud's object storage), shared by every process on every host. Objects are ``<prefix>/ab/abcdef…``: nothing
  in a key says whose file it is. boto3 (the ``s3`` extra) is imported only by this store (its client is made at
  start, :meth:`AttachmentStore.prepare`), so the default store never loads it; the client is thread-safe. Only
  plain object calls are made (PutObject, GetObject, HeadObject, DeleteObject, ListObjectsV2), with request
  checksums only where an operation requires them, so a server that predates S3's newer checksum headers works.

The methods block (disk or network): async code calls them through ``asyncio.to_thread``. A key is the digest
only, never a name or anything a person typed. A file is never served under the name it was uploaded with: see
:func:`download_name`.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
import re
import tempfile
import threading
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

# The only types a stored file is ever served as; anything else is an opaque download.
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
              "image/heic": "heic", "application/pdf": "pdf"}
SERVED_TYPES = frozenset(EXTENSIONS)
log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def download_name(name: str | None, mime: str | None) -> str:
    """The name a file is sent or served under: an ASCII stem (the uploaded name's first part, or ``tep``)
    and the extension of the type sniffed from the bytes. ``giay-bao-tu.pdf.exe`` stored as a PDF is
    ``giay-bao-tu.pdf``; no folder, dot, control or direction character survives."""
    ext = EXTENSIONS.get(mime or "", "bin")
    stem = (name or "").replace("\\", "/").rsplit("/", 1)[-1].split(".", 1)[0]
    stem = unicodedata.normalize("NFKD", stem.replace("đ", "d").replace("Đ", "D"))
    stem = "".join(c for c in stem if not unicodedata.combining(c))
    stem = _UNSAFE.sub("-", stem).strip("-_")[:60].strip("-_") or "tep"
    return f"{stem}.{ext}"


def private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) as ``0700``; tighten it if it exists."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError:  # pragma: no cover - not ours to change
        pass


def check_digest(sha256: str) -> str:
    """``sha256`` if it is a lowercase hex SHA-256 digest (the only names the store knows); ValueError if not."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256 digest")
    return sha256


def verified(sha256: str, data: bytes) -> bytes:
    """``data`` if its digest is ``sha256``; OSError if not (a damaged or substituted file is never served)."""
    if hashlib.sha256(data).hexdigest() != sha256:
        raise OSError("attachment content does not match its digest")
    return data


class AttachmentStore(ABC):
    """Where attachments live. Every method blocks; every failure to reach or read the store is an ``OSError``
    (a missing file: ``FileNotFoundError``), a malformed digest a ``ValueError``."""

    def prepare(self) -> None:  # noqa: B027 - most stores need nothing
        """Get ready for the first call (a process calls it once at start); nothing for a folder."""

    def put(self, data: bytes) -> str:
        """Store ``data``; its sha256."""
        sha = hashlib.sha256(data).hexdigest()
        self.put_known(sha, data)
        return sha

    @abstractmethod
    def put_known(self, sha256: str, data: bytes) -> None:
        """Store ``data`` whose digest the caller computed (``sha256``)."""

    @abstractmethod
    def get(self, sha256: str) -> bytes:
        """The stored bytes, checked against their digest."""

    @abstractmethod
    def exists(self, sha256: str) -> bool: ...

    @abstractmethod
    def delete(self, sha256: str) -> None:
        """Delete a file; nothing happens if it is not there."""

    def delete_many(self, digests: Iterable[str]) -> int:
        """Delete each file; one that cannot be deleted is logged (not its digest) and left. How many went."""
        gone = 0
        for sha in digests:
            try:
                self.delete(sha)
                gone += 1
            except (OSError, ValueError):
                log.warning("an attachment could not be deleted")
        return gone

    @abstractmethod
    def digests(self, written_before: float) -> Iterator[str]:
        """The digests of the files last written before ``written_before`` (a POSIX time): what the retention
        purge (bot/retention.py) looks at for files no dossier or draft references."""

    @abstractmethod
    def locate(self, sha256: str) -> str:
        """Where a person finds the file outside the bot (a local path, an ``s3://`` URI): for the console."""


class LocalAttachmentStore(AttachmentStore):
    """Files under ``root/ab/abcdef…``."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if self.root.exists():
            private_dir(self.root)

    def path(self, sha256: str) -> Path:
        """The file's place on this disk (this store only: callers read through :meth:`get`)."""
        return self.root / check_digest(sha256)[:2] / sha256

    def put_known(self, sha256: str, data: bytes) -> None:
        target = self.path(sha256)
        if target.exists():
            with contextlib.suppress(OSError):  # written again: recent (the retention purge spares recent files)
                os.utime(target)
            return
        private_dir(self.root)
        private_dir(target.parent)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")  # 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, sha256: str) -> bytes:
        return verified(sha256, self.path(sha256).read_bytes())

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def digests(self, written_before: float) -> Iterator[str]:
        if not self.root.exists():
            return
        for path in self.root.glob("??/*"):
            name = path.name
            if len(name) != 64 or name.startswith("."):
                continue
            try:
                if path.stat().st_mtime < written_before:
                    yield name
            except OSError:  # deleted meanwhile
                continue

    def locate(self, sha256: str) -> str:
        return str(self.path(sha256))


def open_store(spec: str | None = None, *, var_dir: str | Path = "var") -> AttachmentStore:
    """The store ``spec`` names (default ``DVCBOT_ATTACHMENTS``): empty for ``<var_dir>/attachments``, a folder
    (or ``file:///folder``), or ``s3://bucket/prefix`` for a bucket at ``DVCBOT_S3_ENDPOINT`` (AWS when unset)
    with the credentials and region boto3 finds (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
    ``AWS_REGION``, a profile, an instance role). See docs/deploy.md."""
    spec = (os.environ.get("DVCBOT_ATTACHMENTS", "") if spec is None else spec).strip()
    if spec.startswith("s3://"):
        bucket, _, prefix = spec[len("s3://"):].partition("/")
        if not bucket:
            raise ValueError("DVCBOT_ATTACHMENTS: s3://bucket/prefix needs a bucket")
        return S3AttachmentStore(bucket, prefix, endpoint_url=os.environ.get("DVCBOT_S3_ENDPOINT") or None,
                                 addressing=os.environ.get("DVCBOT_S3_ADDRESSING") or None)
    if "://" in spec and not spec.startswith("file://"):
        raise ValueError("DVCBOT_ATTACHMENTS: a folder, file:///folder or s3://bucket/prefix")
    root = spec[len("file://"):] if spec.startswith("file://") else spec
    return LocalAttachmentStore(Path(root) if root else Path(var_dir) / "attachments")


NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


class S3AttachmentStore(AttachmentStore):
    """A bucket (and a key prefix inside it). ``endpoint_url`` is the server's URL (None: AWS);
    ``addressing`` is ``path`` (the default with an endpoint: ``http://host/bucket/key``, what MinIO expects),
    ``virtual`` or ``auto``. ``client`` is a ready boto3 S3 client (otherwise one is made on first use from the
    environment's credentials and region)."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 addressing: str | None = None, client: Any = None):
        if client is None and importlib.util.find_spec("boto3") is None:  # said at start, not at the first photo
            raise RuntimeError("DVCBOT_ATTACHMENTS names a bucket: install boto3 (pip install 'dvcbot[s3]')")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.addressing = addressing or ("path" if endpoint_url else "auto")
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config
                    config = Config(s3={"addressing_style": self.addressing}, signature_version="s3v4",
                                    retries={"mode": "standard", "max_attempts": 3},
                                    request_checksum_calculation="when_required",
                                    response_checksum_validation="when_required",
                                    # a chat's upload waits for its PUT: fail it rather than hold the chat
                                    connect_timeout=5, read_timeout=20,
                                    max_pool_connections=32)  # as many as asyncio.to_thread's threads
                    self._client = boto3.session.Session().client("s3", endpoint_url=self.endpoint_url,
                                                                  config=config)
        return self._client

    def prepare(self) -> None:
        """Load boto3 and make the client now (about half a second), not in the first citizen's photo step."""
        _ = self.client

    def key(self, sha256: str) -> str:
        name = f"{check_digest(sha256)[:2]}/{sha256}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def _call(self, method: str, **kw: Any) -> Any:
        """One client call; its failures as ``OSError`` (a missing object: ``FileNotFoundError``), as the local
        store's, so callers handle both stores alike. No key or bucket goes into the message: only the code."""
        from botocore.exceptions import BotoCoreError, ClientError
        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kw)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code = str(err.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "")
            if code in NOT_FOUND:
                raise FileNotFoundError("attachment not in the bucket") from None
            raise OSError(f"attachment store: {method} failed ({code})") from None
        except BotoCoreError as exc:
            raise OSError(f"attachment store: {method} failed ({type(exc).__name__})") from None

    def put_known(self, sha256: str, data: bytes) -> None:
        # an object with this key has these bytes: writing it again changes nothing but its date (which keeps a
        # file sent again from the retention purge of files nobody references)
        self._call("put_object", Key=self.key(sha256), Body=data, ContentType="application/octet-stream")

    def get(self, sha256: str) -> bytes:
        from botocore.exceptions import BotoCoreError
        body = self._call("get_object", Key=self.key(sha256))["Body"]
        try:
            data = body.read()
        except (BotoCoreError, OSError) as exc:  # the connection broke mid-body: unreadable, as a disk error
            raise OSError(f"attachment store: read failed ({type(exc).__name__})") from None
        finally:
            body.close()
        return verified(sha256, data)

    def exists(self, sha256: str) -> bool:
        try:
            self._call("head_object", Key=self.key(sha256))
        except FileNotFoundError:
            return False
        return True

    def delete(self, sha256: str) -> None:
        self._call("delete_object", Key=self.key(sha256))  # S3 answers 204 for a key that is not there

    def digests(self, written_before: float) -> Iterator[str]:
        prefix = f"{self.prefix}/" if self.prefix else ""
        token: str | None = None
        while True:
            page = self._call("list_objects_v2", Prefix=prefix, **({"ContinuationToken": token} if token else {}))
            for obj in page.get("Contents") or ():
                name = str(obj["Key"])[len(prefix):]
                sha = name.rpartition("/")[2]
                if name == f"{sha[:2]}/{sha}" and len(sha) == 64 and obj["LastModified"].timestamp() < written_before:
                    yield sha
            token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
            if not token:
                return

    def locate(self, sha256: str) -> str:
        return f"s3://{self.bucket}/{self.key(sha256)}"
