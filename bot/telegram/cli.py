"""``dvcbot telegram``: run the Telegram bot (and the outbox notifier for Telegram chats).

    DVCBOT_TELEGRAM_TOKEN=123:ABC dvcbot telegram                       # long polling
    DVCBOT_TELEGRAM_TOKEN=123:ABC DVCBOT_TELEGRAM_SECRET=s3cr3t \\
        dvcbot telegram --mode webhook --webhook-url https://bot.example.vn/telegram/webhook --listen 127.0.0.1:8080
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import signal
import sys
from urllib.parse import urlparse

log = logging.getLogger("dvcbot.telegram")

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def register(subparsers) -> None:
    t = subparsers.add_parser(
        "telegram", help="run the Telegram bot (token from $DVCBOT_TELEGRAM_TOKEN)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run the Telegram bot (aiogram 3) in front of the runtime, and deliver the outbox "
                    "notifications of telegram: chats\nfrom the same process. See docs/telegram.md.",
        epilog="""environment:
  DVCBOT_TELEGRAM_TOKEN    bot token from @BotFather (required)
  DVCBOT_TELEGRAM_SECRET   webhook secret token, 1-256 of A-Z a-z 0-9 _ - (required with --mode webhook);
                           Telegram sends it back in X-Telegram-Bot-Api-Secret-Token, other requests get 401
  DVCBOT_TELEGRAM_MODE, DVCBOT_TELEGRAM_WEBHOOK_URL, DVCBOT_TELEGRAM_LISTEN, DVCBOT_TELEGRAM_API
                           defaults of --mode, --webhook-url, --listen, --api-base
  DVCBOT_TELEGRAM_PROCESSES  default of --processes
  DVCBOT_TELEGRAM_REPLY_WAIT default of --reply-wait
  DVCBOT_DB                database URL (default: SQLite under ./var)

examples:
  DVCBOT_TELEGRAM_TOKEN=123:ABC dvcbot telegram                        # long polling
  DVCBOT_TELEGRAM_TOKEN=123:ABC DVCBOT_TELEGRAM_SECRET=s3cr3t dvcbot telegram --mode webhook \\
      --webhook-url https://bot.example.vn/telegram/webhook --listen 127.0.0.1:8080""")
    t.add_argument("--mode", choices=["polling", "webhook"], default=os.environ.get("DVCBOT_TELEGRAM_MODE", "polling"),
                   help="long polling (quick start) or webhook (production); default $DVCBOT_TELEGRAM_MODE or polling")
    t.add_argument("--webhook-url", default=os.environ.get("DVCBOT_TELEGRAM_WEBHOOK_URL"),
                   help="public HTTPS URL to register with setWebhook (its path is served); without it the "
                        "webhook is assumed to be set already")
    t.add_argument("--listen", default=os.environ.get("DVCBOT_TELEGRAM_LISTEN", "127.0.0.1:8080"),
                   help="host:port of the webhook server (default 127.0.0.1:8080, behind a TLS proxy)")
    t.add_argument("--api-base", default=os.environ.get("DVCBOT_TELEGRAM_API"),
                   help="Bot API server base URL (a local telegram-bot-api server); default api.telegram.org")
    t.add_argument("--album-window", type=float, default=0.8, help="seconds to wait for more photos of an album")
    t.add_argument("--reply-wait", type=float, default=os.environ.get("DVCBOT_TELEGRAM_REPLY_WAIT") or "2",
                   help="webhook mode: seconds a typed message's response waits for its turn, to carry the turn's "
                        "last reply (0: never; every reply is a Bot API call); default $DVCBOT_TELEGRAM_REPLY_WAIT "
                        "or 2")
    t.add_argument("--no-notifier", action="store_true",
                   help="do not deliver outbox notifications from this process")
    t.add_argument("--processes", type=int, default=os.environ.get("DVCBOT_TELEGRAM_PROCESSES") or "1",
                   help="how many processes serve this bot token (several webhook processes on one PostgreSQL "
                        "database): each sends at most 1/N of the bot's global budget (25 messages/s); "
                        "default $DVCBOT_TELEGRAM_PROCESSES or 1")
    t.add_argument("--no-rate-limits", action="store_true",
                   help="benchmarks against a fake Bot API only: no outbound or inbound rate limits")
    t.add_argument("--db", default=argparse.SUPPRESS, help="database URL (as dvcbot --db; default $DVCBOT_DB)")


