"""The per-message hot path's store: one chat's rows read, changed and written in one transaction, on the driver.

An ordinary chat step (an answer typed or a button pressed, in a chat that is not an officer's and not linked to
another chat) needs only the chat's conversation row and its draft rows. This store reads them in two
statements, together with the flags that decide whether the step is an ordinary one (the chat is an officer's;
an officer's invite waits for this chat's answer; the chat is linked to an account), and writes them back,
without the ORM:

* **SQLite** (the embedded default): one connection per database file, used by one step at a time, FIFO (an
  ``asyncio.Lock``), directly on the event loop's thread: the statements of a step take tens of microseconds,
  less than a hop to a worker thread. ``BEGIN IMMEDIATE`` takes the write lock without waiting: when another
  process (or the ORM's pool in this one) holds it, the step waits on the event loop (``asyncio.sleep``, backing
  off) instead of blocking the loop in SQLite's busy handler, up to ``DVCBOT_DB_BUSY_SECONDS``. This connection
  never checkpoints the write-ahead log itself (a checkpoint syncs the file: 10–50 ms on the loop, every few
  hundred steps): every ``checkpoint_every`` commits (:data:`CHECKPOINT_EVERY`) a passive checkpoint runs on a
  worker thread, on a connection of its own, while steps go on.
* **PostgreSQL**: asyncpg connections of a SQLAlchemy engine of the store's own; ``SELECT … FOR UPDATE`` of the
  conversation row (the same row lock the ORM path takes, so both paths and several processes keep one chat's
  steps in order), prepared statements (asyncpg caches them per connection), no ping per step and no reset query
  when a connection goes back to the pool; the flags and drafts are read after the lock is held, in a statement
  of their own. A step's filing runs the ORM in the step's transaction (a savepoint), as on SQLite. A chat
  without a conversation row yet (its first message) is served here too: the step inserts the row with
  ``ON CONFLICT DO NOTHING``; when another process made it meanwhile (two webhook processes given the same new
  chat's first messages), the insert waits for that process's commit and inserts nothing, and the step is rolled
  back and run again on the ORM path (:class:`NotHere`), on the row as committed.

Everything else (officers, dossiers, reports, the channels' inboxes) stays with SQLAlchemy. Durability is the
ORM path's: the step's rows are committed before its replies are sent (WAL with ``synchronous=NORMAL`` on SQLite,
as the ORM's connections use). Draft answers are encrypted exactly as :class:`storage.crypto.EncryptedJSON`
stores them, so either path reads what the other wrote.
"""
from __future__ import annotations

from .base import ChatRows, ChatStore, ChatTx, NotHere
from .postgres import PgChatStore
from .sqlite import CHECKPOINT_EVERY, SqliteChatStore

__all__ = ["CHECKPOINT_EVERY", "ChatRows", "ChatStore", "ChatTx", "NotHere", "PgChatStore", "SqliteChatStore",
           "open_chat_store"]


async def open_chat_store(url: str, *, busy_seconds: float = 30.0) -> ChatStore | None:
    """The store for a database URL (as :func:`storage.db.database_url` normalises it), or None where there is
    none (an in-memory SQLite database: each connection would see its own)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
        if not path or path == ":memory:" or path.startswith("file:"):
            return None
        return SqliteChatStore(path, busy_seconds)
    if url.startswith("postgresql"):
        return await PgChatStore.connect(url)
    return None
