"""Content-addressed attachment store on the local disk (var/attachments by default).

Files are named by their sha256, so storing the same photo twice is a no-op and
a dossier's record of ``sha256`` is enough to find and verify the bytes.
Writes go to a temporary file first and are renamed into place.

The store holds citizens' papers: its folders are created ``0700`` and its files ``0600`` (an existing store
is tightened when opened). A file is never served under the name it was uploaded with: see
:func:`download_name`.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

# The only types a stored file is ever served as; anything else is an opaque download.
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
              "image/heic": "heic", "application/pdf": "pdf"}
SERVED_TYPES = frozenset(EXTENSIONS)
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


class AttachmentStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        if self.root.exists():
            private_dir(self.root)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 digest")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        self.put_known(sha, data)
        return sha

    def put_known(self, sha256: str, data: bytes) -> Path:
        target = self.path(sha256)
        if target.exists():
            return target
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
        return target

    def get(self, sha256: str) -> bytes:
        data = self.path(sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise OSError("attachment content does not match its digest")
        return data

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()
