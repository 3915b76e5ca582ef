"""``dvcbot web --listen 127.0.0.1:8090``: the officers' web desk on the same database as the chats."""
from __future__ import annotations

import argparse
import asyncio
import os


def register(sub) -> None:
    w = sub.add_parser("web", help="the officers' web desk (docs/web.md)")
    w.add_argument("--listen", default=os.environ.get("DVCBOT_WEB_LISTEN", "127.0.0.1:8090"), help="host:port")
    w.add_argument("--base-url", default=os.environ.get("DVCBOT_WEB_URL"),
                   help="public address, for the one-time links sent by /dangnhap (or $DVCBOT_WEB_URL)")
    w.add_argument("--secure-cookies", action="store_true", default=os.environ.get("DVCBOT_WEB_SECURE") == "1",
                   help="mark cookies Secure (serve behind HTTPS)")
    w.add_argument("--trust-proxy", action="store_true", default=os.environ.get("DVCBOT_WEB_TRUST_PROXY") == "1",
                   help="behind a load balancer that sets X-Forwarded-For (sign-in throttling per client)")
    w.add_argument("--db", default=argparse.SUPPRESS)


async def _run(args) -> int:
    from .cli_args import listen_address
    from .service import Runtime, settle_heap
    from .web.auth import load_secret
    from .web.server import WebConfig, serve
    host, port = listen_address(args.listen)
    async with Runtime(args.db, var_dir=args.var) as rt:
        config = WebConfig(secret=load_secret(args.var), base_url=args.base_url, secure_cookies=args.secure_cookies,
                           trust_proxy=args.trust_proxy)
        settle_heap()
        await serve(rt, config, host, port)
    return 0


def run(args) -> int:
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        return 0
