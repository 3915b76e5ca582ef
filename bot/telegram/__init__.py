"""The Telegram channel (issue #7): aiogram 3 routers, a durable update inbox, rate-limited sending.

See docs/telegram.md. ``dvcbot telegram`` (bot/telegram/cli.py) runs it.
"""
from .channel import TelegramChannel, TelegramConfig
from .sending import BurstRateLimiter, TelegramSender

__all__ = ["BurstRateLimiter", "TelegramChannel", "TelegramConfig", "TelegramSender"]
