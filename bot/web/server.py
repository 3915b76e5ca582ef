"""The web desk's application: the routes of bot/web/app.py (sign-in), desk.py and dashboard.py, and the server."""
from __future__ import annotations

import logging

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape

from . import auth, dashboard, desk, slips
from .app import (
    CONFIG,
    HERE,
    JINJA,
    RUNTIME,
    THROTTLE,
    AccessLogger,
    WebConfig,
    health,
    home,
    link_page,
    link_post,
    log,
    login_page,
    login_post,
    logout,
    security_headers,
    session_mw,
    set_lang,
)

__all__ = ["WebConfig", "make_app", "serve"]


# -- the application --------------------------------------------------------------------------------
def make_app(runtime, config: WebConfig) -> web.Application:
    """The web desk on ``runtime`` (a bot.service.Runtime, opened by the caller)."""
    app = web.Application(middlewares=[security_headers, session_mw], client_max_size=1024 * 1024)
    app[CONFIG] = config
    app[RUNTIME] = runtime
    app[THROTTLE] = auth.Throttle()
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    app[JINJA] = env
    r = app.router
    r.add_get("/", home)
    r.add_get("/healthz", health)
    r.add_get("/login", login_page)
    r.add_post("/login", login_post)
    r.add_get("/login/link/{token}", link_page)
    r.add_post("/login/link", link_post)
    r.add_post("/logout", logout)
    r.add_post("/lang", set_lang)
    r.add_static("/static/", HERE / "static", append_version=False)
    desk.setup(app)
    dashboard.setup(app)
    slips.setup(app)
    return app


async def serve(runtime, config: WebConfig, host: str, port: int) -> None:
    """Run until cancelled (``dvcbot web``)."""
    import asyncio
    app = make_app(runtime, config)
    runner = web.AppRunner(app, access_log_class=AccessLogger, access_log=logging.getLogger("dvcbot.web.access"))
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("web desk on http://%s:%s", host, port)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
