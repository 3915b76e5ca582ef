"""``dvcbot zalo``: run the Zalo bot (Zalo Bot Platform) and the outbox notifier for Zalo chats.

    DVCBOT_ZALO_TOKEN=123:abc dvcbot zalo                                    # long polling
    DVCBOT_ZALO_TOKEN=123:abc DVCBOT_ZALO_SECRET=s3cr3t-token \\
        dvcbot zalo --mode webhook --webhook-url https://bot.example.vn/zalo/webhook --listen 127.0.0.1:8081
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from urllib.parse import urlparse

log = logging.getLogger("dvcbot.zalo")


def register(subparsers) -> None:
    z = subparsers.add_parser(
        "zalo", help="run the Zalo bot (token from $DVCBOT_ZALO_TOKEN)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run the Zalo Bot Platform bot in front of the runtime (choices as numbered lines), and deliver "
                    "the outbox\nnotifications of zalo: chats from the same process. See docs/zalo.md.",
        epilog="""environment:
  DVCBOT_ZALO_TOKEN        bot token {bot_id}:{access_token} from Zalo Bot Creator (required)
  DVCBOT_ZALO_SECRET       webhook secret token, 8-256 characters (required with --mode webhook); Zalo sends it
                           back in X-Bot-Api-Secret-Token, other requests get 401
  DVCBOT_ZALO_MODE, DVCBOT_ZALO_WEBHOOK_URL, DVCBOT_ZALO_LISTEN, DVCBOT_ZALO_API, DVCBOT_ZALO_PUBLIC_URL
                           defaults of --mode, --webhook-url, --listen, --api-base, --public-url
  DVCBOT_DB                database URL (default: SQLite under ./var)

examples:
  DVCBOT_ZALO_TOKEN=123:abc dvcbot zalo                                # long polling
  DVCBOT_ZALO_TOKEN=123:abc DVCBOT_ZALO_SECRET=s3cr3t-token dvcbot zalo --mode webhook \\
      --webhook-url https://bot.example.vn/zalo/webhook --listen 127.0.0.1:8081 --public-url https://bot.example.vn""")
    z.add_argument("--mode", choices=["polling", "webhook"], default=os.environ.get("DVCBOT_ZALO_MODE", "polling"),
                   help="long polling (quick start) or webhook (production); default $DVCBOT_ZALO_MODE or polling")
    z.add_argument("--webhook-url", default=os.environ.get("DVCBOT_ZALO_WEBHOOK_URL"),
                   help="public HTTPS URL to register with setWebhook (its path is served); without it the webhook "
                        "is assumed to be set already")
    z.add_argument("--listen", default=os.environ.get("DVCBOT_ZALO_LISTEN", "127.0.0.1:8081"),
                   help="host:port of the webhook server (default 127.0.0.1:8081, behind a TLS proxy)")
    z.add_argument("--api-base", default=os.environ.get("DVCBOT_ZALO_API"),
                   help="Bot API base URL (default https://bot-api.zaloplatforms.com)")
    z.add_argument("--public-url", default=os.environ.get("DVCBOT_ZALO_PUBLIC_URL"),
                   help="public base URL of the webhook server: files (the PDF copy of a form) are sent as signed "
                        "links under it")
    z.add_argument("--no-notifier", action="store_true", help="do not deliver outbox notifications from here")
    z.add_argument("--db", default=argparse.SUPPRESS, help="database URL (as dvcbot --db; default $DVCBOT_DB)")


def _listen(value: str) -> tuple[str, int]:
    from bot.cli_args import listen_address
    return listen_address(value)


async def _main(args) -> int:
    from bot.jobs import standard_jobs
    from bot.notifier import Notifier
    from bot.service import Runtime, settle_heap

    from .channel import ZaloChannel, ZaloConfig

    token = os.environ.get("DVCBOT_ZALO_TOKEN", "").strip()
    if not token:
        print("DVCBOT_ZALO_TOKEN is not set (create a bot with Zalo Bot Creator).", file=sys.stderr)
        return 2
    secret = os.environ.get("DVCBOT_ZALO_SECRET", "").strip() or None
    if args.mode == "webhook" and (not secret or not 8 <= len(secret) <= 256):
        print("DVCBOT_ZALO_SECRET (8-256 characters) is required in webhook mode.", file=sys.stderr)
        return 2
    path = (urlparse(args.webhook_url).path or "/zalo/webhook") if args.webhook_url else "/zalo/webhook"
    config = ZaloConfig(token=token, api_base=args.api_base, secret=secret, webhook_path=path,
                        public_url=args.public_url if args.mode == "webhook" else None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows has no signal handlers
            loop.add_signal_handler(sig, stop.set)
    async with Runtime(args.db, var_dir=args.var) as rt:
        if not config.public_url:
            await _warn_officers_without_links(rt)
        channel = ZaloChannel(rt, config)
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
                await channel.run_polling(stop=stop)
            else:
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


async def _warn_officers_without_links(rt) -> None:
    """Zalo's Bot API cannot upload a file: without a public URL for signed links, officers on Zalo cannot open
    papers, forms or charts in the chat. Say so loudly at start, with the way out."""
    from storage.officers_repo import OfficerRepo
    async with rt.sm() as db:
        on_zalo = [o for o in await OfficerRepo(db).list() if o.active and (o.user_key or "").startswith("zalo:")]
    print(f"WARNING: no public URL for file links (webhook mode with --public-url). {len(on_zalo)} officer(s) on "
          "Zalo cannot open papers, forms or charts in the chat: Zalo's Bot API cannot upload files. They will be "
          "told to use the web desk (`dvcbot web`, /dangnhap). See docs/zalo.md.", file=sys.stderr)


def run(args) -> int:
    try:
        return asyncio.run(_main(args))
    except KeyboardInterrupt:
        return 0
