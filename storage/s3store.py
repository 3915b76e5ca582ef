"""The attachment store in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, a cloud's object storage).

Objects are ``<prefix>/ab/abcdef…``: the content's sha256 and nothing else, so a key says nothing about whose
file it is. Every read is checked against the digest, as on the local disk. boto3 is imported when the first
call needs a client (the console's default local store never loads it); its client is thread-safe, and the
store is called from worker threads (``asyncio.to_thread``), never on the event loop.

Only plain object calls are used (PutObject, GetObject, HeadObject, DeleteObject, ListObjectsV2), and request
checksums only where an operation requires them, so a server that predates S3's newer checksum headers works.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from .attachments import AttachmentStore, check_digest, verified

NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


class S3AttachmentStore(AttachmentStore):
    """A bucket (and a key prefix inside it). ``endpoint_url`` is the server's URL (None: AWS);
    ``addressing`` is ``path`` (the default with an endpoint: ``http://host/bucket/key``, what MinIO expects),
    ``virtual`` or ``auto``. ``client`` is a ready boto3 S3 client (otherwise one is made on first use from the
    environment's credentials and region)."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 addressing: str | None = None, client: Any = None):
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
                                    retries={"mode": "standard", "max_attempts": 4},
                                    request_checksum_calculation="when_required",
                                    response_checksum_validation="when_required",
                                    connect_timeout=5, read_timeout=30)
                    self._client = boto3.session.Session().client("s3", endpoint_url=self.endpoint_url,
                                                                  config=config)
        return self._client

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
