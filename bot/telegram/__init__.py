"""The Telegram channel (issue #7): aiogram 3 routers, a durable update inbox, rate-limited sending.

See docs/telegram.md. ``dvcbot telegram`` (bot/telegram/cli.py) runs it.

The names below are imported on first use: importing aiogram (its pydantic models) costs seconds, and every
``dvcbot`` command imports this package to register ``dvcbot telegram`` — a console chat must not pay for it.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .channel import TelegramChannel, TelegramConfig
    from .sending import BurstRateLimiter, TelegramSender

__all__ = ["BurstRateLimiter", "TelegramChannel", "TelegramConfig", "TelegramSender"]

_WHERE = {"TelegramChannel": ".channel", "TelegramConfig": ".channel", "BurstRateLimiter": ".sending",
          "TelegramSender": ".sending"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value