def _listen(value: str) -> tuple[str, int]:
    from bot.cli_args import listen_address
    return listen_address(value)


def channel_options(args) -> dict:
    """The ``TelegramConfig`` settings of ``dvcbot telegram``'s arguments, but for the token, secret and path."""
    return {"album_window": args.album_window, "reply_wait": max(0.0, args.reply_wait), **rate_limits(args)}


def rate_limits(args) -> dict:
    """The ``TelegramConfig`` limits of ``dvcbot telegram``'s arguments. Telegram's global budget is per bot token,
    our limiter per process: N processes share it by each taking 1/N of it (docs/deploy.md says why this and not
    a limiter in the database)."""
    from dataclasses import replace

    from bot.inbound import InboundLimits

    from .sending import default_limits
    if args.no_rate_limits:
        return {"limits": replace(default_limits(), per_chat_interval=0.0, global_rate=1e6, global_burst=1e6),
                "inbound": InboundLimits(1e6, 1e6, 1e6, 1e6)}
    n = max(1, args.processes)
    limits = default_limits()
    return {"limits": replace(limits, global_rate=limits.global_rate / n,
                              global_burst=max(1.0, limits.global_burst / n))}


async def _main(args) -> int:
    from bot.jobs import standard_jobs
    from bot.notifier import Notifier
    from bot.service import Runtime, settle_heap

    from .channel import TelegramChannel, TelegramConfig

    token = os.environ.get("DVCBOT_TELEGRAM_TOKEN", "").strip()
    if not token:
        print("DVCBOT_TELEGRAM_TOKEN is not set (get a token from @BotFather).", file=sys.stderr)
        return 2
    secret = os.environ.get("DVCBOT_TELEGRAM_SECRET", "").strip() or None
    if args.mode == "webhook":
        if not secret:
            print("DVCBOT_TELEGRAM_SECRET is required in webhook mode (1-256 characters A-Z a-z 0-9 _ -).",
                  file=sys.stderr)
            return 2
        if not _SECRET_RE.match(secret):
            print("DVCBOT_TELEGRAM_SECRET may only contain A-Z a-z 0-9 _ - (1-256 characters).", file=sys.stderr)
            return 2
    path = (urlparse(args.webhook_url).path or "/telegram/webhook") if args.webhook_url else "/telegram/webhook"
    config = TelegramConfig(token=token, api_base=args.api_base, secret=secret, webhook_path=path,
                            **channel_options(args))
    stop = asyncio.Event()
    async with Runtime(args.db, var_dir=args.var) as rt:
        channel = TelegramChannel(rt, config)
        notifier_task = jobs = None
        if not args.no_notifier:
            notifier = Notifier(rt.sm, [], write=rt.orm_write)
            channel.attach_notifier(notifier)
            jobs = standard_jobs(rt.sm, calendar=rt.calendar, catalog=rt.catalog, now=rt.now,
                                 attachments=rt.attachments)
            notifier_task = asyncio.create_task(notifier.run(stop=stop, tick=jobs), name="notifier")
        settle_heap()
        try:
            if args.mode == "polling":
                await channel.run_polling()
            else:
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    with contextlib.suppress(NotImplementedError):  # Windows has no signal handlers
                        loop.add_signal_handler(sig, stop.set)
                host, port = _listen(args.listen)
                await channel.run_webhook(host, port, webhook_url=args.webhook_url, stop=stop)
        finally:
            stop.set()
            if notifier_task is not None:
                await asyncio.gather(notifier_task, return_exceptions=True)
            if jobs is not None:
                await jobs.aclose()
            await channel.close()
    return 0


def run(args) -> int:
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    try:
        return asyncio.run(_main(args))
    except KeyboardInterrupt:
        return 0
