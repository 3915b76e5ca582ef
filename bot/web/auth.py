"""Passwordless sign-in for the web desk, and its sessions.

* ``/dangnhap`` in an officer's linked chat issues a :class:`~storage.web_models.WebLogin`: a 6-digit code
  and a one-time link token, both stored only as hashes, valid ``LOGIN_MINUTES`` minutes, single use.
  A wrong code counts against every code live at that moment; a code with ``MAX_ATTEMPTS`` wrong guesses
  against it is void (and the client's address is slowed down in memory as well), so guessing one of the
  few live codes among a million is hopeless.
* A session is a random token in a signed, HttpOnly, SameSite=Strict cookie; the database holds its hash,
  its CSRF token and when it was last seen. It ends at logout, after ``IDLE_MINUTES`` without a request,
  after ``MAX_HOURS`` in all, and at once when the officer is deactivated (checked on every request).

Everything here runs inside the caller's transaction and never commits.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Officer
from storage.web_models import WebLogin, WebSession

LOGIN_MINUTES = 5
MAX_ATTEMPTS = 5
IDLE_MINUTES = 30
MAX_HOURS = 12
TOUCH_SECONDS = 60  # last_seen is written at most this often per session
COOKIE = "dvc_desk"
PRE_COOKIE = "dvc_desk_pre"  # CSRF token of the sign-in form, before there is a session


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_secret(var_dir: str | Path) -> bytes:
    """The cookie-signing key: ``$DVCBOT_WEB_SECRET``, else ``<var>/web-secret`` (created once, mode 0600).
    Every process behind a load balancer must share it."""
    env = os.environ.get("DVCBOT_WEB_SECRET")
    if env:
        return env.encode("utf-8")
    path = Path(var_dir) / "web-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode("utf-8")


def sign(secret: bytes, token: str) -> str:
    mac = hmac.new(secret, token.encode("ascii"), hashlib.sha256).digest()
    return token + "." + base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def unsign(secret: bytes, value: str | None) -> str | None:
    if not value or "." not in value:
        return None
    token, _sep, _mac = value.rpartition(".")
    try:
        token.encode("ascii")
    except UnicodeEncodeError:
        return None
    return token if hmac.compare_digest(sign(secret, token), value) else None


# -- login codes ----------------------------------------------------------------------------------
@dataclass
class IssuedLogin:
    code: str
    link_token: str
    expires_at: datetime


async def issue_login(db: AsyncSession, officer: Officer, now: datetime) -> IssuedLogin:
    """A new code and link for ``officer``; earlier unused ones of this officer stop working."""
    await db.execute(update(WebLogin).where(WebLogin.officer_id == officer.id, WebLogin.used_at.is_(None))
                     .values(used_at=now))
    live = set((await db.execute(select(WebLogin.code_hash).where(
        WebLogin.used_at.is_(None), WebLogin.expires_at > now))).scalars())
    while True:  # no two live codes alike, so a code names one officer
        code = f"{secrets.randbelow(1_000_000):06d}"
        if _hash(code) not in live:
            break
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(minutes=LOGIN_MINUTES)
    db.add(WebLogin(officer_id=officer.id, code_hash=_hash(code), link_hash=_hash(token), created_at=now,
                    expires_at=expires, attempts=0))
    await db.flush()
    return IssuedLogin(code, token, expires)


def normalise_code(text: str | None) -> str | None:
    digits = "".join(ch for ch in (text or "") if not ch.isspace() and ch not in "-.")
    return digits if len(digits) == 6 and digits.isascii() and digits.isdigit() else None


async def _redeem(db: AsyncSession, column, value_hash: str, now: datetime) -> Officer | None:
    row = (await db.execute(select(WebLogin).where(column == value_hash, WebLogin.used_at.is_(None),
                                                   WebLogin.expires_at > now,
                                                   WebLogin.attempts < MAX_ATTEMPTS)
                            .with_for_update())).scalar_one_or_none()
    if row is None:
        return None
    row.used_at = now
    officer = (await db.execute(select(Officer).where(Officer.id == row.officer_id))).scalar_one_or_none()
    return officer if officer is not None and officer.active and officer.user_key else None


async def redeem_code(db: AsyncSession, code: str, now: datetime) -> Officer | None:
    """The officer whose live code this is (the code is then used up), else None: every live code then
    counts one wrong attempt."""
    canonical = normalise_code(code)
    officer = await _redeem(db, WebLogin.code_hash, _hash(canonical), now) if canonical else None
    if officer is None:
        await db.execute(update(WebLogin).where(WebLogin.used_at.is_(None), WebLogin.expires_at > now)
                         .values(attempts=WebLogin.attempts + 1))
    return officer


async def redeem_link(db: AsyncSession, token: str, now: datetime) -> Officer | None:
    if not token or len(token) > 100:
        return None
    return await _redeem(db, WebLogin.link_hash, _hash(token), now)


class Throttle:
    """Failed sign-ins per client address in this process: at most ``limit`` in ``window`` seconds."""

    def __init__(self, limit: int = 10, window: float = 600.0, clock=time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._fails: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, who: str) -> deque[float]:
        q = self._fails[who]
        cutoff = self.clock() - self.window
        while q and q[0] < cutoff:
            q.popleft()
        return q

    def blocked(self, who: str) -> bool:
        return len(self._recent(who)) >= self.limit

    def fail(self, who: str) -> None:
        self._recent(who).append(self.clock())


# -- sessions ---------------------------------------------------------------------------------------
async def start_session(db: AsyncSession, officer: Officer, now: datetime) -> tuple[str, WebSession]:
    token = secrets.token_urlsafe(32)
    s = WebSession(token_hash=_hash(token), officer_id=officer.id, csrf=secrets.token_urlsafe(24),
                   created_at=now, last_seen_at=now)
    db.add(s)
    await db.flush()
    return token, s


async def current(db: AsyncSession, token: str | None, now: datetime) -> tuple[WebSession, Officer] | None:
    """The live session of this token and its (active) officer, touched; None if there is none."""
    if not token:
        return None
    s = (await db.execute(select(WebSession).where(WebSession.token_hash == _hash(token)))).scalar_one_or_none()
    if s is None or s.ended_at is not None:
        return None
    if now - s.last_seen_at > timedelta(minutes=IDLE_MINUTES) or now - s.created_at > timedelta(hours=MAX_HOURS):
        s.ended_at = now
        return None
    officer = (await db.execute(select(Officer).where(Officer.id == s.officer_id))).scalar_one_or_none()
    if officer is None or not officer.active or not officer.user_key:
        s.ended_at = now
        return None
    if (now - s.last_seen_at).total_seconds() >= TOUCH_SECONDS:
        s.last_seen_at = now
    return s, officer


async def end_session(db: AsyncSession, session_id: int, now: datetime) -> None:
    await db.execute(update(WebSession).where(WebSession.id == session_id, WebSession.ended_at.is_(None))
                     .values(ended_at=now))


async def end_all(db: AsyncSession, officer_id: int, now: datetime) -> None:
    """End every session of an officer (deactivation, a new chat)."""
    await db.execute(update(WebSession).where(WebSession.officer_id == officer_id, WebSession.ended_at.is_(None))
                     .values(ended_at=now))
